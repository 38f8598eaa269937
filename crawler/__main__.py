"""``python -m crawler`` runs the command line."""

import sys

try:
    from crawler.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python loads the command line
    sys.exit(130)

sys.exit(main())
