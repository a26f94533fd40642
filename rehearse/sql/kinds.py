"""What a parsed statement is: a short kind tag, and whether it may run inside a transaction block."""

from __future__ import annotations

import re

from pglast import ast
from pglast.enums import ObjectType, ReindexObjectType
from pglast.enums import TransactionStmtKind as TK

from rehearse.sql.lock_rules import option_on

_TRANSACTION_KINDS = {
    TK.TRANS_STMT_BEGIN: "BEGIN",
    TK.TRANS_STMT_START: "BEGIN",
    TK.TRANS_STMT_COMMIT: "COMMIT",
    TK.TRANS_STMT_ROLLBACK: "ROLLBACK",
    TK.TRANS_STMT_SAVEPOINT: "SAVEPOINT",
    TK.TRANS_STMT_RELEASE: "RELEASE",
    TK.TRANS_STMT_ROLLBACK_TO: "ROLLBACK TO",
    TK.TRANS_STMT_PREPARE: "PREPARE TRANSACTION",
    TK.TRANS_STMT_COMMIT_PREPARED: "COMMIT PREPARED",
    TK.TRANS_STMT_ROLLBACK_PREPARED: "ROLLBACK PREPARED",
}
_OBJECT_WORDS = {
    ObjectType.OBJECT_MATVIEW: "MATERIALIZED VIEW",
    ObjectType.OBJECT_STATISTIC_EXT: "STATISTICS",
    ObjectType.OBJECT_TABCONSTRAINT: "TABLE",
    ObjectType.OBJECT_COLUMN: "TABLE",
    ObjectType.OBJECT_FDW: "FOREIGN DATA WRAPPER",
    ObjectType.OBJECT_FOREIGN_SERVER: "SERVER",
}
_FIXED_KINDS = {
    "IndexStmt": "CREATE INDEX",
    "CreateStmt": "CREATE TABLE",
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
    "SelectStmt": "SELECT",
    "ReindexStmt": "REINDEX",
    "ClusterStmt": "CLUSTER",
    "LockStmt": "LOCK TABLE",
    "TruncateStmt": "TRUNCATE",
    "CommentStmt": "COMMENT",
    "CreateTrigStmt": "CREATE TRIGGER",
    "RuleStmt": "CREATE RULE",
    "ViewStmt": "CREATE VIEW",
    "CreateSeqStmt": "CREATE SEQUENCE",
    "AlterSeqStmt": "ALTER SEQUENCE",
    "AlterEnumStmt": "ALTER TYPE",
    "CreateEnumStmt": "CREATE TYPE",
    "CompositeTypeStmt": "CREATE TYPE",
    "CreateDomainStmt": "CREATE DOMAIN",
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW",
    "CopyStmt": "COPY",
    "CreateStatsStmt": "CREATE STATISTICS",
    "CreateExtensionStmt": "CREATE EXTENSION",
    "CreateSchemaStmt": "CREATE SCHEMA",
    "CallStmt": "CALL",
    "DoStmt": "DO",
    "CreatePolicyStmt": "CREATE POLICY",
    "AlterPolicyStmt": "ALTER POLICY",
    "VariableShowStmt": "SHOW",
    "ExplainStmt": "EXPLAIN",
    "AlterDatabaseStmt": "ALTER DATABASE",
}


def kind(node: ast.Node) -> str:
    """A short tag like PostgreSQL's command tags: 'ALTER TABLE', 'CREATE INDEX', 'UPDATE', 'BEGIN'."""
    special = _SPECIAL_KINDS.get(type(node).__name__)
    if special:
        return special(node)
    return _FIXED_KINDS.get(type(node).__name__) or _from_class_name(type(node).__name__)


def _from_class_name(name: str) -> str:
    # CreateFooBarStmt -> 'CREATE FOO BAR': a readable fallback for the statements nobody listed above.
    return " ".join(re.findall(r"[A-Z][a-z]*", name.removesuffix("Stmt"))).upper()


def _object_word(object_type) -> str:
    return _OBJECT_WORDS.get(object_type) or object_type.name.removeprefix("OBJECT_").replace("_", " ")


def _vacuum_kind(node: ast.VacuumStmt) -> str:
    return "VACUUM" if node.is_vacuumcmd else "ANALYZE"


