"""The verdict: green/amber/red per statement and overall, with the findings and numbers that explain it.

Static rules read the parse tree (rehearse/_rules_static.py), dynamic rules the rehearsal's summary
(rehearse/_rules_dynamic.py), squawk adds its own when installed; every rule is a catalogue entry
(rehearse/findings.py) and its thresholds live in rehearse/thresholds.toml.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from rehearse.extrapolate import single as _single
from rehearse.sql.secrets import mask
from rehearse.verdicts import rules_dynamic as _rules_dynamic
from rehearse.verdicts import rules_measured as _rules_measured
from rehearse.verdicts import rules_static as _rules_static
from rehearse.verdicts import squawk as _squawk
from rehearse.verdicts import text as _verdict_text
from rehearse.verdicts.base import LEVELS, Hit, Thresholds, check_level, load_thresholds, rank, worst
from rehearse.verdicts.findings import BY_ID

__all__ = [
    "verdict",
    "static_findings",
    "Verdict",
    "StatementVerdict",
    "compare_paragraph",
    "load_thresholds",
    "LEVELS",
    "rank",
]


@dataclass
class StatementVerdict:
    index: int
    sql: str
    kind: str
    hits: list[Hit] = field(default_factory=list)

    level = property(lambda self: worst(h.level for h in self.hits))
    finding_ids = property(lambda self: _finding_ids(self.hits))

    @property
    def reasons(self) -> list[str]:
        return [h.reason for h in _by_level(self.hits)]

    @property
    def safer_form(self) -> str | None:
        forms = dict.fromkeys(BY_ID[f].safer_form for f in self.finding_ids if f in BY_ID)
        return "; ".join(forms) or None

    def to_dict(self) -> dict:
        return dict(
            index=self.index,
            sql=self.sql,
            kind=self.kind,
            level=self.level,
            finding_ids=self.finding_ids,
            reasons=self.reasons,
            safer_form=self.safer_form,
            hits=[h.to_dict() for h in self.hits],
        )


@dataclass
class Verdict:
    statements: list[StatementVerdict]
    run_hits: list[Hit]  # findings about the run as a whole (latency, application errors)
    summary: dict
    thresholds: Thresholds
    squawk: str = "not run"
    projection: dict = field(default_factory=dict)  # statement index → its projection to production size
    judged_size: str | None = None  # which size the verdict judged: production's, or the rehearsal's

    @property
    def hits(self) -> list[Hit]:
        return [h for s in self.statements for h in s.hits] + self.run_hits

    level = property(lambda self: worst(h.level for h in self.hits))
    finding_ids = property(lambda self: _finding_ids(self.hits))

    @property
    def reasons(self) -> list[str]:
        """Why the overall level is what it is: the hits at that level, worst statement first."""
        top = [h for h in self.hits if h.level == self.level and self.level != "green"]
        return [(f"statement {h.index} " if h.index else "") + h.reason for h in top]

    def statement(self, index: int) -> StatementVerdict:
        return next(s for s in self.statements if s.index == index)

    def to_dict(self) -> dict:
        return dict(
            level=self.level,
            reasons=self.reasons,
            finding_ids=self.finding_ids,
            statements=[s.to_dict() for s in self.statements],
            run=dict(level=worst(h.level for h in self.run_hits), hits=[h.to_dict() for h in self.run_hits]),
            squawk=self.squawk,
            migration=self.summary.get("migration"),
            run_id=self.summary.get("run_id"),
            judged_size=self.judged_size,
        )

    def explain(self) -> str:
        return _verdict_text.explain(self)

    def table(self):
        return _verdict_text.table(self)

    def to_junit(self, max_risk: str = "amber") -> str:
        return _verdict_text.junit(self, check_level(max_risk, "max risk"))

    def annotate(self, max_risk: str = "amber") -> dict:
        """The summary with each statement's verdict and finding ids, and the overall verdict: the CI JSON."""
        return _verdict_text.annotated(self, check_level(max_risk, "max risk"))


