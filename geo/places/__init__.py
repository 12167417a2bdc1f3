"""The district and what is in it: reference data (townships, units, bodies, powers), targets and
their map cells, derived data, geometry and coordinate helpers."""
