"""WSGI entry point for gunicorn: `gunicorn 'lawgrid.wsgi:server'`. The app is built on
first import of this module, which is only ever imported by the WSGI server."""

from lawgrid.app import create_app

server = create_app().server
