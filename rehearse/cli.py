"""The `rehearse` command: a thin layer over datagen.build, rehearse.run and rehearse.plan."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from common.errors import BadInput, RehearsalError
from rehearse import cli_profile
from rehearse.measure.config import RehearsalConfig

EXIT_OK, EXIT_MIGRATION_FAILED, EXIT_BAD_INPUT = 0, 1, 2
DIRT_FIELDS = ("dirt_orphan_items", "dirt_duplicate_emails", "dirt_null_currency", "dirt_bad_transaction_ids")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, instead of argparse's usage block
        print(f"FAILED: {message}; see `{self.prog} --help`", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _config_flags(parser: argparse.ArgumentParser, only: tuple[str, ...] | None = None) -> None:
    """One flag per RehearsalConfig field, same name with dashes: the CLI cannot drift from the API."""
    kinds = {"float": float, "int": int, "int | None": int, "str": str, "str | None": str, "float | None": float}
    for f in fields(RehearsalConfig):
        if only is not None and f.name not in only:
            continue
        flag = "--" + f.name.replace("_", "-")
        if f.type == "bool":
            parser.add_argument(flag, action="store_true", default=None, help=f.metadata["help"])
        else:
            parser.add_argument(
                flag,
                type=_typed(kinds[f.type], flag),
                default=None,
                metavar=f.name.upper(),
                help=f"{f.metadata['help']} (default {f.default})",
            )


def _typed(kind, flag: str):
    def convert(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes a {kind.__name__}, got {text!r}") from None

    return convert


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rehearse", description="Rehearse a PostgreSQL migration under live traffic.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("datagen", help="build (or reuse) the synthetic dataset template")
    _config_flags(gen, only=("scale", "seed", "dsn", "postgres_bin") + DIRT_FIELDS)
    gen.add_argument("--rebuild", action="store_true", help="rebuild even if the template exists")
    gen.add_argument("--info", action="store_true", help="print the template's manifest, build nothing")
    gen.add_argument("--profile", metavar="FILE", help="build a twin of the schema in this profile (rehearse profile)")
    gen.add_argument("--workers", type=int, default=2, metavar="N", help="threads generating and loading (twin)")

    srv = sub.add_parser("server", help="the embedded PostgreSQL")
    srv.add_argument("action", choices=["start", "stop", "status"])
    srv.add_argument(
        "--postgres-bin",
        metavar="DIR",
        help="the server of this local installation (data/postgres-<major>) instead of the embedded "
        "one; `stop` without it stops the embedded and every local one",
    )

    run = sub.add_parser("run", help="rehearse a migration under traffic")
    run.add_argument(
        "path",
        help="a .sql file, a folder with up.sql[/down.sql], a Flyway folder, a Liquibase "
        "formatted-SQL changelog or an Alembic project",
    )
    _config_flags(run)
    run.add_argument("--json", metavar="FILE", help="write the JSON summary here")
    run.add_argument("--no-report", action="store_true", help="skip the HTML report (saves ~10 s)")
    run.add_argument(
        "--scales",
        metavar="S1,S2,S3",
        help="rehearse at these scales (≥ 3) and project each statement to production size",
    )
    run.add_argument(
        "--production-rows",
        metavar="TABLE=ROWS,…",
        help="production row counts to project to, e.g. orders=250000000 (default: SF 1)",
    )
    run.add_argument(
        "--production-dsn",
        metavar="URL",
        help="read production row counts from this server's catalogue (read-only session)",
    )

    rep = sub.add_parser("report", help="write the HTML report of a saved run")
    rep.add_argument("run_id", help="a run id printed by `rehearse run` (see data/runs/)")

    plan = sub.add_parser("plan", help="dry run: statements, transactions, expected locks; nothing executed")
    plan.add_argument("path")
    plan.add_argument("--json", metavar="FILE", help="write the plan as JSON here")
    _add_check(sub)
    cli_profile.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except RehearsalError as exc:
        if args.debug:
            raise
        print(f"FAILED: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("FAILED: interrupted; scratch databases were dropped", file=sys.stderr)
        return 130


def _options(args, names) -> dict:
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _cmd_datagen(args) -> int:
    import datagen

    if args.profile:
        from rehearse.cli_twin import datagen_twin

        return datagen_twin(args)

    opts = _options(args, ("scale", "seed", "dsn", "postgres_bin") + DIRT_FIELDS)
    config = RehearsalConfig(**opts)  # validates scale and rates the same way everywhere
    import dbserver

    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    dirt = datagen.Dirt(**{f[len("dirt_") :]: getattr(config, f) for f in DIRT_FIELDS})
    if args.info:
        manifest = datagen.info(config.scale, config.seed, dirt=dirt, server=server)
        if manifest is None:
            print(
                f"FAILED: no dataset for scale {config.scale} seed {config.seed}; build it with `rehearse datagen`",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        print(json.dumps(manifest, indent=2, default=str))
        return EXIT_OK
    dataset = datagen.build(scale=config.scale, seed=config.seed, dirt=dirt, server=server, rebuild=args.rebuild)
    print(dataset.name)
    return EXIT_OK


def _cmd_server(args) -> int:
    from dbserver import embedded, local, open_server

    if args.postgres_bin:
        return _cmd_local_server(args)
    if args.action == "stop":
        print("embedded PostgreSQL stopped" if embedded.stop() else "embedded PostgreSQL was not running")
        for major in local.stop():
            print(f"PostgreSQL {major} ({local.pgdata(major)}) stopped")
    elif args.action == "start":
        server = open_server(None)
        print(f"embedded PostgreSQL {server.version} running, data in {embedded.pgdata()}")
    else:
        pid = embedded.running_pid()
        print(f"embedded PostgreSQL running (pid {pid})" if pid else "embedded PostgreSQL not running")
    return EXIT_OK


def _cmd_local_server(args) -> int:
    from dbserver import local, open_server

    major = local.major_version(args.postgres_bin)  # a directory without PostgreSQL: one line, exit 2
    where = local.pgdata(major)
    if args.action == "stop":
        print(f"PostgreSQL {major} stopped" if local.stop(major) else f"PostgreSQL {major} was not running")
    elif args.action == "start":
        server = open_server(postgres_bin=args.postgres_bin)
        print(f"PostgreSQL {server.version} running, data in {where}")
    else:
        pid = local.running_servers().get(major)
        print(f"PostgreSQL {major} running (pid {pid}), data in {where}" if pid else f"PostgreSQL {major} not running")
    return EXIT_OK


def _cmd_plan(args) -> int:
    from rehearse.sql.migration import plan

    result = plan(args.path)
    print(result.to_text())
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2))
    return EXIT_OK


def _cmd_run(args) -> int:
    from rehearse.measure.runner import run
    from rehearse.present.console import print_rollback, print_run, print_verdict
    from rehearse.present.report import judge, write

    if args.scales or args.production_rows or args.production_dsn:
        return _cmd_run_scales(args)
    result = run(args.path, **_options(args, RehearsalConfig.names()))
    judged = judge(result)
    data = judged.annotate("amber") | {"run_id": result.run_id, "report": None}
    print_run(result, data)
    print_verdict(judged)
    print_rollback(data)
    if not args.no_report:
        data["report"] = str(write(result.run_id))
        print(f"report: {data['report']}")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2))
    return EXIT_MIGRATION_FAILED if result.failed else EXIT_OK


def _cmd_run_scales(args) -> int:
    """`rehearse run --scales …`: rehearse, fit, judge the largest run with its projection, print, write
    the report and --json."""
    from rehearse.extrapolate.scales import run_scales
    from rehearse.present.console import print_projection, print_run, print_verdict
    from rehearse.present.report import judge, write

    if not args.scales:
        raise BadInput("--production-rows and --production-dsn need --scales, e.g. --scales 0.01,0.03,0.1")
    scaled = run_scales(
        args.path,
        args.scales,
        production_rows=args.production_rows,
        production_dsn=args.production_dsn,
        **_options(args, RehearsalConfig.names()),
    )
    judged = judge(scaled.largest)  # the lock-hold rules read the projection saved in its manifest
    data = scaled.summary(judged.annotate("amber") | {"run_id": scaled.largest.run_id, "report": None})
    print_run(scaled.largest, data)
    print_verdict(judged)
    print_projection(scaled)
    if not args.no_report:
        data["report"] = str(write(scaled.largest.run_id))
        print(f"report: {data['report']}")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2))
    return EXIT_MIGRATION_FAILED if scaled.failed else EXIT_OK


def _cmd_report(args) -> int:
    from rehearse.measure.result import load
    from rehearse.present.report import write

    load(args.run_id)  # a clear error for an unknown run, before starting a kernel
    print(write(args.run_id))
    return EXIT_OK


COMMANDS = {"datagen": _cmd_datagen, "server": _cmd_server, "plan": _cmd_plan, "run": _cmd_run, "report": _cmd_report}


# `rehearse check`: the CI gate (rehearse.verdicts.gate). Exit codes: 0 passed; 1 the migration failed; 2 bad
# input; 3 verdict over --max-risk, or --rollback did not restore schema and data (both at every --max-risk).
EXIT_OVER_RISK = 3


def _add_check(sub) -> None:
    from rehearse.verdicts.base import LEVELS

    check = sub.add_parser(
        "check",
        help="rehearse, then gate on the verdict (green/amber/red)",
        epilog="exit codes: 0 passed, 1 migration failed, 2 bad input, 3 over --max-risk or rollback not restored",
    )
    check.add_argument(
        "path",
        help="a .sql file, a folder with up.sql[/down.sql], a Flyway folder, a Liquibase "
        "formatted-SQL changelog or an Alembic project",
    )
    _config_flags(check)
    check.add_argument(
        "--max-risk", choices=LEVELS, default="amber", help="highest verdict that passes (default amber)"
    )
    check.add_argument("--thresholds", metavar="FILE", help="TOML overriding rehearse/thresholds.toml")
    check.add_argument("--json", metavar="FILE", help="write the summary with the verdict here")
    check.add_argument("--junit", metavar="FILE", help="write JUnit XML here: a testcase per statement")


def _cmd_check(args) -> int:
    from rehearse.measure.runner import run
    from rehearse.sql.migration import load
    from rehearse.verdicts.gate import gate
    from rehearse.verdicts.judge import load_thresholds, verdict
    from rehearse.verdicts.text import report

    thresholds = load_thresholds(args.thresholds)  # a bad file fails before the rehearsal, not after it
    migration = load(args.path)
    result = run(args.path, **_options(args, RehearsalConfig.names()))
    judged = verdict(result, migration, thresholds)
    print(f"run {result.run_id}: migration {judged.summary.get('migration')} {judged.summary.get('outcome')}")
    passed = gate(judged, judged.summary, args.max_risk, rollback=bool(args.rollback))
    print(report(judged, args.max_risk), passed.explain(), sep="\n")
    if args.json:
        data = judged.annotate(args.max_risk) | {"passed": passed.passed, "gate_reasons": list(passed.reasons)}
        Path(args.json).write_text(json.dumps(data, indent=2))
    if args.junit:
        Path(args.junit).write_text(judged.to_junit(args.max_risk))
    return passed.exit_code  # 1 the migration failed, 3 over --max-risk or the rollback did not restore


COMMANDS["check"] = _cmd_check
COMMANDS["profile"] = cli_profile.command


if __name__ == "__main__":
    sys.exit(main())
