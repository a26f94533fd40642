"""Names of the relations the sampler's locks are on, looked up once per oid instead of at every tick.

The snapshot returns each lock's relation oid; joining pg_class and pg_namespace at every tick cost a fast
tick a fifth of its server time. A name changes only when a transaction that renames (or moves) the
relation commits, and during a rehearsal the migration is the one that runs DDL: so the names are
forgotten whenever the watched backend's transaction changes (it began another one, or went idle), and,
with no backend watched, at every load sample. An oid the catalogue does not show (a relation created by
a transaction not yet committed) is remembered as unnamed until then too, as the join would have left it.
"""

from __future__ import annotations

from rehearse.measure import sampler_queries as q

_UNNAMED = (None, None)


class RelationNames:
    """oid → (schema.relation, relkind) as this database's catalogue showed them since `epoch` last changed."""

    def __init__(self, conn):
        self._conn = conn
        self._epoch: object = None
        self._relids: bytes | None = None
        self.current: dict[int, tuple] = {}
        self.lookups = 0  # queries run

    def update(self, epoch, relids: bytes | None, load) -> dict[int, tuple]:
        """The names in force for a tick whose locks are on `relids` (a raw binary oid[], `load` parses it).
        Each epoch gets a dict of its own, so ticks before keep the names they were read with."""
        if epoch != self._epoch:
            self._epoch, self._relids, self.current = epoch, None, {}
        if relids is not None and relids != self._relids:  # the same locks as the tick before: nothing new
            self._relids = relids
            unknown = {oid for oid in load(relids) if oid is not None} - self.current.keys()
            if unknown:
                self.lookups += 1
                found = {oid: (name, kind) for oid, name, kind in self._conn.execute(q.NAMES_SQL, (sorted(unknown),))}
                self.current |= {oid: found.get(oid, _UNNAMED) for oid in unknown}
        return self.current


def named_locks(arrays: dict[str, list | None], names: dict[int, tuple]) -> dict[str, list | None]:
    """A tick's lock arrays (LOCK_QUERY_COLUMNS) as LOCK_COLUMNS: the oid replaced by the name and relkind."""
    relids = arrays.pop("relid") or ()
    pairs = [names.get(oid, _UNNAMED) for oid in relids]
    return {
        **arrays,
        "relation": [name for name, _ in pairs] if relids else None,
        "relkind": [kind for _, kind in pairs] if relids else None,
    }
