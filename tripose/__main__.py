"""``python -m tripose`` runs the command line."""

import sys

from tripose.cli import main

sys.exit(main())
