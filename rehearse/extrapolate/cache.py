"""The cache cliff: a statement writing every row of a table that outgrows shared_buffers/4 costs more per row.

Past shared_buffers/4 a sequential scan reads through a small ring of buffers (initscan), and the pages a
full-table write dirties no longer stay cached until the statement ends: the per-row cost steps up. So a
fit through scales below the cliff under-predicts one past it. Where two or more rehearsed scales are past
the cliff, such a statement is fitted on those alone (their per-row cost is production's); otherwise its
interval's high end is raised by CLIFF_FACTOR, and the warning names that factor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehearse.extrapolate import fit as _fit
from rehearse.extrapolate.points import METRICS, xy

# per-row time of a full-table write past the cliff over the same below it, as measured on this project's
# orders table (bench/RESULTS-extrapolation.md, "cache cliff": the backfill UPDATE and the rewrite, SF 1
# past the cliff against SF 0.1 below it, up to 1.6×)
CLIFF_FACTOR = 1.6
MIN_PAST = 2  # scales past the cliff needed to fit on them alone (two points: a line through the origin region)


def crosses(rehearsed_bytes, production_bytes, buffers) -> bool:
    """Whether the table is below the cliff at the largest rehearsal and past it in production."""
    return bool(buffers and rehearsed_bytes and production_bytes and rehearsed_bytes < buffers / 4 < production_bytes)


def past_cliff(group: pd.DataFrame, bytes_per_row: float | None, buffers: int | None) -> pd.DataFrame:
    """The points (scales) at which the table was already past the cliff."""
    if not (bytes_per_row and buffers):
        return group.iloc[0:0]
    return group[group["rows"].to_numpy(float) * bytes_per_row > buffers / 4]


def fits_past(group: pd.DataFrame, bytes_per_row: float | None, buffers: int | None) -> dict | None:
    """{metric: Fit} on the scales past the cliff, or None where fewer than MIN_PAST are."""
    past = past_cliff(group, bytes_per_row, buffers)
    if len(past) < MIN_PAST:
        return None
    return {m: _fit.fit(*xy(past, m)) for m in METRICS}


def widen(p: dict) -> dict:
    """The interval's high ends × CLIFF_FACTOR: no scale past the cliff measured what production will do."""
    return dict(high_ms=p["high_ms"] * CLIFF_FACTOR, hold_high_ms=p["hold_high_ms"] * CLIFF_FACTOR)


def per_row_ratio(small_ms: float, small_rows: int, large_ms: float, large_rows: int) -> float:
    """Per-row time at the large scale over the small one: the cliff as measured (the benchmark prints it)."""
    return float(np.float64(large_ms) / large_rows / (np.float64(small_ms) / small_rows))
