"""Rehearsals at several scales, fitted per statement and projected to production row counts.

Each statement (matched by index across scales) is fitted against the rows of the table it touches: the
largest dataset table among the relations it locked, scanned or rewrote (and the locks the parser expects).
Duration and lock hold are fitted separately, each choosing constant, linear or n·log n by leave-one-out
error; the interval is a 90 % prediction interval in log space. `rehearse._fit` holds the rules. A statement
that read or rewrote a whole table (or whose lock is held while a later statement of its transaction does)
is not offered the constant model: three noisy small-scale points can look flat, production would not.

Production row counts: given (`--production-rows`), read from a real server's catalogue through a read-only
session (`--production-dsn`), or SF 1's; tables given neither way fall back to SF 1, and say so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from dbserver.errors import BadInput

from . import _fit
from .summary import _clean, statement_impact, summary as run_summary

MIN_SCALES = 3
FAR = 100.0            # × the largest rehearsed rows: beyond this a projection earns a warning
WIDE = 4.0             # high / low of the interval: beyond this the rehearsals disagree, and it says so
METRICS = {"duration": "duration_ms", "lock_hold": "lock_hold_ms"}
ROWS_FORMAT = "TABLE=ROWS[,TABLE=ROWS…], e.g. orders=250000000,order_items=600000000"


# -- inputs ---------------------------------------------------------------------------------------------

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
        raise BadInput(f"--scales needs at least {MIN_SCALES} different scales, got {len(values)}: two points fit "
                       "every line exactly, so neither a model choice nor an interval is possible; e.g. 0.01,0.03,0.1")
    return values


def parse_production_rows(text: str) -> dict[str, int]:
    """'orders=250000000,order_items=6e8' → {'public.orders': 250000000, …}."""
    rows = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        try:
            count = float(value.replace("_", "").strip())
        except ValueError:
            count = float("nan")
        if not sep or not name.strip() or not np.isfinite(count) or count < 1 or count != int(count):
            raise BadInput(f"--production-rows {text!r}: expected {ROWS_FORMAT}")
        rows[_qualified(name.strip())] = int(count)
    return rows


def _qualified(name: str) -> str:
    return name if "." in name else f"public.{name}"


# -- production row counts ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Production:
    """Row counts to project to, per table, and where each came from."""

    rows: dict[str, int]
    source: dict[str, str]          # table → 'given' | 'catalogue' | 'size estimate' | 'SF 1'
    origin: str                     # '--production-rows', the masked URL, or 'SF 1'
    unknown: tuple[str, ...] = ()   # dataset tables the production server does not have
    shared_buffers: int | None = None  # bytes: production's when read from it, else the rehearsal server's

    def to_dict(self) -> dict:
        return dict(origin=self.origin, rows=self.rows, source=self.source, unknown=list(self.unknown),
                    shared_buffers=self.shared_buffers)


def connect_read_only(url: str):
    """A connection whose every transaction is READ ONLY: the server itself refuses any write."""
    import psycopg

    return psycopg.connect(url, autocommit=True, options="-c default_transaction_read_only=on")


def read_catalogue(url: str, tables) -> dict[str, tuple[float, int]]:
    """{table: (pg_class.reltuples, pg_total_relation_size)} for the tables the server has."""
    import psycopg

    query = ("SELECT n.nspname || '.' || c.relname, c.reltuples, pg_total_relation_size(c.oid) "
             "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE c.relkind IN ('r', 'p') AND n.nspname || '.' || c.relname = ANY(%s)")
    try:
        with connect_read_only(url) as conn:
            return {name: (float(tuples), int(size)) for name, tuples, size in conn.execute(query, (list(tables),))}
    except psycopg.OperationalError as exc:
        from dbserver import mask
        raise BadInput(f"--production-dsn {mask(url)}: cannot connect ({' '.join(str(exc).split())}); "
                       "check the URL") from None


def shared_buffers(url: str) -> int:
    """The server's shared_buffers in bytes (read-only session)."""
    with connect_read_only(url) as conn:
        return int(conn.execute("SELECT pg_size_bytes(current_setting('shared_buffers'))").fetchone()[0])


