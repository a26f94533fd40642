"""The database a rehearsal starts from: the built-in order service, the twin of a profile, or a copy of
the user's own database; each a template that every rehearsal clones."""

from __future__ import annotations

import datagen
from datagen.profile import model
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
