"""One rehearsal's parameters: the names are shared by the CLI flags, the notebooks and the manifest."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

import datagen
from common.errors import BadInput
from rehearse.measure.transactions import QUERIES
from rehearse.sql.script import DEFAULT_MAX_MB

DIRT_FIELDS = ("dirt_orphan_items", "dirt_duplicate_emails", "dirt_null_currency", "dirt_bad_transaction_ids")


def _option(default, help_text: str):
    """A config field whose help text the CLI shows (one place for both)."""
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class RehearsalConfig:
    scale: float = _option(0.1, "dataset scale factor (1 = production-like, 10 M orders)")
    seed: int = _option(42, "dataset seed: same scale + seed = same rows")
    dsn: str | None = _option(None, "PostgreSQL URL; None = the embedded server")
    rate: float | None = _option(
        None,
        "application transactions per second (open loop); 0 = no traffic. None: 200 on the built-in "
        "order service, 0 on --profile or --from-database (the built-in app cannot run on another schema)",
    )
    clients: int = _option(8, "application connections")
    warmup: float = _option(5.0, "seconds of traffic before the migration")
    cooldown: float = _option(5.0, "seconds of traffic after it")
    setup: str | None = _option(None, "SQL file run on the scratch copy before traffic (not measured)")
    keep: bool = _option(False, "keep the scratch database after the run")
    no_warm_clone: bool = _option(
        False,
        "make no warm spare: by default, after a run on the embedded or a local server, the next run's clone "
        "is copied in the background (<template>__warm_…, when the disk has room) so it starts at once",
    )
    lock_timeout: int | None = _option(None, "migration's lock_timeout, ms")
    lock_retries: int = _option(0, "retry a statement that hit lock_timeout this many times")
    long_transaction: float | None = _option(
        None, "seconds a long transaction holds a read lock on orders from just before the migration"
    )
    rollback: bool = _option(False, "also run the down script under traffic, and verify the round trip")
    down: str | None = _option(None, "the down script (default: down.sql beside up.sql, or U files)")
    fail_after: float | None = _option(None, "interrupt the migration this many seconds after it starts")
    fail_mode: str = _option("cancel", "how --fail-after interrupts: cancel (the statement) or terminate (the backend)")
    fail_at: int | None = _option(None, "inject a failure where statement N would run")
    app_statement_timeout: int | None = _option(None, "application's statement_timeout, ms")
    app_lock_timeout: int | None = _option(None, "application's lock_timeout, ms")
    sample_interval: float = _option(0.01, "sampler period while the migration runs or anyone waits on a lock, seconds")
    sample_idle_interval: float = _option(
        0.1, "sampler period while neither happens, seconds; equal to --sample-interval for a fixed rate"
    )
    dirt_orphan_items: float = _option(0.0, "share of order_items pointing at no order")
    dirt_duplicate_emails: float = _option(0.0, "share of customers sharing an email")
    dirt_null_currency: float = _option(0.0, "share of orders with NULL currency")
    dirt_bad_transaction_ids: float = _option(0.0, "share of orders with a non-numeric transaction_id")
    app_queries: str | None = _option(
        None,
        "file of the application's SQL (;-separated, $1 placeholders allowed, e.g. from "
        "pg_stat_statements) checked against the schema before, during and after the migration; "
        "'workload' = the synthetic app's own queries",
    )
    app_versions: str = _option(
        "current",
        "query sets the app runs side by side, traffic split evenly, e.g. current,new for an expand/contract rollout",
    )
    workload: str | None = _option(
        None,
        "the application's own statements, replayed instead of the built-in app: a pg_stat_statements "
        "export (.csv/.json: query, calls, mean_exec_time, rows), a profile (.json, its queries) or a .sql "
        "file with an optional `-- weight: N` comment per statement; 'tables' = a generic application from "
        "the --profile's table rates (point reads, index lookups, inserts, updates, deletes); --rate scales the total",
    )
    read_only_workload: bool = _option(False, "replay only the reads of --workload (its writes are left out)")
    production_rows: str | None = _option(
        None,
        "production row counts the verdict judges, TABLE=ROWS[,…], e.g. orders=250000000: statements that "
        "scan, rewrite or validate are projected to them (default: SF 1; for a twin, the profile's rows)",
    )
    max_migration_mb: float = _option(
        DEFAULT_MAX_MB, "refuse a migration file bigger than this many MB, before reading it"
    )
    profile: str | None = _option(
        None, "rehearse on the synthetic twin (at --scale) of the schema in this profile (`rehearse profile`)"
    )
    stand_in_missing: bool = _option(
        False,
        "with --profile: give each extension the server lacks a stand-in type of the same width and leave out "
        "what needs it (listed in the manifest and the report)",
    )
    from_database: str | None = _option(
        None,
        "rehearse on a copy of this existing database on the server (--dsn): copied afresh, marked as the "
        "tool's own; the source is only read",
    )
    postgres_bin: str | None = _option(
        None,
        "bin directory of another local PostgreSQL (e.g. /usr/lib/postgresql/15/bin) to rehearse "
        "on; started under data/postgres-<major>",
    )
    allow_cluster_statements: bool = _option(
        False,
        "rehearse statements that reach outside the scratch database (DROP DATABASE, ALTER SYSTEM, roles, "
        "COPY … PROGRAM, pg_terminate_backend, dblink, …) instead of refusing them; they run as the "
        "unprivileged migration role",
    )
    migration_role: str | None = _option(
        None,
        "an existing ordinary LOGIN role the migration runs as, on a --dsn server whose user may not create "
        "roles (password from ~/.pgpass); default: rehearsal_migration, created by the tool",
    )
    app_role: str | None = _option(
        None, "an existing ordinary LOGIN role the application runs as (with --migration-role); default: rehearsal_app"
    )

    def __post_init__(self):
        _positive("scale", self.scale)
        if self.rate is not None and (not _is_number(self.rate) or self.rate < 0):
            raise BadInput(f"rate must be a number of transactions per second ≥ 0 (0 = no traffic), got {self.rate!r}")
        _positive("clients", self.clients)
        _positive("sample_interval", self.sample_interval)
        _positive("sample_idle_interval", self.sample_idle_interval)
        _positive("max_migration_mb", self.max_migration_mb)
        _at_most("rate", self.rate or 0, MAX_RATE, "the synthetic application sustains about 1600 tx/s on 2 cores")
        _at_most("clients", self.clients, MAX_CLIENTS, "each client is a server connection")
        _whole("clients", self.clients)
        for name in ("lock_timeout", "app_statement_timeout", "app_lock_timeout"):
            if getattr(self, name) is not None:
                _milliseconds(name, getattr(self, name))
        if self.fail_at is not None and (not isinstance(self.fail_at, int) or self.fail_at < 1):
            raise BadInput(
                f"fail_at must be a statement number ≥ 1 (see `rehearse plan`), got {self.fail_at!r}; give --fail-at N"
            )
        if self.fail_after is not None:
            _positive("fail_after", self.fail_after)
        if self.fail_mode not in ("cancel", "terminate"):
            raise BadInput(
                f"fail_mode must be cancel or terminate, got {self.fail_mode!r}; give --fail-mode cancel or terminate"
            )
        if not isinstance(self.lock_retries, int) or self.lock_retries < 0:
            raise BadInput(
                f"lock_retries must be a whole number ≥ 0, got {self.lock_retries!r}; give --lock-retries 0 or more"
            )
        if self.long_transaction is not None:
            _positive("long_transaction", self.long_transaction)
        for name in ("warmup", "cooldown"):
            _non_negative(name, getattr(self, name))
        for name in DIRT_FIELDS:
            value = getattr(self, name)
            if not _is_number(value) or not 0 <= value <= 1:
                raise BadInput(f"{name} must be a rate between 0 and 1, got {value!r}; give {_flag(name)} e.g. 0.01")
        _check_baseline(self)

    @property
    def own_schema(self) -> bool:
        """True when the baseline is the user's schema (a twin or a copy), not the built-in order service."""
        return bool(self.profile or self.from_database)

    @property
    def replays(self) -> bool:
        """True when the application is the user's statements: --workload, or --app-versions A,B of files."""
        return bool(self.workload) or not {v.strip() for v in self.app_versions.split(",")} <= set(QUERIES)

    @property
    def app_rate(self) -> float:
        """The traffic rate in effect: `rate`, or its default for the baseline."""
        if self.rate is not None:
            return float(self.rate)
        return 0.0 if self.own_schema and not self.replays else DEFAULT_RATE

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def dirt(self) -> datagen.Dirt:
        """The dataset's dirt: the dirt_* fields without their prefix (the one place that maps them)."""
        return datagen.Dirt(**{name.removeprefix("dirt_"): getattr(self, name) for name in DIRT_FIELDS})

    def to_dict(self, mask_dsn: bool = True) -> dict:
        data = asdict(self)
        data["rate"] = self.app_rate  # the rate in effect, a number as before
        if mask_dsn and self.dsn:
            from dbserver import mask

            data["dsn"] = mask(self.dsn)
        return data


