"""Measured remedies of a release: for each RED statement whose safer form is mechanical (rehearse.sql.remedies),
the rewritten migration written to `remedies/` in the review's folder, rehearsed under the same traffic and
options (rehearse.measure.remedy), and its price set beside the original's in the release summary.

What is compared: a remedy run is the whole migration with that one statement replaced, so p99 during and
total time are the migration's in both; lock, hold and delayed/blocked transactions are the statement's in the
original and the sum over the rewrite's steps in the remedy. The hold is the longest any one transaction held a
lock, beside how many transactions held one: a batched UPDATE's CALL commits once per batch, and each batch's
locks go with its COMMIT (rehearse.analysis.spans), so the whole CALL is not one hold. Numbers come from the
saved runs only.
"""

from __future__ import annotations

from pathlib import Path

from rehearse.measure.remedy import Job, rehearse_remedies, table_facts
from rehearse.sql.locks import strongest
from rehearse.sql.remedies import remedies, tables_to_batch
from rehearse.sql.remedy_file import rewritten
from rehearse.sql.secrets import mask
from rehearse.verdicts import verbs
from rehearse.verdicts.base import rank
from rehearse.verdicts.judge import static_findings

FOLDER = "remedies"


def measure(parts, results, migrations: list[dict], config, folder: Path, review_id: str, thresholds) -> list:
    """Add `remedies` {original, rewrites} to each red statement of `migrations` that has one; write the
    files; rehearse the runnable ones. Returns the remedies' saved runs."""
    targets = _red(parts, migrations)
    facts = table_facts(config, [t for _, _, st in targets for t in tables_to_batch(st.sql)])
    jobs, placed = [], []
    for position, data, statement in targets:
        found = remedies(statement.sql, facts)
        if not found:
            continue
        entries = []
        for remedy in found:
            entry, job = _write(parts[position], position, statement, remedy, (folder, review_id))
            entries.append(entry)
            if job:
                jobs.append(job)
                placed.append((entry, job.about))
        original = price(migrations[position], [data], results[position])
        data["remedies"] = dict(original=original, rewrites=entries)
    runs = rehearse_remedies(parts, jobs, config, static_findings) if jobs else []
    for (entry, about), run in zip(placed, runs):
        judged = verbs.judge(run, thresholds).annotate()
        steps = [s for s in judged["statements"] if about["first"] <= s["index"] < about["first"] + about["count"]]
        entry.update(run_id=run.run_id, measured=price(judged, steps, run))
    return runs


def _red(parts, migrations: list[dict]) -> list[tuple]:
    """(position, statement summary, Statement) of every red statement of the migrations that ran."""
    found = []
    for position, (part, m) in enumerate(zip(parts, migrations)):
        written = {s.index: s for s in part.migration.statements}
        for data in m.get("statements", []):
            if data.get("verdict") == "red" and data.get("phase", "up") == "up" and data["index"] in written:
                found.append((position, data, written[data["index"]]))
    return found


def _write(part, position: int, statement, remedy, where: tuple) -> tuple[dict, Job | None]:
    """Write one remedy's file; its entry in the release summary, and the job that rehearses it (if runnable)
    after the release's first `position` migrations. `where`: (the review's folder, its id)."""
    folder, review_id = where
    name = f"{_safe(part.name)}-{statement.index}-{remedy.kind}.sql"
    path = folder / FOLDER / name
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = dict(kind=remedy.kind, title=remedy.title, file=f"{FOLDER}/{name}", runnable=remedy.runnable)
    entry |= dict(sql=mask(remedy.sql), run_id=None, measured=None)
    if not remedy.runnable:
        path.write_text(remedy.sql)
        return entry, None
    heading = (
        f"Remedy '{remedy.kind}' for statement {statement.index} of {part.name} "
        f"({statement.source}:{statement.line}): {remedy.title}.\n"
        f"Written by `rehearse review` ({review_id}); the migration it rewrites is unchanged.\n"
        "The other statements are kept, each transaction as it ran, spelled out as BEGIN … COMMIT."
    )
    file = rewritten(part.migration, statement.index, remedy.statements, heading)
    path.write_text(file.shown)
    about = dict(review_id=review_id, remedy=remedy.kind, name=part.name, statement=statement.index, file=name)
    about |= dict(first=file.first, count=file.count)
    return entry, Job(file.migration(f"{part.name} ({remedy.kind})", str(path)), position, about)


def price(data: dict, steps: list[dict], result) -> dict:
    """The price of `steps` (statement summaries) in a run: the strongest lock and how long it was held, the
    longest single hold and how many transactions held locks (a batched CALL commits once per batch, each
    hold its own), transactions delayed and blocked; the migration's p99 during and total time; outcome."""
    mode = strongest(s["strongest_lock"] for s in steps if s.get("strongest_lock"))
    manifest = result.manifest
    failed = next((s for s in steps if s.get("status") == "failed"), None)
    return dict(
        strongest_lock=mode,
        strongest_hold_ms=max(
            (s.get("lock_hold_ms") or 0.0 for s in steps if s.get("strongest_lock") == mode), default=0.0
        ),
        lock_hold_ms=max((s.get("lock_hold_ms") or 0.0 for s in steps), default=0.0),  # one transaction's
        lock_holds=sum(s.get("lock_hold_count") or 0 for s in steps),  # transactions holding a lock, all steps
        delayed_app_tx=sum(s.get("delayed_app_tx") or 0 for s in steps),
        blocked_app_tx=sum(s.get("blocked_app_tx") or 0 for s in steps),
        p99_during_ms=((data.get("workload") or {}).get("during") or {}).get("p99_ms"),
        total_ms=(manifest.migration_end - manifest.migration_start) * 1000.0,
        outcome=data.get("outcome"),
        verdict=max((s.get("verdict", "green") for s in steps), key=rank, default="green"),
        error=(failed or {}).get("error"),
    )


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)[:60].strip("-") or "migration"
