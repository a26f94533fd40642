"""PostgreSQL's binary COPY format, encoded a whole chunk at a time with numpy (no Python loop per row)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# File header: signature, int32 flags (no OIDs), int32 header-extension length. Trailer: field count -1.
HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
TRAILER = b"\xff\xff"

PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 00:00 UTC in Unix microseconds
NUMERIC_LIMIT_CENTS = 10**10  # 3 base-10000 digits with weight 1 hold up to 99 999 999.99
NUMERIC_NEG = 0x4000


@dataclass(frozen=True)
class Field:
    """One column: its payload as fixed-layout slots; `keep` trims padded slots row by row."""

    slots: tuple[tuple[str, np.ndarray], ...]  # (numpy format, values), laid out in this order
    keep: tuple[np.ndarray | None, ...]  # bytes kept of each slot per row; None keeps all
    lengths: np.ndarray | int  # the int32 length word: payload bytes, -1 for NULL


def int8(values: np.ndarray) -> Field:
    return Field(((">i8", values),), (None,), 8)


def int4(values: np.ndarray) -> Field:
    return Field(((">i4", values),), (None,), 4)


def timestamptz(unix_us: np.ndarray) -> Field:
    """Unix microseconds (UTC) → int64 microseconds since PostgreSQL's epoch."""
    return Field(((">i8", unix_us - PG_EPOCH_US),), (None,), 8)


def numeric2(cents: np.ndarray) -> Field:
    """numeric(p,2) from integer cents, sent fixed-width; PostgreSQL strips the zero digits on receive."""
    cents = np.asarray(cents, dtype=np.int64)
    absolute = np.abs(cents)
    if absolute.size and absolute.max() >= NUMERIC_LIMIT_CENTS:
        raise ValueError("amount too large for the fixed-width numeric encoding (max 99 999 999.99)")
    words = np.empty((len(cents), 7), dtype=np.int16)
    words[:, 0], words[:, 1], words[:, 3] = 3, 1, 2  # ndigits, weight, dscale
    words[:, 2] = np.where(cents < 0, NUMERIC_NEG, 0)  # sign
    units = absolute // 100
    words[:, 4] = units // 10_000
    words[:, 5] = units % 10_000
    words[:, 6] = (absolute % 100) * 100
    return Field((((">i2", (7,)), words),), (None,), 14)


def text(*parts: tuple[np.ndarray, np.ndarray | None], null: np.ndarray | None = None) -> Field:
    """Text (or char(n)) as the concatenation of padded parts: each an (n, w) uint8 matrix and the
    number of bytes to keep per row (None: all w). Rows where `null` is True are sent as NULL."""
    parts = tuple((m, k) for m, k in parts if m.shape[1] > 0)
    n = len(parts[0][0])
    lengths = np.zeros(n, dtype=np.int64)
    for matrix, kept in parts:
        lengths += matrix.shape[1] if kept is None else kept
    slots = tuple((("u1", (m.shape[1],)), m) for m, _ in parts)
    keep = tuple(k for _, k in parts)
    return nullable(Field(slots, keep, lengths), null)


def nullable(field: Field, null: np.ndarray | None) -> Field:
    """NULL is length -1 and no payload: every slot of the field keeps 0 bytes on those rows."""
    if null is None or not null.any():
        return field
    keep = tuple(np.where(null, 0, _width(fmt) if k is None else k) for (fmt, _), k in zip(field.slots, field.keep))
    lengths = np.where(null, -1, field.lengths)
    return Field(field.slots, keep, lengths)


def _width(fmt) -> int:
    return np.dtype(fmt).itemsize


def encode(fields: list[Field], n: int) -> memoryview:
    """The rows as binary COPY data (no header/trailer). All rows are first written at fixed offsets
    into one padded matrix; a boolean mask then drops the padding, which keeps rows in order."""
    layout = _layout(fields)
    names, formats, values, keeps = (list(column) for column in zip(*layout))
    dtype = np.dtype({"names": names, "formats": formats})  # packed: no alignment padding
    rows = np.empty(n, dtype=dtype)
    for name, vals in zip(names, values):
        rows[name] = vals
    matrix = rows.view(np.uint8).reshape(n, dtype.itemsize)
    if all(k is None for k in keeps):
        return memoryview(matrix).cast("B")
    return memoryview(matrix[_mask(dtype, names, keeps, n)])


def _layout(fields: list[Field]) -> list[tuple]:
    """(name, format, values, keep) per slot: the int16 field count, then per field its length word
    and payload slots."""
    layout = [("count", ">i2", len(fields), None)]
    for i, field in enumerate(fields):
        layout.append((f"len{i}", ">i4", field.lengths, None))
        layout += [(f"f{i}_{j}", fmt, vals, kept) for j, ((fmt, vals), kept) in enumerate(zip(field.slots, field.keep))]
    return layout


