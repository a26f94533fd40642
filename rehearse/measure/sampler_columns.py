"""How the sampler keeps what it saw: rows column by column, the server's CPU, frames at the end."""

from __future__ import annotations

import math
import time

import pandas as pd

# psutil lists a process's children by reading /proc/<pid>/stat of EVERY process on the machine (2-5 ms of
# CPU with 130 processes), so it is done once a second, not at every load sample: a backend born since
# counts from the next listing on (its times are cumulative, so nothing is lost, only late); one that ended
# is in children_*. Linux lists a task's children in one file (/proc/<pid>/task/<pid>/children, 0.01 ms):
# read at every sample where the kernel has it.
_RELIST_S = 1.0


class Columns:
    """Rows kept column by column; repeated strings (modes, names, queries) stored once."""

    def __init__(self, dtypes: dict[str, str]):
        self.dtypes = {"t": "float64", "rtt": "float64", **dtypes}
        self.data: dict[str, list] = {name: [] for name in self.dtypes}
        self._strings: dict[str, str] = {}

    def add_arrays(self, t: float, rtt: float, arrays: dict[str, list | None]) -> None:
        n = len(arrays["pid"] or ())
        if not n:
            return
        self.data["t"].extend([t] * n)
        self.data["rtt"].extend([rtt] * n)
        for name, values in arrays.items():
            if values is None or not isinstance(next(filter(None, values), None), str):
                self.data[name].extend(values or [None] * n)
            else:
                self.data[name].extend([self._strings.setdefault(v, v) if v else v for v in values])

    def add_row(self, row: dict) -> None:
        for name, value in row.items():
            self.data[name].append(value)

    def frame(self) -> pd.DataFrame:
        # Cut to the shortest column: only differs if a stuck thread was abandoned mid-append.
        n = min(len(v) for v in self.data.values())
        return pd.DataFrame(
            {name: pd.Series(values[:n], dtype=self.dtypes[name]) for name, values in self.data.items()}
        )


class CpuMeter:
    """User+system CPU seconds of the postmaster and its children since the first reading."""

    def __init__(self, postmaster_pid: int | None):
        import psutil

        self._process = psutil.Process(postmaster_pid) if postmaster_pid else None
        self._origin: float | None = None
        self._last = 0.0
        self._children: dict[int, object] = {}
        self._listed = -math.inf
        pid = postmaster_pid
        self._children_file = f"/proc/{pid}/task/{pid}/children"

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
        import psutil

        own = self._process.cpu_times()
        # children_user/system: CPU of backends the postmaster has already reaped (waitpid).
        total = own.user + own.system + own.children_user + own.children_system
        self._list_children()
        for child in self._children.values():
            try:
                times = child.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass  # ended between the listing and the reading
        return total

    def _list_children(self) -> None:
        import psutil

        try:
            with open(self._children_file) as listing:
                pids = {int(pid) for pid in listing.read().split()}
        except OSError:  # not Linux, or a kernel without CONFIG_PROC_CHILDREN
            if time.monotonic() - self._listed >= _RELIST_S:
                self._children = {child.pid: child for child in self._process.children()}
                self._listed = time.monotonic()
            return
        kept = {pid: child for pid, child in self._children.items() if pid in pids}
        for pid in pids - kept.keys():
            try:
                kept[pid] = psutil.Process(pid)
            except psutil.Error:
                pass  # ended since the listing
        self._children = kept


def activity_frame(columns: Columns) -> pd.DataFrame:
    frame = columns.frame()
    lists = [[int(p) for p in s.split(",")] if isinstance(s, str) and s else [] for s in frame["blocked_by"]]
    frame["blocked_by"] = pd.Series(lists, index=frame.index, dtype="object")
    return frame


def load_frame(columns: Columns) -> pd.DataFrame:
    frame = columns.frame()
    # Percent of ONE core between consecutive load samples (two busy cores read 200).
    frame["cpu_percent"] = 100 * frame["cpu_seconds"].diff() / frame["cpu_t"].diff()
    return frame
