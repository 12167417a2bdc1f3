"""Registry imports (`lawgrid import ...`): every row validated, the good ones loaded, the bad ones
reported with their line numbers and reasons; one module per kind of record."""
