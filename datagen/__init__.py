"""The synthetic order-service dataset, built once per (scale, seed, dirt) as a template database."""

from datagen.dirt import Dirt
from datagen.manifest import GENERATOR_VERSION
from datagen.template import Dataset, build, info, list_templates
from datagen.twin import build_twin, twin_info

__all__ = ["Dirt", "Dataset", "build", "info", "list_templates", "GENERATOR_VERSION", "build_twin", "twin_info"]
