"""The release page's figure: the projected window statement by statement, and the worst moment of the
release (the application's latency around the migration that hurt it most, its statements marked)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"green": "#2e7d32", "amber": "#ef8f00", "red": "#c62828"}


def png(release: dict, results: dict) -> bytes:
    """The figure as PNG bytes; `results`: run id → RehearsalResult (saved runs)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    _window(left, release)
    _worst(right, release, results)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def _window(ax, release: dict) -> None:
    bars = [
        (f"{n}·#{st['index']} {st.get('kind', '')}", st, m)
        for n, m in enumerate(release["migrations"], 1)
        for st in m.get("statements", [])
        if st.get("phase", "up") == "up"
    ]
    for y, (_, st, _m) in enumerate(bars):
        p = st.get("projection") or {}
        value = p.get("duration_ms", st.get("duration_ms") or 0) / 1000
        low, high = p.get("low_ms", value * 1000) / 1000, p.get("high_ms", value * 1000) / 1000
        ax.barh(y, value, color=COLOURS.get(st.get("verdict"), "0.5"), alpha=0.85)
        ax.errorbar(value, y, xerr=[[value - low], [high - value]], color="black", capsize=3, lw=1)
    ax.set_yticks(range(len(bars)), [label for label, _, _ in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("projected duration at production size (s); whiskers: interval")
    ax.set_ylabel("migration · statement")
    ax.set_title(f"Projected release window: {release['window']['ms'] / 1000:.1f} s in total")


def _worst(ax, release: dict, results: dict) -> None:
    run_id = worst_run(release)
    result = results.get(run_id)
    if result is None or result.workload.empty:
        ax.set_title("Worst moment: no application transactions recorded")
        ax.set_xlabel("seconds since traffic start (s)")
        ax.set_ylabel("transaction latency (ms)")
        return
    work = result.workload
    x, y = work["intended_start"] - result.t0, work["latency_ms"].clip(lower=0.01)
    ok = work["ok"].astype(bool)
    ax.scatter(x[ok], y[ok], s=5, alpha=0.4, lw=0, label="transaction (ok)")
    if (~ok).any():
        ax.scatter(x[~ok], y[~ok], s=20, marker="x", color="tab:red", label="transaction (error)")
    for st in result.statements.itertuples():
        if st.start == st.start and st.end == st.end:  # NaN-safe: a statement that never started has no span
            ax.axvspan(st.start - result.t0, st.end - result.t0, color="0.6", alpha=0.25)
            ax.text(st.start - result.t0, y.max(), f"#{st.index}", fontsize=8, va="top")
    ax.set_yscale("log")
    ax.set_xlabel("seconds since traffic start (s); grey: migration statements (#index)")
    ax.set_ylabel("transaction latency (ms, log scale)")
    name = next(m["name"] for m in release["migrations"] if m.get("run_id") == run_id)
    ax.set_title(f"Worst moment: {name}\n(longest transaction {y.max():,.0f} ms)")
    ax.legend(loc="upper left", fontsize=8)


def worst_run(release: dict) -> str | None:
    """The run whose application felt the migration most: the highest p99 during it."""
    ran = [m for m in release["migrations"] if m.get("run_id")]
    during = lambda m: ((m.get("workload") or {}).get("during") or {}).get("p99_ms") or 0  # noqa: E731
    return max(ran, key=during)["run_id"] if ran else None
