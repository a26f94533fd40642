"""The rehearsal engine's public verbs: run, plan, load (and RehearsalConfig for their parameters).

Imported lazily so that `import rehearse.migration` does not start pulling in the whole engine.
"""
from __future__ import annotations

__all__ = ["run", "plan", "load", "summary", "verdict", "RehearsalConfig", "RehearsalResult"]


def __getattr__(name: str):
    if name == "run":
        from .runner import run
        return run
    if name == "plan":
        from .migration import plan
        return plan
    if name == "load":
        from .result import load
        return load
    if name == "summary":
        from .summary import summary
        return summary
    if name == "verdict":
        from .verdict import verdict
        return verdict
    if name == "RehearsalConfig":
        from .config import RehearsalConfig
        return RehearsalConfig
    if name == "RehearsalResult":
        from .result import RehearsalResult
        return RehearsalResult
    raise AttributeError(name)
