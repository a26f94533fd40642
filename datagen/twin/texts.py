"""String-typed domains built column-wise with Arrow: text, uuid, json, inet, bytea, interval, arrays."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.twin import shapes

HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
UUID_DASHES = (8, 13, 18, 23)
DEFAULT_WIDTH = 12  # bytes of an undocumented text value


def splitmix(x: np.ndarray) -> np.ndarray:
    """A bijection of uint64: distinct k stay distinct, and look random."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _hex(words: np.ndarray) -> np.ndarray:
    """(n, w) uint64 → (n, 16 w) uint8 hex digits, big-endian."""
    raw = words.astype(">u8").view(np.uint8).reshape(len(words), -1)
    out = np.empty((len(words), raw.shape[1] * 2), dtype=np.uint8)
    out[:, 0::2], out[:, 1::2] = HEX[raw >> 4], HEX[raw & 15]
    return out


def _strings(matrix: np.ndarray) -> pa.Array:
    """(n, w) ASCII bytes → n strings of w characters, sharing the matrix's memory (nothing to validate)."""
    raw = np.ascontiguousarray(matrix)
    offsets = np.arange(len(raw) + 1, dtype=np.int32) * raw.shape[1]
    return pa.Array.from_buffers(pa.string(), len(raw), [None, pa.py_buffer(offsets), pa.py_buffer(raw)])


