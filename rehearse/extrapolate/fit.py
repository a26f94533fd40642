"""Time against table rows: constant, linear or n·log n fits, chosen by leave-one-out error, with intervals.

How a fit is made (numpy only):

* Each model is `a + b·g(n)` with g(n) = 0 (constant), n (linear) or n·ln n (n log n), a ≥ 0 and b ≥ 0 (a
  statement cannot take negative time, nor get faster with more rows). Least squares on *relative* errors,
  ((y − f)/y)², because timing noise is multiplicative: a 10 ms point weighs as much as a 10 s one. Times
  below Y_FLOOR count as Y_FLOOR in weights and logs: there a 1 ms and a 4 ms run differ by jitter only.
* The model is chosen by leave-one-out error in log space (fit on all scales but one, predict the one left
  out, RMS of ln(measured / predicted)): the simplest model (constant < linear < n log n) whose error is
  within max(CLOSE_ABS, CLOSE_REL × best) of the best wins. Leaving out the largest scale is an
  extrapolation test, which is what the projection needs.
* The interval is a 90 % prediction interval in log space: f(N) · exp(± t · σ · √(1 + h(N))), h(N) the
  leverage of N in the relative-error regression (wider the further N is). σ pools the fit's log
  residuals with a prior of SIGMA_PRIOR worth PRIOR_DOF degrees of freedom, σ² = (PRIOR_DOF · SIGMA_PRIOR²
  + Σ r²) / (PRIOR_DOF + dof), and t is Student's 95th percentile for PRIOR_DOF + dof: three scales leave
  one degree of freedom, whose t (6.3) would make any scatter an interval of ×1000, while three points
  on a line would claim no spread at all, though timings repeat only to ~10 %.
* When other models were "close" in the choice above, the interval spans theirs too: three to five scales
  rarely tell n from n·log n apart, and 10× further out the two differ by ~20 %.
* Among close models the caller may name the one the statement's work follows (`prefer`): an index build
  sorts (n log n), and an UPDATE or rewrite of every row inserts each row into the table's B-trees (a descent
  of log n pages each, past the cache a read too). Choosing linear there, because it is simpler, under-
  predicted such statements at 10× by 7–28 % on bench/extrapolation.py, always low.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

MODELS = ("constant", "linear", "nlogn")  # simplest first: a tie goes to the earlier
CLOSE_ABS, CLOSE_REL = 0.02, 0.25  # "close" in leave-one-out log error: prefer the simpler model
SIGMA_PRIOR, PRIOR_DOF = 0.10, 2  # ~10 %: the spread of repeated timings, worth two more scales
Y_FLOOR = 5.0  # ms: below this a time is scheduling jitter, not work
# Student's t, 95th percentile (two-sided 90 %), by degrees of freedom; 1.645 beyond the table.
_T95 = (6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812)


def _g(model: str, n: np.ndarray) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    return {"constant": np.zeros_like(n), "linear": n, "nlogn": n * np.log(np.maximum(n, 1.0))}[model]


@dataclass(frozen=True)
class Fit:
    """One model fitted to (rows, ms) points: coefficients, quality, and what it predicts at any n."""

    model: str
    a: float  # ms
    b: float  # ms per unit of g(n): per row (linear) or per n·ln n (nlogn)
    loo: float  # leave-one-out RMS error, log space (nan with too few points)
    sigma: float  # residual spread, log space, pooled with the prior
    dof: int
    points: int
    _inverse: np.ndarray = field(repr=False, compare=False)  # (ZᵀZ)⁻¹ of the active columns
    _active: tuple[int, ...] = field(repr=False, compare=False)
    alternatives: tuple[Fit, ...] = ()  # models nearly as good: the interval covers them too

    def predict(self, n) -> np.ndarray:
        return self.a + self.b * _g(self.model, n)

    def interval(self, n) -> tuple[np.ndarray, np.ndarray]:
        """The 90 % prediction interval at n (ms), widened to cover the models nearly as good as this one."""
        low, high = self._own_interval(n)
        for other in self.alternatives:
            other_low, other_high = other._own_interval(n)
            low, high = np.minimum(low, other_low), np.maximum(high, other_high)
        return low, high

    def _own_interval(self, n):
        centre = np.maximum(self.predict(n), 0.0)
        half = _t95(self.dof + PRIOR_DOF) * self.sigma * np.sqrt(1.0 + self._leverage(n, centre))
        return centre * np.exp(-half), centre * np.exp(half)

    def _leverage(self, n, centre) -> np.ndarray:
        if not self._active:
            return np.zeros_like(np.asarray(centre, dtype=float))
        x = np.stack([np.ones_like(centre), _g(self.model, n)], axis=-1)[..., list(self._active)]
        u = x / np.maximum(centre, Y_FLOOR)[..., None]
        return np.einsum("...i,ij,...j->...", u, self._inverse, u)


def fit(n, y, models: tuple[str, ...] = MODELS, prefer: str | None = None) -> Fit:
    """The model among `models` chosen by leave-one-out error, fitted to the points (n rows, y ms); `prefer`
    wins over simpler models when its error is close to the best."""
    n, y = np.asarray(n, dtype=float), np.asarray(y, dtype=float)
    if len(n) < 2 or not (y > 0).any():  # one point, or nothing at all (no lock held, say)
        return _fit_one(models[0], n, y, _loo(models[0], n, y))
    errors = {m: _loo(m, n, y) for m in MODELS if m in models and _params(m) < len(n)} or {models[0]: float("nan")}
    best = min(errors.values())
    close = [m for m in MODELS if m in errors and not errors[m] > best + max(CLOSE_ABS, CLOSE_REL * best)]
    close.sort(key=lambda m: m != prefer)  # stable: otherwise the simplest first
    chosen = _fit_one(close[0], n, y, errors[close[0]])
    return replace(chosen, alternatives=tuple(_fit_one(m, n, y, errors[m]) for m in close[1:]))


def _params(model: str) -> int:
    return 1 if model == "constant" else 2


def _fit_one(model: str, n: np.ndarray, y: np.ndarray, loo: float) -> Fit:
    if not (y > 0).any():  # e.g. a statement that holds no lock: exactly zero, no spread
        return Fit(model, 0.0, 0.0, loo, 0.0, max(len(n) - 1, 1), len(n), np.zeros((0, 0)), ())
    a, b, active, inverse = _solve(model, n, y)
    predicted = np.maximum(a + b * _g(model, n), Y_FLOOR)
    dof = max(len(n) - len(active), 1)
    residual = np.log(np.maximum(y, Y_FLOOR) / predicted)
    sigma = math.sqrt((PRIOR_DOF * SIGMA_PRIOR**2 + float(residual @ residual)) / (PRIOR_DOF + dof))
    return Fit(model, a, b, loo, sigma, dof, len(n), inverse, active)


def _solve(model: str, n: np.ndarray, y: np.ndarray):
    """Non-negative relative least squares: the free optimum, else the best fit on a boundary (a=0 or b=0)."""
    x = np.stack([np.ones_like(n), _g(model, n)], axis=1)
    scale = max(float(np.abs(x[:, 1]).max()), 1.0)  # columns of similar size: a well-conditioned solve
    x[:, 1] /= scale
    w = 1.0 / np.maximum(y, Y_FLOOR)
    options = [(0, 1), (0,), (1,)] if model != "constant" else [(0,)]
    best = None
    for active in options:
        z = x[:, list(active)] * w[:, None]
        coef, *_ = np.linalg.lstsq(z, np.ones(len(n)), rcond=None)
        if (coef < 0).any():
            continue
        beta = np.zeros(2)
        beta[list(active)] = coef
        sse = float(np.sum((1.0 - (x @ beta) * w) ** 2))
        if best is None or sse < best[0] - 1e-12:
            best = (sse, beta, active, z)
    _, beta, active, z = best
    inverse = np.linalg.pinv(z.T @ z)
    if 1 in active:  # back to unscaled g(n): the leverage uses unscaled columns too
        k = list(active).index(1)
        inverse[k, :] /= scale
        inverse[:, k] /= scale
    return float(beta[0]), float(beta[1] / scale), active, inverse


def _loo(model: str, n: np.ndarray, y: np.ndarray) -> float:
    if len(n) <= _params(model):
        return float("nan")
    errors = []
    for i in range(len(n)):
        keep = np.arange(len(n)) != i
        a, b, _, _ = _solve(model, n[keep], y[keep])
        predicted = max(a + b * float(_g(model, n[i : i + 1])[0]), Y_FLOOR)
        errors.append(math.log(max(y[i], Y_FLOOR) / predicted))
    return float(np.sqrt(np.mean(np.square(errors))))


def _t95(dof: int) -> float:
    return _T95[dof - 1] if 1 <= dof <= len(_T95) else 1.645