def resolve_production(largest, rows: dict | None = None, catalogue: dict | None = None,
                       origin: str = "SF 1", buffers: int | None = None) -> Production:
    """Rows per dataset table: given, else from the catalogue, else SF 1 (rehearsed rows ÷ scale)."""
    manifest = largest.manifest["dataset_manifest"]
    sf1 = {f"public.{t}": round(n / largest.manifest["scale"]) for t, n in manifest["rows"].items()}
    missing = tuple(sorted(set(sf1) - set(catalogue))) if catalogue is not None else ()
    rows, catalogue = rows or {}, catalogue or {}
    unknown = sorted(set(rows) - set(sf1))
    if unknown:
        raise BadInput(f"--production-rows names {', '.join(unknown)}, not a dataset table; "
                       f"known: {', '.join(sorted(sf1))}")
    out, source = {}, {}
    for table, count in sf1.items():
        out[table], source[table] = count, "SF 1"
        if table in rows:
            out[table], source[table] = rows[table], "given"
        elif table in catalogue:
            out[table], source[table] = _from_catalogue(*catalogue[table], manifest, table)
    return Production(out, source, origin, missing, buffers)


def _from_catalogue(reltuples: float, size: int, manifest: dict, table: str) -> tuple[int, str]:
    if reltuples >= 0:
        return int(reltuples), "catalogue"
    # reltuples = -1: never vacuumed or analysed (PostgreSQL 14+); bytes per row as in the rehearsal instead
    bare = table.split(".", 1)[1]
    per_row = manifest["table_bytes"][bare] / max(manifest["rows"][bare], 1)
    return int(size / per_row), "size estimate"


# -- several scales, fitted -----------------------------------------------------------------------------

def run_scales(path, scales, production_rows=None, production_dsn=None, **config) -> "ScaledRehearsal":
    """Rehearse `path` at each scale (smallest first, each from its own template) and fit the statements.

    `production_rows` ({table: rows} or 'orders=…,order_items=…') or `production_dsn` (read-only look at a
    real server's catalogue) give the row counts to project to; with neither, SF 1's.
    """
    import dbserver

    from . import migration as migration_mod
    from .runner import run

    scales = parse_scales(scales)
    if "scale" in config:
        raise BadInput("give the scales with `scales` (--scales), not `scale`, when extrapolating")
    if production_rows is not None and production_dsn is not None:
        raise BadInput("give --production-rows or --production-dsn, not both")
    rows = parse_production_rows(production_rows) if isinstance(production_rows, str) else production_rows
    rows = {_qualified(t): int(n) for t, n in rows.items()} if rows else None
    migration = migration_mod.load(path, down=config.get("down"))  # a bad file fails before any rehearsal
    catalogue = read_catalogue(production_dsn, _dataset_tables()) if production_dsn else None
    buffers = shared_buffers(production_dsn or _rehearsal_server(config).dsn)
    results = [run(path, scale=s, **config) for s in scales]
    if production_dsn:
        production = resolve_production(results[-1], catalogue=catalogue, origin=dbserver.mask(production_dsn),
                                        buffers=buffers)
    else:
        production = resolve_production(results[-1], rows, origin="--production-rows" if rows else "SF 1",
                                        buffers=buffers)
    scaled = ScaledRehearsal.from_results(results, production, _expected_tables(migration))
    scaled.attach()
    return scaled


def _rehearsal_server(config: dict):
    """The server the rehearsals run on, opened as the runner opens it."""
    import dbserver

    from .config import RehearsalConfig
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
    return {st.index: {_qualified(lock.relation) for lock in st.expected_locks} for st in statements}


@dataclass
class ScaledRehearsal:
    """The rehearsals of one migration at several scales, the per-statement fits, and their projections."""

    results: list                   # RehearsalResult, smallest scale first
    production: Production
    points: pd.DataFrame            # index, scale, table, rows, duration_ms, lock_hold_ms
    fits: pd.DataFrame              # index, table, metric, model, a_ms, b_ms, loo_log_rmse, sigma_log, dof, …
    _models: dict = field(default_factory=dict, repr=False)   # (index, metric) → _fit.Fit

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
        out = dict(index=index, table=table, rows=rows, rows_source=self.production.source.get(table),
                   rehearsed_rows=rehearsed, extrapolation_factor=rows / rehearsed if table else None,
                   **self._bytes(table, rows, rehearsed))
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
        return _clean(dict(scales=[r.manifest["scale"] for r in self.results],
                           run_ids=[r.run_id for r in self.results], production=self.production.to_dict(),
                           fits=self.fits.to_dict(orient="records"),
                           projections=[self.projection(i) for i in self.indexes]))

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
    return points.loc[ok, ["index", "scale", "sql", "table", "rows", "duration_ms", "lock_hold_ms", "reads_all",
                           "hold_reads_all", "writes_all", "hold_writes_all"]]


