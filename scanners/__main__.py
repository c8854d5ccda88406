"""``python -m scanners parse|formats|scan`` - see ``--help``."""

from __future__ import annotations

import sys

from scanners.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
