"""What the front page (rehearse.present.frontpage) shows, gathered from the saved runs.

It reads the demo's record (`data/reports/demo.json`: each notebook's outcome and the runs it saved, the
release it reviewed) and the saved runs it names; it never rehearses and needs no database, so
`python -m rehearse.present.demo --index-only` rebuilds it. Per incident it picks the first run of the risky
and of the safer migration, judges each as `rehearse run` does, and takes the headline numbers of its JSON
summary and a thumbnail of its overview plot (written under `data/reports/thumbs/`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rehearse.analysis import timeline
from rehearse.measure.result import folder, load
from rehearse.present.notebooks import NOTEBOOKS, reports_dir
from rehearse.sql import locks as lockmodes

RECORD = "demo.json"
THUMBS = "thumbs"
# Per incident notebook, the migration folders it rehearses as (risky, safer); others are risky and safer.
VARIANTS = {"05_script_fails_halfway": ("non_transactional", "transactional")}


@dataclass
class Variant:
    """One rehearsed migration as the front page shows it; every number is from its saved run's summary."""

    label: str  # "risky" or "safer"
    folder: str  # the migration folder's name, e.g. "risky" or "non_transactional"
    run_id: str | None = None
    level: str | None = None
    reason: str = ""
    outcome: str = ""
    numbers: dict = field(default_factory=dict)
    thumbnail: str | None = None  # relative to the page
    report: str | None = None  # the run's own report, when one was written


@dataclass
class Incident:
    """One incident notebook: its title, page, outcome and its two variants."""

    name: str
    title: str
    page: str
    outcome: str
    variants: list[Variant]


def headline(result, data: dict) -> dict:
    """The numbers a reviewer reads first: from the run's JSON summary (`rehearse.summary`), and the longest
    hold of a lock that blocks the application's writes (the findings table's "longest blocking hold ms")."""
    workload = data.get("workload") or {}
    hold_ms, mode = blocking_hold(result)
    return dict(
        longest_delay_ms=data.get("delayed_app_ms_max") or 0.0,
        delayed_app_tx=data.get("delayed_app_tx") or 0,
        errors=int(sum((phase.get("errors") or 0) for phase in workload.values())),
        lock_hold_ms=hold_ms,
        lock=mode,
    )


def blocking_hold(result) -> tuple[float, str | None]:
    """The longest hold of a lock that blocks writes, ms, and its mode; (0, None) when none did."""
    spans = timeline.lock_spans(result)
    blocking = spans[spans["mode"].map(lambda mode: isinstance(mode, str) and lockmodes.blocks_writes(mode))]
    if not len(blocking):
        return 0.0, None
    longest = blocking.loc[blocking["hold_ms"].idxmax()]
    return float(longest["hold_ms"]), str(longest["mode"])


def record_path() -> Path:
    return reports_dir() / RECORD


def read_record(path: Path | None = None) -> dict:
    """The demo's record; a missing one is an empty demo (the page then says so)."""
    path = path or record_path()
    return json.loads(path.read_text()) if path.is_file() else {"pages": []}


def incidents(record: dict, out: Path) -> list[Incident]:
    """The incident notebooks of the record (names starting 01–09), each with its risky and safer run."""
    found = []
    for page in record.get("pages", []):
        name = str(page.get("name", ""))
        if not (name[:2].isdigit() and 0 < int(name[:2]) < 10):
            continue
        risky, safer = VARIANTS.get(name, ("risky", "safer"))
        variants = [
            _variant("risky", risky, page.get("runs", []), out),
            _variant("safer", safer, page.get("runs", []), out),
        ]
        found.append(Incident(name, title_of(name), str(page.get("page", "")), str(page.get("outcome", "")), variants))
    return found


def _variant(label: str, migration: str, run_ids: list[str], out: Path) -> Variant:
    """The first run of `migration` (a folder name) among `run_ids`, judged, with its numbers and thumbnail."""
    from rehearse.verdicts.verbs import judge

    variant = Variant(label, migration)
    run_id = first_run_of(migration, run_ids)
    if run_id is None:
        return variant
    result = load(run_id)
    judged = judge(result)
    data = judged.summary
    variant.run_id, variant.level, variant.outcome = run_id, judged.level, data["outcome"]
    variant.reason = judged.reasons[0] if judged.reasons else ""
    variant.numbers = headline(result, data)
    variant.thumbnail = thumbnail(result, out)
    report = out / f"{run_id}.html"
    variant.report = report.name if report.is_file() else None
    return variant


def first_run_of(migration: str, run_ids: list[str]) -> str | None:
    """The earliest of `run_ids` that rehearsed a migration folder named `migration` (a notebook runs the
    plain variant first, then the same migration with a rollback, a setup or an injected failure)."""
    seen = []
    for run_id in run_ids:
        manifest = folder(run_id) / "manifest.json"
        if manifest.is_file():
            m = json.loads(manifest.read_text())
            if Path(str(m.get("path") or "")).name == migration:
                seen.append((m.get("t0") or 0, run_id))
    return min(seen)[1] if seen else None


def thumbnail(result, out: Path) -> str:
    """The run's overview plot, small (the incident's page has it full size), written once; its path
    relative to `out`."""
    import matplotlib.pyplot as plt

    from rehearse.present import plots

    target = out / THUMBS / f"{result.run_id}.png"
    if target.is_file():  # a saved run never changes, nor does its plot
        return f"{THUMBS}/{target.name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    figure = plots.overview(result)
    figure.savefig(target, dpi=36)
    plt.close(figure)
    return f"{THUMBS}/{target.name}"


def title_of(name: str) -> str:
    """A notebook's title: its first heading without the '#', else its name."""
    path = NOTEBOOKS / f"{name}.ipynb"
    if not path.is_file():
        return name
    cells = json.loads(path.read_text()).get("cells", [])
    first = "".join(cells[0].get("source", [])).splitlines()[0] if cells and cells[0].get("source") else ""
    return first.lstrip("#").strip() or name


def datasets(found: list[Incident], release: dict | None) -> list[dict]:
    """Each dataset the saved runs ran on, once: name, scale, seed, rows, dirt, PostgreSQL, built at."""
    run_ids = [v.run_id for i in found for v in i.variants if v.run_id] + list((release or {}).get("run_ids", []))
    seen: dict[str, dict] = {}
    for run_id in run_ids:
        saved = folder(run_id) / "manifest.json"
        if not saved.is_file():  # a run deleted since: the page shows what is left
            continue
        m = json.loads(saved.read_text())
        d = m.get("dataset_manifest") or {}
        entry = seen.setdefault(
            str(m.get("dataset")),
            dict(
                name=m.get("dataset"),
                scale=d.get("scale", m.get("config", {}).get("scale")),
                seed=d.get("seed"),
                rows=d.get("rows") or {},
                dirt={k: v for k, v in (d.get("dirt_achieved") or {}).items() if v},
                postgresql=(d.get("versions") or {}).get("postgresql") or m.get("postgres_version"),
                built_at=d.get("built_at"),
                runs=0,
            ),
        )
        entry["runs"] += 1
    return list(seen.values())
