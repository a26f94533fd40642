"""`rehearse clean`: list and drop the scratch and half-built databases no live rehearsal uses, and the warm spares."""

from __future__ import annotations

from dbserver import leftovers, open_server
from rehearse.present.housekeeping import print_leftovers


def add_parser(sub, config_flags) -> None:
    clean = sub.add_parser(
        "clean",
        help="drop scratch and half-built databases no live rehearsal uses, and warm spares",
        description="Drop every scratch (rehearsal_run_…) or half-built (…__building) database this tool made "
        "whose process has ended, or, when another machine made it, that no session uses, and every warm spare "
        "(<template>__warm_…, the next rehearsal's clone made in the background). Templates, kept "
        "copies (rehearsal_kept_…) and databases the tool did not create are never touched.",
    )
    config_flags(clean, only=("dsn", "postgres_bin"))
    clean.add_argument("--dry-run", action="store_true", help="list them, drop nothing")


def command(args) -> int:
    server = open_server(args.dsn, postgres_bin=args.postgres_bin)
    print_leftovers(leftovers.clean(server, dry_run=args.dry_run, spares=True), args.dry_run, server.display)
    return 0
