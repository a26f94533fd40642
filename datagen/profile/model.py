"""The profile of a production database, as frozen dataclasses with to_json()/from_json().

The format is agreed between the profile reader and the generator (README, "Your database"): one UTF-8
JSON object, `"format": "migration-rehearsal-profile"`, `"version": 1`. A reader refuses a profile of a
newer version in one line: it cannot know what the newer fields mean. Fields it does not know in an
older or equal version are ignored, so adding an optional field does not need a new version:
`inferred_references` (datagen/profile/references.py) is such a field, absent from older profiles, which
load with None (never looked for: the twin then draws those columns from their own statistics, as before).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from common.errors import BadInput

FORMAT = "migration-rehearsal-profile"
VERSION = 1
RATE_FIELDS = ("seq_scan", "idx_scan", "n_tup_ins", "n_tup_upd", "n_tup_del", "n_tup_hot_upd")


def tool_version() -> str:
    """The pyproject version of this tool, or 0+unknown when it runs from a tree that was not installed."""
    from importlib import metadata

    try:
        return metadata.version("migration-rehearsal")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class Source:
    """Where the profile was read: a server (masked URL) or pg_dump files."""

    kind: str  # "dsn" | "files"
    server: str  # the masked URL, or the file names
    server_version: str | None = None
    server_version_num: int | None = None


@dataclass(frozen=True)
class Holds:
    """What the profile holds, in words a privacy review reads; `values` False = no text-like values."""

    values: bool = True
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rates:
    """pg_stat_user_tables counters per second since the statistics reset; None where unknown."""

    seconds: float | None = None
    seq_scan: float | None = None
    idx_scan: float | None = None
    n_tup_ins: float | None = None
    n_tup_upd: float | None = None
    n_tup_del: float | None = None
    n_tup_hot_upd: float | None = None


@dataclass(frozen=True)
class Column:
    """One column and its pg_stats row (statistic fields None when never analysed or dropped)."""

    name: str
    type: str  # format_type() text, types outside pg_catalog schema-qualified
    null_frac: float | None = None
    avg_width: int | None = None
    n_distinct: float | None = None  # pg_stats semantics: negative = minus the fraction of rows
    most_common_vals: tuple[str | None, ...] | None = None  # PostgreSQL text output of each value
    most_common_freqs: tuple[float, ...] | None = None
    histogram_bounds: tuple[str | None, ...] | None = None
    correlation: float | None = None

    def without_values(self) -> Column:
        return Column(
            self.name, self.type, self.null_frac, self.avg_width, self.n_distinct, correlation=self.correlation
        )


@dataclass(frozen=True)
class Table:
    """One table (kind "r") or partitioned parent (kind "p"): size, activity and columns."""

    schema: str
    name: str
    kind: str = "r"
    reltuples: float = -1.0  # -1: never vacuumed or analysed (PostgreSQL 14+)
    relpages: int = 0
    heap_bytes: int = 0
    toast_bytes: int = 0
    index_bytes: int = 0
    rates: Rates = field(default_factory=Rates)
    columns: tuple[Column, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Query:
    """One pg_stat_statements entry: normalised text with $n, calls, mean time, rows."""

    query: str
    calls: int
    mean_exec_time_ms: float
    rows: int
    plan_shape: tuple[str, ...] | None = None  # EXPLAIN (GENERIC_PLAN) node per line (plans.py); None: not planned


@dataclass(frozen=True)
class Reference:
    """A column the schema does not declare a foreign key on whose values are a parent's keys."""

    table: str  # schema-qualified child table
    column: str
    parent_table: str  # schema-qualified
    parent_column: str  # its single-column primary or unique key
    evidence: str  # why: "name; …" (inferred) or "given (--reference)"


@dataclass(frozen=True)
class Profile:
    """Schema and planner statistics of a production database; never one of its rows."""

    source: Source
    schema_sql: str
    tables: tuple[Table, ...] = ()
    queries: tuple[Query, ...] = ()
    holds: Holds = field(default_factory=Holds)
    tool_version: str = field(default_factory=tool_version)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    version: int = VERSION
    inferred_references: tuple[Reference, ...] | None = None  # None: an older profile, never looked for

    def table(self, qualified: str) -> Table:
        name = qualified if "." in qualified else f"public.{qualified}"
        return next(t for t in self.tables if t.qualified == name)

    def to_json(self) -> str:
        data = {"format": FORMAT, "version": self.version, "tool_version": self.tool_version}
        data |= {"created_at": self.created_at, "source": asdict(self.source), "holds": asdict(self.holds)}
        data |= {"schema_sql": self.schema_sql, "tables": [asdict(t) for t in self.tables]}
        data["queries"] = [asdict(q) for q in self.queries]
        if self.inferred_references is not None:  # an older profile keeps its JSON, and its twin its name
            data["inferred_references"] = [asdict(r) for r in self.inferred_references]
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str = "the profile") -> Profile:
        data = _checked(text, where)
        return cls(
            source=Source(**_known(Source, data["source"])),
            schema_sql=data["schema_sql"],
            tables=tuple(_table(t) for t in data.get("tables", ())),
            queries=tuple(_query(q) for q in data.get("queries", ())),
            holds=Holds(data["holds"]["values"], tuple(data["holds"].get("notes", ()))),
            tool_version=data.get("tool_version", "0+unknown"),
            created_at=data.get("created_at", ""),
            version=data["version"],
            inferred_references=_references(data.get("inferred_references")),
        )

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path


def load(path: str | Path) -> Profile:
    """Read a profile file; BadInput in one line when it is missing, not a profile, or too new."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read profile {path}: {exc}; give a file written by `rehearse profile`") from None
    return Profile.from_json(text, str(path))


def _checked(text: str, where: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"{where} is not JSON ({exc}); give a file written by `rehearse profile`") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("version"), int):
        raise BadInput(f"{where} is not a migration-rehearsal profile; give a file written by `rehearse profile`")
    if data["version"] > VERSION:
        raise BadInput(
            f"{where} is profile format version {data['version']}, made by migration-rehearsal "
            f"{data.get('tool_version', '?')}; this tool reads version {VERSION} or older: upgrade it"
        )
    return data


def _known(kind, data: dict) -> dict:
    names = kind.__dataclass_fields__
    return {k: v for k, v in data.items() if k in names}


def _table(data: dict) -> Table:
    fields_ = _known(Table, data)
    fields_["rates"] = Rates(**_known(Rates, data.get("rates") or {}))
    fields_["columns"] = tuple(_column(c) for c in data.get("columns", ()))
    return Table(**fields_)


def _references(data: list | None) -> tuple[Reference, ...] | None:
    return None if data is None else tuple(Reference(**_known(Reference, r)) for r in data)


def _query(data: dict) -> Query:
    fields_ = _known(Query, data)
    if fields_.get("plan_shape") is not None:
        fields_["plan_shape"] = tuple(fields_["plan_shape"])
    return Query(**fields_)


def _column(data: dict) -> Column:
    fields_ = _known(Column, data)
    for name in ("most_common_vals", "most_common_freqs", "histogram_bounds"):
        if fields_.get(name) is not None:
            fields_[name] = tuple(fields_[name])
    return Column(**fields_)
