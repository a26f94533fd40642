"""What `rehearse run` prints: per-statement impact, the workload by phase, the verdict, projections."""

from __future__ import annotations

import pandas as pd

from common.text import human_ms, shorten
from rehearse.analysis import timeline as analysis
from rehearse.verdicts.gate import rollback_facts


def print_run(result, summary: dict) -> None:
    print(
        f"run {result.run_id}: migration {summary['migration']} {summary['outcome']} "
        f"(scale {summary['scale']}, PostgreSQL {summary['postgres_version']})"
    )
    print(statement_table(summary).to_string(index=False))
    for s in summary["statements"]:
        if str(s.get("ran_as") or "").startswith("superuser"):
            print(f"statement {s['index']} ran as {s['ran_as']} (untrusted extension: the one superuser path)")
    print()
    print(analysis.latency_by_phase(result).round(1).to_string())
    print(f"\nsaved in data/runs/{result.run_id}/")


def statement_table(summary: dict) -> pd.DataFrame:
    rows = []
    for s in summary["statements"]:
        rows.append(
            {
                "#": s["index"],
                "statement": shorten(s["sql"], 48),
                "status": s["status"],
                "ms": _num(s["duration_ms"]),
                "strongest lock": _strongest(s),
                "wait ms": _num(s["lock_wait_ms"]),
                "hold ms": _num(s["lock_hold_ms"]),
                "rewrite": "yes" if s["rewrote"] else "",
                "full scan": "yes" if s["scanned"] else "",
                "app delayed (tx, p99, max ms)": _delayed(s),
                "app blocked (backends, max ms)": f"{s['blocked_app_tx']}, {_num(s['blocked_app_ms_max'])}",
                "error": f"{s['error']['sqlstate']} {s['error']['message']}"[:60] if s["error"] else "",
            }
        )
    return pd.DataFrame(rows)


def _delayed(s: dict) -> str:
    if s.get("delayed_app_tx") is None:  # a summary from before delays were counted
        return "-"
    return f"{s['delayed_app_tx']}, {_num(s['delayed_app_ms_p99'])}, {_num(s['delayed_app_ms_max'])}"


def _strongest(s: dict) -> str:
    """The strongest lock; '(expected)' when only the parse tree says so (the rehearsal did not see it)."""
    if not s["strongest_lock"]:
        return "none"
    return s["strongest_lock"] + (" (expected, not observed)" if s.get("locks_expected_only") else "")


def _num(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def print_verdict(judged) -> None:
    print(f"verdict: {judged.level.upper()}" + "".join(f"\n  - {r}" for r in judged.reasons[:5]))


def rollback_line(report: dict | None) -> str | None:
    """The rollback's outcome in one line (None when no rollback was asked for)."""
    if report is None:
        return None
    if not report.get("tested"):
        return "rollback: not tested (no down script)"
    outcome = "restored" if report.get("restored") else "NOT restored"
    return f"rollback: {outcome} ({rollback_facts(report)})"


def print_rollback(summary: dict) -> None:
    line = rollback_line(summary.get("rollback"))
    if line:
        print(line)


def projection_table(scaled) -> pd.DataFrame:
    """The printed table: per statement, rows projected to, ×, models, duration and lock hold with intervals."""
    rows = []
    for p in map(scaled.projection, scaled.indexes):
        sql = scaled.points.loc[scaled.points["index"] == p["index"], "sql"].iloc[0]
        rows.append(
            {
                "#": p["index"],
                "statement": shorten(sql, 40),
                "fitted on": p["table"] or "-",
                "rows": f"{p['rows']:,}" if p["table"] else "-",
                "×": f"{p['extrapolation_factor']:,.0f}" if p["table"] else "-",
                "duration": _ranged(p["duration_ms"], p["low_ms"], p["high_ms"]),
                "model": p["model"],
                "lock hold": _ranged(p["hold_ms"], p["hold_low_ms"], p["hold_high_ms"]),
                "hold model": p["hold_model"],
            }
        )
    return pd.DataFrame(rows)


def print_projection(scaled) -> None:
    scales = ", ".join(f"{r.manifest.scale:g}" for r in scaled.results)
    print(f"\nprojection to production ({scaled.production.origin}) from scales {scales}; 90 % intervals")
    print(projection_table(scaled).to_string(index=False))
    for p in map(scaled.projection, scaled.indexes):
        if p["warning"]:
            print(f"warning: #{p['index']}: {p['warning']}")
    if scaled.production.unknown:
        print(f"not on the production server (projected to SF 1): {', '.join(scaled.production.unknown)}")


def _ranged(ms: float, low: float, high: float) -> str:
    return f"{human_ms(ms)} ({human_ms(low)} – {human_ms(high)})"
