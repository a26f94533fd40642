"""Figures on a synthetic RehearsalResult (no database): structure, titles, units, statement bands, colours."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from common.errors import BadInput
from rehearse import analysis
from rehearse.measure.config import RehearsalConfig
from rehearse.measure.manifest import RunManifest
from rehearse.measure.result import RehearsalResult
from rehearse.present import plots

T0, MIG, APP = 1_700_000_000.0, 4242, [101, 102, 103]
TICK = 0.02  # sampler interval of the synthetic runs, seconds


def statement(index, kind, start, end, tx_end, status="ok", transaction=1, **extra) -> dict:
    """A row of the statements frame (executor.StatementRecord without locks), times in s after T0."""
    at = lambda s: None if s is None else T0 + s
    return dict(
        index=index,
        sql=f"-- {kind}",
        kind=kind,
        transaction=transaction,
        source="up.sql",
        line=index,
        status=status,
        start=at(start),
        end=at(end),
        tx_end=at(tx_end),
        tx_outcome="commit",
        rows=None,
        sqlstate=extra.get("sqlstate"),
        error=extra.get("error"),
        rewritten=[],
        scanned=[],
        size_delta_bytes=0,
        dead_tuples=0,
        wal_bytes=0,
    )


def synthetic(
    mode="AccessExclusiveLock", blocked=True, cpu=True, failed=False, wait=0.0, statements=None, migration="risky"
) -> RehearsalResult:
    """Traffic 0–6 s at 100 tx/s. BEGIN; #2 takes `mode` on orders at 2 s (after waiting `wait` s for it);
    #3 UPDATE runs to 4 s; COMMIT at 4 s. The app (pid 101) waits on the migration 2–4 s when `blocked`.
    `failed` adds #6, failing with no end recorded."""
    stmts = statements or [
        statement(1, "BEGIN", 1.99, 1.99, 4.0),
        statement(2, "ALTER TABLE", 2.0, 2.01 + wait, 4.0),
        statement(3, "UPDATE", 2.01 + wait, 4.0, 4.0),
        statement(4, "COMMIT", 4.0, 4.0, 4.0),
    ]
    if failed:
        stmts = stmts + [
            statement(
                6,
                "ALTER TABLE",
                4.1,
                None,
                None,
                status="failed",
                transaction=2,
                sqlstate="23503",
                error="violates foreign key",
            )
        ]
    held = pd.DataFrame(
        [
            dict(index=2, relation="public.orders", relkind="r", mode=mode),
            dict(index=3, relation="public.orders_pkey", relkind="i", mode="RowExclusiveLock"),
        ]
    )
    ticks = T0 + np.arange(0, 6, TICK)
    blocked_now = (ticks >= T0 + 2.0) & (ticks < T0 + 4.0) & blocked
    activity = pd.DataFrame(
        dict(
            t=np.repeat(ticks, 2),
            pid=np.tile([APP[0], MIG], len(ticks)),
            blocked_by=[[MIG] if b and pid == APP[0] else [] for b in blocked_now for pid in (APP[0], MIG)],
            wait_event_type=["Lock" if b and pid == APP[0] else "" for b in blocked_now for pid in (APP[0], MIG)],
        )
    )
    app_waits = pd.DataFrame(
        dict(
            t=ticks[blocked_now],
            pid=APP[0],
            relation="public.orders",
            relkind="r",
            mode="RowExclusiveLock",
            granted=False,
        )
    )
    own_waits = pd.DataFrame(
        dict(
            t=T0 + 2.0 + np.arange(0, wait, TICK),
            pid=MIG,
            relation="public.orders",
            relkind="r",
            mode=mode,
            granted=False,
        )
    )
    locks = pd.concat([app_waits, own_waits], ignore_index=True).assign(locktype="relation")
    frames = dict(
        statements=pd.DataFrame(stmts),
        statement_locks=held,
        workload=_workload(),
        locks=locks,
        activity=activity,
        load=_load(cpu),
        progress=pd.DataFrame(),
    )
    manifest = RunManifest(
        run_id="synthetic",
        migration=migration,
        sources=[f"migrations/04_x/{migration}/up.sql"],
        t0=T0,
        migration_start=T0 + 1.99,
        migration_end=T0 + (5.1 if failed else 4.0),
        migration_pid=MIG,
        app_pids=APP,
        config=RehearsalConfig(rate=100, sample_interval=TICK),
    )
    return RehearsalResult(run_id="synthetic", manifest=manifest, frames=frames)


