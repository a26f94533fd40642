"""Verdict rules on the parse tree alone (R001–R008): what a migration will do, before anything runs."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, ObjectType

from rehearse.sql import locks as lockmodes
from rehearse.sql.lock_rules import as_node, in_schema, name, option_on, search_path_schema
from rehearse.sql.lock_rules import walk as _nodes  # one parse-tree walker for the lock and the finding rules
from rehearse.verdicts.base import Hit
from rehearse.verdicts.rules_constraints import RULES as CONSTRAINT_RULES
from rehearse.verdicts.walk import MigrationWalk

AEL = "AccessExclusiveLock"
# Defaults PostgreSQL must compute per row (so ADD COLUMN … DEFAULT rewrites); stable ones like now() do not.
VOLATILE = {
    "random",
    "gen_random_uuid",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "uuidv4",
    "uuidv7",
}


def hits(migration, lock_timeout_ms: int | None = None, level: str = "amber") -> list[Hit]:
    """Every static finding of the migration's statements, in statement order."""
    walk = MigrationWalk(migration, bool(lock_timeout_ms))
    found, schema = [], "public"
    for st in migration.statements:
        node = as_node(st.sql)
        with in_schema(schema):  # unqualified names where PostgreSQL resolves them after a SET search_path
            walk.before(st, node)
            for rule in RULES:
                found += [Hit(fid, level, why, st.index, "static", detail) for fid, why, detail in rule(walk, st, node)]
            walk.after(st, node)
        schema = search_path_schema(node) or schema
    return found


def _bare(relation: str) -> str:  # the table's name as a reason shows it
    return relation.removeprefix("public.")


def _altered(walk: MigrationWalk, node):
    """(table, command) for each ALTER TABLE subcommand on a table that existed before the migration."""
    if isinstance(node, ast.AlterTableStmt) and walk.existing(name(node.relation)):
        return [(name(node.relation), cmd) for cmd in node.cmds]
    return []


def _rewrite(walk, st, node):
    table_cmds = _altered(walk, node)
    found = [(t, why) for t, cmd in table_cmds if (why := _rewrite_reason(cmd))]
    if isinstance(node, ast.VacuumStmt) and option_on(node.options, "full"):
        found += [(name(r.relation), "VACUUM FULL") for r in node.rels or () if r.relation]
    if isinstance(node, ast.ClusterStmt) and node.relation:
        found.append((name(node.relation), "CLUSTER"))
    return [
        (
            "R001-table-rewrite",
            f"rewrites {t} ({why}): PostgreSQL copies the table and rebuilds its "
            f"indexes under AccessExclusiveLock, so reads and writes of {_bare(t)} wait for the whole copy",
            {"table": t},
        )
        for t, why in found
        if walk.existing(t)
    ]


def _rewrite_reason(cmd: ast.AlterTableCmd) -> str | None:
    if cmd.subtype == AT.AT_AlterColumnType:
        return f"type change of column {cmd.name}, unless the new type is binary-coercible"
    if cmd.subtype in (AT.AT_SetLogged, AT.AT_SetUnLogged, AT.AT_SetAccessMethod):
        return cmd.subtype.name.removeprefix("AT_")
    if cmd.subtype == AT.AT_AddColumn:
        for c in cmd.def_.constraints or ():
            if c.contype == ConstrType.CONSTR_GENERATED and c.generated_kind == "s":
                return f"stored generated column {cmd.def_.colname}"
            if c.contype == ConstrType.CONSTR_IDENTITY:
                return f"identity column {cmd.def_.colname}"
            if c.contype == ConstrType.CONSTR_DEFAULT and _volatile(c.raw_expr):
                return f"column {cmd.def_.colname} with a volatile default"
    return None


def _volatile(expr) -> bool:
    return any(isinstance(n, ast.FuncCall) and n.funcname[-1].sval in VOLATILE for n in _nodes(expr))


def _held(walk, st, node):
    later = walk.later_work(st)
    tables = [lock.relation for lock in st.expected_locks if lock.mode == AEL and walk.existing(lock.relation)]
    if not later or not tables:
        return []
    t = tables[0]
    return [
        (
            "R002-access-exclusive-held",
            f"takes AccessExclusiveLock on {t} and keeps it while statement "
            f"{later.index} ({later.kind}) runs: every read and write of {_bare(t)} waits until COMMIT",
            {"table": t, "until": later.index},
        )
    ]


def _index(walk, st, node):
    if not isinstance(node, ast.IndexStmt) or node.concurrent or not walk.existing(name(node.relation)):
        return []
    t = name(node.relation)
    return [
        (
            "R003-blocking-index-build",
            f"builds index {node.idxname or '(unnamed)'} on {t} without "
            f"CONCURRENTLY: ShareLock blocks every write to {_bare(t)} for the whole build",
            {"table": t},
        )
    ]


