"""Figures of a dataset (from datagen.inspect's DataFrames): titled, axes labelled with units."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

SIZE = (9, 4)


def _figure(title: str, xlabel: str, ylabel: str):
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    plt.close(fig)  # returned, not shown by pyplot: the notebook displays it once
    return fig, ax


def orders_per_day(frame: pd.DataFrame) -> Figure:
    fig, ax = _figure(
        "Orders per day: yearly growth, weekly cycle, November–December peaks", "day (UTC)", "orders per day"
    )
    ax.plot(frame["day"], frame["orders"], linewidth=0.6, color="tab:blue", label="per day")
    weekly = frame.set_index("day")["orders"].rolling("28D").mean()
    ax.plot(weekly.index, weekly.to_numpy(), color="tab:orange", linewidth=1.5, label="28-day mean")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")
    return fig


def orders_per_customer(frame: pd.DataFrame) -> Figure:
    fig, ax = _figure(
        "Orders per customer: a heavy tail (log–log)",
        "orders placed by a customer (count, log scale)",
        "customers (count, log scale)",
    )
    shown = frame[frame["orders"] > 0]
    ax.scatter(shown["orders"], shown["customers"], s=8, color="tab:blue")
    ax.set(xscale="log", yscale="log")
    return fig


def amount_histogram(frame: pd.DataFrame) -> Figure:
    fig, ax = _figure("Order totals: log-normal", "order total (currency units, log scale)", "orders (count)")
    ax.bar(
        frame["low"],
        frame["orders"],
        width=frame["high"] - frame["low"],
        align="edge",
        color="tab:blue",
        edgecolor="white",
        linewidth=0.3,
    )
    ax.set_xscale("log")
    return fig