def _digit_matrix(k: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII digits of k, zero-padded (k ≥ 0, below 10^width)."""
    rest = k.astype(np.uint32 if width <= 9 else np.uint64)  # 32-bit division is the faster
    out = np.empty((len(k), width), dtype=np.uint8)
    for i in range(width - 1, -1, -1):
        rest, out[:, i] = np.divmod(rest, rest.dtype.type(10))
    return out + np.uint8(ord("0"))


def _digits(k: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(k.astype(np.int64)), pa.string()), width=width, padding="0")


def _width(plan, default: int = DEFAULT_WIDTH) -> int:
    stats = plan.stats
    width = int(stats.avg_width) - 1 if stats is not None and stats.avg_width else default
    return max(1, width)


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def string(plan, name: str, k: np.ndarray) -> pa.Array:
    salt = np.uint64(plan.salt)
    if name == "uuid":
        digits = _hex(uuid_words(plan, k))
        return _strings(np.insert(digits, [8, 12, 16, 20], ord("-"), axis=1))
    if name in ("inet", "cidr"):
        return _address(k, name == "cidr")
    if name == "bytea":
        body = _hex(splitmix(k + salt)[:, None])
        reps = bytea_repeats(plan)
        return _strings(
            np.concatenate([np.full((len(k), 2), [ord("\\"), ord("x")], dtype=np.uint8)] + [body] * reps, axis=1)
        )
    if name == "interval":
        return _join(pc.cast(pa.array((k * 60).astype(np.int64)), pa.string()), " seconds")
    if name in ("json", "jsonb"):
        text = _join('{"k": ', pc.cast(pa.array(k.astype(np.int64)), pa.string()), ', "v": "')
        return _join(pc.utf8_rpad(text, width=max(_width(plan) - 2, 1), padding="x"), '"}')
    return _text(plan, k)


TEXT_SHAPED = {"text", "varchar", "bpchar", "name", "citext"}


def digit_shape(plan) -> shapes.DigitShape | None:
    """Numbers written out, when the column is text-like and its bounds (else MCVs) all are."""
    if plan.info.base not in TEXT_SHAPED or plan.info.element:
        return None
    bounds = plan.stats.histogram_bounds if plan.stats is not None else None
    return shapes.digit_shape(list(bounds or ()), plan.mcv, plan.rest_distinct, plan.unique)


def _text(plan, k: np.ndarray) -> pa.Array:
    """Numbers between the bounds when the bounds are numbers; else the histogram bucket's lower bound as
    a prefix (so the sort order follows the histogram) cut to leave room for k (unique), the average width."""
    n = max(1, plan.domain_n)
    shape = digit_shape(plan)
    if shape is not None:
        return shapes.digit_text(shape, k, n)
    digits, length = len(str(n)), plan.info.length
    target = min(_width(plan), length or _width(plan))
    room = max(0, target - digits)
    stats = plan.stats
    bounds = stats.histogram_bounds if stats is not None and stats.histogram_bounds else None
    if bounds and len(bounds) >= 2:
        pos = np.clip(((k + 0.5) / n * (len(bounds) - 1)).astype(np.int64), 0, len(bounds) - 2)
        heads = [(b or "")[:room].ljust(room, "x") for b in bounds[:-1]]
    else:
        pos, heads = np.zeros(len(k), dtype=np.int64), [(plan.name[:8] + "-")[:room].ljust(room, "x")]
    if all(h.isascii() for h in heads):  # one width: a byte matrix, no per-value work
        head = np.frombuffer("".join(heads).encode(), np.uint8).reshape(len(heads), room)[pos]
        matrix = np.concatenate([head, _digit_matrix(k, digits)], axis=1)
        return _strings(matrix[:, :length] if length else matrix)
    prefix = pa.array(bounds, pa.string()).take(pa.array(pos))
    room = max(0, room - _multibyte(bounds))
    prefix = pc.utf8_rpad(pc.utf8_slice_codeunits(prefix, 0, room), width=room, padding="x")
    value = _join(prefix, _digits(k, digits))
    return pc.utf8_slice_codeunits(value, 0, length) if length else value


def _multibyte(bounds: list) -> int:
    """Bytes beyond one per character in the average bound (é takes two): the width is in bytes."""
    return round(sum(len(b.encode()) - len(b) for b in bounds if b) / len(bounds))


def uuid_words(plan, k: np.ndarray) -> np.ndarray:
    """(n, 2) uint64: the uuid's 128 bits, distinct for distinct k."""
    salt = np.uint64(plan.salt)
    return np.stack([splitmix(k.astype(np.uint64) ^ (salt << np.uint64(32))), splitmix(k + salt)], axis=1)


def bytea_repeats(plan) -> int:
    """A bytea value is 8 random bytes repeated up to about the column's average width."""
    return max(1, _width(plan, 16) // 8)


def ipv4(k: np.ndarray, network: bool) -> np.ndarray:
    """10.0.0.0/8 addresses (or /24 networks), distinct for distinct k below 2^24 (2^16 networks)."""
    return (np.uint64(10 << 24) + (k.astype(np.uint64) << np.uint64(8 if network else 0))) & np.uint64(0xFFFFFFFF)


def _address(k: np.ndarray, network: bool) -> pa.Array:
    ip = ipv4(k, network)
    octets = [
        pc.cast(pa.array(((ip >> np.uint64(s)) & np.uint64(255)).astype(np.int64)), pa.string()) for s in (24, 16, 8, 0)
    ]
    text = pc.binary_join_element_wise(*octets, ".")
    return _join(text, "/24") if network else text


ARRAY_ELEMENTS = {
    "int2",
    "int4",
    "int8",
    "numeric",
    "float4",
    "float8",
    "text",
    "varchar",
    "bpchar",
    "bool",
    "inet",
    "cidr",
}


def array(plan, k: np.ndarray) -> pa.Array:
    """A two-element array literal of the element type, every element quoted."""
    first, second = array_elements(plan, k)
    return _join('{"', first, '","', second, '"}')


def array_elements(plan, k: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """The two elements of each array, as text of the element type."""
    labels = plan.info.labels
    if labels:
        first = pa.array(list(labels)).take(pa.array(k % len(labels)))
        second = pa.array(list(labels)).take(pa.array((k + 1) % len(labels)))
    elif plan.info.element in ("inet", "cidr"):
        first, second = _address(k, plan.info.element == "cidr"), _address(k + 1, plan.info.element == "cidr")
    elif plan.info.element == "bool":
        first = second = pa.array(np.where(k % 2 == 0, "t", "f"))
    else:
        first, second = _digits(k, 1), _digits(k + 1, 1)
    return first, second
