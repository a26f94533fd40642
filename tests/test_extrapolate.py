"""Extrapolation: model choice and intervals on synthetic points, production sizes, one run over three scales."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import psycopg
import pytest

import datagen
from common.errors import BadInput
from rehearse.cli import main
from rehearse.extrapolate import busy, sort
from rehearse.extrapolate import fit as _fit
from rehearse.extrapolate import production as prod
from rehearse.extrapolate import scales as extrapolate
from rehearse.measure.result import load
from rehearse.present.plots import extrapolation as extrapolation_plot
from tests.projections import at_ten_times

N = np.array([2e4, 4e4, 8e4, 1.6e5])
TINY = dict(warmup=0.3, cooldown=0.3, rate=50, clients=4)
SCALES = (0.002, 0.004, 0.008)


# -- fitting on synthetic points --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model, truth",
    [
        ("linear", lambda n: 3.0 + 0.02 * n),
        ("constant", lambda n: np.full_like(n, 7.5)),
        ("nlogn", lambda n: 1e-3 * n * np.log(n)),
    ],
)
def test_exact_points_choose_their_model_and_predict_it(model, truth):
    fit = _fit.fit(N, truth(N))
    assert fit.model == model
    assert fit.predict(1e7) == pytest.approx(truth(np.array([1e7]))[0], rel=1e-6)
    low, high = fit.interval(1e7)
    assert low < fit.predict(1e7) < high


@pytest.mark.parametrize("truth", [lambda n: 50 + 0.01 * n, lambda n: 1e-3 * n * np.log(n)], ids=["linear", "nlogn"])
def test_the_interval_contains_the_truth_on_noisy_data(truth):
    rng, inside = np.random.default_rng(1), 0
    for _ in range(200):
        fit = _fit.fit(N, truth(N) * np.exp(rng.normal(0, 0.1, len(N))))  # 10 % multiplicative noise
        low, high = fit.interval(2e6)
        inside += low <= truth(2e6) <= high
    assert inside / 200 >= 0.85  # a 90 % interval: it must cover n log n even when linear is chosen


def test_a_preferred_model_wins_only_where_the_scales_cannot_tell():
    # n log n truth over three scales ×3 apart, the smallest 10 % slow: linear fits nearly as well and, simpler, wins
    rows = np.array([1e5, 3e5, 1e6])
    y = 1e-3 * rows * np.log(rows) * np.array([1.1, 1.0, 1.0])
    plain, preferred = _fit.fit(rows, y, ("linear", "nlogn")), _fit.fit(rows, y, ("linear", "nlogn"), "nlogn")
    assert plain.model == "linear" and preferred.model == "nlogn"
    assert [a.model for a in preferred.alternatives] == ["linear"]  # the interval still spans linear
    assert preferred.predict(1e7) > plain.predict(1e7)
    # exactly linear points: n log n is not close, so the preference does not overrule the data
    assert _fit.fit(rows, 3.0 + 0.02 * rows, ("linear", "nlogn"), "nlogn").model == "linear"


def test_zero_times_fit_a_zero_constant():
    fit = _fit.fit(N, np.zeros(len(N)))
    assert (fit.model, fit.predict(1e9), *fit.interval(1e9)) == ("constant", 0.0, 0.0, 0.0)


# -- inputs ---------------------------------------------------------------------------------------------


def test_production_rows_parse():
    assert prod.parse_production_rows("orders=250000000,public.order_items=6e8, payments=1_000") == {
        "public.orders": 250_000_000,
        "public.order_items": 600_000_000,
        "public.payments": 1000,
    }


@pytest.mark.parametrize("text", ["orders", "orders=", "orders=lots", "=5", "orders=0", "orders=1.5", "a=1;b=2"])
def test_bad_production_rows_name_the_format(text):
    with pytest.raises(BadInput, match="expected TABLE=ROWS"):
        prod.parse_production_rows(text)


def test_two_scales_are_refused_with_the_reason():
    with pytest.raises(BadInput, match="at least 3 different scales.*exactly"):
        extrapolate.parse_scales("0.01,0.1")
    assert extrapolate.parse_scales("0.1,0.01,0.03") == (0.01, 0.03, 0.1)


# -- production DSN: read-only ----------------------------------------------------------------------------


def test_production_dsn_reads_row_counts_through_a_read_only_session(server):
    dataset = datagen.build(scale=SCALES[0], progress=False)
    url = server.url(dataset.name)
    found = prod.read_catalogue(url, ["public.orders", "public.order_items", "public.no_such_table"])
    assert set(found) == {"public.orders", "public.order_items"}
    assert found["public.orders"][0] == pytest.approx(dataset.manifest["rows"]["orders"], rel=0.02)
    assert prod.shared_buffers(url) >= 128 * 1024  # read through the same read-only session
    with prod.connect_read_only(url) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE public.written_by_extrapolate (x int)")


# -- end to end -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def backfill(tmp_path_factory):
    path = tmp_path_factory.mktemp("migration") / "backfill.sql"
    path.write_text("SELECT 1;\nUPDATE orders SET updated_at = updated_at + interval '1 second';\n")
    return path


@pytest.fixture(scope="module")
def scaled(backfill):
    return extrapolate.run_scales(backfill, SCALES, **TINY)


def test_run_scales_fits_and_projects_to_sf1(scaled):
    assert [r.manifest.scale for r in scaled.results] == list(SCALES)
    assert set(scaled.fits["metric"]) == {"duration", "lock_hold"}
    assert set(scaled.fits["model"]) <= set(_fit.MODELS) and set(scaled.fits["table"].dropna()) == {"public.orders"}
    assert scaled.projection(1)["table"] is None and scaled.projection(1)["model"] == "constant"  # SELECT 1
    # the UPDATE writes every row, so each row version goes into the btrees: it prefers n log n; SELECT 1 not
    assert scaled.points.groupby("index")["btree"].all().to_dict() == {1: False, 2: True}
    p = scaled.projection(2)
    assert p["table"] == "public.orders" and p["rows"] == 10_000_000 and p["rows_source"] == "SF 1"
    assert p["low_ms"] <= p["duration_ms"] <= p["high_ms"] and p["hold_low_ms"] <= p["hold_ms"] <= p["hold_high_ms"]
    assert p["extrapolation_factor"] == pytest.approx(125, rel=0.01) and "far beyond" in p["warning"]
    # 125× the largest rehearsal's rows: more than that rehearsal took (its hold, sampled on a shared machine,
    # is noisier than its duration, so the hold is held to the largest scale's own figure)
    largest = scaled.points[(scaled.points["index"] == 2) & (scaled.points["scale"] == max(SCALES))].iloc[0]
    assert p["duration_ms"] > scaled.points["duration_ms"].max() and p["hold_ms"] > largest["lock_hold_ms"]
    saved = load(scaled.run_id).projected()[2]  # a folder of its own, where the verdict and report read it
    assert saved["rows"] == 10_000_000 and saved["model"] == p["model"]
    assert load(scaled.largest.run_id).projection is None  # the run's own folder is left as it was written


def test_projection_grows_with_rows_and_warns_only_far_out(scaled):
    near = prod.resolve_production(scaled.largest, {"public.orders": 200_000}, origin="--production-rows")
    far = prod.resolve_production(scaled.largest, {"public.orders": 100_000_000}, origin="--production-rows")
    p_near = extrapolate.ScaledRehearsal.from_results(scaled.results, near).projection(2)
    p_far = extrapolate.ScaledRehearsal.from_results(scaled.results, far).projection(2)
    assert "far beyond" not in (p_near["warning"] or "") and "far beyond" in p_far["warning"]
    assert p_near["duration_ms"] < scaled.projection(2)["duration_ms"] < p_far["duration_ms"]


def test_rehearsals_that_disagree_are_flagged():
    p = at_ten_times()
    assert extrapolate._warning(p) is None
    assert "do not follow one curve" in extrapolate._warning({**p, "high_ms": 9000.0})
    cached = {**p, "rehearsed_bytes": 170 * 2**20, "bytes": 1700 * 2**20}
    assert "outgrows the buffer cache" in extrapolate._warning(cached, buffers=2 * 2**30)
    assert extrapolate._warning(cached, buffers=16 * 2**30) is None


def test_an_index_build_sorting_past_maintenance_work_mem_in_production_widens_its_interval(scaled, server):
    assert scaled.production.maintenance_work_mem >= 1024 * 1024  # read from the server with shared_buffers
    build = SimpleNamespace(index=2, sql="CREATE INDEX i ON orders (order_status)")  # its key's width, on a clone
    sorts = sort.for_scaled(scaled, [build], server)
    assert sort.bytes_per_row([1]) <= sorts[2] <= sort.bytes_per_row([24])

    def projected(memory: int) -> dict:
        again = extrapolate.ScaledRehearsal.from_results(
            scaled.results, replace(scaled.production, maintenance_work_mem=memory)
        )
        again.sorts = sorts
        return again.projection(2)

    fits, spills = projected(2**40), projected(16 * 2**20)  # 80,000 rows rehearsed, 10 M in production
    assert fits["sort_spills_at_rows"] is None and "maintenance_work_mem" not in (fits["warning"] or "")
    assert spills["sort_spills_at_rows"] == 16 * 2**20 // sorts[2]
    assert spills["high_ms"] == pytest.approx(fits["high_ms"] * sort.SPILL_FACTOR)
    assert spills["hold_high_ms"] == pytest.approx(fits["hold_high_ms"] * sort.SPILL_FACTOR)
    assert spills["duration_ms"] == fits["duration_ms"] and "index build sort spills" in spills["warning"]


def test_rehearsals_on_a_busy_machine_widen_the_projection(scaled):
    assert all(r.manifest.host_cpu["cpus"] == os.cpu_count() for r in scaled.results)  # recorded by each run

    def projected(pressure: float) -> dict:
        hosts = [replace(r.manifest, host_cpu=dict(cpu_pressure=pressure, load=1.0, cpus=2)) for r in scaled.results]
        results = [replace(r, manifest=m) for r, m in zip(scaled.results, hosts)]
        return extrapolate.ScaledRehearsal.from_results(results, scaled.production).projection(2)

    quiet, loaded = projected(0.0), projected(0.9)
    assert quiet["busy_load"] is None and "busy" not in (quiet["warning"] or "")
    assert loaded["duration_ms"] == quiet["duration_ms"] and loaded["busy_pressure"] == 0.9
    assert loaded["high_ms"] == pytest.approx(quiet["high_ms"] * busy.BUSY_FACTOR)
    assert loaded["hold_low_ms"] == pytest.approx(quiet["hold_low_ms"] / busy.BUSY_FACTOR)
    assert "machine was busy" in loaded["warning"]


def test_missing_and_unanalysed_tables_in_the_production_catalogue(scaled):
    catalogue = {"public.orders": (-1.0, 10**9)}  # never analysed: rows from its size instead
    production = prod.resolve_production(scaled.largest, catalogue=catalogue, origin="postgresql://prod")
    assert production.source["public.orders"] == "size estimate" and production.rows["public.orders"] > 10**6
    assert "public.order_items" in production.unknown and production.source["public.order_items"] == "SF 1"


def test_summary_json_and_figure(scaled):
    data = scaled.summary()
    assert data["scale"] == SCALES[-1] and data["extrapolation"]["scales"] == list(SCALES)
    assert {"rows", "duration_ms", "low_ms", "high_ms", "model", "hold_ms"} <= set(data["statements"][1]["projection"])
    fig = extrapolation_plot(scaled, 2)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "rows in public.orders" and ax.get_ylabel() == "lock hold (s)"
    assert ax.get_xscale() == "log" and ax.get_title()


def test_cli_scales_writes_the_largest_summary_with_projections(backfill, tmp_path, capsys):
    out = tmp_path / "run.json"
    args = [
        "run",
        str(backfill),
        "--scales",
        ",".join(map(str, SCALES)),
        "--production-rows",
        "orders=5000000",
        "--warmup",
        "0.3",
        "--cooldown",
        "0.3",
        "--rate",
        "50",
        "--no-report",
        "--json",
        str(out),
    ]
    assert main(args) == 0
    data = json.loads(out.read_text())
    p = data["statements"][1]["projection"]
    assert data["scale"] == SCALES[-1] and p["rows"] == 5_000_000 and p["rows_source"] == "given"
    assert "projection to production (--production-rows)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--scales", "0.01,0.1"], "at least 3 different scales"),
        (["--scales", "0.01,0.03,0.1", "--production-rows", "orders:5"], "expected TABLE=ROWS"),
        (["--production-rows", "invoices=5"], "not a dataset table"),  # one scale: judged at this size
    ],
)
def test_cli_bad_extrapolation_flags_fail_in_one_line(backfill, capsys, flags, message):
    assert main(["run", str(backfill), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "sql, models",
    [
        ("ALTER TABLE order_items ADD CONSTRAINT c CHECK (quantity > 0)", ("linear",)),  # one scan, no sort
        ("CREATE INDEX i ON orders (created_at)", ("linear", "nlogn")),  # a sort: n log n competes
        ("UPDATE orders SET order_status = 'x'", ("linear", "nlogn")),
    ],
)
def test_a_check_validation_is_fitted_linear_only(sql, models):
    from rehearse.extrapolate.points import xy

    # rows ×3 per scale, times growing like n log n: a check validation must still be linear
    rows = np.array([1e5, 3e5, 1e6])
    group = pd.DataFrame(
        dict(
            index=1,
            sql=sql,
            table="public.orders",
            rows=rows,
            duration_ms=rows * np.log(rows) / 1e4,
            lock_hold_ms=rows * np.log(rows) / 1e4,
            reads_all=True,
            hold_reads_all=True,
        )
    )
    for metric in ("duration", "lock_hold"):
        assert xy(group, metric)[2] == models


@pytest.mark.parametrize(
    "sql, writes_all, prefer",
    [
        ("ALTER TABLE order_items ADD CONSTRAINT c CHECK (quantity > 0)", False, None),  # reads only
        ("CREATE INDEX CONCURRENTLY i ON orders (created_at)", False, "nlogn"),  # sorts its rows
        ("ALTER TABLE orders ADD PRIMARY KEY (order_id)", False, "nlogn"),  # builds a btree
        ("UPDATE orders SET order_status = 'x'", True, "nlogn"),  # each new row version into every btree
    ],
)
def test_statements_that_sort_or_fill_btrees_prefer_n_log_n(sql, writes_all, prefer):
    from rehearse.extrapolate.points import fills_btrees, xy

    rows = np.array([1e5, 3e5, 1e6])
    btree = fills_btrees(sql, writes_all)  # the CREATE INDEX and ADD PRIMARY KEY are found by their SQL alone
    group = pd.DataFrame(
        dict(sql=sql, table="public.orders", rows=rows, duration_ms=rows / 1e3, lock_hold_ms=rows / 1e3)
    ).assign(reads_all=True, hold_reads_all=True, btree=btree, hold_btree=btree)
    assert [xy(group, metric)[3] for metric in ("duration", "lock_hold")] == [prefer, prefer]
