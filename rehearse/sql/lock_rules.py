"""Parse tree → (relation, lock mode) pairs, following PostgreSQL's documented table-level locking.

Sources: the docs' "Explicit Locking" (which command takes which mode), the ALTER TABLE page and
tablecmds.c's AlterTableGetLockLevel (per subcommand; a statement takes the strongest of them).
What the parse tree cannot tell, and so is not listed: locks on objects found through the catalogue —
the table under a dropped or reindexed index, the indexes of REINDEX TABLE (each AccessExclusiveLock
while rebuilt), the tables referenced by foreign keys of a dropped table, the referenced table of a
VALIDATE CONSTRAINT on a foreign key (RowShareLock), and the tables behind views or inside functions.
Unqualified names are reported in the schema PostgreSQL would resolve them to: the first schema of the
search_path the migration set (`SET search_path TO billing, public`), else 'public', the default.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

import pglast
from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, ObjectType, ReindexObjectType

from rehearse.sql.locks import MODES

ASL, RSL, REL, SUEL, SL, SREL, EL, AEL = MODES
# Where an unqualified name lives: set by expected_locks for one statement, read by name() deep in the walk
# (threading it through every rule would add a parameter to each of them for one string).
_SCHEMA: ContextVar[str] = ContextVar("default_schema", default="public")

_SUE_SUBCOMMANDS = {
    AT.AT_SetStatistics,
    AT.AT_ClusterOn,
    AT.AT_DropCluster,
    AT.AT_SetOptions,
    AT.AT_ResetOptions,
    AT.AT_ValidateConstraint,
    AT.AT_AttachPartition,
    AT.AT_DetachPartitionFinalize,
}
_TRIGGER_SUBCOMMANDS = {
    AT.AT_EnableTrig,
    AT.AT_EnableAlwaysTrig,
    AT.AT_EnableReplicaTrig,
    AT.AT_EnableTrigAll,
    AT.AT_EnableTrigUser,
    AT.AT_DisableTrig,
    AT.AT_DisableTrigAll,
    AT.AT_DisableTrigUser,
}
# Storage parameters that change only maintenance strategy take ShareUpdateExclusiveLock (reloptions.c);
# any other (views' security_barrier, user_catalog_table, …) takes AccessExclusiveLock.
_SUE_RELOPTIONS = {
    "fillfactor",
    "parallel_workers",
    "toast_tuple_target",
    "vacuum_index_cleanup",
    "vacuum_truncate",
    "log_autovacuum_min_duration",
}
_RELATION_OBJECTS = {
    ObjectType.OBJECT_TABLE,
    ObjectType.OBJECT_INDEX,
    ObjectType.OBJECT_VIEW,
    ObjectType.OBJECT_MATVIEW,
    ObjectType.OBJECT_SEQUENCE,
    ObjectType.OBJECT_FOREIGN_TABLE,
}
# Objects that hang off a table: dropping them locks the table (objects end with their own name).
_TABLE_CHILD_OBJECTS = {ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_RULE, ObjectType.OBJECT_POLICY}


def as_node(stmt):
    """Accept a pglast statement node, a RawStmt, or the text of exactly one statement."""
    if isinstance(stmt, str):
        parsed = pglast.parse_sql(stmt)
        if len(parsed) != 1:
            raise ValueError(f"expected exactly one SQL statement, got {len(parsed)}")
        stmt = parsed[0]
    return stmt.stmt if isinstance(stmt, ast.RawStmt) else stmt


def derive(node) -> list[tuple[str, str]]:
    """All (relation, mode) pairs the statement takes, target first; a relation may repeat."""
    rule = _RULES.get(type(node).__name__)
    return rule(node) if rule else []


def name(rv: ast.RangeVar) -> str:
    return f"{rv.schemaname or _SCHEMA.get()}.{rv.relname}"


def _dotted(names) -> str:
    parts = [n.sval for n in names]
    return ".".join(parts if len(parts) > 1 else [_SCHEMA.get(), *parts])


@contextlib.contextmanager
def in_schema(schema: str):
    """Within it, name() puts unqualified relations in `schema` (where the search_path in force puts them)."""
    token = _SCHEMA.set(schema)
    try:
        yield
    finally:
        _SCHEMA.reset(token)


def search_path_schema(node) -> str | None:
    """The schema unqualified names resolve to after this statement, when it sets search_path, else None.

    The first schema listed, skipping "$user" (no such schema in a rehearsal); RESET gives back 'public'.
    """
    node = as_node(node)
    if not isinstance(node, ast.VariableSetStmt) or node.name != "search_path":
        return None
    listed = [a.val.sval for a in node.args or () if isinstance(a, ast.A_Const) and hasattr(a.val, "sval")]
    return next((schema for schema in listed if schema.lstrip("\\") != "$user"), "public")


def walk(value):
    if isinstance(value, ast.Node):
        yield value
        for slot in value.__slots__:
            yield from walk(getattr(value, slot))
    elif isinstance(value, tuple):
        for item in value:
            yield from walk(item)


def _query(node) -> list[tuple[str, str]]:
    """Any statement with a query in it: DML targets RowExclusive, FOR UPDATE/SHARE RowShare, reads AccessShare."""
    nodes = list(walk(node))
    ctes = {n.ctename for n in nodes if isinstance(n, ast.CommonTableExpr)}
    targets = {
        id(n.relation) for n in nodes if isinstance(n, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt))
    }
    # Not tables read: SELECT INTO's new table, and the names (often aliases) listed in FOR UPDATE OF.
    skip = {id(n.rel) for n in nodes if isinstance(n, ast.IntoClause)}
    skip |= {id(rv) for n in nodes if isinstance(n, ast.LockingClause) for rv in n.lockedRels or ()}
    tables = [
        n
        for n in nodes
        if isinstance(n, ast.RangeVar) and id(n) not in skip and (n.schemaname or n.relname not in ctes)
    ]
    locked = _locked_for_update(nodes, tables)
    return [(name(t), REL if id(t) in targets else RSL if id(t) in locked else ASL) for t in tables]


def _locked_for_update(nodes, tables) -> set[int]:
    clauses = [n for n in nodes if isinstance(n, ast.LockingClause)]
    if any(not c.lockedRels for c in clauses):  # bare FOR UPDATE locks every table read
        return {id(t) for t in tables}
    wanted = {rv.relname for c in clauses for rv in c.lockedRels}  # names or aliases
    return {id(t) for t in tables if t.relname in wanted or (t.alias and t.alias.aliasname in wanted)}


def _alter_table(node: ast.AlterTableStmt) -> list[tuple[str, str]]:
    table = name(node.relation)
    return [pair for cmd in node.cmds for pair in [(table, _subcommand_mode(cmd)), *_subcommand_others(cmd)]]


def _subcommand_mode(cmd: ast.AlterTableCmd) -> str:
    kind = cmd.subtype
    if kind in _SUE_SUBCOMMANDS:
        return SUEL
    if kind in _TRIGGER_SUBCOMMANDS:
        return SREL
    if kind == AT.AT_AddConstraint and _is_foreign_key(cmd.def_):
        return SREL  # FK adds triggers to both tables: as strong as CREATE TRIGGER, no stronger
    if kind == AT.AT_DetachPartition:
        return SUEL if cmd.def_.concurrent else AEL
    if kind in (AT.AT_SetRelOptions, AT.AT_ResetRelOptions):
        return SUEL if all(_maintenance_option(d) for d in cmd.def_) else AEL
    return AEL


def _subcommand_others(cmd: ast.AlterTableCmd) -> list[tuple[str, str]]:
    """Locks on tables other than the altered one: FK targets, partitions attached or detached."""
    if cmd.subtype == AT.AT_AttachPartition:
        return [(name(cmd.def_.name), AEL)]
    if cmd.subtype == AT.AT_DetachPartition:
        return [(name(cmd.def_.name), SUEL if cmd.def_.concurrent else AEL)]
    return [(name(c.pktable), SREL) for c in walk(cmd.def_) if _is_foreign_key(c)]


def _is_foreign_key(node) -> bool:
    return isinstance(node, ast.Constraint) and node.contype == ConstrType.CONSTR_FOREIGN


def _maintenance_option(d: ast.DefElem) -> bool:
    return d.defnamespace == "toast" or d.defname.startswith("autovacuum_") or d.defname in _SUE_RELOPTIONS


def _create_table(node: ast.CreateStmt) -> list[tuple[str, str]]:
    # A partition needs the parent's partition descriptor to change atomically (AccessExclusive);
    # plain inheritance only needs to stop concurrent children being added (ShareUpdateExclusive).
    parent_mode = AEL if node.partbound else SUEL
    parents = [(name(p), parent_mode) for p in node.inhRelations or ()]
    referenced = [(name(c.pktable), SREL) for c in walk(node.tableElts) if _is_foreign_key(c)]
    return [(name(node.relation), AEL), *parents, *referenced]


def _drop(node: ast.DropStmt) -> list[tuple[str, str]]:
    mode = SUEL if node.concurrent else AEL
    if node.removeType in _RELATION_OBJECTS:
        return [(_dotted(names), mode) for names in node.objects]
    if node.removeType in _TABLE_CHILD_OBJECTS:
        return [(_dotted(names[:-1]), AEL) for names in node.objects]
    return []


def _comment(node: ast.CommentStmt) -> list[tuple[str, str]]:
    if node.objtype in _RELATION_OBJECTS:
        return [(_dotted(node.object), SUEL)]
    if node.objtype == ObjectType.OBJECT_COLUMN:
        return [(_dotted(node.object[:-1]), SUEL)]
    return []


def _vacuum(node: ast.VacuumStmt) -> list[tuple[str, str]]:
    full = node.is_vacuumcmd and option_on(node.options, "full")
    return [(name(r.relation), AEL if full else SUEL) for r in node.rels or () if r.relation]


def _reindex(node: ast.ReindexStmt) -> list[tuple[str, str]]:
    if node.relation is None:  # SCHEMA / DATABASE / SYSTEM: the tables are in the catalogue
        return []
    if option_on(node.params, "concurrently"):
        return [(name(node.relation), SUEL)]
    # The index being rebuilt is locked AccessExclusive; its table only against writes (ShareLock).
    return [(name(node.relation), AEL if node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX else SL)]


def _rename(node: ast.RenameStmt) -> list[tuple[str, str]]:
    if node.relation is None:
        return []
    # Since PostgreSQL 12, renaming an index takes only ShareUpdateExclusiveLock.
    return [(name(node.relation), SUEL if node.renameType == ObjectType.OBJECT_INDEX else AEL)]


def option_on(options, option: str) -> bool:
    """Whether a (FULL, CONCURRENTLY, …) option list turns `option` on; a bare option means true."""
    for d in options or ():
        if d.defname == option:
            value = getattr(d.arg, "sval", getattr(d.arg, "boolval", getattr(d.arg, "ival", True)))
            return str(value).lower() not in ("false", "off", "0", "no")
    return False


def _one(attr: str, mode: str):
    return lambda node: [(name(getattr(node, attr)), mode)] if getattr(node, attr) else []


def _many(attr: str, mode: str):
    return lambda node: [(name(rv), mode) for rv in getattr(node, attr) or ()]


_RULES = {
    "AlterTableStmt": _alter_table,
    "CreateStmt": _create_table,
    "DropStmt": _drop,
    "CommentStmt": _comment,
    "VacuumStmt": _vacuum,
    "ReindexStmt": _reindex,
    "RenameStmt": _rename,
    "IndexStmt": lambda n: [(name(n.relation), SUEL if n.concurrent else SL)],
    "LockStmt": lambda n: [(name(rv), MODES[n.mode - 1]) for rv in n.relations],
    "TruncateStmt": _many("relations", AEL),
    "ClusterStmt": _one("relation", AEL),
    "AlterObjectSchemaStmt": _one("relation", AEL),
    "CreateTrigStmt": _one("relation", SREL),
    "RuleStmt": _one("relation", AEL),
    "CreatePolicyStmt": _one("table", AEL),
    "AlterPolicyStmt": _one("table", AEL),
    "CreateStatsStmt": _many("relations", SUEL),
    "RefreshMatViewStmt": lambda n: [(name(n.relation), EL if n.concurrent else AEL)],
    "CopyStmt": lambda n: _one("relation", REL if n.is_from else ASL)(n) + _query(n.query),
    "SelectStmt": _query,
    "InsertStmt": _query,
    "UpdateStmt": _query,
    "DeleteStmt": _query,
    "MergeStmt": _query,
    "CreateTableAsStmt": lambda n: _query(n.query),
    "ViewStmt": lambda n: [(name(n.view), AEL), *_query(n.query)],
}