def _foreign_key(walk, st, node):
    out = []
    for t, cmd in _altered(walk, node):
        c = cmd.def_
        if (
            cmd.subtype == AT.AT_AddConstraint
            and isinstance(c, ast.Constraint)
            and c.contype == ConstrType.CONSTR_FOREIGN
            and not c.skip_validation
        ):
            out.append(
                (
                    "R004-fk-validated-in-place",
                    f"adds foreign key {c.conname or ''} from {t} to "
                    f"{name(c.pktable)} without NOT VALID: writes to both tables wait while every row is "
                    "checked, and one orphan fails the migration (23503)",
                    {"table": t},
                )
            )
    return out


def _not_null(walk, st, node):
    return [
        (
            "R005-not-null-scan",
            f"sets {t}.{cmd.name} NOT NULL with no validated CHECK ({cmd.name} IS NOT "
            f"NULL) before it: PostgreSQL scans every row under AccessExclusiveLock, and one NULL fails the "
            "migration (23502)",
            {"table": t},
        )
        for t, cmd in _altered(walk, node)
        if cmd.subtype == AT.AT_SetNotNull and (t, cmd.name) not in walk.checked_columns
    ]


def _backfill(walk, st, node):
    if not isinstance(node, (ast.UpdateStmt, ast.DeleteStmt)) or node.whereClause is not None:
        return []
    t = name(node.relation)
    if not walk.existing(t):
        return []
    verb = "updates" if isinstance(node, ast.UpdateStmt) else "deletes"
    holder = holds_access_exclusive(walk.statements, st, t)
    reason = f"{verb} every row of {t} in one transaction"
    if holder:
        reason += (
            f" while statement {holder.index} holds AccessExclusiveLock on it: nobody reads or writes "
            f"{_bare(t)} until COMMIT"
        )
    return [("R006-single-transaction-backfill", reason, {"table": t, "under": holder and holder.index})]


def holds_access_exclusive(statements, st, table: str):
    """The earlier statement of st's transaction that took AccessExclusiveLock on `table`, or None."""
    if not st.transaction:
        return None
    return next(
        (
            s
            for s in statements
            if s.transaction == st.transaction
            and s.index < st.index
            and any(lock.relation == table and lock.mode == AEL for lock in s.expected_locks)
        ),
        None,
    )


def _incompatible(walk, st, node):
    out = []
    if isinstance(node, ast.RenameStmt) and node.relation and walk.existing(name(node.relation)):
        t = name(node.relation)
        if node.renameType == ObjectType.OBJECT_COLUMN:
            out.append((t, f"renames column {t}.{node.subname} to {node.newname}", node.subname, "42703"))
        elif node.renameType == ObjectType.OBJECT_TABLE:
            out.append((t, f"renames table {t} to {node.newname}", _bare(t), "42P01"))
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        dropped = [_qualified(".".join(p.sval for p in o)) for o in node.objects]
        out += [(t, f"drops table {t}", _bare(t), "42P01") for t in dropped if walk.existing(t)]
    for t, cmd in _altered(walk, node):
        if cmd.subtype == AT.AT_DropColumn:
            out.append((t, f"drops column {t}.{cmd.name}", cmd.name, "42703"))
        elif cmd.subtype == AT.AT_AlterColumnType:
            out.append((t, f"changes the type of {t}.{cmd.name}", cmd.name, "42804/42883"))
    return [
        (
            "R007-app-incompatible",
            f"{what}: queries of the running application that use {used} fail ({code}) until it is redeployed",
            {"table": t},
        )
        for t, what, used, code in out
    ]


def _qualified(relation: str) -> str:
    return relation if "." in relation else f"public.{relation}"


def _no_timeout(walk, st, node):
    if walk.has_timeout(st):
        return []
    blocking = [
        lock for lock in st.expected_locks if lockmodes.blocks_writes(lock.mode) and walk.existing(lock.relation)
    ]
    if not blocking:
        return []
    lock = max(blocking, key=lambda lk: lockmodes.rank(lk.mode))
    return [
        (
            "R008-no-lock-timeout",
            f"takes {lock.mode} on {lock.relation} with no lock_timeout set: if a long "
            f"transaction holds {_bare(lock.relation)}, the migration waits in the lock queue and every query "
            "behind it waits too",
            {"table": lock.relation},
        )
    ]


RULES = (_rewrite, _held, _index, _foreign_key, _not_null, _backfill, _incompatible, _no_timeout, *CONSTRAINT_RULES)
