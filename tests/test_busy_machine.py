"""A busy machine: each run records its CPU contention; projections from busy rehearsals widen and say why."""

from __future__ import annotations

import os

import pytest

from rehearse.extrapolate import busy, projection
from rehearse.measure import host
from tests.projections import at_ten_times

PSI_TEXT = (
    "some avg10=88.63 avg60=78.25 avg300=70.50 total=9312111715\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
)
P = at_ten_times(hold_low_ms=1100.0, hold_high_ms=2100.0)


def test_the_pressure_stall_total_is_read_in_seconds():
    assert host.stalled_s(PSI_TEXT) == pytest.approx(9312.111715)
    assert host.stalled_s("full avg10=0.00 total=5\n") is None  # no "some" line
    assert host.stalled_s("") is None


def test_a_window_reads_a_share_of_its_time_the_load_and_the_cpus():
    reading = host.Window().read()
    assert reading["cpus"] == os.cpu_count() and reading["load"] >= 0
    assert reading["cpu_pressure"] is None or 0.0 <= reading["cpu_pressure"] <= 1.0


@pytest.mark.parametrize(
    "reading, busy_",
    [
        (dict(cpu_pressure=0.8, load=1.0, cpus=2), True),
        (dict(cpu_pressure=0.1, load=12.0, cpus=2), False),  # the pressure figure wins over the load
        (dict(cpu_pressure=None, load=5.0, cpus=2), True),  # no PSI: the load against the CPUs
        (dict(cpu_pressure=None, load=3.0, cpus=2), False),
        (None, False),  # a remote server, or a run saved before the reading existed
    ],
)
def test_busy_is_pressure_where_known_else_load_per_cpu(reading, busy_):
    assert busy.is_busy(reading) is busy_


def test_the_busiest_busy_reading_is_kept():
    quiet, busier, busiest = dict(cpu_pressure=0.1, load=1, cpus=2), dict(cpu_pressure=0.6), dict(cpu_pressure=0.9)
    assert busy.busiest([quiet, busiest, None, busier]) is busiest
    assert busy.busiest([quiet, None]) is None


def test_a_busy_projection_is_widened_both_ways_and_says_so_without_a_spread_warning():
    quiet = {**P, **busy.fields(None)}
    assert projection.warning(quiet) is None and not busy.widened(quiet)
    loaded = {**P, **busy.fields(dict(cpu_pressure=0.88, load=12.4, cpus=2))}
    loaded |= busy.widen(loaded)
    assert loaded["high_ms"] == pytest.approx(2000.0 * busy.BUSY_FACTOR)
    assert loaded["hold_low_ms"] == pytest.approx(1100.0 / busy.BUSY_FACTOR)
    text = projection.warning(loaded)
    assert "busy during the rehearsals (CPU pressure 88%, load 12.4 on 2 CPUs)" in text
    assert "do not follow one curve" not in text  # the widening itself is not the rehearsals disagreeing
