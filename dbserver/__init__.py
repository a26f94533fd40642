"""Where PostgreSQL comes from (embedded or a URL) and the databases this tool owns on it."""

from common.errors import BadInput, NotEnoughDisk, NotOurDatabase, RehearsalError, ServerUnavailable
from dbserver.control import start, status, stop
from dbserver.databases import (
    clone,
    create,
    drop,
    exists,
    left_behind,
    list_owned,
    ownership,
    rename,
    require_owned,
)
from dbserver.dsn import mask, mask_text
from dbserver.handover import clone_for, hand_over
from dbserver.roles import Roles, ensure_roles, superusers
from dbserver.server import Server, open_server

__all__ = [
    "Server",
    "open_server",
    "clone",
    "create",
    "drop",
    "exists",
    "left_behind",
    "list_owned",
    "ownership",
    "rename",
    "require_owned",
    "mask",
    "mask_text",
    "start",
    "stop",
    "status",
    "Roles",
    "ensure_roles",
    "superusers",
    "clone_for",
    "hand_over",
    "RehearsalError",
    "BadInput",
    "NotEnoughDisk",
    "NotOurDatabase",
    "ServerUnavailable",
]
