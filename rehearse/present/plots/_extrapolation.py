"""Extrapolation: a statement's measured points per scale and its fitted curve out to production rows."""

from __future__ import annotations

import numpy as np

from common.errors import BadInput
from common.text import human_ms, shorten
from rehearse.extrapolate.scales import METRICS, ScaledRehearsal


def extrapolation(scaled: ScaledRehearsal, index: int, metric: str = "lock_hold"):
    """Measured points per scale and the fitted curve out to production rows (log-log), interval band."""
    import matplotlib.pyplot as plt

    if metric not in METRICS:
        raise BadInput(f"metric {metric!r}: choose one of {', '.join(METRICS)}")
    p, fit = scaled.projection(index), scaled._models[(index, metric)]
    if p["table"] is None:
        raise BadInput(f"statement #{index} touches no dataset table: there are no rows to plot it against")
    group = scaled.points[scaled.points["index"] == index]
    n = np.geomspace(group["rows"].min(), max(p["rows"], group["rows"].max()), 200)
    low, high = fit.interval(n)
    fig = plt.figure(figsize=(8, 5), layout="constrained")
    plt.close(fig)  # returned, not kept by pyplot
    ax = fig.subplots()
    ax.fill_between(n, low / 1000, high / 1000, alpha=0.2, label="90 % prediction interval")
    ax.plot(n, fit.predict(n) / 1000, label=f"{_MODEL_NAMES[fit.model]} fit")
    ax.scatter(group["rows"], group[METRICS[metric]] / 1000, zorder=3, label="rehearsed")
    for row in group.itertuples():
        ax.annotate(
            f"SF {row.scale:g}",
            (row.rows, getattr(row, METRICS[metric]) / 1000),
            textcoords="offset points",
            xytext=(4, -12),
            fontsize=8,
        )
    _draw_production(ax, p, metric)
    ax.set_xscale("log")
    if (group[METRICS[metric]] > 0).any():
        ax.set_yscale("log")
    ax.set_xlabel(f"rows in {p['table']}")
    ax.set_ylabel(f"{_METRIC_NAMES[metric]} (s)")
    ax.set_title(
        f"#{index} {shorten(group['sql'].iloc[0])}\n{_METRIC_NAMES[metric]}: "
        f"{human_ms(_value(p, metric))} projected at {p['rows']:,} rows ({scaled.production.origin})"
    )
    ax.legend(loc="upper left", fontsize=8)
    return fig


_MODEL_NAMES = {"constant": "constant", "linear": "linear (a + b·n)", "nlogn": "n log n (a + b·n·ln n)"}
_METRIC_NAMES = {"duration": "duration", "lock_hold": "lock hold"}


def _value(p: dict, metric: str, which: str = "") -> float:
    key = {
        "duration": {"": "duration_ms", "low": "low_ms", "high": "high_ms"},
        "lock_hold": {"": "hold_ms", "low": "hold_low_ms", "high": "hold_high_ms"},
    }[metric][which]
    return p[key]


def _draw_production(ax, p: dict, metric: str) -> None:
    y, low, high = (_value(p, metric, w) / 1000 for w in ("", "low", "high"))
    ax.errorbar(
        [p["rows"]],
        [y],
        yerr=[[y - low], [high - y]],
        fmt="D",
        color="tab:red",
        capsize=4,
        label=f"projection ({p['rows_source']})",
    )
    ax.axvline(p["rows"], color="tab:red", linestyle=":", linewidth=1)
