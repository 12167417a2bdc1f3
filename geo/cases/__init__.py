"""Cases (办案): case sources, filing, the ordinary procedure's state machine and its steps, clocks
in working days, the rules' texts, codified items and the discretion check."""
