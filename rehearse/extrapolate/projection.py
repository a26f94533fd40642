"""One statement's projection to production rows from its fits, and the warnings that say when not to trust it."""

from __future__ import annotations

from rehearse.extrapolate import busy, sort
from rehearse.extrapolate import fit as _fit
from rehearse.extrapolate.production import cache_warning

FAR = 100.0  # × the largest rehearsed rows: beyond this a projection earns a warning
WIDE = 4.0  # high / low of the interval: beyond this the rehearsals disagree, and it says so


def projected(fit: _fit.Fit, rows, metric: str) -> dict:
    n = rows if rows is not None else 1
    low, high = fit.interval(n)
    names = (
        ("duration_ms", "low_ms", "high_ms", "model")
        if metric == "duration"
        else ("hold_ms", "hold_low_ms", "hold_high_ms", "hold_model")
    )
    return dict(zip(names, (float(max(fit.predict(n), 0.0)), float(low), float(high), fit.model)))


def with_plan(p: dict, check) -> dict:
    """The plan check's fields; where the plan changes and both plans were timed at the rehearsed size, the
    projection is scaled by their ratio and its interval spans both plans' (a plans.PlanCheck)."""
    out = check.fields()
    ratio = check.time_ratio if check.changes else None
    if ratio is None:
        return out
    for centre, low, high in (("duration_ms", "low_ms", "high_ms"), ("hold_ms", "hold_low_ms", "hold_high_ms")):
        out[centre] = p[centre] * ratio
        out[low], out[high] = min(p[low], p[low] * ratio), max(p[high], p[high] * ratio)
    return out


def warning(p: dict, buffers: int | None = None, plan=None) -> str | None:
    """Why not to trust the projection: rows far beyond the rehearsals, rehearsals that disagree, a table
    that outgrows the buffer cache between the rehearsals and production, an index build whose sort
    outgrows maintenance_work_mem, rehearsals on a busy machine, or a plan that changes."""
    found, factor = [], p["extrapolation_factor"]
    if factor is not None and factor > FAR:
        found.append(
            f"{p['rows']:,} rows in {p['table']} is {factor:,.0f}× the largest rehearsal "
            f"({p['rehearsed_rows']:,}): far beyond the measured range; rehearse at a larger scale"
        )
    # sub-second intervals are left alone: there a wide spread is jitter, and harmless
    spread = max(
        [
            high / max(low, 1e-9)
            for low, high in ((p["low_ms"], p["high_ms"]), (p["hold_low_ms"], p["hold_high_ms"]))
            if high > 1000
        ],
        default=0.0,
    )
    spread /= busy.BUSY_FACTOR**2 if busy.widened(p) else 1  # widened on purpose, both ways
    if spread > WIDE and not (plan and plan.changes):  # a plan change spreads the interval on purpose
        found.append(
            f"the rehearsals do not follow one curve (interval spans ×{min(spread, 1e4):,.0f}): "
            "rerun on a quiet machine, add scales, or look for a plan change between scales"
        )
    found.append(cache_warning(p["table"], p.get("rehearsed_bytes"), p.get("bytes"), buffers))
    found.append(sort.warning(p.get("sort_spills_at_rows")))
    found.append(busy.warning(p))
    found.append(plan.warning() if plan else None)
    return "; ".join(f for f in found if f) or None
