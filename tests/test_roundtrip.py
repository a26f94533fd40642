"""Round trip: profile the built-in order service, build its twin from the profile alone, and rehearse the
incident migrations on both: the same locks, rewrites and schema failures; the statistics that are stable
at this small scale close to the original's."""

from __future__ import annotations

import pytest

import datagen
from datagen.profile import from_server
from rehearse.analysis.summary import summary
from rehearse.measure.runner import run

SCALE, SEED = 0.01, 42
QUIET = dict(rate=0, warmup=0.2, cooldown=0.2)
# Incident 01 fails on the twin (22P02): the twin's text transaction_id values are not numeric strings as
# the profile's histogram says; a finding for the generator, kept visible as a strict xfail.
NOT_YET = pytest.mark.xfail(strict=True, reason="twin's text values do not follow the profile's histogram (22P02)")
INCIDENTS = (
    pytest.param("01_type_change_transaction_id/risky", marks=NOT_YET),
    "03_incompatible_change_under_traffic/risky",
    "05_script_fails_halfway/transactional",
)
STABLE_SIZES = ("public.order_items", "public.billing_events")  # wide text tables differ: see bench


@pytest.fixture(scope="module")
def twin(server, tmp_path_factory):
    dataset = datagen.build(scale=SCALE, seed=SEED, server=server, progress=False)
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


def test_the_twin_keeps_the_statistics(twin):
    fidelity = twin[1].manifest["fidelity"]
    columns = [c for table in fidelity.values() for c in table["columns"].values()]
    assert columns and all(c["null_frac_error"] <= 0.01 for c in columns)
    keys = [
        fidelity[t]["columns"][c]["distinct_ratio"]
        for t, c in (
            ("public.orders", "customer_id"),
            ("public.order_items", "order_id"),
            ("public.orders", "order_status"),
        )
    ]
    assert all(1 / 1.25 <= ratio <= 1.25 for ratio in keys)
    for table in STABLE_SIZES:
        sizes = fidelity[table]["bytes_per_row"]
        assert abs(sizes["twin"] / sizes["profile"] - 1) <= 0.10, table
