"""A loading process (python -m datagen.twin._worker): runs the units named on its stdin.

Protocol: a JSON setup line (server URL, seed, path of the pickled table plans), then one JSON unit per
line on stdin (the parent keeps two outstanding, so the next is generated while the last loads:
datagen.twin.stream); JSON events (rows, done, failed) on its original stdout.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
import threading
import time

from datagen.twin import stream, units
from datagen.twin.chunk import binary_chunk, rows_in


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which then ends this process
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the event stream
    setup = json.loads(sys.stdin.readline())
    with open(setup["plans"], "rb") as f:
        tables = pickle.load(f)

    lock = threading.Lock()  # both stages report

    def send(event: str, **data) -> None:
        with lock:
            channel.write(json.dumps({"event": event, **data}) + "\n")

    loader = stream.Loader(setup["url"], tables, send)
    for line in sys.stdin:
        unit = units.Unit(**json.loads(line))
        _generate(loader, tables[unit.table], setup["seed"], unit, send)
    loader.close()


def _generate(loader: stream.Loader, table, seed: int, unit: units.Unit, send) -> None:
    """The unit's chunks, handed to the loader as they are made; a failure rolls the unit back."""
    loader.put((unit, time.monotonic()))
    try:
        for chunk in range(unit.first, unit.stop):
            loader.put((binary_chunk(table, seed, chunk), rows_in(table, chunk)))
    except Exception as exc:  # reported, not raised: the manager turns it into one clear error
        loader.put(stream.ABORT)
        send("failed", table=table.name, sqlstate=None, constraint=None, message=f"{type(exc).__name__}: {exc}")
    else:
        loader.put(stream.END)


if __name__ == "__main__":
    main()