def _workload() -> pd.DataFrame:
    """600 transactions due every 10 ms; those due while orders is locked wait until 4 s; every 97th fails."""
    seq = np.arange(600)
    intended = T0 + seq / 100
    latency = np.where((intended >= T0 + 2) & (intended < T0 + 4), (T0 + 4 - intended) * 1000 + 2, 2.0)
    ok = seq % 97 != 0
    return pd.DataFrame(
        dict(
            seq=seq,
            kind="read_order",
            intended_start=intended,
            actual_start=intended,
            end=intended + latency / 1000,
            latency_ms=latency,
            service_ms=latency,
            client=seq % 3,
            pid=APP[0],
            ok=ok,
            sqlstate=np.where(ok, None, "57014"),
            error=np.where(ok, None, "canceling statement"),
        )
    )


def _load(cpu: bool) -> pd.DataFrame:
    t = T0 + np.arange(0, 6, 0.1)
    n = np.arange(len(t))
    return pd.DataFrame(
        dict(
            t=t,
            cpu_t=t,
            cpu_percent=np.full(len(t), 80.0 if cpu else np.nan),
            wal_bytes=n * 1e5,
            tup_inserted=n * 10,
            tup_updated=n * 100,
            tup_deleted=0,
            blks_read=n,
            blks_hit=n * 50,
        )
    )


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def labels(fig) -> str:
    return " ".join(ax.get_xlabel() + " " + ax.get_ylabel() for ax in fig.axes)


def bands(ax) -> list:
    """The statement bands: axvspan rectangles spanning the whole height."""
    return [p for p in ax.patches if p.get_height() == 1 and p.get_alpha() in (0.10, 0.16)]


def check_common(fig, n_axes: int) -> None:
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_axes
    assert "04_x/risky" in fig.get_suptitle()
    assert "seconds since traffic start" in fig.axes[-1].get_xlabel()
    for ax in fig.axes:  # every time axis: a band per executed statement (not BEGIN/COMMIT), #2 and #3 labelled
        assert len(bands(ax)) >= 2
        assert {"#2", "#3"} >= {t.get_text() for t in ax.texts if t.get_text().startswith("#")} >= {"#3"}
        assert not any(t.get_text() in ("#1", "#4") for t in ax.texts)
    fig.canvas.draw()  # lays out and renders without error


def test_lock_timeline():
    fig = plots.lock_timeline(synthetic())
    check_common(fig, 2)
    assert "app backends\nblocked (count)" in labels(fig)
    assert to_hex(fig.axes[0].collections[0].get_facecolor()[0]) == plots.BLOCKS_BOTH  # AccessExclusive: red
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert rows[0] == "orders · AccessExclusiveLock (#2)"
    legend = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts()).replace("\n", " ")
    assert "blocks reads and writes" in legend and "blocks writes (reads go on)" in legend


def test_lock_timeline_zooms_on_the_migration_unless_asked():
    zoomed = plots.lock_timeline(synthetic()).axes[0].get_xlim()
    whole = plots.lock_timeline(synthetic(), whole_run=True).axes[0].get_xlim()
    assert whole[0] < 0.1 and whole[1] > 5.9
    assert zoomed[0] > 1 and zoomed[1] < 5


def test_migration_lock_wait_is_hatched():
    fig = plots.lock_timeline(synthetic(wait=0.5))
    hatched = [c for c in fig.axes[0].collections if c.get_hatch()]
    assert hatched and to_hex(hatched[0].get_edgecolor()[0]) == plots.BLOCKS_BOTH
    assert plots.WAITING in " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts()).replace("\n", " ")


def test_lock_colours_by_class():
    assert plots.lock_colour("AccessExclusiveLock") == plots.BLOCKS_BOTH
    assert plots.lock_colour("ExclusiveLock") == plots.BLOCKS_WRITES  # RowShare (SELECT FOR UPDATE) waits, reads don't
    assert plots.lock_colour("ShareLock") == plots.BLOCKS_WRITES
    assert plots.lock_colour("ShareUpdateExclusiveLock") == plots.BLOCKS_NEITHER
    assert plots.lock_colour("RowExclusiveLock") == plots.BLOCKS_NEITHER
    fig = plots.lock_timeline(synthetic(mode="ShareUpdateExclusiveLock", blocked=False))
    assert {to_hex(c.get_facecolor()[0]) for c in fig.axes[0].collections} == {plots.BLOCKS_NEITHER}