def _held_over(impact: pd.DataFrame, statements: pd.DataFrame, kind: str) -> list[bool]:
    """Per statement: whether its locks stay held while it, or a later statement of its transaction, does
    `kind` (reads_all, writes_all): ADD COLUMN's lock is held through the backfill UPDATE after it."""
    tx = statements.set_index("index")["transaction"]
    does = dict(zip(impact["index"], impact[kind]))
    return [does[i] or bool(tx.get(i)) and any(does[j] for j in does if j >= i and tx.get(j) == tx.get(i))
            for i in impact["index"]]


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
    return group["rows"].to_numpy(float), group[METRICS[metric]].to_numpy(float), \
        _fit.MODELS[1:] if reads else _fit.MODELS


def _table(group: pd.DataFrame) -> str | None:
    table = group["table"].iloc[0]
    return table if isinstance(table, str) else None


def _fit_frame(points: pd.DataFrame, models: dict) -> pd.DataFrame:
    tables = {i: _table(group) for i, group in points.groupby("index")}
    return pd.DataFrame([dict(index=i, table=tables[i], metric=m, model=f.model, a_ms=f.a, b_ms=f.b,
                              loo_log_rmse=f.loo, sigma_log=f.sigma, dof=f.dof, points=f.points,
                              also_close=",".join(a.model for a in f.alternatives))
                         for (i, m), f in models.items()])


def _projected(fit: _fit.Fit, rows, metric: str) -> dict:
    n = rows if rows is not None else 1
    low, high = fit.interval(n)
    names = ("duration_ms", "low_ms", "high_ms", "model") if metric == "duration" else \
        ("hold_ms", "hold_low_ms", "hold_high_ms", "hold_model")
    return dict(zip(names, (float(max(fit.predict(n), 0.0)), float(low), float(high), fit.model)))


def _warning(p: dict, buffers: int | None = None) -> str | None:
    """Why not to trust the projection: rows far beyond the rehearsals, rehearsals that disagree, or a table
    that outgrows the buffer cache between the rehearsals and production."""
    found, factor = [], p["extrapolation_factor"]
    if factor is not None and factor > FAR:
        found.append(f"{p['rows']:,} rows in {p['table']} is {factor:,.0f}× the largest rehearsal "
                     f"({p['rehearsed_rows']:,}): far beyond the measured range; rehearse at a larger scale")
    # sub-second intervals are left alone: there a wide spread is jitter, and harmless
    spread = max([high / max(low, 1e-9) for low, high in ((p["low_ms"], p["high_ms"]),
                                                            (p["hold_low_ms"], p["hold_high_ms"])) if high > 1000],
                 default=0.0)
    if spread > WIDE:
        found.append(f"the rehearsals do not follow one curve (interval spans ×{min(spread, 1e4):,.0f}): "
                     "rerun on a quiet machine, add scales, or look for a plan change between scales")
    if buffers and p["bytes"] and p["rehearsed_bytes"] < buffers / 4 < p["bytes"]:
        # Past shared_buffers/4 a sequential scan reads through a small ring of buffers (initscan), and the
        # pages a full-table write dirties no longer stay cached until the statement ends: the per-row cost
        # steps up (bench/RESULTS-extrapolation.md: the UPDATE of orders, slower per row at SF 1).
        found.append(f"{p['table']} outgrows the buffer cache: {_size(p['rehearsed_bytes'])} rehearsed, "
                     f"~{_size(p['bytes'])} in production, past shared_buffers/4 ({_size(buffers / 4)}); "
                     "statements writing every row will take longer than projected: rehearse past that size")
    return "; ".join(found) or None


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


# -- figure and command line ----------------------------------------------------------------------------

def plot(scaled: ScaledRehearsal, index: int, metric: str = "lock_hold"):
    """Measured points per scale and the fitted curve out to production rows (log-log), interval band."""
    import matplotlib.pyplot as plt

    if metric not in METRICS:
        raise BadInput(f"metric {metric!r}: choose one of {', '.join(METRICS)}")
    p, fit = scaled.projection(index), scaled._models[(index, metric)]
    if p["table"] is None:
        raise BadInput(f"statement #{index} touches no dataset table: there are no rows to plot it against")
    group = scaled.points[scaled.points["index"] == index]
    n = np.geomspace(group["rows"].min(), max(p["rows"], group["rows"].max()), 200)
    low, high = fit.interval(n)
    fig = plt.figure(figsize=(8, 5), layout="constrained")
    plt.close(fig)  # returned, not kept by pyplot
    ax = fig.subplots()
    ax.fill_between(n, low / 1000, high / 1000, alpha=0.2, label="90 % prediction interval")
    ax.plot(n, fit.predict(n) / 1000, label=f"{_MODEL_NAMES[fit.model]} fit")
    ax.scatter(group["rows"], group[METRICS[metric]] / 1000, zorder=3, label="rehearsed")
    for row in group.itertuples():
        ax.annotate(f"SF {row.scale:g}", (row.rows, getattr(row, METRICS[metric]) / 1000),
                    textcoords="offset points", xytext=(4, -12), fontsize=8)
    _draw_production(ax, p, metric)
    ax.set_xscale("log")
    if (group[METRICS[metric]] > 0).any():
        ax.set_yscale("log")
    ax.set_xlabel(f"rows in {p['table']}")
    ax.set_ylabel(f"{_METRIC_NAMES[metric]} (s)")
    ax.set_title(f"#{index} {_short(group['sql'].iloc[0])}\n{_METRIC_NAMES[metric]}: "
                 f"{_human(_value(p, metric))} projected at {p['rows']:,} rows ({scaled.production.origin})")
    ax.legend(loc="upper left", fontsize=8)
    return fig


