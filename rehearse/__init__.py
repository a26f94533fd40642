"""The rehearsal engine's public verbs: run, plan, load, summary, verdict (and RehearsalConfig for their parameters).

Imported lazily so that `import rehearse.migration` does not start pulling in the whole engine.
"""
from __future__ import annotations

import importlib

_PUBLIC = {  # name -> module that defines it
    "run": ".runner", "plan": ".migration", "load": ".result", "summary": ".summary", "verdict": ".verdict",
    "RehearsalConfig": ".config", "RehearsalResult": ".result",
}
__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(name)
    return getattr(importlib.import_module(_PUBLIC[name], __name__), name)
