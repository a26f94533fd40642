"""`rehearse profile`: a read-only profile of production (schema and statistics, never rows) from a
server (--production-dsn) or from pg_dump files (--schema, --statistics, --rows), written as JSON."""

from __future__ import annotations

import sys
from pathlib import Path

from common.errors import BadInput
from datagen.profile import Profile, from_files, from_server


def add_parser(sub) -> None:
    prof = sub.add_parser(
        "profile",
        help="a read-only profile of production: schema and statistics, never a row",
        description="Read a production database's schema (pg_dump --schema-only) and planner statistics in a "
        "read-only session, or the same from pg_dump files, into one JSON file the generator builds a twin from.",
    )
    prof.add_argument("--production-dsn", metavar="URL", help="the server to profile (read-only session)")
    prof.add_argument("--schema", metavar="FILE", help="without a connection: pg_dump --schema-only output")
    prof.add_argument("--statistics", metavar="FILE", help="with --schema: pg_dump --statistics-only output (PG 18)")
    prof.add_argument("--rows", metavar="TABLE=N,…", help="with --schema: row counts where no statistics say them")
    prof.add_argument("-o", "--output", metavar="FILE", required=True, help="where to write the profile (JSON)")
    prof.add_argument(
        "--no-values", action="store_true", help="drop most common values and histogram bounds of text-like columns"
    )
    prof.add_argument(
        "--no-infer-references",
        action="store_true",
        help="do not infer undeclared references (order_items.order_id → orders.order_id by name and statistics)",
    )
    prof.add_argument(
        "--reference",
        metavar="CHILD.COL=PARENT.COL",
        action="append",
        default=[],
        help="a reference the schema does not declare and the name rule misses (repeatable)",
    )
    prof.add_argument(
        "--top-queries", metavar="N", type=int, default=20, help="pg_stat_statements entries to keep (default 20)"
    )


def command(args) -> int:
    _check(args)
    refs = dict(values=not args.no_values, infer_references=not args.no_infer_references, references=args.reference)
    if args.production_dsn:
        warn = lambda text: print(f"WARNING: {text}", file=sys.stderr)
        profile = from_server(args.production_dsn, top_queries=args.top_queries, warn=warn, **refs)
    else:
        profile = from_files(args.schema, args.statistics, args.rows, **refs)
    path = profile.write(args.output)
    print(describe(profile))
    print(f"profile: {path}")
    return 0


def _check(args) -> None:
    """Bad combinations fail in one line before a connection is opened or a file read."""
    if bool(args.production_dsn) == bool(args.schema):
        raise BadInput("give either --production-dsn URL or --schema FILE (pg_dump --schema-only output)")
    if args.production_dsn and (args.statistics or args.rows):
        raise BadInput("--statistics and --rows go with --schema; a server gives its own statistics")
    if args.top_queries < 0:
        raise BadInput(f"--top-queries {args.top_queries}: give 0 or more")
    for given in args.reference:
        if given.count("=") != 1 or not all("." in side for side in given.split("=")):
            raise BadInput(f"--reference {given}: give CHILD_TABLE.COLUMN=PARENT_TABLE.COLUMN")
    for flag, name in (("--schema", args.schema), ("--statistics", args.statistics)):
        if name and not Path(name).is_file():
            raise BadInput(f"{flag} {name}: no such file; give pg_dump's output file")
    if not Path(args.output).resolve().parent.is_dir():
        raise BadInput(f"-o {args.output}: its folder does not exist; create it or write elsewhere")


def describe(profile: Profile) -> str:
    """A few lines: where from, how much, what it holds."""
    columns = [c for t in profile.tables for c in t.columns]
    analysed = sum(c.null_frac is not None for c in columns)
    lines = [
        f"profile of {profile.source.server} (PostgreSQL {profile.source.server_version or 'version unknown'})",
        f"  {len(profile.tables)} tables, {len(columns)} columns ({analysed} with statistics), "
        f"{len(profile.queries)} queries",
    ]
    return "\n".join(lines + [f"  {note}" for note in profile.holds.notes] + reference_lines(profile))


def reference_lines(profile: Profile) -> list[str]:
    """The references the twin follows beyond the schema's foreign keys, one a line."""
    found = profile.inferred_references
    if found is None:
        return []
    lines = [f"  references beyond the schema's foreign keys: {len(found) or 'none'}"]
    return lines + [f"    {r.table}.{r.column} → {r.parent_table}.{r.parent_column} ({r.evidence})" for r in found]
