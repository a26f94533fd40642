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
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from common.errors import BadInput
from rehearse.analysis.summary import _clean
from rehearse.analysis.summary import summary as run_summary
from rehearse.extrapolate import busy, cache, plans, sort
from rehearse.extrapolate import fit as _fit
from rehearse.extrapolate.points import METRICS, fit_frame, points, table_of, xy
from rehearse.extrapolate.production import (
    Production,
    dataset_tables,
    qualified,
    read_catalogue,
    resolve_production,
    rows_and_origin,
    setting_bytes,
)
from rehearse.extrapolate.projection import projected, with_plan
from rehearse.extrapolate.projection import warning as _warning
from rehearse.extrapolate.single import check_rows
from rehearse.measure.config import configure
from rehearse.measure.result import SCALED, RehearsalResult, runs_dir
from rehearse.measure.runner import run
from rehearse.sql import migration as migration_mod

MIN_SCALES = 3


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


def run_scales(
    path, scales, production_rows=None, production_dsn=None, static_findings=None, **config
) -> ScaledRehearsal:
    """Rehearse `path` (or a Migration) at each scale (smallest first, each from its own template), fit the
    statements, and save the projection in a folder of its own (`rehearse.load(scaled.run_id)`).

    `production_rows` ({table: rows} or 'orders=…,order_items=…') or `production_dsn` (read-only look at a
    real server's catalogue) give the row counts to project to; with neither, SF 1's. The migration is
    parsed once, here; `static_findings` is passed to each run (see rehearse.measure.runner.run).
    """
    import dbserver

    scales = parse_scales(scales)
    if "scale" in config:
        raise BadInput("give the scales with `scales` (--scales), not `scale`, when extrapolating")
    if production_rows is not None and production_dsn is not None:
        raise BadInput("give --production-rows or --production-dsn, not both")
    rows = check_rows(production_rows, dataset_tables(config))  # before any dataset is built
    rc = configure(None, config)  # unknown options fail here, before any rehearsal
    rows, origin = rows_and_origin(config, rows, production_dsn)
    migration = migration_mod.load(path, down=rc.down, max_mb=rc.max_migration_mb)  # a bad file: before any rehearsal
    catalogue = read_catalogue(production_dsn, dataset_tables(config)) if production_dsn else None
    settings_from = production_dsn or dbserver.open_server(rc.dsn, postgres_bin=rc.postgres_bin).dsn
    buffers, sort_memory = (setting_bytes(settings_from, n) for n in ("shared_buffers", "maintenance_work_mem"))
    results = [run(migration, rc, static_findings, scale=s) for s in scales]
    if rows and origin.startswith("profile"):  # tables the twin does not load (partitioned parents) drop out
        loaded = set(map(qualified, results[-1].manifest.dataset_manifest["rows"]))
        rows = {t: n for t, n in rows.items() if t in loaded}
    if production_dsn:
        origin = dict(catalogue=catalogue, origin=dbserver.mask(production_dsn))
    else:
        origin = dict(rows=rows, origin=origin)
    production = resolve_production(results[-1], buffers=buffers, sort_memory=sort_memory, **origin)
    scaled = ScaledRehearsal.from_results(results, production, _expected_tables(migration))
    server = dbserver.open_server(rc.dsn, postgres_bin=rc.postgres_bin)
    scaled.plans = plans.for_scaled(scaled, migration.statements, server)
    scaled.sorts = sort.for_scaled(scaled, migration.statements, server)
    scaled.save()
    return scaled


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
    plans: dict = field(default_factory=dict)  # index → plans.PlanCheck: the inner query at production size
    sorts: dict = field(default_factory=dict)  # index → an index build's sort memory per row (sort.py)
    run_id: str | None = None  # its folder under data/runs once saved

    @classmethod
    def from_results(cls, results, production: Production | None = None, expected: dict | None = None):
        """Fit saved results (no database needed); `expected` adds the parser's tables per statement index."""
        results = sorted(results, key=lambda r: r.manifest.scale)
        production = production or resolve_production(results[-1])
        found = points(results, expected or {})
        models = {(i, m): _fit.fit(*xy(group, m)) for i, group in found.groupby("index") for m in METRICS}
        return cls(results, production, found, fit_frame(found, models), models)

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
        table = table_of(group)
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
        writes = bool(group[["writes_all", "hold_writes_all"]].any(axis=None))
        buffers = self.production.shared_buffers if writes else None
        cliff = cache.crosses(out["rehearsed_bytes"], out["bytes"], buffers)
        past = cache.fits_past(group, (out["rehearsed_bytes"] or 0) / (rehearsed or 1), buffers) if cliff else None
        for metric in METRICS:
            out.update(projected((past or {}).get(metric) or self._models[(index, metric)], rows, metric))
        out["fitted_past_cliff"] = past is not None
        if cliff and past is None:
            out.update(cache.widen(out))
        spills = sort.spills_at(self.sorts.get(index), self.production.maintenance_work_mem, rehearsed, rows)
        out.update(sort.widen(out) if spills else {}, sort_spills_at_rows=spills)
        out.update(busy.fields(busy.busiest(r.manifest.host_cpu for r in self.results)))
        out.update(busy.widen(out) if busy.widened(out) else {})
        check = self.plans.get(index)
        out.update(with_plan(out, check) if check is not None else dict.fromkeys(plans.KEYS))
        out["warning"] = _warning(out, buffers if cliff and past is None else None, check)
        return out

    def _bytes(self, table: str | None, rows: int | None, rehearsed: int | None) -> dict:
        """The table's size (with indexes) at the largest rehearsal, and scaled by rows to production."""
        sizes = self.largest.manifest.dataset_manifest.get("table_bytes", {})
        size = sizes.get(table.split(".", 1)[1]) if table else None
        return dict(rehearsed_bytes=size, bytes=round(size * rows / rehearsed) if size else None)

    def projection_frame(self) -> pd.DataFrame:
        """The projections of the statements that touch a table: one row per statement index."""
        found = [_clean(p) for p in (self.projection(i) for i in self.indexes) if p["table"]]
        return pd.DataFrame(found, columns=list(found[0]) if found else ["index"])

    @property
    def result(self) -> RehearsalResult:
        """The largest run with the projection: what the verdict, the report and the JSON read."""
        return replace(self.largest, projection=self.projection_frame())

    def save(self) -> str:
        """A folder of its own under data/runs: scaled.json naming the runs, the projection, points and fits
        (the runs' own folders are left as they were written); returns its id, which `rehearse.load` takes."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        name = "".join(ch if ch.isalnum() else "-" for ch in self.largest.manifest.migration or "migration")[:40]
        self.run_id = f"{stamp}-scaled-{name.strip('-')}-{secrets.token_hex(2)}"
        folder = runs_dir() / self.run_id
        folder.mkdir(parents=True)
        self.projection_frame().to_parquet(folder / "projection.parquet", index=False)
        self.points.to_parquet(folder / "points.parquet", index=False)
        self.fits.to_parquet(folder / "fits.parquet", index=False)
        about = self.to_dict()
        about.pop("projections")
        (folder / SCALED).write_text(json.dumps(dict(run_id=self.run_id, **about), indent=2, default=str))
        return self.run_id

    @property
    def indexes(self) -> list[int]:
        """The statements fitted: those that succeeded at one scale at least."""
        return sorted(int(i) for i in set(self.points["index"]))

    def projections(self) -> pd.DataFrame:
        return pd.DataFrame([self.projection(i) for i in self.indexes])

    def to_dict(self) -> dict:
        return _clean(
            dict(
                scales=[r.manifest.scale for r in self.results],
                run_ids=[r.run_id for r in self.results],
                production=self.production.to_dict(),
                fits=self.fits.to_dict(orient="records"),
                projections=[self.projection(i) for i in self.indexes],
            )
        )

    def summary(self, base: dict | None = None) -> dict:
        """The largest scale's JSON summary (or `base`, e.g. the one annotated with the verdict), each
        statement with its `projection`, plus `extrapolation`: scales, runs, production rows, fits."""
        data = base if base is not None else run_summary(self.result)
        for statement in data["statements"]:
            if statement["index"] in self.indexes:
                statement["projection"] = self.projection(statement["index"])
        extrapolation = self.to_dict()
        extrapolation.pop("projections")
        data["extrapolation"] = extrapolation | {"scaled_id": self.run_id}
        return json.loads(json.dumps(data, default=_json_default))


def _json_default(value):
    return value.item() if hasattr(value, "item") else str(value)
