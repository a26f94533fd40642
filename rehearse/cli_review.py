"""`rehearse review PATH…`: rehearse a release (rehearse.review), write its page, comment, SARIF, JUnit and
JSON. Exit codes: 0 go; 1 a migration failed; 2 bad input; 3 a migration over --max-risk or a rollback that
did not restore (the gate's)."""

from __future__ import annotations

import json
from pathlib import Path

from rehearse.measure.config import RehearsalConfig

RELEASE_HELP = (
    "the release: a Flyway folder (one migration per V file), a Liquibase changelog (one per changeset), an "
    "Alembic project (with --from/--to), or several paths in deploy order"
)

# What --rollback means for a release (README, "rehearse review"): the downs are not run under traffic.
ROLLBACK_NOTE = (
    "--rollback: a release's rollbacks are always tested, in reverse order on a quiet copy (not under traffic); "
    "with --rollback every migration must have one and an untested one fails the gate"
)


def add_parser(sub, config_flags) -> None:
    from rehearse.verdicts.base import LEVELS

    rev = sub.add_parser(
        "review",
        help="rehearse a release: its migrations in order on one copy, projected, judged; page, comment, SARIF",
        epilog="exit codes: 0 go, 1 a migration failed, 2 bad input, 3 over --max-risk or rollback not restored",
    )
    rev.add_argument("paths", nargs="+", metavar="PATH", help=RELEASE_HELP)
    rev.add_argument("--from", dest="start", metavar="REV", help="Alembic: the revision production is at")
    rev.add_argument("--to", dest="end", metavar="REV", help="Alembic: the revision to deploy (default head)")
    config_flags(rev)
    rev.add_argument("--max-risk", choices=LEVELS, default="amber", help="highest verdict that passes (default amber)")
    rev.add_argument("--thresholds", metavar="FILE", help="TOML overriding rehearse/verdicts/thresholds.toml")
    rev.add_argument("--production-dsn", metavar="URL", help="judge at this server's row counts (read-only look)")
    rev.add_argument("--markdown", metavar="FILE", help="write the pull-request comment here")
    rev.add_argument("--sarif", metavar="FILE", help="write SARIF 2.1.0 for code scanning here")
    rev.add_argument("--junit", metavar="FILE", help="write JUnit XML here: a testcase per statement")
    rev.add_argument("--json", metavar="FILE", help="write the release summary here")
    rev.add_argument("--no-report", action="store_true", help="skip the migrations' own HTML reports")
    rev.add_argument(
        "--no-remedies",
        action="store_true",
        help="skip the measured remedies: the safer rewrite of each red statement, rehearsed (one run each)",
    )


def command(args) -> int:
    from rehearse.present.housekeeping import print_dropped_at_start
    from rehearse.present.release import page
    from rehearse.verdicts.review import review

    options = {n: getattr(args, n) for n in RehearsalConfig.names() if getattr(args, n, None) is not None}
    if options.get("rollback"):
        print(ROLLBACK_NOTE, flush=True)
    done = review(args.paths, max_risk=args.max_risk, thresholds=args.thresholds,
                  revisions=(args.start, args.end), production_dsn=args.production_dsn,
                  remedies=not args.no_remedies, **options)  # fmt: skip
    print_dropped_at_start(done.results[0].manifest.leftovers_dropped)
    release = done.release
    for number, m in enumerate(release["migrations"], 1):
        print(f"{number}. {m['name']}: {str(m.get('verdict')).upper()} ({m.get('outcome')}), run {m.get('run_id')}")
    print(f"{release['decision'].upper()}: {release['why']}")
    _print_remedies(release, done.folder)
    if not args.no_report:
        _run_reports(release)
    print(f"review {done.review_id}")
    if options.get("keep"):
        from rehearse.measure.release import kept_name

        print(f"kept: database {kept_name(done.review_id)} (the copy the release ran on)")
    print(f"report: {page.write(done.review_id, release)}")
    _write_files(args, release)
    return done.exit_code


def _print_remedies(release: dict, folder: Path) -> None:
    written = [
        r for m in release["migrations"] for s in m["statements"] for r in (s.get("remedies") or {}).get("rewrites", [])
    ]
    if release.get("remedies") == "skipped":
        print("remedies: skipped (--no-remedies)")
    elif written:
        rehearsed = sum(1 for r in written if r.get("run_id"))
        print(f"remedies: {len(written)} written in {folder / 'remedies'}, {rehearsed} rehearsed (see the page)")


def _run_reports(release: dict) -> None:
    from rehearse.present.report import write

    for m in release["migrations"]:
        if m.get("run_id"):
            write(m["run_id"])


def _write_files(args, release: dict) -> None:
    from rehearse.present.release.junit import junit
    from rehearse.present.release.markdown import comment
    from rehearse.present.release.sarif import sarif

    writers = [
        (args.markdown, lambda: comment(release)),
        (args.sarif, lambda: json.dumps(sarif(release, root=Path.cwd()), indent=2)),
        (args.junit, lambda: junit(release)),
        (args.json, lambda: json.dumps(release, indent=2, default=str)),
    ]
    for target, render in writers:
        if target:
            Path(target).write_text(render())


def report(review_id: str) -> Path | None:
    """`rehearse report <review-id>`: the release page rebuilt from the saved review; None for a run id."""
    from rehearse.present.release import page
    from rehearse.verdicts.review import reviews_dir

    if not (reviews_dir() / review_id / "release.json").is_file():
        return None
    return page.write(review_id)
