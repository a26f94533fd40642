"""Where things live: the project's root and the folder generated state goes to (`data/`, `REHEARSAL_DATA_DIR`)."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    return Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """Where generated state lives: data/ in the project, or $REHEARSAL_DATA_DIR."""
    return Path(os.environ.get("REHEARSAL_DATA_DIR", project_root() / "data")).resolve()
