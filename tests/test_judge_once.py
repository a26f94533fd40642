"""Judging a run computes each heavy analysis once (lock spans, blocking, blocked and delayed transactions),
and the memo changes no finding: a second verdict, and one on a fresh load of the saved run, say the same."""

from __future__ import annotations

import json
from collections import Counter

import pytest

import rehearse
from rehearse.analysis import delays, spans, summary, timeline

FAST = dict(scale=0.01, seed=4242, rate=200, clients=4, warmup=0.5, cooldown=0.5)
# The private step each memoised analysis takes exactly once per computation of it.
STEPS = {
    "lock spans": (spans, "lock_spans"),
    "blocking": (timeline, "_attribute"),
    "blocked transactions": (timeline, "_waitstarts"),
    "delayed transactions": (delays, "_windows"),
    "impact table": (summary, "_impact_table"),
}


@pytest.fixture(scope="module")
def run_id(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("once") / "up.sql"
    path.write_text("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1);")
    return rehearse.run(path, **FAST).run_id


def count_steps(monkeypatch) -> Counter:
    calls: Counter = Counter()
    for name, (module, attribute) in STEPS.items():
        step = getattr(module, attribute)
        monkeypatch.setattr(module, attribute, lambda *a, _s=step, _n=name, **k: calls.update([_n]) or _s(*a, **k))
    return calls


def findings(verdict) -> str:
    return json.dumps(verdict.to_dict(), sort_keys=True, default=str)


def test_judge_computes_each_heavy_analysis_once_and_changes_no_finding(run_id, monkeypatch):
    result = rehearse.load(run_id)
    calls = count_steps(monkeypatch)
    first = rehearse.judge(result)
    assert calls == Counter(STEPS.keys()), "each heavy analysis once per judge"
    assert len(timeline.blocked_transactions(result)), "the run must have blocked the application"
    second = rehearse.judge(result)
    assert calls == Counter(STEPS.keys()), "a second judge of the same result reuses them"
    assert findings(second) == findings(first) == findings(rehearse.judge(rehearse.load(run_id)))
    assert first.level == "red" and "R002-access-exclusive-held" in first.finding_ids


def test_a_caller_changing_its_frame_changes_nothing_for_the_next(run_id):
    result = rehearse.load(run_id)
    before = timeline.blocking(result).copy(deep=True)
    timeline.blocked_transactions(result)  # adds a column to the blocking frame it computes from
    mine = timeline.blocking(result)
    mine["pid"] = -1  # through a name: pandas warns on (and would skip) a chained assignment to a call
    assert timeline.blocking(result).equals(before)