_MODEL_NAMES = {"constant": "constant", "linear": "linear (a + b·n)", "nlogn": "n log n (a + b·n·ln n)"}
_METRIC_NAMES = {"duration": "duration", "lock_hold": "lock hold"}


def _value(p: dict, metric: str, which: str = "") -> float:
    key = {"duration": {"": "duration_ms", "low": "low_ms", "high": "high_ms"},
           "lock_hold": {"": "hold_ms", "low": "hold_low_ms", "high": "hold_high_ms"}}[metric][which]
    return p[key]


def _draw_production(ax, p: dict, metric: str) -> None:
    y, low, high = (_value(p, metric, w) / 1000 for w in ("", "low", "high"))
    ax.errorbar([p["rows"]], [y], yerr=[[y - low], [high - y]], fmt="D", color="tab:red", capsize=4,
                label=f"projection ({p['rows_source']})")
    ax.axvline(p["rows"], color="tab:red", linestyle=":", linewidth=1)


def projection_table(scaled: ScaledRehearsal) -> pd.DataFrame:
    """The printed table: per statement, rows projected to, ×, models, duration and lock hold with intervals."""
    rows = []
    for p in map(scaled.projection, scaled.indexes):
        sql = scaled.points.loc[scaled.points["index"] == p["index"], "sql"].iloc[0]
        rows.append({"#": p["index"], "statement": _short(sql, 40), "fitted on": p["table"] or "-",
                     "rows": f"{p['rows']:,}" if p["table"] else "-",
                     "×": f"{p['extrapolation_factor']:,.0f}" if p["table"] else "-",
                     "duration": _ranged(p["duration_ms"], p["low_ms"], p["high_ms"]), "model": p["model"],
                     "lock hold": _ranged(p["hold_ms"], p["hold_low_ms"], p["hold_high_ms"]),
                     "hold model": p["hold_model"]})
    return pd.DataFrame(rows)


def cli_run(args, options: dict) -> bool:
    """`rehearse run --scales …`: rehearse, fit, judge the largest run with its projection, print, write
    the report and --json. True when a rehearsal failed."""
    from .display import print_run
    from .report import judge, write

    if not args.scales:
        raise BadInput("--production-rows and --production-dsn need --scales, e.g. --scales 0.01,0.03,0.1")
    scaled = run_scales(args.path, args.scales, production_rows=args.production_rows,
                        production_dsn=args.production_dsn, **options)
    judged = judge(scaled.largest)  # the lock-hold rules read the projection saved in its manifest
    data = scaled.summary(judged.annotate("amber") | {"run_id": scaled.largest.run_id, "report": None})
    print_run(scaled.largest, data)
    print(f"verdict: {judged.level.upper()}" + "".join(f"\n  - {r}" for r in judged.reasons[:5]))
    print_projection(scaled)
    if not getattr(args, "no_report", False):
        data["report"] = str(write(scaled.largest.run_id))
        print(f"report: {data['report']}")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2))
    return scaled.failed


def print_projection(scaled: ScaledRehearsal) -> None:
    scales = ", ".join(f"{r.manifest['scale']:g}" for r in scaled.results)
    print(f"\nprojection to production ({scaled.production.origin}) from scales {scales}; 90 % intervals")
    print(projection_table(scaled).to_string(index=False))
    for p in map(scaled.projection, scaled.indexes):
        if p["warning"]:
            print(f"warning: #{p['index']}: {p['warning']}")
    if scaled.production.unknown:
        print(f"not on the production server (projected to SF 1): {', '.join(scaled.production.unknown)}")


def _short(sql: str, width: int = 60) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _ranged(ms: float, low: float, high: float) -> str:
    return f"{_human(ms)} ({_human(low)} – {_human(high)})"


def _human(ms: float) -> str:
    seconds = ms / 1000
    if seconds < 1:
        return f"{ms:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"
