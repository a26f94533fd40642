"""Round trip: profile the built-in order service, build its twin from the profile alone, and rehearse the
incident migrations on both: the same locks, rewrites and schema failures; every column's null fraction
and distinct count, and every table's bytes per row, close to the original's."""

from __future__ import annotations

import pytest

import datagen
from datagen.profile import from_server
from rehearse.analysis.summary import summary
from rehearse.measure.runner import run

SCALE, SEED = 0.01, 42
QUIET = dict(rate=0, warmup=0.2, cooldown=0.2)
INCIDENTS = (
    "01_type_change_transaction_id/risky",  # text → bigint: the twin's ids are digit strings too
    "02_foreign_key_on_inconsistent_data/risky",  # the twin draws order_items.order_id from the orders (inferred)
    "03_incompatible_change_under_traffic/risky",
    "05_script_fails_halfway/transactional",
)


@pytest.fixture(scope="module")
def twin(server, tmp_path_factory):
    dataset = datagen.build(scale=SCALE, seed=SEED, server=server, progress=False)
    with server.connect(dataset.name) as conn:  # settled, as autovacuum leaves production (see the bench)
        conn.execute("VACUUM (ANALYZE)")
    profile = from_server(server.url(dataset.name), warn=lambda message: None)
    path = profile.write(tmp_path_factory.mktemp("roundtrip") / "profile.json")
    return str(path), datagen.build_twin(profile, 1.0, SEED, server, progress=False)


def _shape(result) -> list[tuple]:
    """Per statement: status, SQLSTATE, strongest lock, tables and indexes rewritten, every lock taken."""
    return [
        (
            st["status"],
            (st["error"] or {}).get("sqlstate"),
            st["strongest_lock"],
            sorted(st["rewritten"]),
            sorted((lock["relation"], lock["mode"]) for lock in st["locks"]),
        )
        for st in summary(result)["statements"]
    ]


@pytest.mark.parametrize("incident", INCIDENTS)
def test_the_twin_rehearses_like_the_original(twin, incident):
    path = f"migrations/{incident}"
    original = run(path, scale=SCALE, seed=SEED, **QUIET)
    copy = run(path, profile=twin[0], scale=1.0, seed=SEED, **QUIET)
    assert _shape(copy) == _shape(original)


def test_the_profile_infers_the_undeclared_order_reference(twin):
    found = {(r["table"], r["column"], r["parent_table"]) for r in twin[1].manifest["inferred_references"]}
    assert ("public.order_items", "order_id", "public.orders") in found


def test_the_twin_keeps_the_statistics(twin):
    fidelity = twin[1].manifest["fidelity"]
    columns = [c for table in fidelity.values() for c in table["columns"].values()]
    assert columns and all(c["null_frac_error"] <= 0.01 for c in columns)
    ratios = [c["distinct_ratio"] for c in columns if c["distinct_ratio"] is not None]
    assert ratios and all(1 / 1.25 <= ratio <= 1.25 for ratio in ratios), ratios
    for table, found in fidelity.items():
        sizes = found["bytes_per_row"]
        assert abs(sizes["twin"] / sizes["profile"] - 1) <= 0.10, table
