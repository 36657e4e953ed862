"""`python -m minerwatch ...`: the same command as the `minerwatch` console script."""

import sys

from minerwatch.cli.main import main

sys.exit(main())
