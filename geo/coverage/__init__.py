"""Coverage of the registry by inspections: facts, counts, summaries and trends."""
