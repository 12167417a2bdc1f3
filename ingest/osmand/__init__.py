"""OsmAnd / Traccar Client over HTTP (port 5055): requests read into fixes, the HTTP connection,
and the server that authenticates devices and hands their fixes to the pipeline."""
