"""python -m lawgrid.cli"""

import sys

from lawgrid.cli import main

sys.exit(main())
