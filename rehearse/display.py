"""The readable summary `rehearse run` prints: per-statement impact, then the workload by phase."""
from __future__ import annotations

import pandas as pd

from . import analysis


def print_run(result, summary: dict) -> None:
    print(f"run {result.run_id}: migration {summary['migration']} {summary['outcome']} "
          f"(scale {summary['scale']}, PostgreSQL {summary['postgres_version']})")
    print(statement_table(summary).to_string(index=False))
    print()
    print(analysis.latency_by_phase(result).round(1).to_string())
    print(f"\nsaved in data/runs/{result.run_id}/")


def statement_table(summary: dict) -> pd.DataFrame:
    rows = []
    for s in summary["statements"]:
        rows.append({
            "#": s["index"], "statement": _short(s["sql"]), "status": s["status"],
            "ms": _num(s["duration_ms"]), "strongest lock": s["strongest_lock"] or "-",
            "wait ms": _num(s["lock_wait_ms"]), "hold ms": _num(s["lock_hold_ms"]),
            "rewrite": "yes" if s["rewrote"] else "", "full scan": "yes" if s["scanned"] else "",
            "app blocked (tx, max ms)": f"{s['blocked_app_tx']}, {_num(s['blocked_app_ms_max'])}",
            "error": f"{s['error']['sqlstate']} {s['error']['message']}"[:60] if s["error"] else ""})
    return pd.DataFrame(rows)


def _short(sql: str, width: int = 48) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _num(value) -> str:
    return "-" if value is None else f"{value:,.0f}"
