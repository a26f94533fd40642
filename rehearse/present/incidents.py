"""What the incident notebooks share: the dataset call, the dry run, and tables setting rehearsals side by side.

Each table takes `{'risky': result, 'safer': result, …}` (saved RehearsalResults, no database) and keeps the
order given, so a notebook reads left to right or top to bottom as its story goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import datagen
import dbserver
from common.errors import BadInput
from common.paths import project_root
from common.text import shorten
from rehearse.analysis import timeline as analysis
from rehearse.measure.config import RehearsalConfig, configure
from rehearse.measure.manifest import StateAfter
from rehearse.sql import locks as lockmodes
from rehearse.sql.migration import plan

MIGRATIONS = project_root() / "migrations"
# Which table each kind of dirt lives in (datagen.Dirt's fields).
DIRT_TABLES = {
    "orphan_items": "order_items",
    "duplicate_emails": "customers",
    "null_currency": "orders",
    "bad_transaction_ids": "orders",
}
_TABLE_KINDS = ("r", "p", "m", "f")
_FILE_OPTIONS = ("setup", "down", "app_queries")


def locate(path: str | Path) -> Path:
    """`path` from the working directory when it exists there, else from the project root (papermill runs
    notebooks in notebooks/, a DBA types paths from the project root)."""
    given = Path(path).expanduser()
    if given.is_absolute() or given.exists():
        return given
    return project_root() / given


def config(**options) -> RehearsalConfig:
    """A RehearsalConfig from a notebook's parameters, with its file options (setup, down, app_queries)
    found as `locate` finds them; a value naming no file is passed on for the engine to judge."""
    for name in _FILE_OPTIONS:
        value = options.get(name)
        if value and locate(value).exists():
            options[name] = str(locate(value))
    return configure(None, options)


def config_from(namespace: dict, **overrides) -> RehearsalConfig:
    """A notebook's RehearsalConfig in one call: `config_from(globals())` takes the parameters that are
    RehearsalConfig fields (others, such as `path` or `max_risk`, stay the notebook's), then `overrides`."""
    names = RehearsalConfig.names()
    return config(**{name: value for name, value in namespace.items() if name in names} | overrides)


def dataset(config: RehearsalConfig | None = None, **options):
    """The dataset template for these options (scale, seed, dirt_*), built quietly when it does not exist."""
    config = configure(config, options)
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    return datagen.build(scale=config.scale, seed=config.seed, dirt=config.dirt(), server=server, progress=False)


def describe(dataset) -> pd.DataFrame:
    """One row per table: rows, size, and the dirty rows planted in it."""
    m = dataset.manifest
    dirt = {table: [] for table in m["rows"]}
    for kind, count in (m.get("dirt_achieved") or {}).items():
        if count:
            dirt.setdefault(DIRT_TABLES.get(kind, "?"), []).append(f"{count:,} {kind.replace('_', ' ')}")
    return pd.DataFrame(
        {
            "rows": pd.Series(m["rows"]),
            "MB": pd.Series(m.get("table_bytes", {})) / 1e6,
            "dirt": pd.Series({t: ", ".join(v) for t, v in dirt.items()}),
        }
    ).rename_axis("table")


@dataclass(frozen=True)
class PlanCheck:
    """A dry run's outcome: the plan as text, or why the migration was rejected before anything ran."""

    ok: bool
    text: str


def check_plan(path: str | Path, down: str | Path | None = None) -> PlanCheck:
    """`rehearse.plan` as a value: a syntax error (e.g. `UPDATE … LIMIT`) becomes ok=False and its message."""
    try:
        return PlanCheck(True, plan(locate(path), locate(down) if down else None).to_text())
    except BadInput as exc:
        return PlanCheck(False, f"rejected before anything ran: {exc}")


def failure(result) -> dict | None:
    """The first failed statement: {index, kind, sqlstate, message}, or None when the migration succeeded."""
    failed = result.statements[result.statements["status"] == "failed"].sort_values("index")
    if failed.empty:
        return None
    row = failed.iloc[0]
    return dict(index=int(row["index"]), kind=row["kind"], sqlstate=row["sqlstate"], message=row["error"])


def lock_table(results: dict) -> pd.DataFrame:
    """Every table lock each variant's statements held: mode, what it blocks, and for how long."""
    frames = [_locks_of(name, result) for name, result in results.items()]
    return pd.concat(frames, ignore_index=True) if frames else _locks_of("", None)


def _locks_of(name: str, result) -> pd.DataFrame:
    columns = ["variant", "#", "phase", "statement", "table", "lock", "blocks", "held ms"]
    if result is None:
        return pd.DataFrame(columns=columns)
    spans = analysis.lock_spans(result)
    spans = spans[(spans["relkind"].isin(_TABLE_KINDS) | spans["relkind"].isna()) & ~spans["own"]]
    spans = spans[~spans["relation"].fillna("").str.match(r"(pg_catalog|information_schema)\.")]
    spans = spans.assign(rank=spans["mode"].map(lambda mode: lockmodes.rank(mode, unknown=0))).sort_values(
        "rank", ascending=False
    )
    # The strongest mode per statement and table is what the application feels; weaker ones add nothing.
    held = (
        spans.groupby(["index", "relation"], as_index=False)
        .agg(mode=("mode", "first"), rank=("rank", "first"), hold_ms=("hold_ms", "max"))
        .sort_values(["index", "rank", "relation"], ascending=[True, False, True])
    )
    statements = result.statements.set_index("index")
    return pd.DataFrame(
        {
            "variant": name,
            "#": held["index"].astype(int),
            "phase": held["index"].map(statements["phase"]),
            "statement": held["index"].map(statements["sql"]).map(shorten),
            "table": held["relation"].str.removeprefix("public."),
            "lock": held["mode"],
            # analysis.lock_waits rounds a wait up by half a sampler tick, which can put a short lock's start
            # a fraction of a millisecond after its end: no lock is held for less than nothing.
            "blocks": held["mode"].map(_blocks),
            "held ms": held["hold_ms"].astype(float).clip(lower=0),
        },
        columns=columns,
    )


def _blocks(mode: str) -> str:
    if lockmodes.blocks_reads(mode):
        return "reads and writes"
    return "writes" if lockmodes.blocks_writes(mode) else "neither"


def by_phase(results: dict, column: str = "error_rate") -> pd.DataFrame:
    """One column of `analysis.latency_by_phase` (p99_ms, error_rate, errors…) per variant, phases as rows."""
    return pd.DataFrame({name: analysis.latency_by_phase(r)[column] for name, r in results.items()})


def state_table(results: dict) -> pd.DataFrame:
    """What each rehearsal left in the database: outcome, schema changes still there, objects to clean up."""
    rows = []
    for name, result in results.items():
        state = result.manifest.state_after or StateAfter()
        rows.append(dict(variant=name, what="outcome", detail=_outcome(result)))
        rows += [dict(variant=name, what="schema change left", detail=line) for line in state.schema_diff]
        rows += [dict(variant=name, what="to clean up", detail=line) for line in state.leftovers]
        if not state.schema_diff and not state.leftovers:
            rows.append(dict(variant=name, what="schema change left", detail="none: the schema is as before"))
    return pd.DataFrame(rows, columns=["variant", "what", "detail"])


def _outcome(result) -> str:
    failed = failure(result)
    if failed is None:
        return "succeeded"
    return f"failed at #{failed['index']} {failed['kind']}: {failed['sqlstate']} {failed['message']}"


def rollback_table(results: dict) -> pd.DataFrame:
    """The tested-rollback check of each variant (up, down, up again on a quiet copy), one column each."""
    return pd.DataFrame({name: _rollback_rows(r.manifest.rollback) for name, r in results.items()})


def _rollback_rows(report) -> dict:
    if not report or not report.tested:
        return {"tested": False}
    return {
        "tested": True,
        "restored (schema and data)": report.restored,
        "up failed": _error(report.up_error),
        "left by up": "; ".join(report.leftovers) or "-",
        "down failed": _error(report.down_error),
        "schema differences after down": "; ".join(report.schema_diff) or "none",
        "rows lost": report.rows_lost,
        "up again after down": {True: "ok", False: "failed"}.get(report.reapplied, "not tried"),
    }


def _error(error: dict | None) -> str:
    return "no" if not error else f"#{error['statement']}: {error['sqlstate']} {error['message']}"
