"""What one run records, typed: the manifest of a RehearsalResult, read and written as manifest.json.

The JSON keys are the contract (old saved runs load, tools read them): `to_dict` writes exactly the keys
manifest.json has always had, `from_dict` reads them back, tolerating keys a run of another version wrote
or lacked. The stats bags (workload, sampler, dataset manifest, library versions) stay dicts: their keys
belong to the workload, the sampler and datagen, which document them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from rehearse.measure.config import RehearsalConfig
from rehearse.measure.rollback import RollbackReport


@dataclass(frozen=True)
class LongTransactionInfo:
    """The long transaction held from just before the migration (--long-transaction)."""

    table: str
    seconds: float
    pid: int | None = None
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class CompatibilityInfo:
    """How the application's queries were checked (--app-queries): method, period, the queries."""

    method: str
    interval: float
    queries: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class StateAfter:
    """The scratch database after the run, against its baseline."""

    schema_diff: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunManifest:
    """Everything a run records besides its frames: times on the run's clock, pids, what ran, on what."""

    run_id: str
    t0: float = 0.0  # traffic start: the origin of every plot
    migration_start: float = 0.0
    migration_end: float = 0.0
    migration_pid: int | None = None
    app_pids: list[int] = field(default_factory=list)
    workload_stats: dict = field(default_factory=dict)
    sampler_stats: dict = field(default_factory=dict)
    long_transaction: LongTransactionInfo | None = None
    compatibility: CompatibilityInfo | None = None
    replay: dict | None = None  # per app version, the replayed statements and those skipped (--workload)
    state_after: StateAfter | None = None
    rollback: RollbackReport | None = None
    migration: str | None = None  # the migration's name
    path: str | None = None  # where it was read from (a record only: a saved run never reads it again)
    sources: list[str] = field(default_factory=list)
    config: RehearsalConfig = field(default_factory=RehearsalConfig)
    dataset: str | None = None
    dataset_manifest: dict = field(default_factory=dict)
    scale: float | None = None
    seed: int | None = None
    scratch_database: str | None = None
    postgres_version: str | None = None
    server: str | None = None
    python: str | None = None
    libraries: dict = field(default_factory=dict)
    created_at: str | None = None
    leftovers_dropped: list[str] = field(default_factory=list)  # what killed runs had left (dbserver.leftovers)
    baseline_copy: dict = field(default_factory=dict)  # {wait_s, warm, waited_for_spare_s}: the fresh copy's wait
    roles: dict | None = None  # the roles the migration and the application logged in as
    cluster_statements: list = field(default_factory=list)  # statements reaching outside, allowed by the user
    host_cpu: dict | None = None  # {cpu_pressure, load, cpus} over the warm-up, the server on this machine (host.py)
    release: dict | None = None  # {review_id, number, of, name}: one migration of a release (rehearse review);
    # {review_id, remedy, name, statement, file, first, count}: a remedy of one of its statements

    @property
    def table_rows(self) -> dict:
        """The dataset's row count per table (unqualified names)."""
        return self.dataset_manifest.get("rows", {})

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["config"] = self.config.to_dict()
        for name in ("long_transaction", "state_after", "compatibility", "rollback"):
            data[name] = asdict(data[name]) if data[name] is not None else None
        for name in (
            "compatibility",
            "rollback",
            "replay",
            "release",
            "host_cpu",
        ):  # present only when the run had them
            if data[name] is None:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RunManifest:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        nested = dict(
            long_transaction=LongTransactionInfo,
            compatibility=CompatibilityInfo,
            state_after=StateAfter,
            rollback=RollbackReport,
        )
        for name, kind in nested.items():
            if values.get(name) is not None:
                values[name] = _typed(kind, values[name])
        values["config"] = config_from(data.get("config") or {})
        return cls(**values)


def config_from(data: dict) -> RehearsalConfig:
    """A saved config back as a RehearsalConfig (keys a later version dropped are ignored)."""
    return RehearsalConfig(**{k: v for k, v in data.items() if k in RehearsalConfig.names()})


def _typed(kind, data: dict):
    names = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in data.items() if k in names})
