"""The database a rehearsal starts from: the built-in order service, the twin of a profile, or a copy of
the user's own database; each a template that every rehearsal clones, or whose warm spare it takes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import datagen
import dbserver
from datagen.profile import model
from dbserver import warm, warm_make
from rehearse.measure.config import RehearsalConfig


def load_profile(config: RehearsalConfig):
    """The profile of --profile, read (and refused in one line when bad) before any server starts."""
    return model.load(config.profile) if config.profile else None


def dataset(server, config: RehearsalConfig, profile=None) -> datagen.Dataset:
    if config.profile:
        profile = profile or model.load(config.profile)
        return datagen.build_twin(profile, config.scale, config.seed, server, stand_in_missing=config.stand_in_missing)
    if config.from_database:
        return datagen.build_copy(server, config.from_database)
    return datagen.build(scale=config.scale, seed=config.seed, dirt=config.dirt(), server=server)


def scale(dataset: datagen.Dataset, config: RehearsalConfig) -> float:
    """The scale rehearsed: a copy of the user's database is their data at full size (1)."""
    return dataset.manifest.get("scale") or config.scale


@contextlib.contextmanager
def fresh_copy(server, roles, template: str, name: str, config: RehearsalConfig) -> Iterator[tuple[str, dict]]:
    """The rehearsal's scratch copy, handed to `roles`, dropped on exit: the template's warm spare when there
    is one, else a clone. No spare is copied while it is open (dbserver.warm.quiet). Yields the copy's name and
    what the user waited for it: {wait_s, warm (taken from a spare), waited_for_spare_s}."""
    clock = time.monotonic()
    with (
        warm.quiet(server, template) as waited,
        warm.clone(server, template, name, warm=not config.no_warm_clone) as (scratch, taken),
    ):
        if roles is not None:
            dbserver.hand_over(server, roles, scratch)
        yield scratch, dict(wait_s=round(time.monotonic() - clock, 3), warm=taken, waited_for_spare_s=round(waited, 3))


def prepare_next(server, template: str, config: RehearsalConfig):
    """After a rehearsal: start copying the next one's spare in the background (unless --no-warm-clone, or
    the baseline is --from-database, copied afresh for every run so a spare of it would never be used)."""
    return None if config.no_warm_clone or config.from_database else warm_make.prepare(server, template)
