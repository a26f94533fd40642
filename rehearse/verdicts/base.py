"""What the verdict rules share: levels, a rule's hit, and the thresholds read from thresholds.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from common.errors import BadInput

LEVELS = ("green", "amber", "red")
DEFAULT_THRESHOLDS = Path(__file__).with_name("thresholds.toml")


def rank(level: str) -> int:
    """0 for green, 1 for amber, 2 for red."""
    return LEVELS.index(level)


def worst(levels) -> str:
    return max(levels, key=rank, default="green")


def check_level(level: str, what: str = "level") -> str:
    if level not in LEVELS:
        raise BadInput(f"{what} must be one of {', '.join(LEVELS)}, got {level!r}")
    return level


@dataclass(frozen=True)
class Hit:
    """One rule firing: on a statement (index) or on the run as a whole (index None)."""

    finding_id: str
    level: str
    reason: str  # a sentence with the numbers, no trailing full stop
    index: int | None = None
    source: str = "rehearsal"  # 'static' (parse tree), 'rehearsal' (summary numbers), 'static (squawk)'
    detail: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return dict(
            finding_id=self.finding_id, level=self.level, reason=self.reason, index=self.index, source=self.source
        )

    def to_saved(self) -> dict:
        """to_dict with the detail the dynamic rules read: how a run folder keeps its static findings."""
        return self.to_dict() | {"detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict) -> Hit:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class Thresholds:
    """The numbers that turn measurements into levels; defaults live in rehearse/thresholds.toml."""

    amber_hold_ms: float
    red_hold_ms: float
    amber_blocked_ms: float
    red_blocked_ms: float
    amber_p99_ratio: float
    red_p99_ratio: float
    p99_floor_ms: float
    red_app_errors: int
    amber_backfill_share: float
    amber_backfill_rows: int
    migration_failed: str
    static: str
    squawk: str

    def level(self, value: float | None, amber: float, red: float) -> str:
        """green below amber, amber from amber, red from red; None (not measured) is green."""
        if value is None:
            return "green"
        return "red" if value >= red else "amber" if value >= amber else "green"


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    """The default thresholds, with the keys of the TOML file at `path` (if given) replacing them."""
    defaults = _build(_read(DEFAULT_THRESHOLDS), DEFAULT_THRESHOLDS)
    if path is None:
        return defaults
    return replace(defaults, **_checked(_read(Path(path)), Path(path)))


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"thresholds file {path} cannot be read ({exc.strerror}); give an existing TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"thresholds file {path} is not valid TOML ({exc}); fix it") from None


def _build(data: dict, path: Path) -> Thresholds:
    return Thresholds(**_checked(data, path))


def _checked(data: dict, path: Path) -> dict:
    known = {f.name: f.type for f in fields(Thresholds)}
    unknown = set(data) - set(known)
    if unknown:
        raise BadInput(
            f"thresholds file {path}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(known)}"
        )
    for key, value in data.items():
        if known[key] == "str":
            check_level(value, f"{path}: {key}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise BadInput(f"thresholds file {path}: {key} must be a number ≥ 0, got {value!r}")
    return data
