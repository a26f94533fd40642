"""A release's decision: go only when every migration ran and passed its gate; why, in one paragraph; the
projected window; and the exit code `rehearse review` returns (the gate's: 1 a migration failed, 3 over
--max-risk or a rollback not restored, 0 go)."""

from __future__ import annotations

from common.text import human_ms
from rehearse.verdicts.gate import EXIT_MIGRATION_FAILED, EXIT_OK, EXIT_OVER_RISK


def release(name: str, migrations: list[dict], max_risk: str, manifest, production: dict) -> dict:
    """The release summary (without its id): decision, why, window, and the sign-off facts of the runs
    (`manifest`: the first run's RunManifest)."""
    go = all(m.get("gate", {}).get("passed") for m in migrations)
    return dict(
        name=name,
        decision="go" if go else "no-go",
        why=why(migrations, max_risk, go),
        max_risk=max_risk,
        window=window(migrations),
        migrations=migrations,
        run_ids=[m["run_id"] for m in migrations if m.get("run_id")],
        scale=manifest.scale,
        seed=manifest.seed,
        postgres_version=manifest.postgres_version,
        dataset=manifest.dataset,
        fidelity=manifest.dataset_manifest.get("fidelity"),
        production=production,
    )


def not_run(name: str, path: str) -> dict:
    """A migration after a failed one: production would not reach it either."""
    reason = "not run: a migration before it failed, and a deploy stops there"
    return dict(
        name=name,
        path=path,
        run_id=None,
        verdict="not run",
        outcome="not run",
        statements=[],
        gate=dict(passed=False, exit_code=EXIT_MIGRATION_FAILED, reasons=[reason]),
    )


def exit_code(migrations: list[dict]) -> int:
    codes = {m.get("gate", {}).get("exit_code", EXIT_OK) for m in migrations}
    return (
        EXIT_MIGRATION_FAILED
        if EXIT_MIGRATION_FAILED in codes
        else EXIT_OVER_RISK
        if EXIT_OVER_RISK in codes
        else EXIT_OK
    )


def why(migrations: list[dict], max_risk: str, go: bool) -> str:
    """One paragraph: what holds the release back, or why it may go."""
    span = window(migrations)
    timing = f"the projected window is {human_ms(span['ms'])} ({human_ms(span['low_ms'])}–{human_ms(span['high_ms'])})"
    if go:
        worst = max((m.get("verdict", "green") for m in migrations), key=["green", "amber", "red"].index)
        return (
            f"All {len(migrations)} migrations ran and pass the gate at max_risk={max_risk} (worst verdict "
            f"{worst.upper()}); every tested rollback restored the database; {timing}."
        )
    blockers = [f"{m['name']}: " + "; ".join(m["gate"]["reasons"][:2]) for m in migrations if not m["gate"]["passed"]]
    return f"{'. '.join(blockers)}. Across the release {timing}."


def window(migrations: list[dict]) -> dict:
    """The projected total time of the release's statements at production size (measured where not projected)."""
    total = {"ms": 0.0, "low_ms": 0.0, "high_ms": 0.0}
    for m in migrations:
        for st in m.get("statements", []):
            if st.get("phase", "up") != "up":
                continue
            p = st.get("projection") or {}
            measured = st.get("duration_ms") or 0.0
            total["ms"] += p.get("duration_ms", measured)
            total["low_ms"] += p.get("low_ms", measured)
            total["high_ms"] += p.get("high_ms", measured)
    return total
