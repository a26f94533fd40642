"""Renderings of a Verdict: the explaining paragraph, the comparison, the table, JUnit XML and the CI JSON."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import pandas as pd

from common.text import shorten
from rehearse.sql import locks as lockmodes
from rehearse.verdicts.base import rank
from rehearse.verdicts.rules_dynamic import AFTER_START, condition, duration


def explain(v) -> str:
    """One paragraph from the numbers: lock, waits, latency, failures, then the verdict and why."""
    data = v.summary
    parts = [
        _lock_words(v, f"The {data.get('migration') or ''} migration".replace("  ", " ")),
        _wait_words(data),
        _latency_words(data),
        _error_words(data),
    ]
    failed = [s for s in data.get("statements", []) if s.get("status") == "failed"]
    parts += [f"statement {s['index']} failed with {condition((s.get('error') or {}).get('sqlstate'))}" for s in failed]
    because = "; ".join(v.reasons[:3]) if v.level != "green" else "no finding reached amber"
    size = f" Judged at {v.judged_size}." if v.judged_size else ""
    return "; ".join(p for p in parts if p) + f". Verdict: {v.level.upper()} because {because}.{size}"


def compare(verdicts: dict) -> str:
    """Each variant in a sentence, then what the best one changed against the worst."""
    lines = [f"{name}: {v.level.upper()} — {_facts(v)}." for name, v in verdicts.items()]
    if len(verdicts) >= 2:
        order = sorted(verdicts, key=lambda n: (rank(verdicts[n].level), _blocked(verdicts[n].summary)[0]))
        best, worst = verdicts[order[0]].summary, verdicts[order[-1]].summary
        lines.append(
            f"Against {order[-1]}, {order[0]} took the longest application wait from "
            f"{duration(_blocked(worst)[0])} to {duration(_blocked(best)[0])} and p99 latency during "
            f"the migration from {_p99(worst, 'during')} to {_p99(best, 'during')}."
        )
    return " ".join(lines)


def table(v) -> pd.DataFrame:
    """One row per statement: level, finding ids, the main reason, the safer form."""
    return pd.DataFrame(
        [
            {
                "#": s.index,
                "statement": shorten(s.sql, 40),
                "level": s.level,
                "findings": ", ".join(f.split("-")[0] for f in s.finding_ids if f[0] == "R"),
                "why": shorten(s.reasons[0], 90) if s.hits and s.level != "green" else "",
                "safer form": s.safer_form or "",
            }
            for s in v.statements
        ]
    )


def report(v, max_risk: str) -> str:
    """What `rehearse check` prints: the table, every reason above green, the paragraph, the gate."""
    lines = [table(v).to_string(index=False), ""]
    for s in v.statements:
        hits = sorted(s.hits, key=lambda h: -rank(h.level))
        lines += [f"  {s.index}. [{h.level}] {h.reason} ({h.finding_id})" for h in hits if h.level != "green"]
        lines += [f"  {s.index}. [note] {h.reason}" for h in s.hits if h.level == "green"]
    lines += [f"  run. [{h.level}] {h.reason} ({h.finding_id})" for h in v.run_hits]
    within = "within" if rank(v.level) <= rank(max_risk) else "OVER"
    lines += ["", explain(v), f"squawk: {v.squawk}", f"verdict {v.level.upper()}: {within} --max-risk {max_risk}"]
    return "\n".join(lines)


def junit(v, max_risk: str) -> str:
    """JUnit XML: a testcase per statement and one for the application, failed when over `max_risk`."""
    name = v.summary.get("migration") or "migration"
    cases = [(f"statement {s.index}: {shorten(s.sql, 60)}", s.level, s.reasons) for s in v.statements]
    run_level = max((h.level for h in v.run_hits), key=rank, default="green")
    cases.append(("application during and after the migration", run_level, [h.reason for h in v.run_hits]))
    over = [c for c in cases if rank(c[1]) > rank(max_risk)]
    suite = ET.Element("testsuite", name=f"rehearse check {name}", tests=str(len(cases)), failures=str(len(over)))
    for title, level, reasons in cases:
        case = ET.SubElement(suite, "testcase", classname=f"rehearse.{name}", name=title)
        if rank(level) > rank(max_risk):
            failure = ET.SubElement(case, "failure", type=level, message="; ".join(reasons))
            failure.text = f"{level.upper()} over --max-risk {max_risk}:\n" + "\n".join(reasons)
    ET.SubElement(suite, "system-out").text = explain(v)
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def annotated(v, max_risk: str) -> dict:
    """The summary plus per statement `verdict`, `finding_ids`, `reasons`, `safer_form`, and the gate."""
    data = copy.deepcopy(v.summary)
    judged = {s.index: s for s in v.statements}
    for s in data.get("statements", []):
        sv = judged[s["index"]]
        s.update(verdict=sv.level, finding_ids=sv.finding_ids, reasons=sv.reasons, safer_form=sv.safer_form)
        if s["index"] in v.projection and "projection" not in s:
            s["projection"] = v.projection[s["index"]]
    data.update(
        judged_size=v.judged_size,
        verdict=v.level,
        verdict_reasons=v.reasons,
        finding_ids=v.finding_ids,
        max_risk=max_risk,
        passed=rank(v.level) <= rank(max_risk),
        run_findings=[h.to_dict() for h in v.run_hits],
        squawk=v.squawk,
        explanation=explain(v),
    )
    return data


def _lock_words(v, subject: str) -> str:
    held = [
        s
        for s in v.summary.get("statements", [])
        if s.get("strongest_lock") and lockmodes.blocks_writes(s["strongest_lock"])
    ]
    if not held:
        return f"{subject} took no lock that blocks the application's reads or writes"
    s = max(held, key=lambda x: x.get("lock_hold_ms") or 0)
    relation = next(
        (h.detail["relation"] for h in v.hits if h.index == s["index"] and "relation" in h.detail),
        next((lk["relation"] for lk in s["locks"] if lk["mode"] == s["strongest_lock"]), "a table"),
    )
    return (
        f"{subject} held {s['strongest_lock']} on {relation} for {duration(s.get('lock_hold_ms'))} "
        f"(statement {s['index']}, {s['kind']})"
    )


def _blocked(data: dict) -> tuple[float, int, int]:
    """(longest wait, transactions delayed, backends seen waiting); delayed from the statements when the
    summary predates the run-level count."""
    statements = data.get("statements", [])
    longest = max(
        (max(s.get("blocked_app_ms_max") or 0, s.get("delayed_app_ms_max") or 0) for s in statements), default=0.0
    )
    delayed = data.get("delayed_app_tx", sum(s.get("delayed_app_tx") or 0 for s in statements))
    return longest, delayed, sum(s.get("blocked_app_tx") or 0 for s in statements)


def _wait_words(data: dict) -> str:
    longest, delayed, blocked = _blocked(data)
    if not delayed and not blocked:
        return "no application transaction waited on it"
    return (
        f"{_plural(max(delayed, blocked), 'application transaction')} delayed, by up to {duration(longest)} "
        f"({_plural(blocked, 'backend')} seen waiting)"
    )


def _p99(data: dict, phase: str) -> str:
    value = (data.get("workload") or {}).get(phase, {}).get("p99_ms")
    return "-" if value is None else f"{value:,.0f} ms"


def _latency_words(data: dict) -> str:
    return f"p99 latency during the migration was {_p99(data, 'during')} vs {_p99(data, 'before')} before"


def _error_words(data: dict) -> str:
    errors = [e for e in data.get("errors") or [] if e.get("phase") in AFTER_START]
    if not errors:
        return "no application transaction failed"
    codes = sorted({e.get("sqlstate") for e in errors}, key=str)
    return (
        f"{_plural(sum(e['count'] for e in errors), 'application transaction')} failed with "
        f"{', '.join(condition(c) for c in codes)}"
    )


def _facts(v) -> str:
    data = v.summary
    return "; ".join(
        [
            _lock_words(v, "it").removeprefix("it "),
            _wait_words(data),
            f"p99 {_p99(data, 'during')} during vs {_p99(data, 'before')} before",
            _error_words(data),
        ]
    )


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
