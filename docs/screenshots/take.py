"""Refresh the README's screenshots: runs the responsive browser test with WARDEN_SCREENSHOTS=1,
which seeds the demo, signs in as the demo lead in Debian's Chromium and writes
docs/screenshots/*.png (desktop width, and the dashboard at a phone's width).

    .venv/bin/python docs/screenshots/take.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    test = "tests/web/test_responsive_browser.py"
    env = {**os.environ, "WARDEN_SCREENSHOTS": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", test]
    sys.exit(subprocess.call(command, cwd=ROOT, env=env))  # noqa: S603 - our own test suite
