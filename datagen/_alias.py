"""Walker's alias method: weighted picks in O(1) each (a binary search per pick is several times slower)."""

from __future__ import annotations

import numpy as np


class AliasTable:
    """Picks index i with probability weights[i] / sum(weights), two array lookups per pick."""

    def __init__(self, weights: np.ndarray):
        n = len(weights)
        scaled = (np.asarray(weights, dtype=np.float64) * n / np.sum(weights)).tolist()
        alias = list(range(n))
        small = [i for i, p in enumerate(scaled) if p < 1.0]
        large = [i for i, p in enumerate(scaled) if p >= 1.0]
        while small and large:  # Vose's construction: each small slot is topped up by a large one
            s, big = small.pop(), large[-1]
            alias[s] = big
            scaled[big] -= 1.0 - scaled[s]
            if scaled[big] < 1.0:
                small.append(large.pop())
        for i in small + large:  # leftovers are 1 up to rounding
            scaled[i] = 1.0
        self.keep = np.array(scaled)
        self.alias = np.array(alias, dtype=np.int64)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        slot = rng.integers(0, len(self.keep), size)
        return np.where(rng.random(size) < self.keep[slot], slot, self.alias[slot])
