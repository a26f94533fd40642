"""Baselines as template databases: the synthetic order service per (scale, seed, dirt), the twin of a
profiled schema, or a copy of the user's own database."""

from datagen.dirt import Dirt
from datagen.manifest import GENERATOR_VERSION
from datagen.own_copy import build_copy
from datagen.template import Dataset, build, info, list_templates
from datagen.twin import build_twin, twin_info

__all__ = [
    "Dirt",
    "Dataset",
    "build",
    "info",
    "list_templates",
    "GENERATOR_VERSION",
    "build_twin",
    "twin_info",
    "build_copy",
]