def test_latency():
    fig = plots.latency(synthetic())
    check_common(fig, 2)
    assert fig.axes[0].get_yscale() == "log"
    assert "latency (ms" in labels(fig) and "transactions/s" in labels(fig)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "transaction (error)" in legend and any(text.startswith("p99 per") for text in legend)


def test_load():
    fig = plots.load(synthetic())
    check_common(fig, 4)
    assert "CPU\n(% of one core)" in labels(fig) and "WAL (MB/s)" in labels(fig) and "rows/s" in labels(fig)


def test_load_without_cpu_leaves_the_panel_out_and_says_so():
    fig = plots.load(synthetic(cpu=False))
    check_common(fig, 3)
    assert "% of one core" not in labels(fig)
    assert any(t.startswith("not measured: CPU") for t in texts(fig))


def test_overview():
    fig = plots.overview(synthetic())
    check_common(fig, 4)
    assert all(ax.get_xlim() == fig.axes[0].get_xlim() for ax in fig.axes)
    assert "AccessExclusiveLock (#2)" in texts(fig)  # named inside its bar


def test_no_blocking_no_cpu_and_a_failed_statement_without_end():
    result = synthetic(blocked=False, cpu=False, failed=True)
    for make in (plots.lock_timeline, plots.latency, plots.load, plots.overview):
        fig = make(result)
        fig.canvas.draw()
        assert "#6" in texts(fig)  # the failed statement has its band and label
    assert "no application backend was blocked by the migration" in texts(plots.lock_timeline(result))
    assert any(t.startswith("not measured: CPU") for t in texts(plots.overview(result)))


def test_many_tiny_statements_get_few_labels():
    many = [
        statement(
            i, "UPDATE", 2 + i * 0.02, 2 + i * 0.02 + (0.5 if i == 50 else 0.0005), 2 + i * 0.02 + 0.5, transaction=0
        )
        for i in range(1, 101)
    ]
    fig = plots.latency(synthetic(statements=many))
    shown = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("#")]
    assert shown == ["#50"]  # the others are under a pixel wide
    wide = [statement(i, "UPDATE", i * 0.05, i * 0.05 + 0.04, i * 0.05 + 0.04, transaction=0) for i in range(1, 101)]
    fig = plots.latency(synthetic(statements=wide))
    assert 1 <= len([t for t in fig.axes[0].texts if t.get_text().startswith("#")]) <= 12


def test_compare():
    results = {
        "risky": synthetic(),
        "safer": synthetic(mode="ShareUpdateExclusiveLock", blocked=False, migration="safer"),
    }
    for metric in ("latency", "blocked"):
        fig = plots.compare(results, metric=metric)
        assert len(fig.axes) == 2 + len(plots.key_numbers(results["risky"]))
        assert "risky vs safer" in fig.get_suptitle()
        assert "seconds since migration start" in labels(fig)
        assert "#3" in texts(fig)
        fig.canvas.draw()
    numbers = {label: plots.key_numbers(r) for label, r in results.items()}
    assert numbers["safer"]["app transactions blocked (count)"] == 0
    assert numbers["risky"]["longest lock blocking writes (s)"] == pytest.approx(2.0, abs=0.05)
    assert numbers["safer"]["longest lock blocking writes (s)"] == 0
    with pytest.raises(BadInput, match="unknown metric"):
        plots.compare(results, metric="nope")


def test_latency_groups_many_kinds_into_the_top_ones_and_other():
    result = synthetic()
    result.workload["kind"] = [f"SELECT t{i % 10}·{i % 10:06x}" for i in range(len(result.workload))]
    result.workload.loc[result.workload.index < 300, "kind"] = "SELECT orders·01ca17"  # the most frequent
    fig = plots.latency(result)
    legend = [t.get_text().replace("\n", "") for t in fig.axes[0].get_legend().get_texts()]
    kinds = [text for text in legend if text.endswith("(ok)")]
    assert len(kinds) == analysis.TOP_KINDS + 1 and kinds[0] == "SELECT orders·01ca17 (ok)"
    assert kinds[-1] == "other (ok)"
    table = analysis.latency_by_kind(result)
    assert list(dict.fromkeys(table["kind"])) == analysis.kinds.group_order(result)
    assert table["transactions"].sum() == len(result.workload) and "other" in set(table["kind"])
    errors = analysis.kinds.errors_by_kind(result)
    assert set(errors["kind"]) <= set(table["kind"]) and errors["count"].sum() == (~result.workload["ok"]).sum()
