"""The tool's lock hold against an independent truth on the server's clock (bench/fidelity_truth.py):
the migration reads `clock_timestamp()` right after its LOCK returns, a probe queued behind it reads the
moment the lock came to it."""

from __future__ import annotations

import importlib.util
import sys

from common.paths import project_root

_spec = importlib.util.spec_from_file_location("fidelity_truth", project_root() / "bench" / "fidelity_truth.py")
truth_probe = sys.modules["fidelity_truth"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(truth_probe)

# The target is ±max(5 ms, 2 %) (bench/RESULTS-fidelity.md measures it). Here the bound is looser: on a
# shared 2-core machine either backend (the migration at its COMMIT, the probe at its wake-up) can be off
# the CPU for several ms, which moves the truth and the tool apart by that much.
TOLERANCE_MS = 20.0


def test_lock_hold_matches_the_servers_truth():
    got = truth_probe.rehearse_with_truth(
        "SELECT pg_sleep(0.3);", scale=0.01, seed=4242, rate=100, clients=4, warmup=0.5, cooldown=0.5
    )
    truth, tool, span = got["truth"], got["tool"], got["span"]
    assert truth.probe_queued, "the probe must have queued behind the migration's lock"
    assert truth.hold_ms >= 300  # the lock covers the sleep at least: the probe did wait for it
    assert span is not None and span["seen"] == "catalog"  # captured, and read exactly
    assert abs(tool["lock_hold_ms"] - truth.hold_ms) <= max(TOLERANCE_MS, 0.02 * truth.hold_ms), (tool, truth)
    assert tool["lock_wait_ms"] <= truth.wait_ms + TOLERANCE_MS


def test_a_lock_wait_shorter_than_a_sampler_tick_is_read_from_the_server_log():
    """A blocker makes the migration's LOCK wait a few ms (under the 10 ms tick the sampler would miss):
    the server logged it, so the wait is measured and the hold starts at the grant, not before the wait."""
    got = truth_probe.rehearse_with_truth(
        "SELECT pg_sleep(0.05);",
        blocker_s=0.002,
        scale=0.01,
        seed=4242,
        rate=100,
        clients=4,
        warmup=0.5,
        cooldown=0.5,
        no_warm_clone=True,
    )
    truth, tool, span = got["truth"], got["tool"], got["span"]
    assert tool["lock_wait_source"] == "server log"  # the embedded server: the tool reads its log
    assert truth.lock_wait_ms >= 1, "the blocker must have made the LOCK wait"
    assert 1 <= tool["lock_wait_ms"] <= truth.lock_wait_ms + 1  # logged: inside the true wait, not 0
    assert truth.lock_wait_ms - tool["lock_wait_ms"] <= TOLERANCE_MS
    assert -TOLERANCE_MS <= (span["start"] - truth.granted) * 1000 <= 1  # never starts after the grant
    assert abs(tool["lock_hold_ms"] - truth.hold_ms) <= TOLERANCE_MS
