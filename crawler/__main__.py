"""``python -m crawler`` runs the command line."""

import sys

try:
    from crawler.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python loads the command line: nothing was done yet
    print("interrupted before the command started: nothing done", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
