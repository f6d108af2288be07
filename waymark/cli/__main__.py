"""`python -m waymark.cli`: the `waymark` command without its console script."""

import sys

from waymark.cli.main import main

sys.exit(main())
