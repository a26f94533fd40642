"""Rehearsals at several scales, fitted per statement and projected to production row counts.

Each statement (matched by index across scales) is fitted against the rows of the table it touches: the
largest dataset table among the relations it locked, scanned or rewrote (and the locks the parser expects).
Duration and lock hold are fitted separately, each choosing constant, linear or n·log n by leave-one-out
error; the interval is a 90 % prediction interval in log space. `fit.py` holds the rules. A statement
that read or rewrote a whole table (or whose lock is held while a later statement of its transaction does)
is not offered the constant model: three noisy small-scale points can look flat, production would not.

Production row counts come from `production.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from common.errors import BadInput
from rehearse.analysis.summary import _clean, statement_impact
from rehearse.analysis.summary import summary as run_summary
from rehearse.extrapolate import fit as _fit
from rehearse.extrapolate.production import (
    Production,
    parse_production_rows,
    qualified,
    read_catalogue,
    resolve_production,
    shared_buffers,
)

MIN_SCALES = 3
FAR = 100.0  # × the largest rehearsed rows: beyond this a projection earns a warning
WIDE = 4.0  # high / low of the interval: beyond this the rehearsals disagree, and it says so
METRICS = {"duration": "duration_ms", "lock_hold": "lock_hold_ms"}


def parse_scales(scales) -> tuple[float, ...]:
    """'0.01,0.03,0.1' or a sequence → sorted distinct scales; at least three, or no model can be chosen."""
    items = scales.split(",") if isinstance(scales, str) else list(scales)
    try:
        values = tuple(sorted({float(s) for s in items}))
    except (TypeError, ValueError):
        raise BadInput(f"--scales {scales!r}: expected scale factors separated by commas, e.g. 0.01,0.03,0.1") from None
    if any(not np.isfinite(v) or v <= 0 for v in values):
        raise BadInput(f"--scales {scales!r}: every scale must be a number greater than 0")
    if len(values) < MIN_SCALES:
        raise BadInput(
            f"--scales needs at least {MIN_SCALES} different scales, got {len(values)}: two points fit "
            "every line exactly, so neither a model choice nor an interval is possible; e.g. 0.01,0.03,0.1"
        )
    return values


# -- production row counts ------------------------------------------------------------------------------

# -- several scales, fitted -----------------------------------------------------------------------------


def run_scales(path, scales, production_rows=None, production_dsn=None, **config) -> ScaledRehearsal:
    """Rehearse `path` at each scale (smallest first, each from its own template) and fit the statements.

    `production_rows` ({table: rows} or 'orders=…,order_items=…') or `production_dsn` (read-only look at a
    real server's catalogue) give the row counts to project to; with neither, SF 1's.
    """
    import dbserver
    from rehearse.measure.runner import run
    from rehearse.sql import migration as migration_mod

    scales = parse_scales(scales)
    if "scale" in config:
        raise BadInput("give the scales with `scales` (--scales), not `scale`, when extrapolating")
    if production_rows is not None and production_dsn is not None:
        raise BadInput("give --production-rows or --production-dsn, not both")
    rows = parse_production_rows(production_rows) if isinstance(production_rows, str) else production_rows
    rows = {qualified(t): int(n) for t, n in rows.items()} if rows else None
    migration = migration_mod.load(path, down=config.get("down"))  # a bad file fails before any rehearsal
    catalogue = read_catalogue(production_dsn, _dataset_tables()) if production_dsn else None
    buffers = shared_buffers(production_dsn or _rehearsal_server(config).dsn)
    results = [run(path, scale=s, **config) for s in scales]
    if production_dsn:
        production = resolve_production(
            results[-1], catalogue=catalogue, origin=dbserver.mask(production_dsn), buffers=buffers
        )
    else:
        production = resolve_production(
            results[-1], rows, origin="--production-rows" if rows else "SF 1", buffers=buffers
        )
    scaled = ScaledRehearsal.from_results(results, production, _expected_tables(migration))
    scaled.attach()
    return scaled


def _rehearsal_server(config: dict):
    """The server the rehearsals run on, opened as the runner opens it."""
    import dbserver
    from rehearse.measure.config import RehearsalConfig

    known = {k: v for k, v in config.items() if k in RehearsalConfig.names()}  # unknown ones: run() says so
    rc = RehearsalConfig(**known)
    return dbserver.open_server(rc.dsn, postgres_bin=rc.postgres_bin)


def _dataset_tables() -> list[str]:
    from datagen.tables import TABLES

    return [f"public.{t.name}" for t in TABLES]


def _expected_tables(migration) -> dict[int, set[str]]:
    """Tables the parser expects each statement to lock, by the index the run gives it (the down script's
    statements are numbered after the up script's, as the executor numbers them)."""
    statements = list(migration.statements)
    if migration.down is not None:
        statements += [replace(st, index=st.index + len(migration.statements)) for st in migration.down.statements]
    return {st.index: {qualified(lock.relation) for lock in st.expected_locks} for st in statements}


@dataclass
class ScaledRehearsal:
    """The rehearsals of one migration at several scales, the per-statement fits, and their projections."""

    results: list  # RehearsalResult, smallest scale first
    production: Production
    points: pd.DataFrame  # index, scale, table, rows, duration_ms, lock_hold_ms
    fits: pd.DataFrame  # index, table, metric, model, a_ms, b_ms, loo_log_rmse, sigma_log, dof, …
    _models: dict = field(default_factory=dict, repr=False)  # (index, metric) → _fit.Fit

    @classmethod
    def from_results(cls, results, production: Production | None = None, expected: dict | None = None):
        """Fit saved results (no database needed); `expected` adds the parser's tables per statement index."""
        results = sorted(results, key=lambda r: r.manifest["scale"])
        production = production or resolve_production(results[-1])
        points = _points(results, expected or {})
        models = {(i, m): _fit.fit(*_xy(group, m)) for i, group in points.groupby("index") for m in METRICS}
        return cls(results, production, points, _fit_frame(points, models), models)

    @property
    def largest(self):
        return self.results[-1]

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.results)

    def projection(self, index: int) -> dict:
        """Duration and lock hold of statement `index` at production rows, with intervals and models."""
        group = self.points[self.points["index"] == index]
        if group.empty:
            raise BadInput(f"no statement #{index}; statements are {sorted(set(self.points['index']))}")
        table = _table(group)
        rows = self.production.rows.get(table) if table else None
        rehearsed = int(group["rows"].max()) if table else None
        out = dict(
            index=index,
            table=table,
            rows=rows,
            rows_source=self.production.source.get(table),
            rehearsed_rows=rehearsed,
            extrapolation_factor=rows / rehearsed if table else None,
            **self._bytes(table, rows, rehearsed),
        )
        for metric in METRICS:
            out.update(_projected(self._models[(index, metric)], rows, metric))
        writes = bool(group[["writes_all", "hold_writes_all"]].any(axis=None))
        out["warning"] = _warning(out, self.production.shared_buffers if writes else None)
        return out

    def _bytes(self, table: str | None, rows: int | None, rehearsed: int | None) -> dict:
        """The table's size (with indexes) at the largest rehearsal, and scaled by rows to production."""
        sizes = self.largest.manifest["dataset_manifest"].get("table_bytes", {})
        size = sizes.get(table.split(".", 1)[1]) if table else None
        return dict(rehearsed_bytes=size, bytes=round(size * rows / rehearsed) if size else None)

    def attach(self) -> None:
        """Save the projections in the largest run's manifest, where the verdict and the report find them
        ({index: {rows, duration_ms, low_ms, high_ms, model, …}}; statements with no table left out)."""
        projected = [self.projection(i) for i in self.indexes]
        self.largest.manifest["projection"] = {str(p["index"]): _clean(p) for p in projected if p["table"]}
        self.largest.save()

    @property
    def indexes(self) -> list[int]:
        """The statements fitted: those that succeeded at one scale at least."""
        return sorted(int(i) for i in set(self.points["index"]))

    def projections(self) -> pd.DataFrame:
        return pd.DataFrame([self.projection(i) for i in self.indexes])

    def to_dict(self) -> dict:
        return _clean(
            dict(
                scales=[r.manifest["scale"] for r in self.results],
                run_ids=[r.run_id for r in self.results],
                production=self.production.to_dict(),
                fits=self.fits.to_dict(orient="records"),
                projections=[self.projection(i) for i in self.indexes],
            )
        )

    def summary(self, base: dict | None = None) -> dict:
        """The largest scale's JSON summary (or `base`, e.g. the one annotated with the verdict), each
        statement with its `projection`, plus `extrapolation`: scales, runs, production rows, fits."""
        data = base if base is not None else run_summary(self.largest)
        for statement in data["statements"]:
            if statement["index"] in self.indexes:
                statement["projection"] = self.projection(statement["index"])
        extrapolation = self.to_dict()
        extrapolation.pop("projections")
        data["extrapolation"] = extrapolation
        return json.loads(json.dumps(data, default=_json_default))


def _json_default(value):
    return value.item() if hasattr(value, "item") else str(value)


def _points(results, expected: dict) -> pd.DataFrame:
    frames = []
    for result in results:
        impact = statement_impact(result).assign(scale=result.manifest["scale"])
        impact["touched"] = [_touched(s, expected.get(s.index, set())) for s in impact.itertuples()]
        sizes = {f"public.{t}": n for t, n in result.manifest["dataset_manifest"]["rows"].items()}
        impact["table_rows"] = [sizes] * len(impact)
        impact["reads_all"] = impact["scanned"] | impact["rewrote"]
        impact["writes_all"] = impact["rewrote"] | impact["scanned"] & impact["rows"].fillna(0).gt(0)
        for kind in ("reads_all", "writes_all"):
            impact[f"hold_{kind}"] = _held_over(impact, result.statements, kind)
        frames.append(impact)
    points = pd.concat(frames, ignore_index=True)
    tables = {i: _largest(g) for i, g in points.groupby("index")}
    points["table"] = points["index"].map(tables)  # NaN where a statement touched no dataset table
    points["rows"] = [r.get(t, np.nan) for r, t in zip(points["table_rows"], points["table"])]
    ok = points["status"].eq("ok") & points["duration_ms"].notna()  # a failed statement's time says nothing
    return points.loc[
        ok,
        [
            "index",
            "scale",
            "sql",
            "table",
            "rows",
            "duration_ms",
            "lock_hold_ms",
            "reads_all",
            "hold_reads_all",
            "writes_all",
            "hold_writes_all",
        ],
    ]


def _held_over(impact: pd.DataFrame, statements: pd.DataFrame, kind: str) -> list[bool]:
    """Per statement: whether its locks stay held while it, or a later statement of its transaction, does
    `kind` (reads_all, writes_all): ADD COLUMN's lock is held through the backfill UPDATE after it."""
    tx = statements.set_index("index")["transaction"]
    does = dict(zip(impact["index"], impact[kind]))
    return [
        does[i] or bool(tx.get(i)) and any(does[j] for j in does if j >= i and tx.get(j) == tx.get(i))
        for i in impact["index"]
    ]


def _touched(statement, expected: set[str]) -> set[str]:
    locked = {lock["relation"] for lock in statement.locks}
    return locked | set(statement.scanned_tables) | set(statement.rewritten) | expected


def _largest(group: pd.DataFrame) -> str | None:
    """The dataset table with the most rows (at the largest scale) among those the statement touched."""
    touched = set().union(*group["touched"])
    sizes = group["table_rows"].iloc[-1]
    candidates = [t for t in touched if t in sizes]
    return max(candidates, key=sizes.get) if candidates else None


def _xy(group: pd.DataFrame, metric: str):
    """Points and candidate models. No table touched: rows do not matter, only a constant fits (n = 1).
    A whole-table read or rewrite cannot take constant time: then only linear and n log n compete."""
    if not _table(group):
        return np.ones(len(group)), group[METRICS[metric]].to_numpy(float), ("constant",)
    reads = group["reads_all" if metric == "duration" else "hold_reads_all"].any()
    return (
        group["rows"].to_numpy(float),
        group[METRICS[metric]].to_numpy(float),
        _fit.MODELS[1:] if reads else _fit.MODELS,
    )


def _table(group: pd.DataFrame) -> str | None:
    table = group["table"].iloc[0]
    return table if isinstance(table, str) else None


def _fit_frame(points: pd.DataFrame, models: dict) -> pd.DataFrame:
    tables = {i: _table(group) for i, group in points.groupby("index")}
    return pd.DataFrame(
        [
            dict(
                index=i,
                table=tables[i],
                metric=m,
                model=f.model,
                a_ms=f.a,
                b_ms=f.b,
                loo_log_rmse=f.loo,
                sigma_log=f.sigma,
                dof=f.dof,
                points=f.points,
                also_close=",".join(a.model for a in f.alternatives),
            )
            for (i, m), f in models.items()
        ]
    )


def _projected(fit: _fit.Fit, rows, metric: str) -> dict:
    n = rows if rows is not None else 1
    low, high = fit.interval(n)
    names = (
        ("duration_ms", "low_ms", "high_ms", "model")
        if metric == "duration"
        else ("hold_ms", "hold_low_ms", "hold_high_ms", "hold_model")
    )
    return dict(zip(names, (float(max(fit.predict(n), 0.0)), float(low), float(high), fit.model)))


def _warning(p: dict, buffers: int | None = None) -> str | None:
    """Why not to trust the projection: rows far beyond the rehearsals, rehearsals that disagree, or a table
    that outgrows the buffer cache between the rehearsals and production."""
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
    if spread > WIDE:
        found.append(
            f"the rehearsals do not follow one curve (interval spans ×{min(spread, 1e4):,.0f}): "
            "rerun on a quiet machine, add scales, or look for a plan change between scales"
        )
    if buffers and p["bytes"] and p["rehearsed_bytes"] < buffers / 4 < p["bytes"]:
        # Past shared_buffers/4 a sequential scan reads through a small ring of buffers (initscan), and the
        # pages a full-table write dirties no longer stay cached until the statement ends: the per-row cost
        # steps up (bench/RESULTS-extrapolation.md: the UPDATE of orders, slower per row at SF 1).
        found.append(
            f"{p['table']} outgrows the buffer cache: {_size(p['rehearsed_bytes'])} rehearsed, "
            f"~{_size(p['bytes'])} in production, past shared_buffers/4 ({_size(buffers / 4)}); "
            "statements writing every row will take longer than projected: rehearse past that size"
        )
    return "; ".join(found) or None


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"
