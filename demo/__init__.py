"""The synthetic district of the demo, the benchmarks and the tests: a registry at the real
district's shape (organisation, targets, a year of inspections) and cases walked through the real
procedure by the use cases, as a district's units would. Never imported at run time."""
