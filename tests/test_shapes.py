"""Values in steps and digit-string text: the twin's domain reaches its distinct count where narrow
histogram buckets hold few steps, and numbers written as text stay numbers between their bounds."""

from __future__ import annotations

import numpy as np

from datagen.twin import shapes


def test_digit_strings_stay_digit_strings_between_their_bounds():
    bounds = ["1000258469407", "1079705832419", "1163304926486", "1999999999999"]
    shape = shapes.digit_shape(bounds, [], 30_000, unique=True)
    values = shapes.digit_text(shape, np.arange(30_000), 30_000).to_pylist()
    assert all(v.isdigit() and len(v) == 13 for v in values)
    assert len(set(values)) == 30_000 and values == sorted(values)
    assert bounds[0] <= values[0] and values[-1] < bounds[-1]


def test_a_unique_column_gets_more_digits_when_its_buckets_are_too_narrow():
    shape = shapes.digit_shape(["007", "010", "020"], [], 1_000, unique=True)
    values = shapes.digit_text(shape, np.arange(1_000), 1_000).to_pylist()
    assert len(set(values)) == 1_000 and all(v.isdigit() for v in values) and values[0].startswith("007")


def test_decimals_and_signs_keep_their_form():
    shape = shapes.digit_shape(["-12.50", "-0.25", "3.00", "99.99"], [], 500, unique=False)
    values = shapes.digit_text(shape, np.arange(500), 500).to_pylist()
    assert all(shapes.NUMBER.fullmatch(v) and len(v.partition(".")[2]) == 2 for v in values)
    assert -12.5 <= min(map(float, values)) and max(map(float, values)) < 99.99
    assert shapes.digit_shape(["abc", "123"], [], 10, unique=False) is None


def test_narrow_buckets_widen_the_domain_to_reach_the_distinct_count():
    bounds = np.array([0.0, 0.05, 0.10, 1000.0])  # two buckets of 5 cents, one wide
    room = shapes.steps(bounds, 0.01)
    n = shapes.domain_size(room, 3_000, 100_000)
    k = np.arange(n)
    got = np.unique(np.round(shapes.equi_depth(bounds, (k + 0.5) / n), 2))
    assert abs(len(got) / 3_000 - 1) < 0.01 and n > 3_000
    assert shapes.domain_size(room, 3, 100_000) == 3  # few values: every bucket has room
