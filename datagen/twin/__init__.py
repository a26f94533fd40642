"""A synthetic twin of any schema, built from a profile: the schema exactly, rows that follow its statistics.

The build's names are imported on first use (PEP 562): a loading process imports only the generator."""

from __future__ import annotations

import importlib

__all__ = ["build_twin", "twin_info", "twin_name"]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module 'datagen.twin' has no attribute {name!r}")
    return getattr(importlib.import_module("datagen.twin.build"), name)
