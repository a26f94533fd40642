"""The front page, `data/reports/index.html`: what a reviewer opens first after `make demo`.

The release's decision, then per incident the risky and the safer verdict with their headline numbers and
overview thumbnails, the other pages, and the datasets the runs ran on; what it shows is gathered from the
saved runs by rehearse.present.frontpage_runs, so `write` needs no database.

Every value is escaped (it may come from a migration's name, a notebook's outcome or a database); links are
relative to `data/reports/`, so the folder can be copied or served as it is. Each number is also in a
`data-value` attribute, unrounded, so a test (or a script) reads the same figure the page rounds.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from urllib.parse import quote

from common.text import human_ms
from rehearse.present import frontpage_runs as runs
from rehearse.present.frontpage_runs import Incident, Variant
from rehearse.present.notebooks import reports_dir

COLOURS = {"green": "#2e7d32", "amber": "#ef8f00", "red": "#c62828", "go": "#2e7d32", "no-go": "#c62828"}
STYLE = (
    "body{font:14px system-ui,sans-serif;max-width:1250px;margin:1.5em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.4em 0 1.2em}td,th{border:1px solid #ccc;padding:4px 7px;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}.num{text-align:right;white-space:nowrap}"
    ".level{font-weight:bold}.meta{color:#555}.why{font-size:12px;color:#444;max-width:330px}"
    "img.thumb{width:210px;border:1px solid #ddd}section{margin-bottom:1.6em}code{font-size:12px}"
)
HEAD = (
    "<tr><th>variant</th><th>verdict</th><th>longest delay</th><th>transactions delayed</th>"
    "<th>application errors</th><th>longest lock hold blocking writes</th><th>overview</th></tr>"
)


def write(record: dict | None = None, out: Path | None = None) -> Path:
    """Write `out`/index.html (default data/reports/) from the demo's record (default: `out`/demo.json)."""
    out = out or reports_dir()
    record = record if record is not None else runs.read_record(out / runs.RECORD)
    found = runs.incidents(record, out)
    release = _saved_review(record)
    page = out / "index.html"
    page.write_text(html(record, found, release, runs.datasets(found, release)))
    return page


def _saved_review(record: dict) -> dict | None:
    from rehearse.verdicts.review import reviews_dir

    review_id = (record.get("release") or {}).get("review_id")
    saved = reviews_dir() / str(review_id) / "release.json"
    return json.loads(saved.read_text()) if review_id and saved.is_file() else None


def html(record: dict, found: list[Incident], release: dict | None, datasets: list[dict]) -> str:
    """The whole page."""
    body = [
        "<h1>Migration rehearsal: the reports</h1>",
        _when(record, datasets),
        _release(record, release),
        "<h2>Incidents: the risky migration and the safer one</h2>",
        "<p class='meta'>Each row is one rehearsal on a fresh copy of the dataset under synthetic traffic, "
        "judged as <code>rehearse run</code> judges it. <i>Longest delay</i>: the longest an application "
        "transaction waited on the migration; <i>application errors</i>: failed application transactions "
        "before, during and after it; <i>longest lock hold</i>: the longest the migration held a lock that blocks the "
        "application's writes (or reads and writes).</p>",
        *(_incident(i) for i in found),
        _others(record, {i.name for i in found}),
        "<h2>Dataset</h2>",
        _datasets(datasets),
    ]
    return (
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>Migration rehearsal: the reports</title>"
        f"<style>{STYLE}</style>\n" + "\n".join(body) + "\n</html>\n"
    )


def _when(record: dict, datasets: list[dict]) -> str:
    started, finished = record.get("started"), record.get("finished")
    if not started:
        return "<p id='when' class='meta'>No demo has been recorded yet: run <code>make demo</code>.</p>"
    return (
        f"<p id='when' class='meta'>Rehearsed from <b>{escape(str(started))}</b> to <b>{escape(str(finished))}</b> "
        f"(UTC) at scale {escape(str(record.get('scale')))}, on "
        f"{escape(', '.join(str(d['name']) for d in datasets) or 'no saved run')} (see Dataset below). Every number below is read from the saved runs "
        "(<code>data/runs/</code>); <code>python -m rehearse.present.demo --index-only</code> rebuilds this page "
        "without a database.</p>"
    )


