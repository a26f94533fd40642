"""Values as PostgreSQL's binary send format, a whole chunk at a time: Arrow arrays in, binary arrays out.

Each encoder turns the array `values.domain` makes (numbers, dates, or text in the column's text form) into
the bytes the type's receive function reads; nothing loops over rows in Python. Most common values are
literal text from pg_stats: the server turns them into bytes once per build (`send_mcvs`), since only it
parses every type's text form alike.
"""

from __future__ import annotations

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql

from datagen import _pgbinary
from datagen.twin import texts, values

INT_FORMATS = {"int2": ">i2", "int4": ">i4", "int8": ">i8"}
FLOAT_FORMATS = {"float4": ">f4", "float8": ">f8"}
RAW = {"text", "varchar", "bpchar", "name", "citext", "json", "finite"}
NIBBLE = np.zeros(256, dtype=np.uint8)
NIBBLE[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)
NIBBLE[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16, dtype=np.uint8)
PG_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970
INET_FAMILY = 2  # PGSQL_AF_INET
MAX_DSCALE = 15  # decimals a float64 carries


def domain(plan, k: np.ndarray) -> pa.Array:
    """Binary values of domain indexes k: made from k directly where the text form would only be parsed
    back (uuid, inet, cidr, bytea, interval, arrays), else `values.domain` encoded."""
    name = values.kind(plan)
    if plan.parent is not None:
        same = name in DIRECT and values.kind(plan.parent) == name
        return domain(plan.parent, values.spread(plan, k)) if same else encode(plan, values.domain(plan, k))
    if name in DIRECT and values.finite(plan) is None:
        return DIRECT[name](plan, k)
    return encode(plan, values.domain(plan, k))


def encode(plan, array: pa.Array) -> pa.Array:
    """The binary form of each (non-NULL) value of the column."""
    name = values.kind(plan)
    return _scalar(name, plan.info.base, array, _dscale(plan)) if name != "array" else _array(plan, array)


def _scalar(name: str, base: str, array: pa.Array, dscale: int) -> pa.Array:
    if name == "int":
        return _pgbinary.fixed(np.asarray(array.cast(pa.int64())).astype(INT_FORMATS[base]))
    if name == "float":
        numbers = np.asarray(array.cast(pa.float64()))
        if base == "numeric":
            return _pgbinary.fixed(_pgbinary.numeric(numbers, dscale))
        return _pgbinary.fixed(numbers.astype(FLOAT_FORMATS[base]))
    if name == "time":
        if base == "date":
            return _pgbinary.fixed((np.asarray(array.cast(pa.int32())) - PG_EPOCH_DAYS).astype(">i4"))
        unix_us = np.asarray(array.cast(pa.timestamp("us")).cast(pa.int64()))
        return _pgbinary.fixed((unix_us - _pgbinary.PG_EPOCH_US).astype(">i8"))
    return _text_kind(name, array)


def _text_kind(name: str, array: pa.Array) -> pa.Array:
    if name in RAW or name not in KINDS:
        return array.cast(pa.binary())
    return KINDS[name](array)


def _jsonb(array: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar(b"\x01"), array.cast(pa.binary()), pa.scalar(b""))


def _bool(array: pa.Array) -> pa.Array:
    return _pgbinary.fixed(np.asarray(pc.starts_with(array, "t")).astype(np.uint8))


def _uuid(array: pa.Array) -> pa.Array:
    digits = NIBBLE[_matrix(pc.replace_substring(array, "-", ""), 32)]
    return _pgbinary.fixed((digits[:, 0::2] << 4) | digits[:, 1::2])


def _bytea(array: pa.Array) -> pa.Array:
    lengths = np.asarray(pc.binary_length(array))
    width = int(lengths[0]) if len(lengths) else 2
    digits = NIBBLE[_matrix(array, width)[:, 2:]]
    return _pgbinary.fixed((digits[:, 0::2] << 4) | digits[:, 1::2])


def _interval(array: pa.Array) -> pa.Array:
    seconds = np.asarray(pc.replace_substring(array, " seconds", "").cast(pa.int64()))
    return _interval_us(seconds * 1_000_000)


def _interval_us(us: np.ndarray) -> pa.Array:
    words = np.zeros(len(us), dtype=[("us", ">i8"), ("days", ">i4"), ("months", ">i4")])
    words["us"] = us
    return _pgbinary.fixed(words)


def _inet(array: pa.Array, cidr: bool) -> pa.Array:
    """IPv4 text, with or without /bits (the generator makes only IPv4): family, bits, is_cidr, 4, octets."""
    whole = pc.if_else(pc.match_substring(array, "/"), array, pc.binary_join_element_wise(array, "/32", ""))
    parts = np.asarray(pc.list_flatten(pc.split_pattern_regex(whole, r"[./]")).cast(pa.int64()))
    parts = parts.reshape(len(array), 5)
    out = np.empty((len(array), 8), dtype=np.uint8)
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = INET_FAMILY, parts[:, 4], int(cidr), 4
    out[:, 4:] = parts[:, :4]
    return _pgbinary.fixed(out)


