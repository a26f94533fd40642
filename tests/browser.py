"""Debian's headless Chromium for the tests that render a page: what it built from the HTML (the DOM)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def dump_dom(page: Path) -> str:
    """The DOM Chromium built from `page`, in a throwaway profile (Chromium locks the one it uses)."""
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", Path(page).as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