def _release(record: dict, release: dict | None) -> str:
    if not release:
        return ""
    decision = str(release.get("decision", ""))
    colour = COLOURS.get(decision, "#555")
    page = (record.get("release") or {}).get("page") or ""
    rows = "".join(
        f"<li>{escape(str(m.get('name')))}: <span class='level' style='color:{COLOURS.get(m.get('verdict'), '#555')}'>"
        f"{escape(str(m.get('verdict', '')).upper())}</span> ({escape(str(m.get('outcome', '')))})</li>"
        for m in release.get("migrations", [])
    )
    return (
        f"<h2>The release: {escape(str(release.get('name')))}</h2><div id='release' "
        f"style='border-left:12px solid {colour};padding:6px 14px'><b style='color:{colour};font-size:22px'>"
        f"{escape(decision.upper())}</b> <span>{escape(str(release.get('why', '')))}</span><ol>{rows}</ol>"
        f"<a href='{_href(page)}'>the release page</a> (review {escape(str(release.get('review_id')))})</div>"
    )


def _incident(incident: Incident) -> str:
    title = _code(escape(incident.title))
    link = f"<a href='{_href(incident.page)}'>{title}</a>" if incident.page else title
    outcome = "" if incident.outcome == "ok" else f"<p class='meta'>notebook: {escape(incident.outcome)}</p>"
    rows = "".join(_variant(v, incident.page) for v in incident.variants)
    return f"<section class='incident' id='{escape(incident.name)}'><h3>{link}</h3>{outcome}<table>{HEAD}{rows}</table></section>"


def _variant(v: Variant, page: str) -> str:
    name = f"<b>{escape(v.label)}</b>" + (f" <code>{escape(v.folder)}</code>" if v.folder != v.label else "")
    if v.run_id is None:
        return (
            f"<tr class='variant' data-label='{escape(v.label)}'><td>{name}</td><td colspan='6'>no saved run</td></tr>"
        )
    run = escape(v.run_id)
    run = f"<a href='{_href(v.report)}'>{run}</a>" if v.report else run
    colour = COLOURS.get(v.level, "#555")
    n = v.numbers
    lock = f"{human_ms(n['lock_hold_ms'])}" + (f" {escape(str(n['lock']))}" if n.get("lock") else "")
    cells = [
        f"<td>{name}<br><small>run {run}</small></td>",
        f"<td><span class='level' style='color:{colour}'>{escape(str(v.level).upper())}</span> "
        f"<small>({escape(v.outcome)})</small><div class='why'>{escape(v.reason)}</div></td>",
        _num("longest_delay_ms", n["longest_delay_ms"], escape(human_ms(n["longest_delay_ms"]))),
        _num("delayed_app_tx", n["delayed_app_tx"], f"{n['delayed_app_tx']:,}"),
        _num("errors", n["errors"], f"{n['errors']:,}"),
        _num("lock_hold_ms", n["lock_hold_ms"], lock),
        f"<td><a href='{_href(page or v.thumbnail)}'><img class='thumb' alt='overview of {run}' "
        f"src='{_href(v.thumbnail)}'></a></td>",
    ]
    return f"<tr class='variant' data-label='{escape(v.label)}' data-run='{escape(v.run_id)}'>{''.join(cells)}</tr>"


def _num(name: str, value, shown: str) -> str:
    return f"<td class='num' data-name='{name}' data-value='{escape(repr(value))}'>{shown}</td>"


def _others(record: dict, incidents: set[str]) -> str:
    items = "".join(
        f"<li><a href='{_href(str(p.get('page', '')))}'>{escape(str(p.get('name')))}</a> — {escape(str(p.get('outcome')))}</li>"
        for p in record.get("pages", [])
        if p.get("name") not in incidents
    )
    return f"<h2>Other pages</h2><ul id='others'>{items}</ul>" if items else ""


def _datasets(datasets: list[dict]) -> str:
    if not datasets:
        return "<p>No saved run.</p>"
    head = "<tr><th>template</th><th>scale</th><th>seed</th><th>rows</th><th>dirt</th><th>PostgreSQL</th><th>built</th><th>runs</th></tr>"
    rows = "".join(
        "<tr class='dataset'>"
        + "".join(
            f"<td>{escape(str(c))}</td>"
            for c in (
                d["name"],
                d["scale"],
                d["seed"],
                ", ".join(f"{t} {r:,}" for t, r in d["rows"].items()),
                ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in d["dirt"].items()) or "none",
                d["postgresql"],
                d["built_at"],
                d["runs"],
            )
        )
        + "</tr>"
        for d in datasets
    )
    return f"<table id='datasets'>{head}{rows}</table>"


def _code(escaped: str) -> str:
    """Markdown's `code` spans of an escaped title as <code> (a backtick is no markup once escaped)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def _href(path: str | None) -> str:
    """A relative link: each path segment URL-quoted, then HTML-escaped for the attribute."""
    return escape(quote(path or "", safe="/#"))
