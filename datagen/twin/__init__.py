"""A synthetic twin of any schema, built from a profile: the schema exactly, rows that follow its statistics.

The build's names are imported on first use (PEP 562): a loading process imports only the generator."""

from __future__ import annotations

import importlib

__all__ = ["build_twin", "twin_info", "twin_name"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("datagen.twin.build"), name)
    try:  # a submodule (datagen.twin.chunk, …), as the eager import of build used to make them attributes
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
