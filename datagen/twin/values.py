"""Values by type: the k-th value of a column's domain (sorted), and its MCVs, as Arrow arrays."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from common.errors import BadInput
from datagen.twin import plan as planning
from datagen.twin import shapes, texts
from datagen.twin.plan import ColumnPlan

INTS = {"int2": 2**15 - 1, "int4": 2**31 - 1, "int8": 2**63 - 1}
FLOATS = {"float4", "float8", "numeric"}
TIMES = {"date", "timestamp", "timestamptz"}
START_US = 1_577_836_800 * 1_000_000  # 2020-01-01 UTC: where undocumented times begin
SPAN_US = 3 * 365 * 86_400 * 1_000_000  # and spread over three years
SPAN_DAYS = 5 * 365
STRINGS = {"text", "varchar", "bpchar", "name", "citext", "uuid", "json", "jsonb", "inet", "cidr", "bytea", "interval"}


def kind(plan: ColumnPlan) -> str:
    """'int', 'float', 'time', 'bool', 'finite' (enum), 'array', or the base type for string kinds."""
    info = plan.info
    if info.element and (info.element in texts.ARRAY_ELEMENTS or info.labels):
        return "array"
    if info.typtype == "e":
        return "finite"
    if info.base in INTS:
        return "int"
    if info.base in FLOATS:
        return "float"
    if info.base in TIMES or info.base in STRINGS or info.base == "bool":
        return "time" if info.base in TIMES else info.base
    raise BadInput(
        f"column {plan.where} has type {info.shown}, which the twin generator cannot make; change the "
        "column's type in the profile's schema_sql or drop the table from the profile"
    )


def read_bounds(plan: ColumnPlan) -> None:
    """Bounds given as text (a time partition's FROM/TO, a CHECK on a date) in the column's number scale."""
    b = plan.bounds
    if b is None or not b.texts:
        return
    name = kind(plan)
    for side, text in b.texts.items():
        parsed = _parse(plan, name, [text])[0] if name in ("int", "float", "time") else float("nan")
        if np.isfinite(parsed):
            setattr(b, side, float(parsed))


def element_kind(element: str) -> str:
    """The kind of an array's elements (texts.ARRAY_ELEMENTS), as `kind` names a column's."""
    if element in INTS:
        return "int"
    return "float" if element in FLOATS else element


def finite(plan: ColumnPlan) -> list[str] | None:
    """A small closed set of values (bool, enum, CHECK IN-list), minus the MCVs, or None."""
    values = None
    if plan.bounds and plan.bounds.values is not None:
        values = plan.bounds.values
    elif plan.info.typtype == "e":
        values = list(plan.info.labels or ())
    elif plan.info.base == "bool":
        values = ["false", "true"]
    return None if values is None else [v for v in values if v not in plan.mcv]


def domain(plan: ColumnPlan, k: np.ndarray) -> pa.Array:
    """The values of domain indexes k (0 ≤ k < plan.domain_n), increasing with k where the type
    orders: histograms are followed equi-depth."""
    if plan.parent is not None:
        return domain(plan.parent, spread(plan, k))
    values = finite(plan)
    if values is not None:
        return _typed(plan, pa.array(values, pa.string()).take(pa.array(k % max(1, len(values)))))
    name = kind(plan)
    if name in ("int", "float", "time"):
        return _numbers(plan, name, k)
    if name == "array":
        return texts.array(plan, k)
    return texts.string(plan, name, k)


def domain_size(plan: ColumnPlan) -> int:
    """Domain indexes that give the column its distinct count when values come in steps (integers,
    numeric(p, s), dates, digit strings) and narrow histogram buckets hold few of them; else 0."""
    if plan.parent is not None or plan.radix is not None or plan.unique or plan.rest_distinct <= 1:
        return 0
    name = kind(plan)
    if name in ("int", "float", "time"):
        bounds, step = _histogram(plan, name), _step(plan, name)
        if bounds is None or step is None:
            return 0
        taken = _parse(plan, name, plan.mcv) if plan.mcv else None
        room = shapes.steps(bounds, step, None if taken is None else taken[np.isfinite(taken)])
    else:
        shape = texts.digit_shape(plan)
        if shape is None:
            return 0
        room = shapes.steps(shape.scaled, 1.0)
    return shapes.domain_size(room, plan.rest_distinct, planning.rest_total(plan))


def _step(plan: ColumnPlan, name: str) -> float | None:
    """The smallest difference of two values, in the number scale `_parse` gives (None: continuous)."""
    if name == "int" or plan.info.base == "date":
        return 1.0
    scale = plan.info.numeric_scale
    return 10.0 ** -scale[1] if name == "float" and scale else None


def spread(plan: ColumnPlan, k: np.ndarray) -> np.ndarray:
    """Child domain index → parent domain index, evenly over the parent's values (MCVs come first)."""
    total, parents = max(1, plan.distinct), plan.parent.domain_n
    return ((k + len(plan.mcv)) * parents) // total


def mcv_array(plan: ColumnPlan) -> pa.Array:
    if plan.parent is not None:
        return domain(plan.parent, (np.arange(len(plan.mcv)) * plan.parent.domain_n) // max(1, plan.distinct))
    return _typed(plan, pa.array(plan.mcv, pa.string()))


def _typed(plan: ColumnPlan, text: pa.Array) -> pa.Array:
    """Literal text values (MCVs, labels) in the array type the column's domain uses."""
    name = kind(plan) if plan.parent is None else "string"
    if name in ("int", "float", "time"):
        return _as_number_array(plan, name, _parse(plan, name, text.to_pylist()))
    return text


def _numbers(plan: ColumnPlan, name: str, k: np.ndarray) -> pa.Array:
    bounds = _histogram(plan, name)
    n = max(1, plan.domain_n)
    if plan.unique and name == "int":
        lo, hi = (bounds[0], bounds[-1]) if bounds is not None else _default_range(plan, name, n)
        values = lo + np.floor(k * max(1.0, (hi - lo) / n))
    elif bounds is not None:
        values = shapes.equi_depth(bounds, (k + 0.5) / n)
    else:
        lo, hi = _default_range(plan, name, n)
        values = lo + (k + 0.5) * (hi - lo) / n
    return _as_number_array(plan, name, _clip(plan, name, values))


def _default_range(plan: ColumnPlan, name: str, n: int) -> tuple[float, float]:
    b = plan.bounds
    if b is not None and b.lo is not None and b.hi is not None:
        return b.lo, b.hi
    lo = b.lo if b is not None and b.lo is not None else None
    if name == "time":
        start = 18_262 if plan.info.base == "date" else START_US
        return start, start + (SPAN_DAYS if plan.info.base == "date" else SPAN_US)
    lo = 1.0 if lo is None else lo
    hi = b.hi if b is not None and b.hi is not None else lo + n
    return (hi - n, hi) if b is not None and b.lo is None and b.hi is not None else (lo, hi)


def _clip(plan: ColumnPlan, name: str, values: np.ndarray) -> np.ndarray:
    if name == "int":
        values = np.floor(values)
    b = plan.bounds
    if b is None:
        return values
    step = 1.0 if name == "int" else 1e-6 * max(1.0, abs(b.lo or 0), abs(b.hi or 0))
    lo = None if b.lo is None else b.lo + (step if b.open_lo else 0)
    hi = None if b.hi is None else b.hi - (step if b.open_hi else 0)
    return np.clip(values, lo, hi) if lo is not None or hi is not None else values


def _histogram(plan: ColumnPlan, name: str) -> np.ndarray | None:
    stats = plan.stats
    if stats is None or not stats.histogram_bounds or len(stats.histogram_bounds) < 2:
        return None
    parsed = _parse(plan, name, stats.histogram_bounds)
    parsed = np.sort(parsed[np.isfinite(parsed)])
    return parsed if len(parsed) >= 2 else None


def _parse(plan: ColumnPlan, name: str, texts_: list) -> np.ndarray:
    """PostgreSQL text output → float (times: days or microseconds since 1970); unparsable → NaN."""
    import pandas as pd  # only histograms need it: a loading process without statistics starts without pandas

    if name != "time":
        return pd.to_numeric(pd.Series(texts_, dtype=object), errors="coerce").to_numpy(dtype=float)
    parsed = pd.to_datetime(pd.Series(texts_, dtype=object), utc=True, errors="coerce", format="ISO8601")
    us = parsed.to_numpy(dtype="datetime64[us]").astype(np.int64).astype(float)
    us[parsed.isna().to_numpy()] = np.nan
    return us / 86_400e6 if plan.info.base == "date" else us


def _as_number_array(plan: ColumnPlan, name: str, values: np.ndarray) -> pa.Array:
    base = plan.info.base
    if name == "int":
        limit = INTS[base]
        return pa.array(np.clip(np.nan_to_num(values), -limit - 1, limit).astype(np.int64))
    if name == "time":
        whole = np.nan_to_num(values).astype(np.int64)
        if base == "date":
            return pa.array(whole.astype(np.int32), pa.date32())
        return pa.array(whole, pa.timestamp("us", tz="UTC" if base == "timestamptz" else None))
    scale = plan.info.numeric_scale
    if scale:
        precision, digits = scale
        limit = 10.0 ** (precision - digits) - 10.0**-digits
        values = np.clip(np.round(values, digits), -limit, limit)
    return pa.array(np.nan_to_num(values), pa.float32() if base == "float4" else pa.float64())
