"""Per column, how its values are made: null share, MCVs, distinct values, order, key role, bounds."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from common.errors import BadInput
from datagen.profile.model import Column
from datagen.twin.catalog import TypeInfo
from datagen.twin.checks import Bounds

CHUNK = 65_536  # rows per (table, chunk) unit: the seed and the work unit of a worker
MIN_ROWS = 3  # a table that has rows in production gets at least a few


@dataclass
class ColumnPlan:
    table: str
    name: str
    info: TypeInfo
    rows: int
    null_frac: float = 0.0
    mcv: list[str] = field(default_factory=list)  # literal values (text output), or "" for FK columns
    freqs: list[float] = field(default_factory=list)
    distinct: int = 0  # total distinct non-null values, MCVs included
    unique: bool = False
    order: int = 0  # +1 ascending with the physical order, -1 descending, 0 scattered
    mix: float = 0.0  # of an ordered column, the share of rows given a scattered value: correlation ≈ 1 - mix
    bounds: Bounds | None = None
    stats: Column | None = None
    parent: ColumnPlan | None = None  # the referenced column of a single-column foreign key
    radix: tuple[int, int] | None = None  # (divisor, modulus) of the row index, for composite keys
    composite: tuple[str, ...] | None = None  # a multi-column key this column completes
    mcv_binary: list[bytes] = field(default_factory=list)  # the MCVs in binary COPY form (binary.send_mcvs)
    spread: int = 0  # domain indexes, when more than rest_distinct are needed to get it (shapes.domain_size)

    @property
    def salt(self) -> int:
        return zlib.crc32(f"{self.table}.{self.name}".encode())

    @property
    def where(self) -> str:
        return f"{self.table}.{self.name} ({self.info.shown})"

    def probabilities(self) -> np.ndarray:
        """[null, mcv…, rest] shares of rows, summing to one."""
        shares = np.array([self.null_frac, *self.freqs, 0.0], dtype=float)
        rest = max(0.0, 1.0 - shares.sum()) if self.rest_distinct > 0 else 0.0
        shares[-1] = rest
        total = shares.sum()
        return shares / total if total > 0 else np.array([1.0] + [0.0] * (len(shares) - 1))

    @property
    def rest_distinct(self) -> int:
        return max(0, self.distinct - len(self.mcv))

    @property
    def domain_n(self) -> int:
        """How many domain indexes the rest of the rows are spread over."""
        return self.spread or self.rest_distinct


def counts(plan: ColumnPlan, n: int) -> np.ndarray:
    """Exact rows per category in a chunk of n rows (largest remainder): the same for every worker."""
    shares = plan.probabilities() * n
    base = np.floor(shares).astype(np.int64)
    short = n - int(base.sum())
    if short:
        base[np.argsort(-(shares - base), kind="stable")[:short]] += 1
    return base


def rest_total(plan: ColumnPlan) -> int:
    full, tail = divmod(plan.rows, CHUNK)
    return full * int(counts(plan, CHUNK)[-1]) + (int(counts(plan, tail)[-1]) if tail else 0)


def table_rows(reltuples: float, scale: float) -> int:
    if not reltuples or reltuples <= 0:
        return 0
    return max(MIN_ROWS, int(round(reltuples * scale)))


def column_plan(table: str, info: TypeInfo, stats: Column | None, rows: int, unique: bool, bounds) -> ColumnPlan:
    plan = ColumnPlan(table, info.name, info, rows, unique=unique, bounds=bounds, stats=stats)
    has = stats is not None and stats.null_frac is not None
    plan.null_frac = 0.0 if (info.not_null or info.identity or not has) else float(stats.null_frac)
    if has and stats.most_common_vals and not unique:
        plan.mcv, plan.freqs = list(stats.most_common_vals), [float(f) for f in stats.most_common_freqs]
    _allowed_mcvs(plan)
    nonnull = max(0, rows - int(round(rows * plan.null_frac)))
    plan.distinct = nonnull if unique else _distinct(stats, rows, nonnull, len(plan.mcv))
    corr = stats.correlation if has else None
    plan.order = (1 if unique and info.base.startswith("int") else 0) if corr is None else _sign(corr)
    plan.mix = 0.0 if unique or not plan.order else round(1.0 - abs(corr), 3)  # unique: a swap could collide
    return plan


def _allowed_mcvs(plan: ColumnPlan) -> None:
    """An MCV a CHECK IN-list excludes is dropped (the server would refuse it)."""
    if plan.bounds and plan.bounds.values is not None and plan.mcv:
        keep = [i for i, v in enumerate(plan.mcv) if v in plan.bounds.values]
        plan.mcv, plan.freqs = [plan.mcv[i] for i in keep], [plan.freqs[i] for i in keep]


def _distinct(stats: Column | None, rows: int, nonnull: int, mcvs: int) -> int:
    nd = stats.n_distinct if stats is not None else None
    if nd is None or nd == 0:
        return nonnull
    found = -nd * rows if nd < 0 else nd
    return int(min(max(math.ceil(found), mcvs, 1), nonnull)) if nonnull else 0


def _sign(corr: float) -> int:
    return 0 if abs(corr) < 0.5 else (1 if corr > 0 else -1)


def attach_parent(child: ColumnPlan, parent: ColumnPlan) -> None:
    """A single-column foreign key: the child's distinct count picks that many parent values."""
    if parent.rest_distinct == 0 and child.rows and child.null_frac < 1:
        if child.info.not_null:
            raise BadInput(
                f"{child.where} cannot be satisfied: it references {parent.table}.{parent.name}, which gets "
                "no rows; give the parent rows in the profile (reltuples) or a larger --scale"
            )
        child.null_frac = 1.0
    child.parent = parent
    child.mcv = [""] * len(child.mcv)  # MCVs become the first parent values, at their frequencies
    child.distinct = min(child.distinct, parent.rest_distinct)
    if len(child.mcv) > child.distinct:
        child.mcv, child.freqs = child.mcv[: child.distinct], child.freqs[: child.distinct]
