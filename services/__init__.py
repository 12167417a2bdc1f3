"""The use cases: one function per thing a user does. Each authorizes (geo.access.policy), opens
the unit of work, calls the core, and hands what must be told (live pushes, texts to the
terminals) to the notifier it is given. Every door calls these: REST routes, page callbacks,
the CLI and batch jobs. Imports geo only; never the web or ingest (make lint holds it)."""
