"""The domain core: models, migrations, PostGIS queries. Imports neither dashboard nor ingest."""
