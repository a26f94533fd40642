"""Text columns without a Python loop per row: value pools as padded byte matrices, gathered by index."""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from common.paths import data_dir

POOL_SIZE = 2000  # values per field and locale: plenty of variety (names combine first × last)
# The pools are a vocabulary, the same for every dataset seed: the seed decides which row gets which value.
FAKER_SEED = 0

Part = tuple[np.ndarray, "np.ndarray | None"]  # (n, w) uint8 matrix, bytes kept per row (None: all w)


@dataclass(frozen=True)
class Text:
    """A text column: per row, the concatenation of each part's kept bytes; NULL where `null`."""

    parts: tuple[Part, ...]
    null: np.ndarray | None = None

    def __getitem__(self, rows: slice) -> Text:
        null = None if self.null is None else self.null[rows]
        return Text(tuple((m[rows], None if k is None else k[rows]) for m, k in self.parts), null)

    def to_list(self) -> list[str | None]:
        """Python strings, slowly: for tests and inspection, not for loading."""
        n = len(self.parts[0][0])
        rows = [b""] * n
        for matrix, kept in self.parts:
            widths = np.full(n, matrix.shape[1]) if kept is None else kept
            rows = [r + matrix[i, : widths[i]].tobytes() for i, r in enumerate(rows)]
        null = np.zeros(n, bool) if self.null is None else self.null
        return [None if null[i] else r.decode() for i, r in enumerate(rows)]


class TextPool:
    """Distinct-ish values as an (k, max width) uint8 matrix plus their byte lengths."""

    def __init__(self, values: Sequence[str]):
        encoded = [v.encode() for v in values]
        self.lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        self.matrix = np.zeros((len(encoded), max(self.lengths.max(), 1)), dtype=np.uint8)
        for i, e in enumerate(encoded):
            self.matrix[i, : len(e)] = np.frombuffer(e, dtype=np.uint8)
        self.values = tuple(values)

    def __len__(self) -> int:
        return len(self.values)

    def part(self, idx: np.ndarray) -> Part:
        return self.matrix[idx], self.lengths[idx]

    def text(self, idx: np.ndarray, null: np.ndarray | None = None) -> Text:
        return Text((self.part(idx),), null)

    @classmethod
    def concat(cls, pools: Sequence[TextPool]) -> TextPool:
        return cls([v for p in pools for v in p.values])


def constant(value: bytes, n: int) -> Part:
    return np.broadcast_to(np.frombuffer(value, dtype=np.uint8), (n, len(value))), None


def digits(values: np.ndarray, width: int | None = None) -> Part:
    """Decimal digits of non-negative ints: zero-padded to `width`, or left-aligned with exact lengths."""
    values = np.asarray(values, dtype=np.int64)
    if width is not None:
        return _fixed_digits(values, width), None
    if len(values) and values.max() < 2**31:
        values = values.astype(np.int32)
    w = width or (len(str(int(values.max()))) if len(values) else 1)
    power = 10 ** np.arange(w - 1, -1, -1, dtype=values.dtype)  # 10^(w-1) … 10^0
    count = 1 + (values[:, None] >= power[:-1]).sum(axis=1)  # digits of each value
    shift = np.maximum(count[:, None] - 1 - np.arange(w), 0)  # left-aligned; the rest is padding
    return ((values[:, None] // 10**shift) % 10 + 48).astype(np.uint8), count


# The four ASCII digits of 0000 … 9999: a zero-padded number is a few table lookups, not a division per digit.
_FOUR_DIGITS = np.frombuffer("".join(f"{i:04d}" for i in range(10_000)).encode(), dtype=np.uint8).reshape(-1, 4)


def _fixed_digits(values: np.ndarray, width: int) -> np.ndarray:
    groups = -(-width // 4)
    out = np.empty((len(values), 4 * groups), dtype=np.uint8)
    for g in range(groups - 1, -1, -1):
        values, low = np.divmod(values, 10_000)
        out[:, 4 * g : 4 * g + 4] = _FOUR_DIGITS[low]
    return out[:, 4 * groups - width :]


def hex_digits(values: np.ndarray, width: int) -> Part:
    """The low `width` hex digits (lowercase) of unsigned ints."""
    values = np.asarray(values, dtype=np.uint64)
    nibbles = (values[:, None] >> (np.uint64(4) * np.arange(width - 1, -1, -1, dtype=np.uint64))) & np.uint64(15)
    return np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[nibbles.astype(np.int64)], None


def ascii_word(value: str) -> str:
    """An email-safe lower-case form of a name: 'Müller-Lüdenscheidt' → 'mullerludenscheidt'."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]", "", folded) or "x"


@dataclass(frozen=True)
class People:
    """Faker pools of one seed: POOL_SIZE values per locale, locale-major, for every personal field."""

    first: TextPool
    last: TextPool
    first_ascii: TextPool
    last_ascii: TextPool
    street: TextPool
    city: TextPool
    phone: TextPool


@lru_cache(maxsize=4)
def people(locales: tuple[str, ...]) -> People:
    fields = faker_values(locales)
    pools = {k: TextPool(v) for k, v in fields.items()}
    return People(
        first_ascii=TextPool([ascii_word(v) for v in fields["first"]]),
        last_ascii=TextPool([ascii_word(v) for v in fields["last"]]),
        **pools,
    )


def faker_values(locales: tuple[str, ...]) -> dict[str, list[str]]:
    """POOL_SIZE values per field and locale from a Faker seeded with FAKER_SEED. Faker needs a few
    seconds for them, so they are kept in data/cache, keyed by everything that determines them."""
    import faker

    key = hashlib.sha1(repr((faker.VERSION, FAKER_SEED, POOL_SIZE, locales)).encode()).hexdigest()[:16]
    path = data_dir() / "cache" / f"faker-pools-{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    values = _faker_values(locales)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(values))
    tmp.replace(path)  # atomic: a concurrent build reads the old state or the whole file
    return values


def _faker_values(locales: tuple[str, ...]) -> dict[str, list[str]]:
    from faker import Faker

    fields: dict[str, list[str]] = {k: [] for k in ("first", "last", "street", "city", "phone")}
    for locale in locales:
        fake = Faker(locale)
        fake.seed_instance(f"{FAKER_SEED}-{locale}")  # str seeds hash the same in every process
        fields["first"] += [fake.first_name() for _ in range(POOL_SIZE)]
        fields["last"] += [fake.last_name() for _ in range(POOL_SIZE)]
        fields["street"] += [" ".join(fake.street_address().split()) for _ in range(POOL_SIZE)]
        fields["city"] += [fake.city() for _ in range(POOL_SIZE)]
        fields["phone"] += [fake.phone_number() for _ in range(POOL_SIZE)]
    return fields
