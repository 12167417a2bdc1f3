"""WSGI entry point for gunicorn. The production server is the gevent worker:

    gunicorn -k gevent -w 1 --worker-connections 4000 'lawgrid.wsgi:server'

where an open Socket.IO connection (a dashboard) is a greenlet rather than a thread, so a
command centre's wall of screens cannot use up the server. Scale out with more such
processes behind a proxy with sticky sessions, sharing Socket.IO through Redis. The app is
built on first import of this module, which only the WSGI server does."""

from lawgrid.app import create_app
from lawgrid.settings import load_settings


def _async_mode() -> str:
    """gevent when the worker has patched the standard library (gunicorn -k gevent)."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


server = create_app(load_settings(async_mode=_async_mode())).server
