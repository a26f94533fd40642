"""The load on a Dask cluster (`--scheduler ADDRESS`): each unit is a task that generates and COPYs its
chunks from the Dask worker straight to the server, so the cluster's cores do the generating.

The workers need this package importable and the server reachable at the same URL. The URL travels in the
task, never on a command line or in a log.
"""

from __future__ import annotations

import psycopg

from common.errors import BadInput
from datagen.twin import units
from datagen.twin.chunk import TablePlan


def run_unit(url: str, tables: list[TablePlan], seed: int, unit: units.Unit) -> dict:
    """One task: the unit's rows and seconds, or its failure as plain data (psycopg errors do not pickle)."""
    name = tables[unit.table].name
    try:
        rows, seconds = units.run(url, tables, seed, unit)
    except psycopg.Error as exc:
        return {"failed": True, **units.failure(name, exc)}
    return {"failed": False, "table": name, "rows": rows, "seconds": seconds}


def load(address: str, url: str, tables: list[TablePlan], seed: int, todo: list, bar) -> dict[str, float]:
    from distributed import Client, as_completed  # imported only here: the cluster is optional and slow to import

    seconds = {t.name: 0.0 for t in tables}
    try:
        client = Client(address, timeout=10)
    except (OSError, TimeoutError) as exc:
        raise BadInput(
            f"no Dask scheduler at {address} ({exc}); start one (dask scheduler) or leave out --scheduler"
        ) from None
    with client:
        [shared] = client.scatter([tables], broadcast=True, hash=False)  # one object: the list
        futures = [client.submit(run_unit, url, shared, seed, unit, pure=False) for unit in todo]
        for _, found in as_completed(futures, with_results=True):
            if found["failed"]:
                client.cancel(futures)
                raise units.as_error(found)
            seconds[found["table"]] += found["seconds"]
            bar.update(found["rows"])
    return seconds
