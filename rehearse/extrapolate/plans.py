"""Plans at production size: the inner query of a validating or writing statement, EXPLAINed on a throwaway
clone of the largest rehearsal's template whose statistics say production size.

How the planner is made to see production size. pg_restore_relation_stats alone does not do it: the planner
takes a table's pages from the file (RelationGetNumberOfBlocks) and only the density reltuples/relpages from
pg_class, so scaled relpages and reltuples change nothing. Instead each table's (and its indexes')
reltuples is scaled by its production/rehearsed row ratio f, pages staying as they are: the planner then
counts production's rows (CPU costs, hash and sort sizes against work_mem, selectivities). The pages it
still counts at rehearsed size are made to cost as production's would: seq_page_cost and random_page_cost
× f, effective_cache_size and the parallel-scan thresholds ÷ f (they are compared against page counts).
Checked on this dataset: SF 0.01 × 100 and SF 0.1 × 10 give the FK check's SF 1 plan and cost to 0.3 %.

When the plan at production size differs from the rehearsed one, the row count where it changes is found by
bisection (EXPLAIN only), and for a query that only reads (a validation), both plans are timed at the
rehearsed size (the production plan forced by the enable_* settings): their ratio scales the projection.
Everything runs in transactions that are rolled back, on a clone dropped at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

import dbserver
from rehearse.extrapolate.inner import Inner, Lookup, inner_query

# plan nodes the planner can be told to avoid, so that the production plan runs at the rehearsed size
FORCE = {
    "Hash Join": "enable_hashjoin",
    "Merge Join": "enable_mergejoin",
    "Nested Loop": "enable_nestloop",
    "Seq Scan": "enable_seqscan",
    "Index Scan": "enable_indexscan",
    "Index Only Scan": "enable_indexonlyscan",
    "Bitmap Heap Scan": "enable_bitmapscan",
    "Sort": "enable_sort",
    "Materialize": "enable_material",
    "Memoize": "enable_memoize",
}
PAGE_COSTS = ("seq_page_cost", "random_page_cost")  # × f
PAGE_COUNTS = ("effective_cache_size", "min_parallel_table_scan_size", "min_parallel_index_scan_size")  # ÷ f
KEYS = ("plan_query", "plan_rehearsed", "plan_production", "plan_changes_at_rows", "plan_time_ratio")
BISECTIONS = 6  # steps of the search for the row count where the plan changes: ~F^(1/64) apart


@dataclass(frozen=True)
class PlanCheck:
    """The inner query's plan at the rehearsed size and at production size, and what that does to the time."""

    what: str
    rehearsed: tuple[str, ...]  # plan nodes, depth first
    production: tuple[str, ...]
    changes_at_rows: int | None = None  # rows of the statement's table where the production plan starts
    time_ratio: float | None = None  # production plan's time / rehearsed plan's, both at the rehearsed size
    note: str | None = None

    @property
    def changes(self) -> bool:
        return self.rehearsed != self.production

    def fields(self) -> dict:
        """The projection's plan_* keys."""
        values = (self.what, " > ".join(self.rehearsed), " > ".join(self.production), self.changes_at_rows)
        return dict(zip(KEYS, (*values, self.time_ratio)))

    def warning(self) -> str | None:
        if not self.changes:
            return None
        text = f"plan changes at ~{self.changes_at_rows:,} rows: {headline(self.production)} (rehearsed: "
        text += f"{headline(self.rehearsed)})"
        if self.time_ratio is not None:
            return text + (
                f"; under the production plan the {self.what} query took ×{self.time_ratio:.2f} the time at the "
                "rehearsed size: the projection is scaled by that, its interval spans both plans"
            )
        return text + f"; {self.note or 'not timed'}: rehearse at a scale past that size"


def headline(shape: tuple[str, ...]) -> str:
    """The node that decides the plan: the first join, else the first node."""
    return next((n for n in shape if n.endswith("Join") or n.startswith("Nested Loop")), shape[0] if shape else "-")


def check(server, template: str, statements, wanted: dict[int, str], heavy: set[int], rows: dict) -> dict:
    """{index: PlanCheck} for the statements in `wanted` ({index: the table it is fitted on}) that have an
    inner query. `rows`: {table: (rehearsed rows, production rows)}. Earlier statements are replayed (in
    the transaction, rolled back) unless `heavy` (they read or wrote every row) or unable to run in one,
    so that a backfill's UPDATE finds the column an ADD COLUMN before it made."""
    out = {}
    with dbserver.clone(server, template) as name, psycopg.connect(server.url(name)) as conn:
        lookup = _lookup(conn)
        for st in statements:
            inner = inner_query(st.sql, lookup) if st.index in wanted else None
            if inner is not None and wanted[st.index] in rows:
                out[st.index] = _check_one(conn, inner, rows, wanted[st.index])
            if st.index not in heavy and st.in_transaction_block:
                _replay(conn, st.sql)
        conn.rollback()
    return out


def _replay(conn, sql: str) -> None:
    try:
        with conn.transaction():
            conn.execute(sql)
    except psycopg.Error:
        pass  # a statement that fails here failed in the rehearsal too, or needs a heavy one before it


def _lookup(conn) -> Lookup:
    def primary_key(table: str) -> list[str]:
        query = (
            "SELECT a.attname FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attnum = k.attnum "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY k.n"
        )
        return [r[0] for r in conn.execute(query, (table, table))]

    def definition(table: str, constraint: str) -> str | None:
        query = "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s"
        row = conn.execute(query, (table, constraint)).fetchone()
        return row[0].replace(" NOT VALID", "") if row else None

    return Lookup(primary_key, definition)


