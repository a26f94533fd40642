"""Keeping a rehearsal inside its scratch copy: statements that reach out are refused, the rest run as roles.

Static first (before the server is touched): a statement rehearse.sql.reach finds is refused unless
`allow_cluster_statements`. Then, on the server: the two ordinary roles (dbserver.roles), and the targets
of SET ROLE / SET SESSION AUTHORIZATION, refused when they are superusers there.
"""

from __future__ import annotations

import dbserver
from common.errors import BadInput
from rehearse.sql import reach

ALLOW = "--allow-cluster-statements"


def check_statements(migration, config) -> list[reach.Reach]:
    """Every statement that reaches outside; BadInput for the first one unless the config allows them."""
    found = reach.find(migration)
    _refuse([r for r in found if r.role is None], config, "reaches outside the scratch database")
    return found


def roles(server, found: list[reach.Reach], config) -> dbserver.Roles:
    """The roles the migration and the application log in as; SET ROLE to a superuser refused."""
    named = {r.role for r in found if r.role is not None}
    supers = set(dbserver.superusers(server, named)) if named else set()
    _refuse([r for r in found if r.role in supers or r.role == "?"], config, "switches to a superuser")
    return dbserver.ensure_roles(server, config.migration_role, config.app_role)


def _refuse(found: list[reach.Reach], config, problem: str) -> None:
    if not found or config.allow_cluster_statements:
        return
    more = f" (and {len(found) - 1} more: see `rehearse plan`)" if len(found) > 1 else ""
    raise BadInput(
        f"{found[0]} {problem}{more}; remove it, or give {ALLOW} to rehearse it anyway "
        "as the unprivileged migration role (PostgreSQL will refuse it there)"
    )
