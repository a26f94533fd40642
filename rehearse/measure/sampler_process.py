"""The sampler in a process of its own, so the application's threads cannot delay its 10 ms ticks.

Both share Python's global interpreter lock when they live in one process: at a few hundred transactions
per second the sampler then misses ticks and slows the application down (bench/fidelity.py measures it).
"""

from __future__ import annotations

import multiprocessing as mp

from common.errors import RehearsalError
from common.signals import ignore_in_child
from rehearse.measure.sampler import FastWindow, Sampler, SamplerFrames

_START_TIMEOUT_S = 60


def _child(server, dbname: str, options: dict, pipe) -> None:
    ignore_in_child()  # Ctrl-C and SIGTERM reach the whole group; the parent decides when sampling ends
    sampler = Sampler(server, dbname, **options)
    sampler.start()
    pipe.send("started")
    try:
        pipe.recv()  # the parent's stop request
        pipe.send(sampler.stop())
    except (EOFError, BrokenPipeError, ConnectionResetError):
        sampler.stop()  # the parent is gone (killed): nobody wants the samples, end quietly


class SamplerProcess(FastWindow):
    """Same start()/stop()/migration_running() as Sampler (and its options); stop() returns the child's
    SamplerFrames. The fast window is an Event both processes see."""

    def __init__(self, server, dbname: str, interval: float = 0.01, load_every: int = 10, **options):
        context = mp.get_context("spawn")  # never fork a process that runs threads and open connections
        self._pipe, child_end = context.Pipe()
        self._hot = context.Event()
        options |= dict(interval=interval, load_every=load_every, hot=self._hot)
        self._process = context.Process(
            target=_child, daemon=True, name="rehearsal-sampler", args=(server, dbname, options, child_end)
        )

    @property
    def pid(self) -> int | None:
        """The sampler process's pid once started (what its CPU is measured by)."""
        return self._process.pid

    def start(self) -> None:
        self._process.start()
        try:
            started = self._pipe.poll(_START_TIMEOUT_S) and self._pipe.recv() == "started"
        except BaseException:  # Ctrl-C or SIGTERM while it starts: end it before its database is dropped
            self._process.kill()
            raise
        if not started:
            self._process.kill()
            raise RehearsalError("the sampler process did not start; run again with --debug to see why")

    def stop(self) -> SamplerFrames:
        try:
            self._pipe.send("stop")
            if self._pipe.poll(60):
                return self._pipe.recv()
            raise RehearsalError("the sampler process did not answer; its samples are lost")
        except (EOFError, BrokenPipeError):
            raise RehearsalError("the sampler process died; run again with --debug to see why") from None
        finally:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