def _check_one(conn, inner: Inner, rows: dict, table: str) -> PlanCheck:
    try:
        with conn.transaction(force_rollback=True):
            here = explain(conn, inner, rows, 0.0)
            there = explain(conn, inner, rows, 1.0)
            if here == there:
                return PlanCheck(inner.what, here, there)
            alpha = _change_point(conn, inner, rows, there)
            at = round(rows[table][0] * (rows[table][1] / rows[table][0]) ** alpha)
            ratio, note = _time_ratio(conn, inner, here, there)
            return PlanCheck(inner.what, here, there, at, ratio, note)
    except psycopg.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return PlanCheck(inner.what, (), (), note=f"not checked: {first}")


def _change_point(conn, inner: Inner, rows: dict, there: tuple) -> float:
    """The smallest α (rows^α of the way to production) whose plan is production's; bisection."""
    low, high = 0.0, 1.0
    for _ in range(BISECTIONS):
        middle = (low + high) / 2
        low, high = (low, middle) if explain(conn, inner, rows, middle) == there else (middle, high)
    return high


def explain(conn, inner: Inner, rows: dict, alpha: float) -> tuple[str, ...]:
    """The plan's nodes with every table's statistics at rehearsed × (production/rehearsed)^α rows."""
    with conn.transaction(force_rollback=True):
        for setting in inner.settings:
            conn.execute(setting)
        if alpha > 0:
            _scale(conn, rows, alpha)
        (plan,) = conn.execute(f"EXPLAIN (FORMAT JSON) {inner.sql}").fetchone()[0]
    return tuple(_nodes(plan["Plan"]))


def _scale(conn, rows: dict, alpha: float) -> None:
    query = (
        "SELECT pg_restore_relation_stats('schemaname', n.nspname::text, 'relname', c.relname::text, "
        "'reltuples', (c.reltuples * %s)::real) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.reltuples >= 0 AND (c.oid = %s::regclass "
        "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %s::regclass))"
    )
    for table, (rehearsed, production) in rows.items():
        conn.execute(query, ((production / rehearsed) ** alpha, table, table)).fetchall()
    f = max(production / rehearsed for rehearsed, production in rows.values()) ** alpha
    for name in PAGE_COSTS:
        conn.execute(f"SELECT set_config('{name}', (current_setting('{name}')::float8 * %s)::text, true)", (f,))
    for name in PAGE_COUNTS:  # in kB, as pg_size_bytes reads them
        conn.execute(
            f"SELECT set_config('{name}', greatest(8, round(pg_size_bytes(current_setting('{name}')) / 1024.0 / %s))"
            "::bigint || 'kB', true)",
            (f,),
        )


def _nodes(node: dict):
    yield _name(node)
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _name(node: dict) -> str:
    """As text EXPLAIN names it: 'Merge Anti Join', 'Update', 'Index Only Scan'."""
    kind, join = node["Node Type"], node.get("Join Type")
    if kind == "ModifyTable":
        return node.get("Operation", kind)
    if join and join != "Inner":
        return f"{kind[:-5]} {join} Join" if kind.endswith(" Join") else f"{kind} {join} Join"
    return kind


def _time_ratio(conn, inner: Inner, here: tuple, there: tuple) -> tuple[float | None, str | None]:
    """Production plan's time / rehearsed plan's at the rehearsed size, the production plan forced."""
    if not inner.reads_only:
        return None, "a writing statement is not run twice to time its plans"
    avoid = sorted({FORCE[b] for b in map(_base, set(here) - set(there)) if b in FORCE})
    if not avoid:
        return None, "the production plan cannot be forced at the rehearsed size"
    timed = []
    for settings in ((), tuple(f"SET LOCAL {name} = off" for name in avoid)):
        with conn.transaction(force_rollback=True):
            for setting in (*inner.settings, *settings):
                conn.execute(setting)
            if settings and explain(conn, inner, {}, 0.0) != there:
                return None, "the production plan could not be forced at the rehearsed size"
            timed.append(min(_run_ms(conn, inner.sql) for _ in range(2)))
    return timed[1] / max(timed[0], 1e-3), None


def _base(name: str) -> str:
    for join in (" Anti", " Semi", " Left", " Right", " Full"):
        name = name.replace(join, "")
    return "Nested Loop" if name.startswith("Nested Loop") else name


def _run_ms(conn, sql: str) -> float:
    (plan,) = conn.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}").fetchone()[0]
    return float(plan["Execution Time"])


def for_scaled(scaled, statements, server) -> dict[int, PlanCheck]:
    """The plan checks of a scaled rehearsal's statements that read or wrote a whole table, on a clone of its
    largest scale's template, at the production rows it projects to. A statement that failed at the largest
    scale (a deadlock with the traffic) is still checked there when it read or wrote all at a smaller one:
    the template is the same, only that run's luck was not."""
    from rehearse.extrapolate.production import qualified

    points = scaled.points
    heavy = set(points.loc[points["reads_all"] | points["writes_all"], "index"].astype(int))
    wanted = {int(i): t for i, t in zip(points["index"], points["table"]) if isinstance(t, str) and i in heavy}
    rehearsed = {qualified(t): n for t, n in scaled.largest.manifest.table_rows.items() if n}
    rows = {t: (n, scaled.production.rows[t]) for t, n in rehearsed.items() if scaled.production.rows.get(t)}
    if not wanted or not scaled.largest.manifest.dataset:
        return {}
    try:
        return check(server, scaled.largest.manifest.dataset, statements, wanted, heavy, rows)
    except (psycopg.Error, dbserver.RehearsalError):  # no clone to look at: the projection stays as fitted
        return {}