def verdict(
    result_or_summary, migration=None, thresholds=None, projection: dict | None = None, squawk: bool = True
) -> Verdict:
    """Judge one rehearsal. `migration`: a Migration or its path to judge statically now (None: a result's
    own, parsed and linted when it ran; a bare summary then gets no static rules); `thresholds`: a
    Thresholds, a TOML path, or None for the defaults; `projection`: per statement index {rows,
    duration_ms, low_ms, high_ms, model} at production size (None: a result's own, if it has one, else
    projected from its one scale), which the lock-hold rules then use."""
    data, table_rows, lock_timeout = _summary_of(result_or_summary)
    th = thresholds if isinstance(thresholds, Thresholds) else load_thresholds(thresholds)
    if migration is not None:
        migration = _migration(migration)
        static = _rules_static.hits(migration, lock_timeout, th.static)
        linted, status = _squawk.hits(migration, data.get("postgres_version"), th.squawk) if squawk else ([], "not run")
    else:
        migration, static, linted, status = _saved(result_or_summary, th, squawk)
    projection, size = _projection(result_or_summary, projection)
    ctx = _rules_dynamic.Context(
        data,
        th,
        {st.index: st for st in migration.statements} if migration else {},
        _group(static),
        projection,
        table_rows,
    )
    # Where the rehearsal measured the opposite of a static suspicion, the measurement wins.
    static, dynamic = _rules_measured.reconcile(static, data, _rules_dynamic.hits(ctx) + _rules_measured.hits(ctx))
    every = static + linted + dynamic
    statements, run_hits = _statements(data, migration, every), [h for h in every if h.index is None]
    return Verdict(statements, run_hits, data, th, status, projection, size)


def _projection(value, given: dict | None) -> tuple[dict, str]:
    """({index: projection}, the size judged): the one given, a scaled rehearsal's, else the run projected
    from its one scale to its config's production_rows or SF 1 (extrapolate.single): every verdict on a
    result judges production size. A bare summary is judged at its own size."""
    if given is None and hasattr(value, "projected"):
        given = value.projected() or (_single.projections(value) if value.manifest.dataset_manifest else {})
    projection = {int(k): v for k, v in (given or {}).items()}
    scale = value.manifest.scale if hasattr(value, "manifest") else value.get("scale")
    return projection, _single.judged_size(projection) or f"the rehearsal's size (SF {scale}): nothing projected"


def static_findings(migration, config, postgres_version: str | None = None):
    """The parse-tree and squawk findings of `migration` run with `config`, as a run folder keeps them
    (computed once, when it runs; `verdict` re-levels them with the thresholds it is given)."""
    from rehearse.measure.result import StaticFindings

    th = load_thresholds()
    static = _rules_static.hits(migration, config.lock_timeout, th.static)
    linted, status = _squawk.hits(migration, postgres_version, th.squawk)
    return StaticFindings([h.to_saved() for h in static + linted], status)


def _saved(value, th: Thresholds, squawk: bool) -> tuple:
    """(migration, static hits, squawk hits, squawk status) a result saved when it ran; none for a summary."""
    findings = getattr(value, "findings", None)
    if findings is None:
        return getattr(value, "migration", None), [], [], "not run"
    hits = [Hit.from_dict(h) for h in findings.hits]
    static = [replace(h, level=th.static) for h in hits if h.source == "static"]
    linted = [replace(h, level=th.squawk) for h in hits if h.source == _squawk.SOURCE] if squawk else []
    return value.migration, static, linted, findings.squawk if squawk else "not run"


def compare_paragraph(verdicts: dict[str, Verdict]) -> str:
    """One paragraph comparing variants (e.g. {'risky': v1, 'safer': v2}) by level, waits and latency."""
    return _verdict_text.compare(verdicts)


def _summary_of(value) -> tuple[dict, dict, int | None]:
    """(summary, dataset row counts by table, the run's lock_timeout) from a RehearsalResult or a summary."""
    if hasattr(value, "frames"):
        from rehearse.analysis.summary import summary

        return summary(value), value.manifest.table_rows, value.manifest.config.lock_timeout
    return value, value.get("table_rows", {}), (value.get("config") or {}).get("lock_timeout")


def _migration(value):
    if value is None or hasattr(value, "statements"):
        return value
    from rehearse.sql.migration import load

    return load(Path(value))


def _group(hits: list[Hit]) -> dict[int, list[Hit]]:
    grouped: dict[int, list[Hit]] = {}
    for h in hits:
        grouped.setdefault(h.index, []).append(h)
    return grouped


def _statements(data: dict, migration, hits: list[Hit]) -> list[StatementVerdict]:
    shown = {s["index"]: StatementVerdict(s["index"], s["sql"], s["kind"]) for s in data.get("statements", [])}
    for st in migration.statements if migration else ():
        shown.setdefault(st.index, StatementVerdict(st.index, mask(st.sql), st.kind))
    for h in hits:
        if h.index is not None and h.index in shown:
            shown[h.index].hits.append(h)
    return [shown[i] for i in sorted(shown)]


def _finding_ids(hits: list[Hit]) -> list[str]:
    """The findings that stand: not the static suspicions the rehearsal's measurement overruled."""
    return list(dict.fromkeys(h.finding_id for h in hits if not h.detail.get("overruled")))


def _by_level(hits: list[Hit]) -> list[Hit]:
    # Worst first; at one level the rehearsal's numbers before the parse tree's expectations.
    return sorted(hits, key=lambda h: (-rank(h.level), h.source != "rehearsal"))
