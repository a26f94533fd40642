"""SIGTERM and SIGHUP handled like Ctrl-C: an exception in the main thread, so every `finally` cleans up.

`timeout`, a CI cancel and `docker stop` send SIGTERM; a closed terminal sends SIGHUP. Python's default is
to die on the spot, leaving the scratch database and the migration's backend behind. Raised as a subclass
of KeyboardInterrupt, the signal takes the road Ctrl-C takes: psycopg cancels the running query (it does
so on KeyboardInterrupt), the context managers drop what they created, and the CLI exits 128 + signal.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by SIGTERM or SIGHUP."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention: 143 for SIGTERM, 129 for SIGHUP

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def _raise(signum, frame) -> None:
    for each in STOP_SIGNALS:  # a second SIGTERM (docker repeats it) must not interrupt the cleanup
        signal.signal(each, signal.SIG_IGN)
    raise Terminated(signum)


@contextlib.contextmanager
def stop_signals_raise() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise Terminated in the main thread (elsewhere: no change)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {each: signal.signal(each, _raise) for each in STOP_SIGNALS}
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def ignore_in_child() -> None:
    """For a helper process: Ctrl-C, SIGTERM and SIGHUP reach the whole process group, and the parent
    decides when its helpers stop (it asks them, or ends them once it has cleaned up)."""
    for each in (signal.SIGINT, *STOP_SIGNALS):
        signal.signal(each, signal.SIG_IGN)
