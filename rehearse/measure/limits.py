"""What the server allows, checked before a rehearsal starts: enough free connections, the right to create
databases. Each problem is one BadInput line with its fix, instead of a failure half way through a run."""

from __future__ import annotations

from common.errors import BadInput

# Connections a rehearsal opens besides the application's clients: executor, sampler, compatibility probe,
# long transaction, clone/drop and state snapshots, the lock that keeps spare copies out (dbserver.warm.quiet),
# with one to spare.
OWN_CONNECTIONS = 7

_FREE = """
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int
         + coalesce(current_setting('reserved_connections', true)::int, 0),
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
       (SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user),
       current_user
"""


def check_server(server, clients: int) -> None:
    """Refuse a rehearsal the server cannot host: too many clients, or a role that cannot clone."""
    with server.connect() as conn:
        limit, reserved, used, can_create, role = conn.execute(_FREE).fetchone()
    if not can_create:
        raise BadInput(
            f"role {role} may not create databases, and every rehearsal runs on a fresh copy; "
            f"ALTER ROLE {role} CREATEDB, or connect with --dsn as a role that has CREATEDB"
        )
    free = limit - reserved - used - OWN_CONNECTIONS
    if clients > free:
        raise BadInput(
            f"--clients {clients} is more than the server can take: max_connections is {limit}, {reserved} "
            f"reserved, {used} in use, and the rehearsal needs {OWN_CONNECTIONS} of its own; "
            f"use --clients {max(free, 1)} or fewer, or raise max_connections"
        )
