"""The sort cliff: an index build whose sort outgrows maintenance_work_mem between the rehearsals and production."""

from __future__ import annotations

import psycopg
import pytest

from rehearse.extrapolate import projection, sort
from tests.projections import at_ten_times

MB = 2**20


@pytest.mark.parametrize(
    "sql, found",
    [
        ("CREATE INDEX i ON orders (order_status);", ("orders", ["order_status"])),
        (
            "CREATE UNIQUE INDEX CONCURRENTLY i ON public.orders (customer_id, id)",
            ("public.orders", ["customer_id", "id"]),
        ),
        ("CREATE INDEX i ON orders (lower(order_status))", ("orders", [None])),
        ("ALTER TABLE payments ADD PRIMARY KEY (id)", ("payments", ["id"])),
        ("ALTER TABLE customers ADD CONSTRAINT u UNIQUE (email)", ("customers", ["email"])),
        ("ALTER TABLE customers ADD CONSTRAINT u UNIQUE USING INDEX i", None),  # builds nothing
        ("CREATE INDEX i ON orders USING gin (tags)", None),  # not a btree sort
        ("ALTER TABLE orders ADD COLUMN note text", None),
        ("not sql at all", None),
    ],
)
def test_index_builds_are_recognised_with_their_keys(sql, found):
    assert sort.index_build(sql) == found


def test_memory_per_row_is_the_aligned_index_tuple_and_its_sort_slot():
    assert sort.bytes_per_row([8]) == 16 + sort.SORT_SLOT  # 8-byte header + 8-byte key
    assert sort.bytes_per_row([33]) == 48 + sort.SORT_SLOT  # 41 bytes, MAXALIGNed
    assert sort.bytes_per_row([None]) == sort.bytes_per_row([sort.UNKNOWN_WIDTH])


def test_crossing_is_detected_only_between_the_largest_rehearsal_and_production():
    per_row, memory = 48, 480 * MB  # spills past 10,485,760 rows
    assert sort.spills_at(per_row, memory, 1_000_000, 100_000_000) == 10_485_760
    assert sort.spills_at(per_row, memory, 1_000_000, 10_000_000) is None  # production still fits
    assert sort.spills_at(per_row, memory, 20_000_000, 100_000_000) is None  # the rehearsals measured the spill
    assert sort.spills_at(per_row, None, 1_000_000, 100_000_000) is None  # setting unknown
    assert sort.spills_at(None, memory, 1_000_000, 100_000_000) is None  # not an index build


def test_a_crossing_widens_the_high_end_and_names_the_factor():
    p = dict(high_ms=1000.0, hold_high_ms=1200.0)
    assert sort.widen(p) == dict(high_ms=1000.0 * sort.SPILL_FACTOR, hold_high_ms=1200.0 * sort.SPILL_FACTOR)
    base = at_ten_times(rows=10**8, low_ms=900.0, high_ms=1000.0)
    assert projection.warning(base) is None
    text = projection.warning({**base, "sort_spills_at_rows": 10_485_760})
    assert f"index build sort spills past maintenance_work_mem at ~10,485,760 rows: ×{sort.SPILL_FACTOR:.1f}" in text


def test_key_widths_come_from_the_tables_statistics(server, empty_db):
    with psycopg.connect(server.url(empty_db), autocommit=True) as conn:
        conn.execute("CREATE TABLE t AS SELECT i::bigint AS b, md5(i::text) AS m FROM generate_series(1, 1000) i")
        conn.execute("CREATE TABLE never_analysed (b bigint)")
        conn.execute("ANALYZE t")
        assert sort.key_widths(conn, "t", ["b", "m", None]) == [8, 33, None]
        assert sort.key_widths(conn, "public.never_analysed", ["b"]) == [None]
