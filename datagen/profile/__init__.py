"""Profiles of production: its schema and planner statistics, never its rows, read from a server in a
read-only session or from pg_dump files; the input of the generator for any schema."""

from datagen.profile.files import from_files
from datagen.profile.model import VERSION, Column, Holds, Profile, Query, Rates, Reference, Source, Table, load
from datagen.profile.server import from_server

__all__ = [
    "Column",
    "Holds",
    "Profile",
    "Query",
    "Rates",
    "Reference",
    "Source",
    "Table",
    "VERSION",
    "from_files",
    "from_server",
    "load",
]
