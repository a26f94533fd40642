"""The local server's CPU, read by the sampler at every load sample: the postmaster and all its children.

Read 10 times a second, so what it costs counts. psutil lists a process's children by reading the
/proc/<pid>/stat of EVERY process on the machine (2-5 ms with 130 processes), and reads one process's times
in ~15-40 µs. Linux lists a task's children in one file (/proc/<pid>/task/<pid>/children, 0.01 ms) and gives
a process's time on the CPU in /proc/<pid>/schedstat (nanoseconds, one number to parse): about 5 times
cheaper for the 20-odd processes of a rehearsing server. The kernel scales a process's user and system times
(/proc/<pid>/stat, what the postmaster's children_* add up once it reaps a child) to that same run time, so
the two sum without a seam. Without these files (not Linux, an unusual kernel) psutil does it all, the
children listed once a second: a backend born since counts from the next listing on (its times are
cumulative, so nothing is lost, only late).
"""

from __future__ import annotations

import math
import os
import time

_RELIST_S = 1.0


class CpuMeter:
    """User+system CPU seconds of the postmaster and its children since the first reading."""

    def __init__(self, postmaster_pid: int | None):
        import psutil

        self._process = psutil.Process(postmaster_pid) if postmaster_pid else None
        self._origin: float | None = None
        self._last = 0.0
        self._children_file = f"/proc/{postmaster_pid}/task/{postmaster_pid}/children"
        self._fast = postmaster_pid is not None and _readable(self._children_file, f"/proc/{postmaster_pid}/schedstat")
        self._children: list = []
        self._listed = -math.inf

    def read(self) -> float:
        if self._process is None:
            return math.nan
        total = self._total()
        if self._origin is None:
            self._origin = total
        # A backend that has exited but not yet been reaped counts in neither its own times nor the
        # postmaster's children_*: the sum can dip for a moment, so it is held at its last value.
        self._last = max(self._last, total - self._origin)
        return self._last

    def _total(self) -> float:
        own = self._process.cpu_times()
        # children_user/system: CPU of backends the postmaster has already reaped (waitpid).
        total = own.user + own.system + own.children_user + own.children_system
        return total + (self._children_run_time() if self._fast else self._children_times())

    def _children_run_time(self) -> float:
        with open(self._children_file, "rb") as listing:
            pids = listing.read().split()
        total = 0
        for pid in pids:
            try:
                fd = os.open(b"/proc/" + pid + b"/schedstat", os.O_RDONLY)
                try:
                    total += int(os.read(fd, 64).split(maxsplit=1)[0])
                finally:
                    os.close(fd)
            except (OSError, ValueError, IndexError):
                pass  # ended since the listing
        return total / 1e9

    def _children_times(self) -> float:
        import psutil

        if time.monotonic() - self._listed >= _RELIST_S:
            self._children, self._listed = self._process.children(), time.monotonic()
        total = 0.0
        for child in self._children:
            try:
                times = child.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass  # ended between the listing and the reading
        return total


def _readable(*paths: str) -> bool:
    return all(os.access(path, os.R_OK) for path in paths)
