"""`rehearse datagen --profile`: the twin of a user's schema (kept apart to keep cli.py short)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rehearse.measure.config import RehearsalConfig

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def _options(args, names) -> dict:
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


DIRT = {"orphans": "FOREIGN_KEY=RATE", "duplicates": "UNIQUE_KEY=RATE", "nulls": "TABLE.COLUMN=RATE"}


def add_options(gen) -> None:
    """The twin's own `datagen` options: a Dask scheduler, dirt named by constraint or column, stand-ins for
    missing extensions, and the whole manifest as JSON."""
    gen.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler to run the twin's chunks on (twin)")
    gen.add_argument(
        "--stand-in-missing",
        action="store_true",
        help="twin: give each extension the server lacks a stand-in type of the same width (bytea or text) and "
        "leave out the functions and indexes that need it; every substitution is listed in the manifest",
    )
    gen.add_argument("--json", metavar="FILE", help="twin with --info: write the whole manifest here as JSON")
    gen.add_argument(
        "--no-infer-references",
        action="store_true",
        help="twin: drop the profile's inferred references (the ones given to `rehearse profile` stay)",
    )
    gen.add_argument(
        "--reference",
        metavar="CHILD.COL=PARENT.COL",
        action="append",
        default=[],
        help="twin: draw CHILD.COL from PARENT.COL's keys, replacing the profile's reference for it (repeatable)",
    )
    for kind, metavar in DIRT.items():
        gen.add_argument(
            f"--dirt-{kind}",
            action="append",
            metavar=metavar,
            help=f"twin: {kind} at RATE of the rows (repeatable); the broken constraint is NOT VALID or left out",
        )


def _dirt(args) -> tuple:
    from common.errors import BadInput
    from datagen.twin.dirt import Dirt

    found = []
    for kind, metavar in DIRT.items():
        for text in getattr(args, f"dirt_{kind}", None) or ():
            name, _, rate = text.rpartition("=")
            try:
                found.append(Dirt(kind, name, float(rate)).check())
            except ValueError:
                raise BadInput(
                    f"--dirt-{kind} {text!r} is not {metavar}; give e.g. {metavar.split('=')[0]}=0.01"
                ) from None
    return tuple(found)


def datagen_twin(args) -> int:
    """`rehearse datagen --profile FILE`: build (or show, with --info) the twin of a profiled schema."""
    import datagen
    import dbserver
    from datagen.profile import model
    from datagen.twin import summary

    profile = model.load(args.profile)  # bad input fails before a server is started
    if args.no_infer_references or args.reference:
        from datagen.profile import references

        profile = references.revise(profile, not args.no_infer_references, args.reference)
    dirty = _dirt(args)
    config = RehearsalConfig(**_options(args, ("scale", "seed", "dsn", "postgres_bin")))
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    if args.info:
        manifest = datagen.twin_info(profile, config.scale, config.seed, server, dirty, args.stand_in_missing)
        if manifest is None:
            print(
                f"FAILED: no twin of {args.profile} at scale {config.scale} seed {config.seed}; build it "
                "with `rehearse datagen --profile`",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        if args.json:
            Path(args.json).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        print(summary.text(manifest))
        return EXIT_OK
    dataset = datagen.build_twin(
        profile,
        config.scale,
        config.seed,
        server,
        workers=args.workers,
        rebuild=args.rebuild,
        scheduler=args.scheduler,
        dirty=dirty,
        stand_in_missing=args.stand_in_missing,
    )
    for line in summary.stand_in_lines(dataset.manifest):
        print(line)
    print(dataset.name)
    return EXIT_OK
