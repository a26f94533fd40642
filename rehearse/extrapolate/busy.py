"""A busy machine: rehearsals that ran while other work competed for the CPUs vary from run to run.

Each run records how busy its machine was over the warm-up (rehearse.measure.host: the CPU pressure-stall
share, the load average). Where any rehearsal of a scaled run was busy, one run per scale does not show the
noise the production-size run will have: three points may fall on a curve by chance, and the fit's interval
(a ~10 % spread prior, fit.py) is then far too narrow. So the interval is widened by BUSY_FACTOR both ways
and the warning says why.

Why this and not a cliff: bench/RESULTS-extrapolation.md's CREATE INDEX on orders once missed by −32 %, its
per-row time at SF 1 1.46× SF 0.1's. trace_sort on clones of both sizes: three participants at both, each
sorting its share in memory (no spill); CPU per row ×1.19 from SF 0.1 to SF 1 (n log n predicts ×1.17); the
70 MB index far below the cache; the read of the 0.96 GB table (past shared_buffers/4, but read only: COPY
FREEZE left no hint bits to write) 0.7 s of the build. Its wall time is that CPU time stretched by the
machine's other work: SF 1's per-row time over SF 0.1's ranged ×0.6 to ×1.6 in four pairs of runs.
"""

from __future__ import annotations

BUSY_PRESSURE = 0.5  # a runnable task waited for a CPU in half the warm-up, or more
BUSY_LOAD = 2.0  # × the CPUs, where the kernel has no pressure-stall figure
# rehearsals of the same CREATE INDEX minutes apart on this project's 2-core machine, load 10-13 from other
# sessions' work (PSI avg10 ~88 %): SF 1 12.0 s and 21.8 s, ×1.8 (SF 0.1, 0.75 s and 2.7 s: short runs
# scatter more, and their weight in the fit is relative)
BUSY_FACTOR = 1.8


def is_busy(host: dict | None) -> bool:
    if not host:
        return False
    if host.get("cpu_pressure") is not None:
        return host["cpu_pressure"] >= BUSY_PRESSURE
    return bool(host.get("cpus")) and host.get("load", 0) >= BUSY_LOAD * host["cpus"]


def busiest(hosts) -> dict | None:
    """The busiest of the rehearsals' host readings that count as busy, or None when none does."""
    busy = [h for h in hosts if is_busy(h)]
    return max(busy, key=lambda h: (h.get("cpu_pressure") or 0, h.get("load") or 0)) if busy else None


def fields(host: dict | None) -> dict:
    """The projection's fields: the busiest rehearsal's reading, all None when none was busy."""
    host = host or {}
    return dict(busy_pressure=host.get("cpu_pressure"), busy_load=host.get("load"), busy_cpus=host.get("cpus"))


def widen(p: dict) -> dict:
    """Both ends of both intervals × / ÷ BUSY_FACTOR."""
    return dict(
        low_ms=p["low_ms"] / BUSY_FACTOR,
        high_ms=p["high_ms"] * BUSY_FACTOR,
        hold_low_ms=p["hold_low_ms"] / BUSY_FACTOR,
        hold_high_ms=p["hold_high_ms"] * BUSY_FACTOR,
    )


def widened(p: dict) -> bool:
    return p.get("busy_load") is not None


def warning(p: dict) -> str | None:
    if not widened(p):
        return None
    pressure = p.get("busy_pressure")
    seen = f"CPU pressure {pressure:.0%}, " if pressure is not None else ""
    return (
        f"the machine was busy during the rehearsals ({seen}load {p['busy_load']:.1f} on {p.get('busy_cpus')} "
        f"CPUs): one run's time varies up to ×{BUSY_FACTOR:.1f} there, and the interval includes it; "
        "rehearse on a quiet machine for a narrower one"
    )
