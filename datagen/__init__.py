"""Baselines as template databases: the synthetic order service per (scale, seed, dirt), the twin of a
profiled schema, or a copy of the user's own database.

The names below are imported on first use (PEP 562), so a twin's loading process, which imports only
datagen.twin's generator modules, does not pay for pandas and the rest at start-up."""

from __future__ import annotations

import importlib

_WHERE = {
    "Dirt": "datagen.dirt",
    "Dataset": "datagen.template",
    "build": "datagen.template",
    "info": "datagen.template",
    "list_templates": "datagen.template",
    "GENERATOR_VERSION": "datagen.manifest",
    "build_twin": "datagen.twin.build",
    "twin_info": "datagen.twin.build",
    "build_copy": "datagen.own_copy",
}

__all__ = list(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    try:  # a submodule (datagen.profile, …), as `import datagen` used to make them attributes
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
