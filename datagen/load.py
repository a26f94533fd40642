"""Parallel loading: a process per core, each loading whole tables, with a progress bar per table."""

from __future__ import annotations

import queue
import subprocess
import sys

from tqdm import tqdm  # live bars only on a terminal (see _report)

import dbserver
from common.errors import NotEnoughDisk, RehearsalError, ServerUnavailable
from datagen import tables
from datagen._spawn import spawn
from datagen.world import World

WORKERS = 2
# Largest first, so the two processes finish together (longest-processing-time-first scheduling).
LOAD_ORDER = ("order_items", "orders", "payments", "billing_events", "customers", "products")


def load(
    server: dbserver.Server,
    dbname: str,
    world: World,
    progress: bool = True,
    order: tuple[str, ...] | None = None,
    index: bool = True,
) -> dict[str, tuple[int, dict[str, float]]]:
    """Per table, the rows loaded and the seconds spent loading and indexing (index=False: load only, for
    benchmarks). Each table is TRUNCATEd and COPYed in one transaction by one process (COPY FREEZE allows
    nothing else), so the processes load different tables at the same time. Workers are fresh interpreters,
    not forks: they inherit no connection or thread, and the caller needs no `__main__` guard."""
    order = order or LOAD_ORDER
    todo, events, results = list(order), queue.Queue(), {}
    workers = [_start(server.url(dbname), world, events, index) for _ in range(min(WORKERS, len(order)))]
    bars = _bars(world, progress and sys.stderr.isatty())
    finished = False
    try:
        for worker in workers:
            _assign(worker, todo)
        while len(results) < len(order):
            worker, event = events.get()
            _apply(event, bars)
            if progress and not sys.stderr.isatty():
                _report(event)
            if event["event"] == "done":
                results[event["table"]] = (event["rows"], event["seconds"])
                _assign(worker, todo)
            elif event["event"] == "failed":
                raise _as_error(event)
            elif event["event"] == "exit" and worker.stdin is not None and not worker.stdin.closed:
                raise RehearsalError("a loading process ended unexpectedly (its error is above); run the build again")
        finished = True
        return results
    finally:
        for worker in workers:
            _stop(worker, finished)
        for bar in bars.values():
            bar.close()


def _start(url: str, world: World, events: queue.Queue, index: bool) -> subprocess.Popen:
    setup = {
        "url": url,
        "scale": world.scale,
        "seed": world.seed,
        "dirt": world.dirt.as_dict(),
        "n_items": world.n_items,
        "index": index,
    }
    return spawn("datagen._worker", setup, events)


def _assign(worker: subprocess.Popen, todo: list[str]) -> None:
    if todo:
        worker.stdin.write(todo.pop(0) + "\n")
    else:
        worker.stdin.close()  # no more tables: the worker exits when it reads end of input


def _stop(worker: subprocess.Popen, finished: bool) -> None:
    """Let a finished worker close its connection; kill an unfinished one (interrupted or failed): its
    connection drops and the server rolls its transaction back."""
    try:
        worker.wait(timeout=10 if finished else 0)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _as_error(event: dict) -> RehearsalError:
    """Classify by SQLSTATE class, never by message text."""
    state, where = event["sqlstate"] or "", f"loading {event['table']} failed: {event['message']}"
    if state.startswith("53"):
        return NotEnoughDisk(f"{where}; free disk space (or memory) on the server, or choose a smaller scale")
    if state.startswith("08"):
        return ServerUnavailable(f"{where}; check that the server is running and reachable")
    return RehearsalError(f"{where} (SQLSTATE {state or 'none'}); the next build starts afresh")


def _bars(world: World, progress: bool) -> dict[str, tqdm]:
    width = max(len(n) for n in LOAD_ORDER)
    return {
        t.name: tqdm(
            total=tables.expected_rows(t, world),
            desc=t.name.ljust(width),
            unit=" rows",
            unit_scale=True,
            position=i,
            leave=True,
            disable=not progress,
            dynamic_ncols=True,
        )
        for i, t in enumerate(tables.TABLES)
    }


def _report(event: dict) -> None:
    """Without a terminal (a notebook, a log file): a line per table instead of live bars."""
    if event["event"] == "done":
        rows, seconds = event["rows"], event["seconds"]
        print(
            f"{event['table']:<15} {rows:>12,} rows loaded in {seconds['load']:6.1f} s "
            f"({rows / seconds['load'] / 1e3:,.0f} k rows/s), indexed in {seconds['index']:.1f} s",
            file=sys.stderr,
            flush=True,
        )


def _apply(event: dict, bars: dict[str, tqdm]) -> None:
    bar = bars.get(event["table"])
    if bar is None or bar.disable:
        return
    if event["event"] == "rows":
        if bar.n == 0:
            bar.reset(total=bar.total)  # start the clock when this table starts, not the build
        bar.update(event["rows"])
    elif event["event"] == "indexing":
        bar.total = bar.n  # child tables' totals were estimates until now
        bar.set_postfix_str("loaded; indexing")
        bar.close()  # closing now keeps the shown rate the load's own
