"""Time: an hourly intensity over a fixed history, and stratified sampling from it (ids rise with time)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

import numpy as np

from datagen.params import Calendar

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR


def unix_us(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000


class Timeline:
    """A piecewise-constant intensity over hourly bins and its CDF."""

    def __init__(self, start: date, hourly_weights: np.ndarray):
        self.start_us = unix_us(start)
        cum = np.cumsum(hourly_weights, dtype=np.float64)
        self.cdf = np.concatenate([[0.0], cum / cum[-1]])
        self.hours = len(hourly_weights)

    def at_quantile(self, q: np.ndarray) -> np.ndarray:
        """Timestamps (Unix µs) at CDF values q in [0, 1): the inverse CDF, linear within an hour."""
        b = np.clip(np.searchsorted(self.cdf, q, side="right") - 1, 0, self.hours - 1)
        frac = (q - self.cdf[b]) / (self.cdf[b + 1] - self.cdf[b])
        return self.start_us + ((b + np.clip(frac, 0, 1)) * US_PER_HOUR).astype(np.int64)

    def quantile_at(self, t_us: np.ndarray) -> np.ndarray:
        """The CDF at timestamps t: the share of the history's events that happened before t."""
        x = np.clip((t_us - self.start_us) / US_PER_HOUR, 0, self.hours)
        b = np.minimum(x.astype(np.int64), self.hours - 1)
        return self.cdf[b] + (x - b) * (self.cdf[b + 1] - self.cdf[b])

    def stratified(self, rng: np.random.Generator, ids: np.ndarray, total: int) -> np.ndarray:
        """One timestamp per id (1-based), id i in the i-th of `total` equal-probability strata: the
        seasonality is exact and ids increase with time, as serial ids do in production."""
        return self.at_quantile((ids - 1 + rng.random(len(ids))) / total)


def hourly_weights(cal: Calendar, start: date, rng: np.random.Generator) -> np.ndarray:
    days = (cal.end - start).days
    day = np.arange(days)
    day_weight = (1 + cal.growth_per_year) ** (day / 365.25)
    day_weight *= np.asarray(cal.weekday)[(start.weekday() + day) % 7]
    day_weight *= _peaks(cal, start, days)
    day_weight *= rng.lognormal(0.0, cal.day_noise_sigma, days)
    return (day_weight[:, None] * np.asarray(cal.hourly)[None, :]).ravel()


def _peaks(cal: Calendar, start: date, days: int) -> np.ndarray:
    dates = np.datetime64(start) + np.arange(days)
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    factor = np.ones(days)
    for m, first, last, f in cal.peaks:
        factor[(month == m) & (dom >= first) & (dom <= last)] *= f
    return factor


@lru_cache(maxsize=8)
def orders_timeline(cal: Calendar, seed: int) -> Timeline:
    return Timeline(cal.start, hourly_weights(cal, cal.start, np.random.default_rng([seed, 90])))


@lru_cache(maxsize=8)
def signups_timeline(cal: Calendar, signup_start: date, seed: int) -> Timeline:
    return Timeline(signup_start, hourly_weights(cal, signup_start, np.random.default_rng([seed, 91])))


def flat_timeline(start: date, end: date) -> Timeline:
    return Timeline(start, np.ones((end - start).days * 24))
