"""Plans at production size: the inner query a statement runs, its plan with statistics scaled to production
rows on a clone of the tiny template, and what a plan change or the cache cliff does to the projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import datagen
from rehearse.extrapolate import cache, plans
from rehearse.extrapolate.inner import Lookup, inner_query
from rehearse.extrapolate.projection import with_plan
from rehearse.sql import migration as migration_mod

FK = "ALTER TABLE order_items ADD CONSTRAINT f FOREIGN KEY (order_id) REFERENCES orders (order_id)"


# -- the inner query, built from the statement ----------------------------------------------------------


def test_a_foreign_key_validates_with_the_anti_join_ri_triggers_runs():
    inner = inner_query(FK)
    assert inner.what == "foreign-key validation" and inner.table == "order_items" and inner.reads_only
    assert inner.sql == (
        'SELECT fk."order_id" FROM ONLY order_items fk LEFT JOIN ONLY orders pk ON pk."order_id" = fk."order_id" '
        'WHERE pk."order_id" IS NULL AND (fk."order_id" IS NOT NULL)'
    )
    assert any("maintenance_work_mem" in s for s in inner.settings)


def test_implicit_key_columns_and_validate_constraint_come_from_the_catalogue():
    lookup = Lookup(lambda table: ["order_id"], lambda table, name: f"CONSTRAINT {name} CHECK ((quantity > 0))")
    implicit = inner_query("ALTER TABLE s.order_items ADD FOREIGN KEY (order_id) REFERENCES s.orders", lookup)
    assert 'LEFT JOIN ONLY s.orders pk ON pk."order_id" = fk."order_id"' in implicit.sql
    validate = inner_query("ALTER TABLE order_items VALIDATE CONSTRAINT q", lookup)
    assert (validate.what, validate.sql) == (
        "check validation",
        "SELECT FROM ONLY order_items WHERE NOT (quantity > 0)",
    )


@pytest.mark.parametrize(
    "sql, what",
    [
        ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0 AND b IS NOT NULL)", "check validation"),
        ("UPDATE orders SET order_status = 'x' WHERE order_id < 10", "UPDATE"),
        ("DELETE FROM orders", "DELETE"),
        (FK + " NOT VALID", None),  # validated later, by VALIDATE CONSTRAINT
        ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", None),
        ("CREATE INDEX i ON orders (created_at)", None),
        ("ALTER TABLE t VALIDATE CONSTRAINT c", None),  # no catalogue to ask
        ("not sql at all", None),
    ],
)
def test_which_statements_have_an_inner_query(sql, what):
    inner = inner_query(sql)
    assert (inner.what if inner else None) == what
    if what == "check validation":
        assert inner.sql == "SELECT FROM ONLY t WHERE NOT (a > 0 AND b IS NOT NULL)"


# -- the plan at production size, on the tiny template ----------------------------------------------------


@pytest.fixture(scope="module")
def tiny(server):
    return datagen.build(scale=0.01, progress=False)


def _statements(tmp_path, sql: str):
    path = tmp_path / "m.sql"
    path.write_text(sql)
    return migration_mod.load(str(path)).statements


def _rows(dataset, factor: float) -> dict:
    return {f"public.{t}": (n, round(n * factor)) for t, n in dataset.manifest["rows"].items()}


def test_the_fk_check_changes_plan_at_production_size_and_both_plans_are_timed(server, tiny, tmp_path):
    statements = _statements(tmp_path, FK + " NOT VALID;\nALTER TABLE order_items VALIDATE CONSTRAINT f;\n")
    rows = _rows(tiny, 100)  # SF 1: PostgreSQL plans a merge anti join there, a hash anti join at SF 0.01
    found = plans.check(server, tiny.name, statements, {2: "public.order_items"}, {2}, rows)
    check = found[2]
    assert check.what == "foreign-key validation" and check.changes
    assert plans.headline(check.rehearsed) == "Hash Anti Join"
    assert plans.headline(check.production) == "Merge Anti Join"
    rehearsed_rows, production_rows = rows["public.order_items"]
    assert rehearsed_rows < check.changes_at_rows <= production_rows
    assert check.time_ratio > 0
    assert "plan changes at ~" in check.warning() and "Merge Anti Join" in check.warning()


def test_same_size_same_plan_and_earlier_catalogue_statements_are_replayed(server, tiny, tmp_path):
    sql = "ALTER TABLE orders ADD COLUMN v2 text;\nUPDATE orders SET v2 = order_status;\n"
    found = plans.check(server, tiny.name, _statements(tmp_path, sql), {2: "public.orders"}, {2}, _rows(tiny, 1))
    check = found[2]  # the UPDATE names v2: ADD COLUMN ran before it, in the rolled-back transaction
    assert check.rehearsed == check.production == ("Update", "Seq Scan")
    assert not check.changes and check.warning() is None


# -- what a plan change and the cache cliff do to the numbers ---------------------------------------------


def test_a_timed_plan_change_scales_the_projection_and_its_interval_spans_both_plans():
    check = plans.PlanCheck("foreign-key validation", ("Hash Anti Join",), ("Merge Anti Join",), 5_000_000, 0.5)
    p = dict(duration_ms=1000.0, low_ms=800.0, high_ms=1500.0, hold_ms=1100.0, hold_low_ms=900.0, hold_high_ms=1600.0)
    out = with_plan(p, check)
    assert (out["duration_ms"], out["low_ms"], out["high_ms"]) == (500.0, 400.0, 1500.0)
    assert (out["hold_ms"], out["hold_low_ms"], out["hold_high_ms"]) == (550.0, 450.0, 1600.0)
    same = plans.PlanCheck("UPDATE", ("Update", "Seq Scan"), ("Update", "Seq Scan"))
    assert "duration_ms" not in with_plan(p, same)


def test_past_the_cache_cliff_the_fit_uses_only_the_scales_beyond_it():
    rows = np.array([1e5, 3e5, 1e6, 3e6])  # 100 bytes a row, cliff at 200 MB / 4 = 50 MB: the last two past it
    below, past = 0.01 * rows[:2], 0.02 * rows[2:]  # per-row cost doubles past the cliff
    group = pd.DataFrame(
        dict(
            rows=rows,
            duration_ms=np.r_[below, past],
            lock_hold_ms=np.r_[below, past],
            reads_all=True,
            hold_reads_all=True,
        )
    ).assign(table="public.orders")
    assert cache.crosses(100 * 3e5, 100 * 1e7, 200e6)
    fits = cache.fits_past(group, 100.0, int(200e6))
    assert fits["duration"].predict(1e7) == pytest.approx(0.02 * 1e7, rel=0.05)
    assert cache.fits_past(group.iloc[:3], 100.0, int(200e6)) is None  # one scale past the cliff: not enough
    assert cache.widen(dict(high_ms=10.0, hold_high_ms=20.0)) == dict(
        high_ms=10.0 * cache.CLIFF_FACTOR, hold_high_ms=20.0 * cache.CLIFF_FACTOR
    )


def test_a_statement_that_failed_at_the_largest_scale_is_still_plan_checked_there(monkeypatch):
    """The FK validation deadlocked with the traffic at SF 0.1 (no point there): its plan is still checked on
    SF 0.1's template, where it will run at production size."""
    from types import SimpleNamespace

    points = pd.DataFrame(
        dict(
            index=[1, 1, 2, 2, 2],
            scale=[0.01, 0.03, 0.01, 0.03, 0.1],
            table=["public.order_items"] * 2 + ["public.orders"] * 3,
            reads_all=[True, True, False, False, False],
            writes_all=[False] * 5,
        )
    )
    manifest = SimpleNamespace(scale=0.1, dataset="tpl", table_rows={"order_items": 100, "orders": 10})
    scaled = SimpleNamespace(
        points=points,
        largest=SimpleNamespace(manifest=manifest),
        production=SimpleNamespace(rows={"public.order_items": 1000, "public.orders": 100}),
    )
    asked = {}
    monkeypatch.setattr(plans, "check", lambda server, dataset, statements, wanted, heavy, rows: asked.update(wanted))
    plans.for_scaled(scaled, [], server=None)
    assert asked == {1: "public.order_items"}, "the failed-at-SF-0.1 FK check is asked; the light statement is not"
