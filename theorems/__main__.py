"""Entry point for ``python -m theorems``."""

import sys

from theorems._cli import main

sys.exit(main())
