"""How busy the machine was just before the migration ran: other work on a shared machine slows a run, unevenly.

Read over the warm-up (the application's traffic and the sampler running, the migration not yet), so the
migration's own processes (a parallel index build runs three on two cores) do not count as contention.
`cpu_pressure` is Linux's pressure-stall figure (/proc/pressure/cpu, "some"): the share of that window in
which at least one runnable task waited for a CPU; None where the kernel has no PSI. `load` (the 1-minute
load average) and `cpus` are kept beside it. The extrapolation widens its interval when the rehearsals ran on
a busy machine (rehearse.extrapolate.busy).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PSI = Path("/proc/pressure/cpu")


def stalled_s(text: str | None = None) -> float | None:
    """Seconds, since boot, in which some runnable task waited for a CPU (PSI 'some total'); None without PSI."""
    try:
        text = PSI.read_text() if text is None else text
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("some "):
            fields = dict(item.split("=", 1) for item in line.split()[1:])
            return int(fields["total"]) / 1e6 if "total" in fields else None
    return None


class Window:
    """Started when the warm-up starts; `read()` when the migration is about to: {cpu_pressure, load, cpus}."""

    def __init__(self) -> None:
        self.clock, self.stalled = time.monotonic(), stalled_s()

    def read(self) -> dict:
        elapsed, now = time.monotonic() - self.clock, stalled_s()
        pressure = None
        if self.stalled is not None and now is not None and elapsed > 0:
            pressure = round(min(max((now - self.stalled) / elapsed, 0.0), 1.0), 3)
        return dict(cpu_pressure=pressure, load=round(os.getloadavg()[0], 2), cpus=os.cpu_count())