KINDS = {
    "jsonb": _jsonb,
    "bool": _bool,
    "uuid": _uuid,
    "bytea": _bytea,
    "interval": _interval,
    "inet": lambda a: _inet(a, False),
    "cidr": lambda a: _inet(a, True),
}


def _array(plan, array: pa.Array) -> pa.Array:
    """`{"a","b"}` literals → one-dimensional arrays of two elements."""
    elements = pc.list_flatten(pc.split_pattern(pc.utf8_slice_codeunits(array, 2, -2), '","'))
    encoded = _element(plan, elements)
    first, second = (encoded.take(pa.array(np.arange(i, len(encoded), 2))) for i in (0, 1))
    return _two(plan, first, second)


def _element(plan, text: pa.Array) -> pa.Array:
    element = plan.info.element
    return _scalar("finite" if plan.info.labels else values.element_kind(element), element, text, 0)


def _two(plan, first: pa.Array, second: pa.Array) -> pa.Array:
    """Header (one dimension of two, no NULLs, the element type), then each element's length and bytes."""
    n = len(first)
    header = np.zeros(n, dtype=[("ndim", ">i4"), ("nulls", ">i4"), ("oid", ">u4"), ("dim", ">i4"), ("lb", ">i4")])
    header["ndim"], header["oid"], header["dim"], header["lb"] = 1, plan.info.element_oid, 2, 1
    parts = [_pgbinary.fixed(header), _lengths(first), first, _lengths(second), second]
    return pc.binary_join_element_wise(*parts, pa.scalar(b""))


def _uuid_direct(plan, k: np.ndarray) -> pa.Array:
    return _pgbinary.fixed(texts.uuid_words(plan, k).astype(">u8"))


def _inet_direct(plan, k: np.ndarray, cidr: bool | None = None) -> pa.Array:
    cidr = plan.info.base == "cidr" if cidr is None else cidr
    out = np.empty((len(k), 8), dtype=np.uint8)
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = INET_FAMILY, 24 if cidr else 32, int(cidr), 4
    out[:, 4:] = texts.ipv4(k, cidr).astype(">u4").view(np.uint8).reshape(len(k), 4)
    return _pgbinary.fixed(out)


def _bytea_direct(plan, k: np.ndarray) -> pa.Array:
    body = texts.splitmix(k + np.uint64(plan.salt)).astype(">u8").view(np.uint8).reshape(len(k), 8)
    return _pgbinary.fixed(np.tile(body, (1, texts.bytea_repeats(plan))))


def _interval_direct(plan, k: np.ndarray) -> pa.Array:
    return _interval_us(k.astype(np.int64) * 60_000_000)


def _array_direct(plan, k: np.ndarray) -> pa.Array:
    if plan.info.element in ("inet", "cidr"):
        cidr = plan.info.element == "cidr"
        return _two(plan, _inet_direct(plan, k, cidr), _inet_direct(plan, k + 1, cidr))
    first, second = texts.array_elements(plan, k)
    return _two(plan, _element(plan, first), _element(plan, second))


DIRECT = {
    "uuid": _uuid_direct,
    "inet": _inet_direct,
    "cidr": _inet_direct,
    "bytea": _bytea_direct,
    "interval": _interval_direct,
    "array": _array_direct,
}


def _lengths(array: pa.Array) -> pa.Array:
    return _pgbinary.fixed(np.asarray(pc.binary_length(array)).astype(">i4"))


def _matrix(array: pa.Array, width: int) -> np.ndarray:
    """Strings all `width` bytes long → (n, width) uint8."""
    array = array.cast(pa.binary())
    offsets = np.frombuffer(array.buffers()[1], np.int32)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(array.buffers()[2], np.uint8)[offsets[0] : offsets[-1]] if len(array) else np.zeros(0)
    if len(data) != width * len(array):
        raise ValueError(f"expected values of {width} bytes")
    return data.reshape(len(array), width)


def _dscale(plan) -> int:
    """Decimals of a numeric: its typmod's scale, else the most any statistic shows, else 2."""
    scale = plan.info.numeric_scale
    if scale:
        return scale[1]
    stats = plan.stats
    shown = [t for t in (stats.histogram_bounds or ()) + (stats.most_common_vals or ()) if t] if stats else []
    decimals = [len(t.split(".", 1)[1]) for t in shown if "." in t and "e" not in t.lower()]
    return min(MAX_DSCALE, max(decimals)) if decimals else 2


def send_mcvs(conn: psycopg.Connection, plans) -> None:
    """Each column's most common values (pg_stats text) as binary, made by the type's own send function."""
    for table in plans:
        for column in table.columns:
            if column.mcv and column.parent is None:
                column.mcv_binary = _send(conn, column.info.shown, column.mcv)


def _send(conn: psycopg.Connection, shown: str, texts: list[str]) -> list[bytes]:
    send = conn.execute("SELECT typsend::regproc::text FROM pg_type WHERE oid = %s::regtype", (shown,)).fetchone()[0]
    query = sql.SQL("SELECT {}(v::{}) FROM unnest(%s::text[]) WITH ORDINALITY u(v, i) ORDER BY i").format(
        sql.SQL(send), sql.SQL(shown)
    )
    return [bytes(r[0]) for r in conn.execute(query, (texts,)).fetchall()]