def _mask(dtype: np.dtype, names: list[str], keeps: list, n: int) -> np.ndarray:
    mask = np.ones((n, dtype.itemsize), dtype=bool)
    for name, kept in zip(names, keeps):
        if kept is not None:
            offset, width = dtype.fields[name][1], dtype.fields[name][0].itemsize
            mask[:, offset : offset + width] = np.arange(width) < np.asarray(kept)[:, None]
    return mask


def numeric(values: np.ndarray, dscale: int) -> np.ndarray:
    """numeric with `dscale` decimals from float64, fixed width per chunk: (n, 4 + digits) big-endian int16
    words (ndigits, weight, sign, dscale, base-10000 digits); the server strips the zero digits on receive."""
    v = np.nan_to_num(np.asarray(values, dtype=float))
    whole = np.floor(np.abs(v))
    fraction = np.round((np.abs(v) - whole) * 10.0**dscale)
    carry = fraction >= 10.0**dscale  # .9999… rounded up to the next whole number
    whole, fraction = whole + carry, np.where(carry, 0.0, fraction)
    groups, top = 1, whole.max() if len(whole) else 0.0
    while top >= 10_000.0**groups:
        groups += 1
    tail = -(-dscale // 4)  # fraction digits in groups of four, left-aligned
    words = np.zeros((len(v), 4 + groups + tail), dtype=">i2")
    words[:, 0], words[:, 1], words[:, 3] = groups + tail, groups - 1, dscale
    words[:, 2] = np.where(v < 0, NUMERIC_NEG, 0)
    for j in range(groups):
        words[:, 3 + groups - j] = np.fmod(np.floor(whole / 10_000.0**j), 10_000)
    aligned = fraction.astype(np.int64) * 10 ** (4 * tail - dscale)
    for j in range(tail):
        words[:, 3 + groups + tail - j] = (aligned // 10 ** (4 * j)) % 10_000
    return words


def arrow_rows(payloads: list) -> memoryview:
    """Binary COPY rows from one Arrow binary array per column (NULL entries are SQL NULLs). Runs of
    columns whose values all have one width (no NULL) become one numpy matrix: field count, length words
    and bytes side by side; Arrow then joins those runs and the other columns row by row."""
    n = len(payloads[0])
    parts, run = [], [np.array([len(payloads)], dtype=">i2").view(np.uint8)]
    for payload in payloads:
        matrix = _uniform(payload)
        if matrix is not None:
            run += [np.array([matrix.shape[1]], dtype=">i4").view(np.uint8), matrix]
            continue
        if run:
            parts.append(fixed(_side_by_side(run, n)))
            run = []
        lengths = pc.fill_null(pc.binary_length(payload), -1)
        parts += [fixed(np.asarray(lengths).astype(">i4")), pc.fill_null(payload, pa.scalar(b""))]
    if not parts:
        return memoryview(_side_by_side(run, n)).cast("B")
    if run:
        parts.append(fixed(_side_by_side(run, n)))
    joined = pc.binary_join_element_wise(*parts, pa.scalar(b""))
    offsets = _offsets(joined)
    return memoryview(joined.buffers()[2])[offsets[0] : offsets[-1]]


def _side_by_side(pieces: list[np.ndarray], n: int) -> np.ndarray:
    """(n, Σ w) bytes from (n, w) matrices and (w,) words the same in every row, each copied as one
    w-byte item per row (faster than numpy's byte-wise concatenation along rows)."""
    pieces = [p for p in pieces if p.shape[-1]]
    formats = [f"V{p.shape[-1]}" for p in pieces]
    rows = np.empty(n, dtype=np.dtype({"names": [f"p{i}" for i in range(len(pieces))], "formats": formats}))
    for i, (piece, fmt) in enumerate(zip(pieces, formats)):
        items = np.ascontiguousarray(piece).view(fmt)
        rows[f"p{i}"] = items[0] if piece.ndim == 1 else items.ravel()
    return rows.view(np.uint8).reshape(n, rows.dtype.itemsize)


def _offsets(array) -> np.ndarray:
    return np.frombuffer(array.buffers()[1], np.int32)[array.offset : array.offset + len(array) + 1]


def _uniform(array) -> np.ndarray | None:
    """(n, w) uint8 view of a binary array whose n values are all w bytes long, else None."""
    if array.null_count or not len(array):
        return None
    offsets = _offsets(array)
    width = int(offsets[1] - offsets[0])
    if int(offsets[-1] - offsets[0]) != width * len(array) or not (np.diff(offsets) == width).all():
        return None
    data = np.frombuffer(array.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(array), width)


def fixed(words: np.ndarray) -> pa.Array:
    """One Arrow binary value per row of a fixed-width numpy array (n,), (n, w) or of records."""
    raw = np.ascontiguousarray(words)
    width = raw.dtype.itemsize * (raw.shape[1] if raw.ndim == 2 else 1)
    offsets = np.arange(len(raw) + 1, dtype=np.int32) * width
    return pa.Array.from_buffers(pa.binary(), len(raw), [None, pa.py_buffer(offsets), pa.py_buffer(raw.view(np.uint8))])
