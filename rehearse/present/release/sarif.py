"""SARIF 2.1.0 for code scanning: one result per finding, at the file and line of its statement.

The measured numbers ride along as the result's `properties`, so a reviewer reads the lock hold and the
delayed transactions beside the rule; where the review measured remedies for the statement, their prices too
(`remedy_original`, `remedies`: each rewrite's file, run and numbers, from the same saved runs as the page).
`partialFingerprints` hash the finding, the file and the statement's
text (whitespace-normalised), not its line: a finding keeps its identity when lines above it move, and a
code-scanning service tracks it across commits.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from common.text import shorten
from rehearse.verdicts.findings import BY_ID

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"red": "error", "amber": "warning", "green": "note"}
# Numbers copied from a statement's summary into the result's properties (those present).
MEASURED = (
    "duration_ms",
    "lock_hold_ms",
    "lock_wait_ms",
    "strongest_lock",
    "rewrote",
    "scanned",
    "blocked_app_tx",
    "blocked_app_ms_max",
    "delayed_app_tx",
    "delayed_app_ms_p99",
    "delayed_app_ms_max",
    "wal_bytes",
    "rows",
)
FINGERPRINT = "migrationRehearsal/v1"
REMEDY = ("kind", "title", "file", "runnable", "run_id")  # a rewrite's identity, beside its measured figures


def sarif(release: dict, root: str | Path | None = None) -> dict:
    """The SARIF log of a release summary; file URIs relative to `root` (the repository) when given."""
    results = [
        _result(m, s, fid, root)
        for m in release["migrations"]
        for s in m.get("statements", [])
        for fid in s.get("finding_ids") or ()
    ]
    used = sorted({r["ruleId"] for r in results})
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "migration-rehearsal",
                        "informationUri": "https://www.postgresql.org/",
                        "rules": [_rule(fid) for fid in used],
                    }
                },
                "results": results,
                "properties": {"decision": release.get("decision"), "review_id": release.get("review_id")},
            }
        ],
    }


def _rule(finding_id: str) -> dict:
    entry = BY_ID.get(finding_id)
    if entry is None:  # squawk's own rules, merged into the verdict
        return {"id": finding_id, "shortDescription": {"text": finding_id}}
    return {
        "id": entry.id,
        "name": entry.title.replace(" ", ""),
        "shortDescription": {"text": entry.title},
        "fullDescription": {"text": f"{entry.condition}. Effect: {entry.effect}."},
        "help": {"text": f"Instead: {entry.workaround}. Safer form: {entry.safer_form}."},
    }


def _result(migration: dict, statement: dict, finding_id: str, root) -> dict:
    source = statement.get("source") or migration.get("path") or migration.get("name") or "migration.sql"
    reasons = statement.get("reasons") or []
    return {
        "ruleId": finding_id,
        "level": LEVELS.get(statement.get("verdict"), "warning"),
        "message": {"text": f"{shorten(statement.get('sql', ''), 80)}: {reasons[0] if reasons else finding_id}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(source, root)},
                    "region": {"startLine": max(int(statement.get("line") or 1), 1)},
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT: _fingerprint(finding_id, _uri(source, root), statement.get("sql", ""))},
        "properties": {
            "migration": migration.get("name"),
            "statement": statement.get("index"),
            **{k: statement[k] for k in MEASURED if statement.get(k) is not None},
            **_projected(statement.get("projection")),
            **_remedies(statement.get("remedies")),
        },
    }


def _projected(projection: dict | None) -> dict:
    if not projection:
        return {}
    keys = ("rows", "duration_ms", "low_ms", "high_ms", "hold_ms", "hold_low_ms", "hold_high_ms")
    return {f"projected_{k}": projection[k] for k in keys if projection.get(k) is not None}


def _remedies(found: dict | None) -> dict:
    """The statement's measured remedies (rehearse.verdicts.remedies): the original's price as rehearsed, and per
    rewrite its file and saved run with the same figures (none for one written, not run); None values left out."""
    if not found:
        return {}
    rewrites = [
        _present({k: r.get(k) for k in REMEDY} | (r.get("measured") or {})) for r in found.get("rewrites") or ()
    ]
    return {"remedy_original": _present(found.get("original") or {}), "remedies": rewrites}


def _present(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if v is not None}


def _uri(source: str, root) -> str:
    path = Path(source)
    if root is not None and path.is_absolute():
        try:
            path = path.relative_to(Path(root).resolve())
        except ValueError:
            pass
    return path.as_posix()


def _fingerprint(finding_id: str, uri: str, sql: str) -> str:
    text = "\n".join((finding_id, uri, " ".join(sql.split())))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