def configure(config: RehearsalConfig | None = None, options: dict | None = None) -> RehearsalConfig:
    """`config` (default: the defaults) with `options` (RehearsalConfig field names) replacing its fields."""
    options = options or {}
    unknown = set(options) - RehearsalConfig.names()
    if unknown:
        known = ", ".join(sorted(RehearsalConfig.names()))
        raise BadInput(f"unknown option(s) {', '.join(sorted(unknown))}; known: {known}")
    base = config or RehearsalConfig()
    return replace(base, **options) if options else base


DEFAULT_RATE = 200.0


def _check_baseline(config: RehearsalConfig) -> None:
    """A user's schema has no orders table: the built-in app, its dirt and its queries cannot run there."""
    if config.profile and config.from_database:
        raise BadInput("give --profile or --from-database, not both: each is a baseline of its own")
    if config.stand_in_missing and not config.profile:
        raise BadInput("--stand-in-missing changes the twin of --profile; give --profile FILE, or drop it")
    if not config.own_schema:
        return
    where = "--profile" if config.profile else "--from-database"
    if config.rate and not config.replays:  # the user's own statements (--workload, --app-versions A,B) may run there
        raise BadInput(
            f"--rate {config.rate:g}: the built-in order-service application cannot run on the schema of {where}; "
            "give --rate 0 (the default there: no traffic) or replay your own statements with --workload FILE"
        )
    dirty = [name for name in DIRT_FIELDS if getattr(config, name)]
    if dirty or (not config.replays and (config.app_queries == "workload" or config.app_versions != "current")):
        what = ", ".join(["--" + n.replace("_", "-") for n in dirty] or ["the built-in app's queries"])
        raise BadInput(f"{what} belong to the built-in order service, not to the schema of {where}; drop them")


