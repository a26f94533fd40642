"""One (table, chunk) of rows: seeded by (seed, table, column, chunk), so any worker makes the same rows."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen import _pgbinary
from datagen.twin import binary, values
from datagen.twin import plan as planning
from datagen.twin.plan import CHUNK, ColumnPlan


@dataclass
class TablePlan:
    name: str  # schema-qualified
    rows: int
    columns: list[ColumnPlan]  # the loaded ones (generated columns are left to the server)
    root: str | None = None  # a leaf partition: the partitioned table whose keys and foreign keys it has

    @property
    def chunks(self) -> int:
        return math.ceil(self.rows / CHUNK)

    @property
    def quoted(self) -> str:
        schema, table = self.name.split(".", 1)
        return f"{_quote(schema)}.{_quote(table)}"

    def copy_sql(self, freeze: bool = False) -> str:
        names = ", ".join(_quote(c.name) for c in self.columns)
        return f"COPY {self.quoted} ({names}) FROM STDIN (FORMAT binary{', FREEZE' if freeze else ''})"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rows_in(table: TablePlan, chunk: int) -> int:
    return min(CHUNK, table.rows - chunk * CHUNK)


def binary_chunk(table: TablePlan, seed: int, chunk: int) -> memoryview:
    """The chunk's rows as binary COPY data (no header or trailer)."""
    return _pgbinary.arrow_rows([column_chunk(c, seed, chunk) for c in table.columns])


def column_chunk(plan: ColumnPlan, seed: int, chunk: int) -> pa.Array:
    """The column's values in this chunk, in binary COPY form (NULL entries are SQL NULLs)."""
    n = rows_in_plan(plan, chunk)
    rng = np.random.default_rng([seed, plan.salt, chunk])
    per = planning.counts(plan, n)
    m = len(plan.mcv)
    if per[-1] == n:  # only the rest: nothing to shuffle (the same rows a permutation would give)
        first = chunk * int(planning.counts(plan, CHUNK)[-1])
        return binary.domain(plan, _domain_index(plan, first + np.arange(n, dtype=np.int64), rng))
    codes = rng.permutation(np.repeat(np.arange(len(per)) - 1, per))  # -1 NULL, 0… MCV, last: the rest
    rest = codes == m
    first = (chunk * CHUNK // CHUNK) * int(planning.counts(plan, CHUNK)[-1])
    rank = first + np.arange(int(rest.sum()), dtype=np.int64)
    k = _domain_index(plan, rank, rng)
    index = codes.astype(np.int64)
    index[rest] = m + np.arange(int(rest.sum()))
    rest_values = binary.domain(plan, k)
    combined = pa.concat_arrays([_mcvs(plan), rest_values]) if m else rest_values
    if not m and not (codes < 0).any():
        return combined
    taken = pa.array(np.where(codes < 0, 0, index), mask=codes < 0)
    return pc.take(combined, taken) if len(combined) else pa.nulls(n, pa.binary())


def _mcvs(plan: ColumnPlan) -> pa.Array:
    if plan.parent is None and plan.mcv_binary:
        return pa.array(plan.mcv_binary, pa.binary())
    return binary.encode(plan, values.mcv_array(plan))


def rows_in_plan(plan: ColumnPlan, chunk: int) -> int:
    return min(CHUNK, plan.rows - chunk * CHUNK)


def _domain_index(plan: ColumnPlan, rank: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rest rank (0 … rest_total) → domain index, each value repeated alike; ascending, descending or
    scattered (a bijection mod n) as the column's correlation says, an ordered column's `mix` share of
    rows scattered, so a correlation of 0.5 is not loaded as 1.0 (index builds and updates see it)."""
    if plan.radix is not None:
        divisor, modulus = plan.radix
        return (rank // divisor) % modulus
    n, total = plan.domain_n, planning.rest_total(plan)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    k = rank if plan.unique or n == total else (rank * n) // max(1, total)
    k = np.minimum(k, n - 1)
    if plan.order < 0:
        k = n - 1 - k
    if plan.order == 0 and n > 1:
        return _scatter(k, n, plan.salt)
    if plan.mix > 0 and n > 1:
        moved = rng.random(len(k)) < plan.mix
        k[moved] = _scatter(k[moved], n, plan.salt)
    return k


def _scatter(k: np.ndarray, n: int, salt: int) -> np.ndarray:
    return (k * _coprime(n, salt) + salt) % n


def _coprime(n: int, salt: int) -> int:
    step = int(n * 0.6180339887) | 1
    while math.gcd(step, n) != 1:
        step += 2
    return step % n or 1
