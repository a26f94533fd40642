"""Histograms of values that come in steps (integers, numeric(p, s), dates, digit strings in text columns):
how many domain indexes give the wanted distinct count, and text that keeps the shape of its bounds.

An equi-depth histogram puts as many rows in a narrow bucket as in a wide one. Spreading the distinct
values evenly over the buckets asks a narrow bucket for more values than it has steps (0.01 apart in
[20.39, 20.83]), so they collide and the twin falls short of its distinct count. The domain is widened
instead until the buckets, each holding what fits, give the distinct count (`domain_size`).

A text column whose bounds are all numbers written out ('1000258469407', '-12.50') gets numbers written
the same way between its bounds, so a later `USING transaction_id::bigint` succeeds on the twin as it does
on production (`digit_shape`, `digit_text`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NUMBER = re.compile(r"-?\d+(\.\d+)?")
LONGEST = 15  # significant digits a float64 holds exactly


def equi_depth(bounds: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The q-quantiles (0 ≤ q < 1) of an equi-depth histogram, linear inside each bucket."""
    pos = q * (len(bounds) - 1)
    i = np.clip(np.floor(pos).astype(np.int64), 0, len(bounds) - 2)
    return bounds[i] + (pos - i) * (bounds[i + 1] - bounds[i])


def steps(bounds: np.ndarray, step: float, taken: np.ndarray | None = None) -> np.ndarray:
    """Values each bucket can hold at this step, less the MCVs (`taken`) that fall inside it."""
    room = np.floor(np.abs(np.diff(bounds)) / step + 1e-9)
    if taken is not None and len(taken):
        inside = np.histogram(taken, bins=bounds)[0] if np.all(np.diff(bounds) > 0) else 0
        room = room - inside
    return np.maximum(room, 1.0)


def domain_size(room: np.ndarray, wanted: int, rows: int) -> int:
    """Domain indexes, spread evenly over the buckets, such that Σ min(room, per bucket) = wanted: water
    filling over the sorted rooms. At most `rows` (more indexes than rows cannot add values)."""
    buckets = len(room)
    if wanted <= 0 or buckets == 0:
        return max(0, wanted)
    if room.sum() <= wanted:
        return max(wanted, rows)
    left = float(wanted)
    for i, size in enumerate(np.sort(room)):
        per = left / (buckets - i)
        if size >= per:
            return int(min(max(wanted, math.ceil(per * buckets)), max(wanted, rows)))
        left -= size
    return max(wanted, rows)


@dataclass(frozen=True)
class DigitShape:
    scaled: np.ndarray  # the bounds × 10^digits, integral, in order
    digits: int  # digits after the point
    width: int  # zero-padded length of the integer part (0: as it comes)


def digit_shape(bounds: list | None, mcv: list, distinct: int, unique: bool) -> DigitShape | None:
    """The shape of a text column whose histogram bounds (else MCVs) are all numbers written out, or None.
    For a unique column a bucket too narrow for its share of values gets more digits (a wider number)."""
    texts = bounds if bounds and len(bounds) >= 2 else (mcv if len(mcv) >= 2 else None)
    if not texts or not all(isinstance(t, str) and NUMBER.fullmatch(t) for t in texts):
        return None
    fractions = {len(t.partition(".")[2]) for t in texts}
    if len(fractions) != 1 or max(len(t.lstrip("-").replace(".", "")) for t in texts) > LONGEST:
        return None
    digits = fractions.pop()
    scaled = np.round(np.array([float(t) for t in texts]) * 10.0**digits)
    if np.any(np.diff(scaled) < 0):  # numbers of several lengths sort as text, not as numbers
        scaled = np.sort(scaled)
    whole = {len(t.lstrip("-").partition(".")[0]) for t in texts}
    width = whole.pop() if len(whole) == 1 and not any(t.startswith("-") for t in texts) else 0
    extra = _extra_digits(scaled, distinct, unique)
    if extra and not digits:
        return DigitShape(scaled * 10.0**extra, 0, width + extra if width else 0)
    return DigitShape(scaled * 10.0**extra, digits + extra, width)


def _extra_digits(scaled: np.ndarray, distinct: int, unique: bool) -> int:
    gaps = np.abs(np.diff(scaled))
    need = distinct / max(1, len(gaps))
    have = gaps.min() if unique else gaps.sum() / len(gaps)
    if have <= 0 or have >= need:
        return 0
    return int(math.ceil(math.log10(need / have)))


def digit_text(shape: DigitShape, k: np.ndarray, n: int) -> pa.Array:
    """Domain indexes k of n → numbers written as the bounds are, increasing with k."""
    values = np.floor(equi_depth(shape.scaled, (k + 0.5) / max(1, n))).astype(np.int64)
    magnitude, unit = np.abs(values), 10**shape.digits
    text = pc.cast(pa.array(magnitude // unit), pa.string())
    if shape.width:
        text = pc.utf8_lpad(text, width=shape.width, padding="0")
    if shape.digits:
        fraction = pc.utf8_lpad(pc.cast(pa.array(magnitude % unit), pa.string()), width=shape.digits, padding="0")
        text = pc.binary_join_element_wise(text, fraction, ".")
    sign = pa.array(np.where(values < 0, "-", ""))
    return pc.binary_join_element_wise(sign, text, "")
