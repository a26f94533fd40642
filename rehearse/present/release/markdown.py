"""The pull-request comment: the decision and one summary row per migration first, the details of each
migration (with the measured remedies of its red statements) in collapsed sections, always under GitHub's
65,536-character limit — saying what it cut."""

from __future__ import annotations

import html

from common.text import human_ms, shorten
from rehearse.present.release import remedies

GITHUB_LIMIT = 65_536
ICONS = {"red": "🔴", "amber": "🟠", "green": "🟢"}


def comment(release: dict, limit: int = GITHUB_LIMIT) -> str:
    """The comment for a release summary; details are dropped, last migration first, until it fits."""
    head = _head(release)
    details = [_details(m) for m in release["migrations"]]
    cut: list[str] = []
    while details and len(_join(head, details, cut)) > limit:
        dropped = release["migrations"][len(details) - 1]["name"]
        details.pop()
        cut.insert(0, dropped)
    text = _join(head, details, cut)
    return text if len(text) <= limit else text[: limit - 40] + "\n\n… (cut at GitHub's limit)\n"


def _join(head: str, details: list[str], cut: list[str]) -> str:
    note = (
        f"\n_Details of {', '.join(cell(c) for c in cut)} cut to stay under GitHub's comment limit: "
        "see the release page._\n"
        if cut
        else ""
    )
    return head + "".join(details) + note


def _head(release: dict) -> str:
    decision = "GO" if release.get("decision") == "go" else "NO-GO"
    lines = [
        f"## Migration rehearsal: {decision} — {cell(release.get('name', 'release'))}",
        "",
        cell(release.get("why", "")),
        "",
        "| # | migration | verdict | longest lock hold | delayed tx | p99 before → during | errors | rollback |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_row(i, m) for i, m in enumerate(release["migrations"], 1)]
    lines += ["", _signoff(release), ""]
    if release.get("remedies") == "skipped":
        lines += [f"_{cell(remedies.SKIPPED)}_", ""]
    return "\n".join(lines) + "\n"


def _row(number: int, m: dict) -> str:
    level = m.get("verdict", "green")
    hold = max((s.get("lock_hold_ms") or 0 for s in m.get("statements", [])), default=0)
    projected = max(((s.get("projection") or {}).get("hold_ms") or 0 for s in m.get("statements", [])), default=0)
    hold_text = human_ms(hold) + (f" (≈ {human_ms(projected)} in production)" if projected else "")
    delayed = sum(s.get("delayed_app_tx", s.get("blocked_app_tx")) or 0 for s in m.get("statements", []))
    load = m.get("workload", {})
    p99 = f"{_ms(load.get('before', {}).get('p99_ms'))} → {_ms(load.get('during', {}).get('p99_ms'))}"
    errors = load.get("during", {}).get("errors", 0)
    return (
        f"| {number} | {cell(m.get('name'))} | {ICONS.get(level, '')} {level.upper()} | {hold_text} | "
        f"{delayed:,} | {p99} | {errors:,} | {_rollback(m.get('rollback'))} |"
    )


def _details(m: dict) -> str:
    rows = [
        "| # | statement | verdict | lock | hold | duration | rewrite | scan | why |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in m.get("statements", []):
        reasons = s.get("reasons") or []
        rows.append(
            f"| {s.get('index')} | `{cell(shorten(s.get('sql', ''), 70)).replace('`', '')}` | "
            f"{s.get('verdict', '')} | {cell(s.get('strongest_lock') or '')} | {human_ms(s.get('lock_hold_ms') or 0)} | "
            f"{human_ms(s.get('duration_ms') or 0)} | {'yes' if s.get('rewrote') else ''} | "
            f"{'yes' if s.get('scanned') else ''} | {cell(reasons[0] if reasons else '')} |"
        )
    report = f"\n[full report]({m['report']})\n" if m.get("report") else ""
    summary = f"{ICONS.get(m.get('verdict'), '')} {cell(m.get('name'))}: {m.get('verdict', '').upper()}"
    fixes = remedies.markdown(m, cell)
    return f"\n<details><summary>{summary}</summary>\n\n" + "\n".join(rows) + f"\n{report}{fixes}\n</details>\n"


def _signoff(release: dict) -> str:
    parts = [
        f"rehearsed at scale {release.get('scale')}",
        f"seed {release.get('seed')}",
        f"PostgreSQL {release.get('postgres_version')}",
    ]
    if release.get("production"):
        parts.append(f"projected to production from {cell(release['production'].get('origin'))}")
    return "_" + ", ".join(parts) + "._"


def _rollback(rollback: dict | None) -> str:
    if not rollback or not rollback.get("tested"):
        return "not tested"
    return "restores" if rollback.get("restored") else "**does not restore**"


def _ms(value) -> str:
    return "-" if value is None else human_ms(value)


def cell(value) -> str:
    """Text safe inside a markdown table cell: one line, no pipes, no markup."""
    return html.escape(" ".join(str(value or "").split())).replace("|", "\\|")
