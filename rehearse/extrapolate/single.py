"""One rehearsal projected to production size, so that a verdict judges production and not the rehearsal.

A CI gate rehearses at a small scale for speed; 33 ms for a rewrite of 10,000 rows says nothing about 200 M
rows. Every statement that scanned, rewrote or validated a dataset table (its time grows with the table) is
projected from the one scale there is: linearly in the table's rows, i.e. by its bytes at the rehearsal's
bytes per row. One point cannot choose a model, see a plan change or a cache cliff, so the interval is
wide: from LOW_FACTOR × the linear projection to HIGH_FACTOR × the n·log n one (a sort, an index build, a
table past the cache). The low end is far down because at a tiny scale a statement's fixed costs (catalogue
snapshot, commit flush, a file per index) and a loaded machine can be most of its time: a rewrite of 10,000
orders took 231 ms on this shared machine, of which ~19 ms were per-row work at SF 1's rate. With several scales, `scales.py` fits instead.

Statements that touched no table in full (an index-only lookup, a catalogue-only ALTER) keep their measured
times: they do not grow with the table. The projections use the keys of `scales.py`'s, plus `basis` and `origin`. Nothing here opens a
connection: the verdict computes them from the saved run (its config's `production_rows`), so a report
written later judges the same size.
"""

from __future__ import annotations

import math

from common.errors import BadInput
from rehearse.analysis.summary import _clean, statement_impact
from rehearse.extrapolate.production import (
    Production,
    cache_warning,
    parse_production_rows,
    qualified,
    read_catalogue,
    resolve_production,
)

LOW_FACTOR = 0.1  # × linear: fixed costs (catalogue, commit flush, one file per index) counted as per-row
HIGH_FACTOR = 2.0  # × n log n: the sort of an index build, a table that outgrows shared_buffers
BASIS = "one scale, linear in rows"


def check_rows(production_rows, tables) -> dict[str, int] | None:
    """--production-rows checked before any rehearsal: its format, and its tables against `tables`."""
    rows = parse_production_rows(production_rows) if isinstance(production_rows, str) else production_rows
    rows = {qualified(t): int(n) for t, n in rows.items()} if rows else None
    unknown = sorted(set(rows or ()) - set(tables))
    if unknown:
        known = ", ".join(sorted(tables))
        raise BadInput(f"--production-rows names {', '.join(unknown)}, not a dataset table; known: {known}")
    return rows


def rows_from(production_dsn: str, tables) -> str:
    """A production server's row counts (read-only catalogue look) as --production-rows text; a table the
    catalogue has no count for (never analysed) is left to SF 1."""
    catalogue = read_catalogue(production_dsn, tables)
    return ",".join(f"{t}={int(n)}" for t, (n, _) in sorted(catalogue.items()) if n >= 1) or None


def production(result) -> Production:
    """The production a one-scale run is judged at: its config's production_rows, else SF 1 (for a twin,
    the profile's own row counts)."""
    rows = check_rows(result.manifest.config.production_rows, [f"public.{t}" for t in result.manifest.table_rows])
    twin = result.manifest.dataset_manifest.get("kind") == "twin"
    origin = "--production-rows" if rows else "the profile's row counts" if twin else "SF 1"
    return resolve_production(result, rows, origin=origin)


def projections(result, at: Production | None = None) -> dict[int, dict]:
    """{statement index: projection} for the statements of `result` whose time grows with a table."""
    at = at or production(result)
    manifest = result.manifest.dataset_manifest
    rehearsed = {f"public.{t}": n for t, n in manifest["rows"].items()}
    out = {}
    for s in statement_impact(result).itertuples():
        table = _grown_table(s, rehearsed)
        if table and s.status == "ok" and at.rows.get(table) and rehearsed[table]:
            out[int(s.index)] = _clean(_project(s, table, rehearsed[table], at, manifest) | {"origin": at.origin})
    return out


def judged_size(projection: dict | None) -> str | None:
    """'production size (--production-rows): public.orders 200,000,000 rows (given); projected …', or None."""
    if not projection:
        return None
    shown = {p["table"]: (p["rows"], p.get("rows_source")) for p in projection.values() if p.get("table")}
    tables = ", ".join(f"{t} {rows:,} rows ({source})" for t, (rows, source) in sorted(shown.items()))
    origins = sorted({p["origin"] for p in projection.values() if p.get("origin")})
    origin = f" ({', '.join(origins)})" if origins else ""
    basis = {p.get("basis") or "fitted over several scales" for p in projection.values()}
    return f"production size{origin}: {tables}; projected {', '.join(sorted(basis))}"


def _grown_table(s, rehearsed: dict) -> str | None:
    """The largest dataset table the statement read or rewrote in full (a FK validation scans both)."""
    touched = [t for t in (*s.rewritten, *s.scanned_tables) if t in rehearsed]
    return max(touched, key=rehearsed.get) if touched else None


def _project(s, table: str, rehearsed_rows: int, production: Production, manifest: dict) -> dict:
    rows = production.rows[table]
    factor = rows / rehearsed_rows
    nlogn = factor * math.log(max(rows, 2)) / math.log(max(rehearsed_rows, 2))
    duration = s.duration_ms or 0.0
    extra = duration * (factor - 1)  # the statement's extra time is extra time its locks are held
    size = manifest.get("table_bytes", {}).get(table.split(".", 1)[1])
    out = dict(
        index=s.index,
        table=table,
        rows=rows,
        rows_source=production.source.get(table),
        rehearsed_rows=rehearsed_rows,
        extrapolation_factor=factor,
        rehearsed_bytes=size,
        bytes=round(size * factor) if size else None,
        duration_ms=duration * factor,
        low_ms=duration * factor * LOW_FACTOR,
        high_ms=duration * nlogn * HIGH_FACTOR,
        model="linear",
        hold_ms=(s.lock_hold_ms or 0.0) + extra,
        hold_low_ms=(s.lock_hold_ms or 0.0) + extra * LOW_FACTOR,
        hold_high_ms=(s.lock_hold_ms or 0.0) + duration * (nlogn * HIGH_FACTOR - 1),
        hold_model="linear",
        basis=BASIS,
    )
    found = [
        f"projected from one scale ({rehearsed_rows:,} rows in {table}, ×{factor:,.0f}): the interval is "
        "wide; rehearse with --scales for a fitted model"
    ]
    found += [cache_warning(table, size, out["bytes"], production.shared_buffers)]
    out["warning"] = "; ".join(w for w in found if w)
    return out
