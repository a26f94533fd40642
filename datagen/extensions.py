"""Which server has an extension the rehearsal server lacks: Debian's PostgreSQL 15 with its packages."""

from __future__ import annotations

BIN = "/usr/lib/postgresql/15/bin"
CONTRIB = "postgresql-15 (contrib)"
# Extensions outside contrib, and the Debian package that ships each (`make postgres15-extensions`).
PACKAGES = {
    "postgis": "postgresql-15-postgis-3",
    "postgis_topology": "postgresql-15-postgis-3",
    "postgis_raster": "postgresql-15-postgis-3",
    "postgis_tiger_geocoder": "postgresql-15-postgis-3",
    "address_standardizer": "postgresql-15-postgis-3",
    "pg_partman": "postgresql-15-partman",
}


def missing_message(missing: list[str], server_display: str) -> str:
    """One line: which extensions, which server would have them, and exactly the flag to use."""
    where = ", ".join(f"{name} in {PACKAGES.get(name, CONTRIB)}" for name in missing)
    return (
        f"the schema needs extension(s) {', '.join(missing)}, which {server_display} lacks; Debian has "
        f"{where} (`make postgres15-extensions`): rehearse there with --postgres-bin {BIN}"
    )
