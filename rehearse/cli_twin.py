"""`rehearse datagen --profile`: the twin of a user's schema (kept apart to keep cli.py short)."""

from __future__ import annotations

import json
import sys

from rehearse.measure.config import RehearsalConfig

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def _options(args, names) -> dict:
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def datagen_twin(args) -> int:
    """`rehearse datagen --profile FILE`: build (or show, with --info) the twin of a profiled schema."""
    import datagen
    import dbserver
    from datagen.profile import model

    profile = model.load(args.profile)  # bad input fails before a server is started
    config = RehearsalConfig(**_options(args, ("scale", "seed", "dsn", "postgres_bin")))
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    if args.info:
        manifest = datagen.twin_info(profile, config.scale, config.seed, server=server)
        if manifest is None:
            print(
                f"FAILED: no twin of {args.profile} at scale {config.scale} seed {config.seed}; build it "
                "with `rehearse datagen --profile`",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        print(json.dumps(manifest, indent=2, default=str))
        return EXIT_OK
    dataset = datagen.build_twin(
        profile,
        config.scale,
        config.seed,
        server,
        workers=args.workers,
        rebuild=args.rebuild,
        scheduler=args.scheduler,
    )
    print(dataset.name)
    return EXIT_OK
