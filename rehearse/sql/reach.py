"""Statements that reach outside the scratch database, found in the parse tree before anything runs.

A rehearsal runs on a throw-away copy; these statements act on the server around it — other databases,
roles, the server's configuration, its files and programs, other sessions, other servers — so a migration
containing one is refused unless `--allow-cluster-statements` is given (and then it runs as the
unprivileged migration role, which PostgreSQL stops). `SET ROLE` / `SET SESSION AUTHORIZATION` are only
marked here: whether the target role is a superuser is a property of the server, checked at run time.

Bodies of DO blocks and functions are strings the parser does not open; the roles are the defence there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pglast import ast
from pglast.enums import ObjectType

from rehearse.sql.lock_rules import as_node, walk

# Whole statements that act on the cluster (shared catalogues, configuration, tablespaces, libraries).
_STATEMENTS = {
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "AlterDatabaseStmt": "ALTER DATABASE",
    "AlterDatabaseSetStmt": "ALTER DATABASE",
    "AlterDatabaseRefreshCollStmt": "ALTER DATABASE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "CreateRoleStmt": "CREATE ROLE",
    "AlterRoleStmt": "ALTER ROLE",
    "AlterRoleSetStmt": "ALTER ROLE",
    "DropRoleStmt": "DROP ROLE",
    "GrantRoleStmt": "GRANT/REVOKE role membership",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
    "CreateForeignServerStmt": "CREATE SERVER",
    "CreateUserMappingStmt": "CREATE USER MAPPING",
    "LoadStmt": "LOAD",
}
_OBJECTS = {ObjectType.OBJECT_DATABASE: "DATABASE", ObjectType.OBJECT_ROLE: "ROLE"}
# Functions that signal other sessions, or read and write the server's files, or open connections.
_FUNCTIONS = {
    "pg_terminate_backend",
    "pg_cancel_backend",
    "lo_import",
    "lo_export",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_reload_conf",
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_connect_u",
    "dblink_send_query",
}
OUTSIDE_EXTENSIONS = {"dblink", "postgres_fdw", "file_fdw"}  # connect to other servers or read the server's files
_ROLE_SETTINGS = {"role": "SET ROLE", "session_authorization": "SET SESSION AUTHORIZATION"}


@dataclass(frozen=True)
class Reach:
    """One statement that reaches outside the scratch database, and what it does."""

    index: int
    phase: str  # up | down
    source: str
    line: int
    what: str  # 'DROP DATABASE', 'COPY … TO PROGRAM', 'pg_terminate_backend()', 'SET ROLE', …
    role: str | None = None  # for SET ROLE / SESSION AUTHORIZATION: refused only if it is a superuser

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"statement {self.index} ({self.phase}, {self.source}:{self.line})"
        if self.role is not None:
            return f"{where}: {self.what} {self.role} (refused if {self.role} is a superuser on the server)"
        return f"{where}: {self.what}"


def find(migration) -> list[Reach]:
    """Every such statement of the migration and of its rollback, in order."""
    found = _find(migration, "up")
    if migration.down is not None:
        found += _find(migration.down, "down")
    return found


def _find(migration, phase: str) -> list[Reach]:
    found = []
    for stmt in migration.statements:
        for what, role in _reaches(as_node(stmt.sql)):
            found.append(Reach(stmt.index, phase, stmt.source, stmt.line, what, role))
    return found


def _reaches(node) -> list[tuple[str, str | None]]:
    """(what, role) for each way the statement reaches out; the same `what` once."""
    seen: dict[str, str | None] = {}
    for sub in walk(node):
        for what, role in _node_reach(sub):
            seen.setdefault(what, role)
    return list(seen.items())


def _node_reach(node) -> list[tuple[str, str | None]]:
    name = type(node).__name__
    if name in _STATEMENTS:
        return [(_STATEMENTS[name], None)]
    check = _CHECKS.get(name)
    return check(node) if check else []


def _copy(node: ast.CopyStmt) -> list[tuple[str, str | None]]:
    if node.filename is None:
        return []  # COPY … FROM STDIN / TO STDOUT stays on the client connection
    direction = "FROM" if node.is_from else "TO"
    return [(f"COPY … {direction} PROGRAM" if node.is_program else f"COPY … {direction} a server file", None)]


def _function(node: ast.FuncCall) -> list[tuple[str, str | None]]:
    name = node.funcname[-1].sval
    if name in _FUNCTIONS:
        return [(f"{name}()", None)]
    if name == "set_config" and node.args and _const(node.args[0]) in _ROLE_SETTINGS:
        return [(f"set_config({_const(node.args[0])!r})", _const(node.args[1]) if len(node.args) > 1 else "?")]
    return []


def _set(node: ast.VariableSetStmt) -> list[tuple[str, str | None]]:
    if node.name not in _ROLE_SETTINGS or not node.args:
        return []  # RESET ROLE, SET ROLE NONE: back to the login role
    return [(_ROLE_SETTINGS[node.name], _const(node.args[0]) or "?")]


def _extension(node: ast.CreateExtensionStmt) -> list[tuple[str, str | None]]:
    return [(f"CREATE EXTENSION {node.extname}", None)] if node.extname in OUTSIDE_EXTENSIONS else []


def _rename(node: ast.RenameStmt) -> list[tuple[str, str | None]]:
    word = _OBJECTS.get(node.renameType)
    return [(f"ALTER {word} … RENAME", None)] if word else []


def _owner(node: ast.AlterOwnerStmt) -> list[tuple[str, str | None]]:
    word = _OBJECTS.get(node.objectType)
    return [(f"ALTER {word} … OWNER", None)] if word else []


def _const(node) -> str | None:
    value = getattr(node, "val", None)
    return getattr(value, "sval", None)


_CHECKS = {
    "CopyStmt": _copy,
    "FuncCall": _function,
    "VariableSetStmt": _set,
    "CreateExtensionStmt": _extension,
    "RenameStmt": _rename,
    "AlterOwnerStmt": _owner,
}
