"""Inputs checked once, and the template name they determine (same scale, seed and dirt: same name)."""

from __future__ import annotations

import hashlib
import math
import numbers

from common.errors import BadInput
from datagen.dirt import Dirt

PREFIX = "rehearsal_tpl_"
BUILDING = "__building"
MAX_NAME = 63 - len(BUILDING)  # PostgreSQL truncates identifiers to 63 bytes
MAX_SCALE = 150  # order_items ids must stay below 2**32 for the dirt bijection


def check_scale(scale) -> float:
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale) or scale <= 0:
        raise BadInput(f"scale {scale!r} is not a positive number; give e.g. 0.01 (100 k orders) or 1 (10 M)")
    if scale > MAX_SCALE:
        raise BadInput(f"scale {scale} is above the supported {MAX_SCALE}; choose a smaller scale")
    return float(scale)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**63:
        raise BadInput(f"seed {seed!r} is not a non-negative integer; give e.g. 42")
    return int(seed)


def check_dirt(dirt) -> Dirt:
    if dirt is None:
        return Dirt()
    if not isinstance(dirt, Dirt):
        raise BadInput(f"dirt must be a datagen.Dirt, not {type(dirt).__name__}; e.g. Dirt(orphan_items=0.01)")
    return dirt


def template_name(scale: float, seed: int, dirt: Dirt) -> str:
    """e.g. rehearsal_tpl_sf0_1_s42, plus a hash of the rates when there is dirt."""
    text = repr(float(scale)).removesuffix(".0").replace(".", "_").replace("-", "m").replace("+", "")
    name = f"{PREFIX}sf{text}_s{seed}"
    if not dirt.clean:
        name += "_" + _digest(repr(sorted(dirt.as_dict().items())))[:8]
    if len(name) > MAX_NAME:
        name = PREFIX + _digest(name)[:16]
    return name


def building_name(name: str) -> str:
    return name + BUILDING


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()
