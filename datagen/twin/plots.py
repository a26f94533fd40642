"""Figures of a twin's fidelity (from datagen.twin.summary's DataFrames): titled, axes labelled with units."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

from datagen.twin.summary import DISTINCT_BOUND, HISTOGRAM_LINE, NULL_FRAC_BOUND

PANELS = (  # column, x-axis label, bounds drawn as dashed lines, log scale
    ("null_frac_error", "null-fraction error |twin − profile| (fraction of rows)", (NULL_FRAC_BOUND,), False),
    ("distinct_ratio", "distinct-count ratio twin ÷ profile (log scale)", (1 / DISTINCT_BOUND, DISTINCT_BOUND), True),
    ("histogram_distance", "histogram distance (share of rows in other buckets, 0..1)", (HISTOGRAM_LINE,), False),
)


def fidelity(frame: pd.DataFrame) -> Figure:
    """Per column, the three fidelity measures side by side; red where a column is outside the bounds."""
    labels = (frame["table"].str.removeprefix("public.") + "." + frame["column"]).tolist()
    height = min(14.0, 1.6 + 0.22 * max(len(labels), 4))
    fig, axes = plt.subplots(1, 3, figsize=(14, height), sharey=True, layout="constrained")
    plt.close(fig)  # returned, not shown by pyplot: the notebook displays it once
    fig.suptitle("Twin vs profile, per column: null fraction, distinct count, histogram (dashed: bounds)")
    y = np.arange(len(labels))
    colours = np.where(frame["within"], "tab:blue", "tab:red")
    for ax, (column, xlabel, bounds, log) in zip(axes, PANELS):
        values = frame[column].astype(float)
        shown = values.notna()
        left = 1.0 if log else 0.0  # a ratio's bar starts at 1 (the same), to the left when below
        ax.barh(y[shown], values[shown] - left, left=left, color=colours[shown], height=0.7)
        if log:
            ax.set_xscale("log")
            ax.set_xlim(min(0.5, values.min() * 0.9), max(2.0, values.max() * 1.1))
            ax.set_xticks([0.5, 0.8, 1.0, 1.25, 2.0], ["0.5", "0.8", "1", "1.25", "2"], minor=False)
            ax.xaxis.set_minor_locator(NullLocator())
        else:
            ax.set_xlim(0, max(2 * max(bounds), values.max() * 1.1))
            ax.xaxis.set_major_locator(MaxNLocator(4))
        for bound in bounds:
            ax.axvline(bound, color="0.3", linestyle="--", linewidth=1)
        ax.set(xlabel=xlabel)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set(yticks=y, yticklabels=labels, ylabel="table.column")
    axes[0].invert_yaxis()
    return fig


def bytes_per_row(frame: pd.DataFrame) -> Figure:
    """Per table, heap (with TOAST) and index bytes per row, twin beside profile."""
    fig, ax = plt.subplots(figsize=(10, 1.8 + 0.45 * max(len(frame), 3)), layout="constrained")
    plt.close(fig)
    ax.set(title="Bytes per row, twin vs profile (heap with TOAST, and indexes)", xlabel="bytes per row")
    y = np.arange(len(frame))
    bars = (("heap_profile", "heap, profile", "tab:gray"), ("heap_twin", "heap, twin", "tab:blue"))
    bars += (("index_profile", "indexes, profile", "silver"), ("index_twin", "indexes, twin", "tab:orange"))
    for offset, (column, label, colour) in zip((-0.3, -0.1, 0.1, 0.3), bars):
        ax.barh(y + offset, frame[column], height=0.2, color=colour, label=label)
    ax.set(yticks=y, yticklabels=frame["table"].str.removeprefix("public."), ylabel="table")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig
