"""RehearsalResult: everything one run recorded, as DataFrames plus a manifest; saved to and loaded from data/runs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from common.errors import BadInput
from common.paths import data_dir

# Frames every result carries; analysis derives the rest (lock spans, blocking) from them.
FRAMES = ("statements", "statement_locks", "workload", "locks", "activity", "load", "progress")


@dataclass
class RehearsalResult:
    run_id: str
    manifest: dict
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

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
        return self.manifest.get("migration_pid")

    @property
    def t0(self) -> float:
        """The run's time origin (traffic start): plots and tables show seconds since it."""
        return self.manifest["t0"]

    def save(self, directory: Path | None = None) -> Path:
        directory = Path(directory or runs_dir() / self.run_id)
        directory.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames.items():
            frame.to_parquet(directory / f"{name}.parquet", index=False)
        (directory / "manifest.json").write_text(json.dumps(self.manifest, indent=2, default=str))
        return directory


def runs_dir() -> Path:
    return data_dir() / "runs"


def load(run_id_or_path: str | Path) -> RehearsalResult:
    """Bring a saved run back (no database needed) by its id or its folder."""
    directory = Path(run_id_or_path)
    if not (directory / "manifest.json").exists():
        directory = runs_dir() / str(run_id_or_path)
    if not (directory / "manifest.json").exists():
        raise BadInput(
            f"no saved run {run_id_or_path!r} (looked in {runs_dir()}); "
            "use a run id printed by `rehearse run` or a run folder"
        )
    manifest = json.loads((directory / "manifest.json").read_text())
    frames = {path.stem: pd.read_parquet(path) for path in sorted(directory.glob("*.parquet"))}
    return RehearsalResult(run_id=manifest["run_id"], manifest=manifest, frames=frames)
