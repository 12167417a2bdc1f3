"""LawGrid composition package: settings, command line, app factory, embedded database."""
