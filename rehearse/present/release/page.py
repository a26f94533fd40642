"""The release page: one self-contained HTML page (figure embedded, every value escaped) from a saved review.

Decision first (go/no-go and why), then per migration and statement the verdict, projected lock hold and
duration with interval, transactions blocked, p99 and errors, rewrite and scan, rollback, compatibility,
and the measured remedies of its red statements (rehearse.present.release.remedies);
the release's projected window and worst moment plotted; and a sign-off block. It reads only
`data/reviews/<id>/release.json` and the saved runs, so `rehearse report <review-id>` rebuilds it offline.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from common.text import human_ms, shorten
from rehearse.measure.result import load
from rehearse.present.notebooks import reports_dir
from rehearse.present.release import figure, remedies

COLOURS = {"go": "#2e7d32", "no-go": "#c62828", **figure.COLOURS}
STYLE = (
    "body{font:14px system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 6px;"
    "text-align:left;vertical-align:top;max-width:420px}th{background:#f3f3f3}code{font-size:12px}"
)


def write(review_id: str, release: dict | None = None) -> Path:
    """Write data/reports/review-<id>.html; returns its path."""
    from rehearse.verdicts.review import load_review

    release = release or load_review(review_id)
    out = reports_dir() / f"review-{release['review_id']}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(release))
    return out


def render(release: dict) -> str:
    """The page of a release summary, its figure drawn from the saved runs it names."""
    results = {rid: load(rid) for rid in release.get("run_ids", [])}
    return html(release, figure.png(release, results))


def html(release: dict, image: bytes) -> str:
    body = [
        f"<h1>Release review: {escape(str(release['name']))}</h1>",
        _decision(release),
        "<h2>Migrations</h2>",
        _summary(release),
        "<h2>Across the release</h2>",
        _window_text(release),
        remedies.skipped_html(release),
        f"<img alt='projected release window and worst moment' style='max-width:100%' "
        f"src='data:image/png;base64,{base64.b64encode(image).decode()}'>",
        *(_details(n, m) for n, m in enumerate(release["migrations"], 1)),
        _signoff(release),
    ]
    title = escape(f"Release review: {release['name']}")
    return f"<!doctype html><meta charset='utf-8'><title>{title}</title><style>{STYLE}</style>\n" + "\n".join(body)


def _decision(release: dict) -> str:
    colour = COLOURS[release["decision"]]
    return (
        f"<div id='decision' style='border-left:12px solid {colour};padding:8px 16px'>"
        f"<b style='color:{colour};font-size:24px'>{escape(release['decision'].upper())}</b>"
        f"<p>{escape(release['why'])}</p></div>"
    )


def _summary(release: dict) -> str:
    head = (
        "<tr><th>#</th><th>migration</th><th>verdict</th><th>outcome</th><th>longest lock hold (projected)</th>"
        "<th>delayed tx</th><th>blocked tx</th><th>p99 before → during</th><th>errors during</th><th>rollback</th>"
        "<th>compatibility breaks</th><th>report</th></tr>"
    )
    return (
        "<table id='summary'>" + head + "".join(_row(n, m) for n, m in enumerate(release["migrations"], 1)) + "</table>"
    )


def _row(number: int, m: dict) -> str:
    statements = m.get("statements", [])
    hold = max((s.get("lock_hold_ms") or 0 for s in statements), default=0)
    projected = max(((s.get("projection") or {}).get("hold_ms") or 0 for s in statements), default=0)
    load = m.get("workload") or {}
    p99 = f"{_ms(load.get('before', {}).get('p99_ms'))} → {_ms(load.get('during', {}).get('p99_ms'))}"
    link = f"<a href='{escape(m['run_id'])}.html'>run report</a>" if m.get("run_id") else ""
    cells = [
        number,
        m["name"],
        str(m.get("verdict", "")).upper(),
        m.get("outcome", ""),
        f"{human_ms(hold)} (≈ {human_ms(projected)})",
        sum(s.get("delayed_app_tx") or 0 for s in statements),
        sum(s.get("blocked_app_tx") or 0 for s in statements),
        p99,
        (load.get("during") or {}).get("errors", 0),
        _rollback(m.get("rollback")),
        len(m.get("compatibility") or []),
    ]
    colour = COLOURS.get(m.get("verdict"), "#555")
    tds = "".join(f"<td>{escape(str(c))}</td>" for c in cells)
    tds = tds.replace(
        f"<td>{escape(str(m.get('verdict', '')).upper())}</td>",
        f"<td style='color:{colour}'><b>{escape(str(m.get('verdict', '')).upper())}</b></td>",
        1,
    )
    return f"<tr>{tds}<td>{link}</td></tr>"


def _details(number: int, m: dict) -> str:
    head = (
        "<tr><th>#</th><th>where</th><th>statement</th><th>verdict</th><th>lock</th><th>hold measured</th>"
        "<th>hold projected (interval)</th><th>duration projected (interval)</th><th>delayed tx</th><th>blocked tx</th>"
        "<th>rewrite</th><th>scan</th><th>why</th></tr>"
    )
    rows = "".join(_statement(s) for s in m.get("statements", []))
    gate = "; ".join(m.get("gate", {}).get("reasons") or []) or "passes the gate"
    return (
        f"<h3>{number}. {escape(m['name'])}</h3><p>{escape(gate)}</p><table class='statements'>{head}{rows}</table>"
        + remedies.html(m)
    )


def _statement(s: dict) -> str:
    p = s.get("projection") or {}
    hold = _interval(p.get("hold_ms"), p.get("hold_low_ms"), p.get("hold_high_ms"))
    duration = _interval(p.get("duration_ms"), p.get("low_ms"), p.get("high_ms"))
    cells = [
        s.get("index"),
        f"{Path(s.get('source') or '').name}:{s.get('line') or ''}",  # the heading names the migration
        " ".join(str(s.get("sql", "")).split())[:160],
        str(s.get("verdict", "")).upper(),
        s.get("strongest_lock") or "",
        human_ms(s.get("lock_hold_ms") or 0),
        hold,
        duration,
        s.get("delayed_app_tx") or 0,
        s.get("blocked_app_tx") or 0,
        "yes" if s.get("rewrote") else "",
        "yes" if s.get("scanned") else "",
        shorten("; ".join((s.get("reasons") or [])[:2]), 240),
    ]
    return "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>"


def _window_text(release: dict) -> str:
    w = release["window"]
    origin = (release.get("production") or {}).get("origin", "SF 1")
    return (
        f"<p id='window'>Projected total window at production size ({escape(str(origin))}): "
        f"<b>{escape(human_ms(w['ms']))}</b> (interval {escape(human_ms(w['low_ms']))}–{escape(human_ms(w['high_ms']))}). "
        "Rehearsed at one scale: each statement that scanned, rewrote or validated a table is projected "
        "linearly in its rows, with a wide interval (0.1× linear to 2× n·log n); the others keep their "
        "measured times.</p>"
    )


def _signoff(release: dict) -> str:
    links = "".join(
        f"<li><a href='{escape(m['run_id'])}.html'>{escape(m['name'])}</a> (run {escape(m['run_id'])})</li>"
        for m in release["migrations"]
        if m.get("run_id")
    )
    fidelity = release.get("fidelity")
    facts = [
        ("rehearsed", ", ".join(f"{m['name']} ({m.get('path')})" for m in release["migrations"])),
        ("scale", release.get("scale")),
        ("seed", release.get("seed")),
        ("PostgreSQL", release.get("postgres_version")),
        ("dataset", release.get("dataset")),
        ("dataset fidelity", fidelity if fidelity else "built-in order-service dataset (not from a profile)"),
        ("production sizes from", (release.get("production") or {}).get("origin")),
        ("max risk", release.get("max_risk")),
        ("review", f"{release.get('review_id')} at {release.get('created_at')}"),
    ]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in facts)
    return f"<h2>Sign-off</h2><table id='signoff'>{rows}</table><p>Each migration's own report:</p><ul>{links}</ul>"


def _rollback(rollback: dict | None) -> str:
    if not rollback or not rollback.get("tested"):
        return "not tested"
    return "tested, restored" if rollback.get("restored") else "tested, NOT restored"


def _interval(value, low, high) -> str:
    return "-" if value is None else f"{human_ms(value)} ({human_ms(low)}–{human_ms(high)})"


def _ms(value) -> str:
    return "-" if value is None else human_ms(value)
