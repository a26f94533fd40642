"""The load: units of (table, chunks) on N worker processes, or on a Dask cluster, with one progress bar.

Workers are fresh interpreters (`python -m datagen.twin._worker`), not forks: they inherit no connection
or thread, and the caller needs no `__main__` guard. Each unit's rows depend only on (seed, table, chunk),
never on the worker, so any number of workers gives the same rows.
"""

from __future__ import annotations

import json
import pickle
import queue
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from common.errors import RehearsalError
from datagen._spawn import spawn
from datagen.twin import cluster, units
from datagen.twin.chunk import TablePlan


def load(
    url: str, tables: list[TablePlan], seed: int, workers: int, progress: bool, scheduler: str | None = None
) -> dict[str, float]:
    """Seconds per table (summed over its units)."""
    todo = units.plan_units(tables, workers)
    bar = tqdm(total=sum(t.rows for t in tables), unit=" rows", unit_scale=True, disable=not progress, file=sys.stderr)
    try:
        if scheduler:
            return cluster.load(scheduler, url, tables, seed, todo, bar)
        return _processes(url, tables, seed, todo, min(workers, max(1, len(todo))), bar)
    finally:
        bar.close()


def _processes(url: str, tables: list[TablePlan], seed: int, todo: list, workers: int, bar) -> dict[str, float]:
    seconds, events, left = {t.name: 0.0 for t in tables}, queue.Queue(), len(todo)
    with tempfile.TemporaryDirectory(prefix="twin-plans-") as folder:
        path = Path(folder) / "plans.pickle"
        path.write_bytes(pickle.dumps(tables))
        procs = [_start({"url": url, "seed": seed, "plans": str(path)}, events) for _ in range(workers)]
        finished = False
        try:
            for proc in procs + procs:  # two units each: one loading while the next is generated
                _assign(proc, todo)
            while left:
                proc, event = events.get()
                if event["event"] == "rows":
                    bar.update(event["rows"])
                elif event["event"] == "done":
                    seconds[event["table"]] += event["seconds"]
                    left -= 1
                    _assign(proc, todo)
                elif event["event"] == "failed":
                    raise units.as_error(event)
                elif event["event"] == "exit" and not proc.stdin.closed:  # exited before its input ended
                    raise RehearsalError("a loading process ended unexpectedly (its error is above); build again")
            finished = True
            return seconds
        finally:
            for proc in procs:
                _stop(proc, finished)


def _start(setup: dict, events: queue.Queue) -> subprocess.Popen:
    return spawn("datagen.twin._worker", setup, events)


def _assign(proc: subprocess.Popen, todo: list) -> None:
    if todo:
        proc.stdin.write(json.dumps(asdict(todo.pop(0))) + "\n")
    elif not proc.stdin.closed:
        proc.stdin.close()  # nothing left: the worker exits when it reads end of input


def _stop(proc: subprocess.Popen, finished: bool) -> None:
    """A finished worker closes its connection; an unfinished one (interrupted, failed) is killed: its
    connection drops and the server rolls its transaction back."""
    if proc.stdin and not proc.stdin.closed:
        proc.stdin.close()
    try:
        proc.wait(timeout=10 if finished else 0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
