"""The rehearsal engine's public verbs: run, plan, load, summary, verdict (and RehearsalConfig for their parameters).

Imported lazily so that `import rehearse.migration` does not start pulling in the whole engine.
"""
from __future__ import annotations

import importlib

_PUBLIC = {  # name -> module that defines it
    "run": ".runner", "plan": ".migration", "load": ".result",
    "RehearsalConfig": ".config", "RehearsalResult": ".result",
}
__all__ = [*_PUBLIC, "summary", "verdict"]

# These two share their module's name: imported now, so that a later `import rehearse.summary` cannot
# leave the module where the function is expected.
from .summary import summary  # noqa: E402
from .verdict import verdict  # noqa: E402


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(name)
    return getattr(importlib.import_module(_PUBLIC[name], __name__), name)
