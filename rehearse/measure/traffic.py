"""Which application the rehearsal runs: the built-in order service, or the user's statements replayed
(--workload FILE, --app-versions A,B), and which of its queries the compatibility probe checks."""

from __future__ import annotations

from common.errors import BadInput
from datagen.profile import model as profile_model
from rehearse.measure import compatibility
from rehearse.measure.config import RehearsalConfig
from rehearse.measure.replay import tables
from rehearse.measure.replay.app import ReplayApp
from rehearse.measure.transactions import QUERIES
from rehearse.measure.workload import query_sets


def replay_apps(config: RehearsalConfig) -> dict | None:
    """Version → ReplayApp for --workload FILE or --app-versions FILE,FILE; None = the built-in app."""
    files = [name.strip() for name in config.app_versions.split(",")]
    if all(name in QUERIES for name in files):
        query_sets(config.app_versions)  # built-in query sets: refused here when repeated
        if config.workload is None:
            return None
        if files != ["current"]:
            raise BadInput("--workload replays one application; give two workload files as --app-versions A,B")
        files = [config.workload]
    if len(files) > 2 or any(name in QUERIES for name in files):
        raise BadInput(
            f"--app-versions {config.app_versions}: give current,new or two workload files, e.g. current.csv,new.csv"
        )
    return {version: _app(name, config) for version, name in zip(("current", "new"), files)}


def _app(name: str, config: RehearsalConfig) -> ReplayApp:
    if name != tables.WORKLOAD:
        return ReplayApp(name, read_only=config.read_only_workload)
    if not config.profile:
        raise BadInput("--workload tables builds its application from a profile's table rates; give --profile FILE")
    return tables.TablesApp(profile_model.load(config.profile), read_only=config.read_only_workload)


def app_queries_of(config: RehearsalConfig, apps: dict | None) -> list:
    """--app-queries workload checks the statements replayed, when replaying, else the built-in app's."""
    if config.app_queries != compatibility.WORKLOAD or apps is None:
        return compatibility.load(config.app_queries, config.app_versions)
    return [
        compatibility.AppQuery(f"{version}:{s.kind}", s.sql, compatibility.count_parameters(s.sql))
        for version, app in apps.items()
        for s in app.statements.values()
    ]
