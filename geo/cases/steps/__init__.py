"""The case's steps, one module per group; each registers its actions with `geo.cases.machine.action`."""
