"""The `rehearse` command: argument parsing and printing over the library's verbs (datagen.build,
dbserver.start/stop/status, rehearse.run, rehearse.run_scales, rehearse.plan, rehearse.check, rehearse.report)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import psycopg

from common.errors import BadInput, RehearsalError
from common.signals import Terminated, stop_signals_raise
from rehearse import cli_checks, cli_clean, cli_profile, cli_review, cli_twin
from rehearse.cli_args import EXIT_BAD_INPUT as EXIT_BAD_INPUT  # re-exported: the exit codes live here
from rehearse.cli_args import Parser, config_flags, failed
from rehearse.measure.config import DIRT_FIELDS, RehearsalConfig

EXIT_OK, EXIT_MIGRATION_FAILED = 0, 1
# `rehearse check`: 0 verdict within --max-risk; 1 the migration failed (whatever the limit: a failed
# migration never passes); 2 bad input; 3 verdict over --max-risk.
EXIT_OVER_RISK = 3
PATH_HELP = (
    "a .sql file, a folder with up.sql[/down.sql], a Flyway folder, a Liquibase formatted-SQL changelog or an "
    "Alembic project"
)


def _build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rehearse", description="Rehearse a PostgreSQL migration under live traffic.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    gen = sub.add_parser("datagen", help="build (or reuse) the synthetic dataset template")
    config_flags(gen, only=("scale", "seed", "dsn", "postgres_bin") + DIRT_FIELDS)
    gen.add_argument("--rebuild", action="store_true", help="rebuild even if the template exists")
    gen.add_argument("--info", action="store_true", help="print the template's manifest, build nothing")
    gen.add_argument("--profile", metavar="FILE", help="build a twin of the schema in this profile (rehearse profile)")
    gen.add_argument("--workers", type=int, default=2, metavar="N", help="processes generating and loading (twin)")
    cli_twin.add_options(gen)

    srv = sub.add_parser("server", help="the embedded PostgreSQL")
    srv.add_argument("action", choices=["start", "stop", "status"])
    srv.add_argument(
        "--postgres-bin",
        metavar="DIR",
        help="the server of this local installation (data/postgres-<major>) instead of the embedded "
        "one; `stop` without it stops the embedded and every local one",
    )
    _add_run(sub)
    rep = sub.add_parser("report", help="write the HTML report of a saved run or review")
    rep.add_argument("run_id", help="a run id printed by `rehearse run` (see data/runs/) or a review id")
    plan = sub.add_parser("plan", help="dry run: statements, transactions, expected locks; nothing executed")
    plan.add_argument("path")
    plan.add_argument("--json", metavar="FILE", help="write the plan as JSON here")
    config_flags(plan, only=("max_migration_mb",))
    plan.add_argument("--profile", metavar="FILE", help="also show each locked table's rows and size in production")
    cli_clean.add_parser(sub, config_flags)
    _add_check(sub)
    cli_profile.add_parser(sub)
    cli_review.add_parser(sub, config_flags)
    return parser


def _add_run(sub) -> None:
    run = sub.add_parser("run", help="rehearse a migration under traffic")
    run.add_argument("path", help=PATH_HELP)
    config_flags(run)
    _verdict_flags(run)
    run.add_argument("--no-report", action="store_true", help="skip the HTML report (saves ~10 s)")
    run.add_argument(
        "--scales",
        metavar="S1,S2,S3",
        help="rehearse at these scales (≥ 3) and project each statement to production size",
    )
    run.add_argument(
        "--production-dsn",
        metavar="URL",
        help="read production row counts from this server's catalogue (read-only session)",
    )


def _add_check(sub) -> None:
    from rehearse.verdicts.base import LEVELS

    check = sub.add_parser(
        "check",
        help="rehearse, then gate on the verdict (green/amber/red)",
        epilog="exit codes: 0 verdict within --max-risk, 1 migration failed, 2 bad input, 3 verdict over --max-risk",
    )
    check.add_argument("path", help=PATH_HELP)
    config_flags(check)
    check.add_argument(
        "--max-risk", choices=LEVELS, default="amber", help="highest verdict that passes (default amber)"
    )
    _verdict_flags(check)
    check.add_argument("--junit", metavar="FILE", help="write JUnit XML here: a testcase per statement")
    check.add_argument(
        "--production-dsn", metavar="URL", help="judge at this server's row counts (read-only catalogue look)"
    )


def _verdict_flags(parser) -> None:
    parser.add_argument("--thresholds", metavar="FILE", help="TOML overriding rehearse/verdicts/thresholds.toml")
    parser.add_argument("--json", metavar="FILE", help="write the summary with the verdict here")


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        cli_checks.check(args)  # output paths, input files, data folder: before any work starts
        with stop_signals_raise():  # SIGTERM and SIGHUP clean up as Ctrl-C does
            return COMMANDS[args.command](args)
    except RehearsalError as exc:
        return failed(args.debug, str(exc))
    except psycopg.errors.InsufficientPrivilege as exc:
        first = str(exc).splitlines()[0]
        return failed(args.debug, f"the server refused: {first}; connect with --dsn as the role that owns the datasets")
    except KeyboardInterrupt as exc:
        from rehearse.present.housekeeping import interrupted

        print(f"FAILED: {interrupted(exc)}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, Terminated) else 130


def _options(args, names) -> dict:
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _cmd_datagen(args) -> int:
    import datagen

    if args.profile:
        from rehearse.cli_twin import datagen_twin

        return datagen_twin(args)
    import dbserver

    config = RehearsalConfig(**_options(args, ("scale", "seed", "dsn", "postgres_bin") + DIRT_FIELDS))
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    if args.info:
        manifest = datagen.info(config.scale, config.seed, dirt=config.dirt(), server=server)
        if manifest is None:
            raise BadInput(f"no dataset for scale {config.scale} seed {config.seed}; build it with `rehearse datagen`")
        print(json.dumps(manifest, indent=2, default=str))
        return EXIT_OK
    dataset = datagen.build(config.scale, config.seed, dirt=config.dirt(), server=server, rebuild=args.rebuild)
    print(dataset.name)
    return EXIT_OK


def _cmd_server(args) -> int:
    import dbserver

    verb = {"start": dbserver.start, "stop": dbserver.stop, "status": dbserver.status}[args.action]
    print("\n".join(verb(args.postgres_bin)))
    return EXIT_OK


def _cmd_plan(args) -> int:
    from rehearse.sql.migration import plan

    profile = _profile(args.profile)  # a bad profile fails before the migration is read
    result = plan(args.path, max_mb=args.max_migration_mb)
    data = result.to_dict()
    print(result.to_text())
    if profile is not None:
        from rehearse.sql import plan_profile

        data["production"] = plan_profile.production_tables(result, profile)
        print("\n" + plan_profile.text(data["production"], args.profile))
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2))
    return EXIT_OK


def _profile(path: str | None):
    from datagen.profile import model

    return None if path is None else model.load(path)


def _cmd_run(args) -> int:
    from rehearse.present.housekeeping import print_dropped_at_start
    from rehearse.verdicts import verbs
    from rehearse.verdicts.base import load_thresholds

    thresholds = load_thresholds(args.thresholds)  # a bad file fails before the rehearsal, not after it
    if args.scales:
        return _cmd_run_scales(args, thresholds)
    result = verbs.run(args.path, production_dsn=args.production_dsn, **_options(args, RehearsalConfig.names()))
    print_dropped_at_start(result.manifest.leftovers_dropped)
    return _show(args, result, verbs.judge(result, thresholds))


def _cmd_run_scales(args, thresholds) -> int:
    """`rehearse run --scales …`: rehearse, fit, judge the largest run with its projection, print, write
    the report (of the scaled rehearsal's folder) and --json."""
    from rehearse.present.console import print_projection
    from rehearse.verdicts import verbs

    scaled = verbs.run_scales(  # production_rows is among the config options
        args.path, args.scales, production_dsn=args.production_dsn, **_options(args, RehearsalConfig.names())
    )
    judged = verbs.judge(scaled.result, thresholds)  # the lock-hold rules read the projection
    return _show(args, scaled.result, judged, scaled, lambda: print_projection(scaled))


def _show(args, result, judged, scaled=None, extra=None) -> int:
    """Print a run and its verdict, write the report and --json; the exit code."""
    from rehearse.present.console import print_rollback, print_run, print_verdict
    from rehearse.present.report import write

    data = judged.annotate("amber") | {"run_id": result.run_id, "report": None}
    data = scaled.summary(data) if scaled else data
    print_run(result, data)
    print_verdict(judged)
    print_rollback(data)
    if extra:
        extra()
    if not args.no_report:
        data["report"] = str(write(scaled.run_id if scaled else result.run_id))
        print(f"report: {data['report']}")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2))
    return EXIT_MIGRATION_FAILED if (scaled or result).failed else EXIT_OK


