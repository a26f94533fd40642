"""Measured remedies on the release page and in the pull-request comment: per red statement, the original beside
each rewrite rehearsed (strongest lock and its hold, the longest single hold and how many transactions held a
lock, transactions delayed and blocked, p99 during, total time), and the rewrites written but not run (the
ALTER TYPE outline) as text. From the release summary only (rehearse.verdicts.remedies put the saved runs'
numbers there); every value escaped."""

from __future__ import annotations

from html import escape

from common.text import human_ms

HOW = (
    "Each rewrite is written to the remedies/ folder of the review (the migration itself is unchanged) and "
    "rehearsed as the same migration with this statement replaced, on a fresh copy (the earlier migrations of the release "
    "applied first) under the same traffic and options. Lock, hold and transactions: the statement "
    "as written against the sum of the steps of the rewrite; longest hold: the longest any one transaction held a "
    "lock, and holds: how many transactions held one (a batched UPDATE commits, and releases its locks, once "
    "per batch); p99 during and total time: the whole migration."
)
SKIPPED = "Measured remedies were skipped (--no-remedies): no rewrite was written or rehearsed."
HEAD = (
    "rewrite",
    "file",
    "strongest lock (held)",
    "longest hold",
    "holds",
    "delayed app tx",
    "blocked app tx",
    "p99 during",
    "total time",
    "verdict",
    "outcome",
)


def statements_with(m: dict) -> list[dict]:
    return [s for s in m.get("statements", []) if (s.get("remedies") or {}).get("rewrites")]


def html(m: dict) -> str:
    """The page's section for one migration (empty when none of its statements has a remedy)."""
    return "".join(_html_statement(s) for s in statements_with(m))


def skipped_html(release: dict) -> str:
    if release.get("remedies") != "skipped":
        return ""
    return f"<p id='remedies-skipped'>{escape(SKIPPED)}</p>"


def _html_statement(s: dict) -> str:
    found = s["remedies"]
    rows = [_html_row(["original, as written", f"{s.get('source') or ''}:{s.get('line') or ''}"], found["original"])]
    rows += [_html_row([f"{r['kind']}: {r['title']}", r["file"]], r.get("measured")) for r in found["rewrites"]]
    texts = "".join(
        f"<details><summary>{escape(r['kind'])}: {escape(r['file'])}"
        f"{'' if r['runnable'] else ' (written, not run)'}</summary><pre>{escape(r['sql'])}</pre></details>"
        for r in found["rewrites"]
    )
    head = "".join(f"<th>{escape(h)}</th>" for h in HEAD)
    return (
        f"<h4>Measured remedies: statement {escape(str(s.get('index')))}</h4><p>{escape(HOW)}</p>"
        f"<table class='remedies'><tr>{head}</tr>{''.join(rows)}</table>{texts}"
    )


def _html_row(names: list, figures: dict | None) -> str:
    return "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in names + _cells(figures)) + "</tr>"


def _cells(f: dict | None) -> list[str]:
    """The measured cells of one row; a rewrite that was not run says so."""
    if not f:
        return ["written, not run", *[""] * (len(HEAD) - 3)]
    held = f"{f.get('strongest_lock') or 'none seen'} ({human_ms(f.get('strongest_hold_ms') or 0)})"
    outcome = f.get("outcome") or ""
    if f.get("error"):
        outcome += f": {(f['error'] or {}).get('sqlstate')} {(f['error'] or {}).get('message')}"
    return [
        held,
        human_ms(f.get("lock_hold_ms") or 0),
        "-" if f.get("lock_holds") is None else f"{f['lock_holds']:,}",  # releases saved before it was recorded
        f"{f.get('delayed_app_tx') or 0:,}",
        f"{f.get('blocked_app_tx') or 0:,}",
        "-" if f.get("p99_during_ms") is None else human_ms(f["p99_during_ms"]),
        human_ms(f.get("total_ms") or 0),
        str(f.get("verdict") or "").upper(),
        outcome,
    ]


def markdown(m: dict, cell) -> str:
    """The comment's collapsed section for one migration; `cell` makes a value safe in a table cell."""
    parts = []
    for s in statements_with(m):
        found = s["remedies"]
        rows = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
        where = f"{s.get('source') or ''}:{s.get('line') or ''}"
        rows.append(_md_row(["original, as written", where], found["original"], cell))
        rows += [_md_row([f"{r['kind']}: {r['title']}", r["file"]], r.get("measured"), cell) for r in found["rewrites"]]
        parts.append(
            f"\n<details><summary>Measured remedies: statement {s.get('index')}</summary>\n\n"
            + "\n".join(rows)
            + f"\n\n_{cell(HOW)}_\n</details>\n"
        )
    return "".join(parts)


def _md_row(names: list, figures: dict | None, cell) -> str:
    return "| " + " | ".join(cell(c) for c in names + _cells(figures)) + " |"