MAX_RATE = 10_000  # tx/s; past the workload's measured ceiling the run only measures its own backlog
MAX_CLIENTS = 1_000  # the server's max_connections bounds it further when the run starts
MAX_MS = 2_147_483_647  # PostgreSQL's largest timeout setting (INT_MAX ms)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _at_most(name: str, value, limit, why: str) -> None:
    if value > limit:
        raise BadInput(f"{name} must be at most {limit:g} ({why}), got {value!r}; lower {_flag(name)}")


def _whole(name: str, value) -> None:
    if value != int(value):
        raise BadInput(f"{name} must be a whole number, got {value!r}; give {_flag(name)} an integer")


def _milliseconds(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_MS:
        raise BadInput(
            f"{name} must be a whole number of milliseconds from 0 (off) to {MAX_MS}, got {value!r}; "
            f"give {_flag(name)} in that range, e.g. 2000"
        )


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(name: str, value) -> None:
    if not _is_number(value) or value <= 0:
        raise BadInput(f"{name} must be a number greater than 0, got {value!r}; give {_flag(name)} a positive number")


def _non_negative(name: str, value) -> None:
    if not _is_number(value) or value < 0:
        raise BadInput(f"{name} must be a number of seconds ≥ 0, got {value!r}; give {_flag(name)} 0 or more")