def _routine_kind(node: ast.CreateFunctionStmt) -> str:
    return "CREATE PROCEDURE" if node.is_procedure else "CREATE FUNCTION"


def _as_kind(node: ast.CreateTableAsStmt) -> str:
    return "CREATE MATERIALIZED VIEW" if node.objtype == ObjectType.OBJECT_MATVIEW else "CREATE TABLE AS"


def _rename_kind(node: ast.RenameStmt) -> str:
    # RENAME COLUMN / CONSTRAINT / ATTRIBUTE belong to the command of the object they sit on.
    on_parent = node.renameType in (
        ObjectType.OBJECT_COLUMN,
        ObjectType.OBJECT_TABCONSTRAINT,
        ObjectType.OBJECT_ATTRIBUTE,
    )
    return f"ALTER {_object_word(node.relationType if on_parent else node.renameType)}"


_SPECIAL_KINDS = {
    "TransactionStmt": lambda n: _TRANSACTION_KINDS[n.kind],
    "AlterTableStmt": lambda n: f"ALTER {_object_word(n.objtype)}",
    "RenameStmt": _rename_kind,
    "AlterObjectSchemaStmt": lambda n: f"ALTER {_object_word(n.objectType)}",
    "DropStmt": lambda n: f"DROP {_object_word(n.removeType)}",
    "VacuumStmt": _vacuum_kind,
    "CreateFunctionStmt": _routine_kind,
    "CreateTableAsStmt": _as_kind,
    "VariableSetStmt": lambda n: "RESET" if n.kind.name.startswith("VAR_RESET") else "SET",
    "GrantStmt": lambda n: "GRANT" if n.is_grant else "REVOKE",
}


def runs_in_transaction(node: ast.Node) -> bool:
    """False for statements PostgreSQL refuses inside a transaction block (they must run on their own).

    Per the reference pages: CREATE/DROP INDEX CONCURRENTLY, REINDEX … CONCURRENTLY and REINDEX
    SCHEMA/DATABASE/SYSTEM, VACUUM (not ANALYZE), CLUSTER without a table, DETACH PARTITION CONCURRENTLY,
    CREATE/DROP DATABASE, ALTER DATABASE SET TABLESPACE, ALTER SYSTEM, CREATE/DROP TABLESPACE,
    COMMIT/ROLLBACK PREPARED, and CREATE/DROP SUBSCRIPTION (refused when they touch a replication slot;
    running them alone is always safe). ALTER TYPE … ADD VALUE may run in a block since PostgreSQL 12.
    """
    rule = _OUTSIDE_RULES.get(type(node).__name__)
    return not (rule(node) if rule else False)


def _reindex_outside(node: ast.ReindexStmt) -> bool:
    whole = node.kind in (
        ReindexObjectType.REINDEX_OBJECT_SCHEMA,
        ReindexObjectType.REINDEX_OBJECT_DATABASE,
        ReindexObjectType.REINDEX_OBJECT_SYSTEM,
    )
    return whole or option_on(node.params, "concurrently")


def _detach_concurrently(node: ast.AlterTableStmt) -> bool:
    return any(isinstance(c.def_, ast.PartitionCmd) and c.def_.concurrent for c in node.cmds)


_ALWAYS_OUTSIDE = (
    "CreatedbStmt",
    "DropdbStmt",
    "AlterSystemStmt",
    "CreateTableSpaceStmt",
    "DropTableSpaceStmt",
    "CreateSubscriptionStmt",
    "DropSubscriptionStmt",
)
_OUTSIDE_RULES = {
    **{name: (lambda n: True) for name in _ALWAYS_OUTSIDE},
    "IndexStmt": lambda n: n.concurrent,
    "DropStmt": lambda n: n.concurrent,
    "ReindexStmt": _reindex_outside,
    "VacuumStmt": lambda n: n.is_vacuumcmd,
    "ClusterStmt": lambda n: n.relation is None,
    "AlterTableStmt": _detach_concurrently,
    "AlterDatabaseStmt": lambda n: any(d.defname == "tablespace" for d in n.options or ()),
    "TransactionStmt": lambda n: n.kind in (TK.TRANS_STMT_COMMIT_PREPARED, TK.TRANS_STMT_ROLLBACK_PREPARED),
}
