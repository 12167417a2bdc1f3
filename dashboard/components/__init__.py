"""Building blocks the pages share, so that no page repeats another's scaffolding: the map of the
district with its base map (maps), the filter controls (filters), data tables (tables)."""
