"""RehearsalResult: everything one run recorded and what was run; saved to and loaded from data/runs.

A run folder holds the frames (parquet), `manifest.json` (the typed manifest), `migration.json` (the
migration as parsed when it ran: statements, transaction units, expected locks, its down and notes) and
`findings.json` (the static findings of that parse: parse-tree rules and squawk). Renderers read only
these, so a saved run says what it said the day it ran, whatever the migration's files say now.

A scaled rehearsal (several scales, one projection) has a folder of its own whose `scaled.json` names its
runs; `load` of its id gives the largest run with the projection frame, which is never written into that
run's own folder (no saved run is edited after it is written).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from common.errors import BadInput
from common.paths import data_dir
from rehearse.measure.manifest import RunManifest
from rehearse.sql.migration import Migration
from rehearse.sql.plan import Plan

# Frames every result carries; analysis derives the rest (lock spans, blocking) from them.
FRAMES = ("statements", "statement_locks", "workload", "locks", "activity", "load", "progress")
SCALED = "scaled.json"  # the manifest of a scaled rehearsal's folder


@dataclass(frozen=True)
class StaticFindings:
    """The parse-tree and squawk findings of the migration as it ran: hits as dicts (the verdict's Hit
    fields, with `detail`), and squawk's status ('not installed', 'ran on …', 'failed: …')."""

    hits: list[dict] = field(default_factory=list)
    squawk: str = "not run"


@dataclass
class RehearsalResult:
    run_id: str
    manifest: RunManifest
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    migration: Migration | None = None  # None only for runs saved before migrations were kept
    findings: StaticFindings | None = None
    projection: pd.DataFrame | None = None  # per statement at production size, from a scaled rehearsal

    def __getattr__(self, name: str) -> pd.DataFrame:
        frames = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(name)

    @property
    def failed(self) -> bool:
        return bool((self.frames["statements"]["status"] == "failed").any())

    @property
    def migration_pid(self) -> int | None:
        return self.manifest.migration_pid

    @property
    def t0(self) -> float:
        """The run's time origin (traffic start): plots and tables show seconds since it."""
        return self.manifest.t0

    @property
    def plan(self) -> Plan | None:
        return Plan(self.migration) if self.migration is not None else None

    def projected(self) -> dict[int, dict]:
        """The projection as {statement index: {rows, duration_ms, low_ms, high_ms, model, …}}; {} without."""
        if self.projection is None or self.projection.empty:
            return {}
        rows = self.projection.astype(object).where(self.projection.notna(), None).to_dict(orient="records")
        return {int(row["index"]): row for row in rows}

    def save(self, directory: Path | None = None) -> Path:
        directory = Path(directory or runs_dir() / self.run_id)
        if (directory / "manifest.json").exists():
            raise BadInput(f"{directory} already holds a saved run; a saved run is never rewritten")
        directory.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames.items():
            frame.to_parquet(directory / f"{name}.parquet", index=False)
        if self.migration is not None:
            _write(directory / "migration.json", self.migration.to_dict())
        if self.findings is not None:
            _write(directory / "findings.json", dict(hits=self.findings.hits, squawk=self.findings.squawk))
        _write(directory / "manifest.json", self.manifest.to_dict())
        return directory


def runs_dir() -> Path:
    return data_dir() / "runs"


def load(run_id_or_path: str | Path) -> RehearsalResult:
    """Bring a saved run back (no database needed) by its id or its folder; a scaled rehearsal's id gives
    its largest run with the projection. A damaged one (bad JSON, a broken parquet file) is one BadInput."""
    directory = _folder(run_id_or_path)
    try:
        return _load(directory)
    except (ValueError, KeyError, TypeError, OSError) as exc:  # JSON, parquet (ArrowInvalid is a ValueError)
        problem = " ".join(str(exc).split())[:120]
        raise BadInput(
            f"saved run {directory} is damaged ({type(exc).__name__}: {problem}); rehearse the migration again"
        ) from None


def folder(run_id_or_path: str | Path) -> Path:
    """The absolute folder of a saved run given by id or folder; BadInput when there is none."""
    return _folder(run_id_or_path).resolve()


def _load(directory: Path) -> RehearsalResult:
    if (directory / SCALED).exists():
        scaled = json.loads((directory / SCALED).read_text())
        result = load(scaled["run_ids"][-1])
        result.projection = pd.read_parquet(directory / "projection.parquet")
        return result
    manifest = json.loads((directory / "manifest.json").read_text())
    frames = {path.stem: pd.read_parquet(path) for path in sorted(directory.glob("*.parquet"))}
    result = RehearsalResult(manifest["run_id"], RunManifest.from_dict(manifest), frames)
    if (directory / "migration.json").exists():
        result.migration = Migration.from_dict(json.loads((directory / "migration.json").read_text()))
    if (directory / "findings.json").exists():
        result.findings = StaticFindings(**json.loads((directory / "findings.json").read_text()))
    if manifest.get("projection"):  # runs saved before projections had a folder of their own
        result.projection = pd.DataFrame(list(manifest["projection"].values()))
    return result


def _folder(run_id_or_path: str | Path) -> Path:
    for directory in (Path(run_id_or_path), runs_dir() / str(run_id_or_path)):
        if (directory / "manifest.json").exists() or (directory / SCALED).exists():
            return directory
    raise BadInput(
        f"no saved run {run_id_or_path!r} (looked in {runs_dir()}); "
        "use a run id printed by `rehearse run` or a run folder"
    )


def _write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, default=str))
