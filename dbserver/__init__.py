"""Where PostgreSQL comes from (embedded or a URL) and the databases this tool owns on it."""
from .databases import clone, create, drop, exists, list_owned, ownership, rename, require_owned
from .dsn import mask
from .errors import BadInput, NotEnoughDisk, NotOurDatabase, RehearsalError, ServerUnavailable
from .server import Server, open_server

__all__ = ["Server", "open_server", "clone", "create", "drop", "exists", "list_owned", "ownership",
           "rename", "require_owned", "mask", "RehearsalError", "BadInput", "NotEnoughDisk",
           "NotOurDatabase", "ServerUnavailable"]
