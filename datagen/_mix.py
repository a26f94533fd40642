"""Per-id pseudo-randomness that needs no stream: hashing and bijections, the same whatever the chunking."""

from __future__ import annotations

import math

import numpy as np

_GOLDEN = 0x9E3779B97F4A7C15


def splitmix64(x: np.ndarray, salt: int) -> np.ndarray:
    """A well-mixed uint64 per input (splitmix64's finaliser); uint64 arithmetic wraps, as intended."""
    with np.errstate(over="ignore"):
        z = np.asarray(x, dtype=np.uint64) + np.uint64((salt * _GOLDEN) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def pick(x: np.ndarray, salt: int, n: int) -> np.ndarray:
    """An index in [0, n) per input, from its hash."""
    return (splitmix64(x, salt) % np.uint64(n)).astype(np.int64)


class Shuffle:
    """A bijection of [0, n) (affine: a·x + b mod n) that scatters consecutive ids across the range."""

    def __init__(self, n: int, salt: int):
        if n >= 2**32:
            raise ValueError("Shuffle needs n < 2**32 so that a·x fits in uint64")
        self.n = n
        a = int(n * 0.6180339887) | 1
        while math.gcd(a, n) != 1:
            a += 1
        self.a, self.b = a % n if n > 1 else 0, int(splitmix64(np.array([n]), salt)[0]) % n
        self.a_inv = pow(self.a, -1, n) if n > 1 else 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.uint64)
        return ((np.uint64(self.a) * x + np.uint64(self.b)) % np.uint64(self.n)).astype(np.int64)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        y = (np.asarray(y, dtype=np.int64) - self.b) % self.n
        return ((np.uint64(self.a_inv) * y.astype(np.uint64)) % np.uint64(self.n)).astype(np.int64)


def permute_bits(x: np.ndarray, bits: int, salt: int) -> np.ndarray:
    """A bijection of [0, 2**bits) that looks random: add, multiply by an odd constant and xor-shift,
    each of which is invertible modulo 2**bits (so distinct inputs stay distinct)."""
    mask = np.uint64(2**bits - 1)
    with np.errstate(over="ignore"):
        z = (np.asarray(x, dtype=np.uint64) + np.uint64(salt % 2**bits)) & mask
        for multiplier, shift in ((0xBF58476D1CE4E5B9, bits // 2), (0x94D049BB133111EB, bits // 2 - 2)):
            z = (z * np.uint64(multiplier)) & mask
            z ^= z >> np.uint64(shift)
    return z
