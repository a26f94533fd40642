"""The review-meeting page for one run: verdict first, findings, figures, projection, warnings, manifest.

`write(run_id)` executes notebooks/report.ipynb with papermill and converts it to one self-contained HTML
page with the code hidden; the helpers below are what that notebook shows.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from common.text import markdown_text
from rehearse.measure.manifest import StateAfter
from rehearse.measure.result import folder, load
from rehearse.present.notebooks import execute, reports_dir, to_html
from rehearse.sql import locks as lockmodes
from rehearse.verdicts import verbs

COLOURS = {"green": "#2e7d32", "amber": "#ef8f00", "red": "#c62828"}


def write(run_id: str | Path) -> Path:
    """Execute the report notebook for `run_id` (an id, or a run's folder); returns the HTML page's path.

    The run is loaded here first, so a missing or damaged one fails before a kernel starts and leaves no
    notebook behind; the notebook gets the run's absolute folder (it runs in notebooks/)."""
    load(run_id)
    directory = folder(run_id)
    out = reports_dir()
    parameters = {"run_id": str(directory)}
    executed = execute(Path(__file__).with_name("report.ipynb"), parameters, out / f"{directory.name}.ipynb")
    return to_html(executed, out / f"{directory.name}.html", hide_code=True)


def judge(result, thresholds=None):
    """The verdict from what the result carries (its statements, static findings, projection): never the
    migration's files, which may have changed since the run."""
    return verbs.judge(result, thresholds)


def report(run_id: str) -> Path:
    """`rehearse report`: (re)write the HTML page of a saved run or scaled rehearsal; its path."""
    load(run_id)  # a clear error for an unknown run, before starting a kernel
    return write(run_id)


def explain_text(judged) -> str:
    """The verdict's paragraph as literal Markdown: it quotes names and messages from the migration."""
    return markdown_text(judged.explain())


def verdict_banner(judged) -> str:
    colour = COLOURS[judged.level]
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in judged.reasons[:5])
    return (
        f"<div style='border-left:12px solid {colour};padding:8px 16px;font-size:15px'>"
        f"<b style='color:{colour};font-size:22px'>{judged.level.upper()}</b> — "
        f"{html.escape(str(judged.summary.get('migration')))}<ul>{reasons}</ul></div>"
    )


def statement_table(result) -> pd.DataFrame:
    from rehearse.analysis.summary import summary
    from rehearse.present.console import statement_table as table

    return table(summary(result))


def projection_text(result) -> str:
    projection = result.projected()
    if not projection:
        return (
            "No projection: this run was rehearsed at one scale. Rehearse with "
            "`--scales 0.01,0.03,0.1` to project durations and lock holds to production size."
        )
    rows = [
        f"| {i} | {p.get('rows'):,} | {p['duration_ms'] / 1000:.1f} s ({p['low_ms'] / 1000:.1f}–"
        f"{p['high_ms'] / 1000:.1f}) | {p.get('model')} |"
        for i, p in sorted(projection.items())
    ]
    return "| statement | rows | projected duration | model |\n|---|---|---|---|\n" + "\n".join(rows)


def warnings_text(result) -> str:
    """Risks the numbers alone do not show, e.g. the lock queue behind a long-running query."""
    strong = result.statements[
        result.statements["kind"].isin(["ALTER TABLE", "DROP TABLE", "TRUNCATE", "LOCK", "CREATE INDEX", "REINDEX"])
    ]
    lines = []
    lock_timeout = result.manifest.config.lock_timeout
    seen = result.statement_locks
    if "own" in seen:  # a lock on a relation the transaction created blocks no one
        seen = seen[~seen["own"].fillna(False).astype(bool)]
    impact_modes = set(seen["mode"]) if len(seen) else set()
    if any(lockmodes.blocks_reads(m) for m in impact_modes) and not lock_timeout:
        lines.append(
            "**Lock queue risk**: a statement needs ACCESS EXCLUSIVE. Behind one long query (a report, a "
            "session idle in transaction) it waits, and every application query queues behind it. "
            "Set `lock_timeout` (e.g. 2 s) and retry (`--lock-timeout 2000 --lock-retries 5`); "
            "rehearse it with `--long-transaction 30`."
        )
    elif len(strong) and not lock_timeout:
        lines.append("**No lock_timeout**: a blocking statement would wait indefinitely behind a long query.")
    lines += _stand_ins(result.manifest.dataset_manifest.get("stand_ins") or [])
    return "\n\n".join(lines) or "No further warnings."


def _stand_ins(found: list[dict]) -> list[str]:
    """--stand-in-missing: what the twin does not have, so what this rehearsal did not rehearse."""
    if not found:
        return []
    items = "; ".join(html.escape(f"{s['kind']} {s['name']} ({s['extension']}: {s['done']})") for s in found)
    return [f"**Not rehearsed (stand-ins for missing extensions)**: {len(found)} substitution(s): {items}."]


def state_text(result) -> str:
    state = result.manifest.state_after or StateAfter()
    parts = [f"**Schema after the run**: {len(state.schema_diff)} difference(s) from the baseline."]
    parts += [f"- {markdown_text(line)}" for line in state.schema_diff[:20]]
    if state.leftovers:
        parts.append("**Leftovers to clean up before a retry**: " + "; ".join(map(markdown_text, state.leftovers)))
    rollback = result.manifest.rollback
    if rollback is None:
        parts.append("**Rollback**: not rehearsed (run with `--rollback`). An untested rollback is a risk in itself.")
    elif not rollback.tested:
        parts.append("**Rollback**: the migration has no down script.")
    else:
        verdict = "restores the baseline" if rollback.restored else "does NOT restore the baseline"
        parts.append(f"**Rollback** (up, down, up on a quiet copy): {verdict}; rows lost: {rollback.rows_lost:,}.")
        parts += [f"- {markdown_text(line)}" for line in rollback.schema_diff[:20]]
    return "\n".join(parts)


def manifest_table(result) -> pd.DataFrame:
    shown = {k: v for k, v in result.manifest.to_dict().items() if k not in ("dataset_manifest", "app_pids")}
    return pd.DataFrame({"value": {k: json.dumps(v, default=str)[:300] for k, v in shown.items()}})
