"""A loading process (python -m datagen.twin._worker): runs the units named on its stdin.

Protocol: a JSON setup line (server URL, seed, path of the pickled table plans), then one JSON unit per
line on stdin; JSON events (rows, done, failed) on its original stdout.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys

import psycopg

from datagen.twin import units


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which then ends this process
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the event stream
    setup = json.loads(sys.stdin.readline())
    with open(setup["plans"], "rb") as f:
        tables = pickle.load(f)

    def send(event: str, **data) -> None:
        channel.write(json.dumps({"event": event, **data}) + "\n")

    for line in sys.stdin:
        unit = units.Unit(**json.loads(line))
        name = tables[unit.table].name
        try:
            rows, seconds = units.run(setup["url"], tables, setup["seed"], unit, lambda n: send("rows", rows=n))
        except psycopg.Error as exc:
            send("failed", **units.failure(name, exc))
        except Exception as exc:  # reported, not raised: the manager turns it into one clear error
            send("failed", table=name, sqlstate=None, constraint=None, message=f"{type(exc).__name__}: {exc}")
        else:
            send("done", table=name, rows=rows, seconds=seconds)


if __name__ == "__main__":
    main()