def _cmd_report(args) -> int:
    from rehearse.present.report import report

    # a review id: the release page, rebuilt from the saved review; otherwise a run's report
    print(cli_review.report(args.run_id) or report(args.run_id))
    return EXIT_OK


def _cmd_check(args) -> int:
    from rehearse.verdicts import verbs
    from rehearse.verdicts.text import report

    options = _options(args, RehearsalConfig.names())
    checked = verbs.check(args.path, args.max_risk, args.thresholds, args.production_dsn, **options)
    judged = checked.verdict
    print(f"run {checked.result.run_id}: migration {judged.summary.get('migration')} {judged.summary.get('outcome')}")
    print(report(judged, args.max_risk), checked.gate.explain(), sep="\n")
    if args.json:
        data = judged.annotate(args.max_risk) | {"passed": checked.passed, "gate_reasons": list(checked.gate.reasons)}
        Path(args.json).write_text(json.dumps(data, indent=2))
    if args.junit:
        Path(args.junit).write_text(judged.to_junit(args.max_risk))
    return checked.gate.exit_code  # 1 the migration failed, 3 over --max-risk or the rollback did not restore


COMMANDS = {
    "datagen": _cmd_datagen,
    "server": _cmd_server,
    "plan": _cmd_plan,
    "run": _cmd_run,
    "report": _cmd_report,
    "check": _cmd_check,
    "profile": cli_profile.command,
    "clean": cli_clean.command,
    "review": cli_review.command,
}


if __name__ == "__main__":
    sys.exit(main())
