"""A synthetic twin of any schema, built from a profile: the schema exactly, rows that follow its statistics."""

from datagen.twin.build import build_twin, twin_info, twin_name

__all__ = ["build_twin", "twin_info", "twin_name"]
