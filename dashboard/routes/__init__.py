"""The REST API's routes, one module per family; each declares its routes on its own `router`,
and dashboard/registry.py lists the modules the app installs."""
