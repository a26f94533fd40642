"""A rehearsal's timeline turned into numbers: lock spans, blocking, latency by phase; the JSON summary; variants side by side.

The timeline's functions are re-exported here (`rehearse.analysis.latency_by_phase(result)`).
"""

from rehearse.analysis.kinds import OTHER, TOP_KINDS, kind_groups, latency_by_kind, top_kinds
from rehearse.analysis.timeline import (
    PHASES,
    blocked_transactions,
    blocking,
    errors_by_kind,
    latency_by_phase,
    lock_spans,
    lock_wait_source,
    lock_waits,
    phase_of,
)

__all__ = [
    "OTHER",
    "TOP_KINDS",
    "kind_groups",
    "latency_by_kind",
    "top_kinds",
    "PHASES",
    "blocked_transactions",
    "blocking",
    "errors_by_kind",
    "latency_by_phase",
    "lock_spans",
    "lock_wait_source",
    "lock_waits",
    "phase_of",
]
