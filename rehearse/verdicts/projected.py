"""A statement's projection to production size as the verdict quotes it: the hold it projects, and its words.

A lock is held until its transaction commits, so the hold a statement projects is its own projected time plus
that of every later statement of its transaction (ADD COLUMN's lock lasts through the backfill UPDATE after
it). Each figure is (ms, low ms, high ms, model, size text), as the rules in rules_dynamic.py quote it.
"""

from __future__ import annotations

from common.text import human_ms


def hold(ctx, s: dict):
    """(ms, low, high, model, size) the lock of statement `s` would be held at production size: the projected
    durations of this statement and of the rest of its transaction; None without a projection. `ctx` is a
    rules_dynamic.Context (its statements, projection and JSON summary)."""
    index, st = s["index"], ctx.statements.get(s["index"])
    span = (
        [index]
        if not st or not st.transaction
        else sorted(i for i, o in ctx.statements.items() if o.transaction == st.transaction and i >= index)
    )
    shown = [ctx.projection[i] for i in span if i in ctx.projection]
    if not shown:
        return None
    measured = {x["index"]: x.get("duration_ms") or 0.0 for x in ctx.data.get("statements", [])}

    def total(key):
        return sum(
            ctx.projection[i].get(key, ctx.projection[i]["duration_ms"])
            if i in ctx.projection
            else measured.get(i, 0.0)
            for i in span
        )

    return total("duration_ms"), total("low_ms"), total("high_ms"), model_of_hold(shown, index), size(shown[0])


def model_of_hold(shown: list[dict], index: int) -> str | None:
    """The model behind most of a projected hold: that of the statement projected to take longest in the
    span (an ADD COLUMN's hold is its backfill UPDATE's time), named with its index when it is another."""
    longest = max(shown, key=lambda p: p.get("duration_ms") or 0.0)
    model = longest.get("model")
    if not model or longest.get("index", index) == index:
        return model
    return f"statement {longest['index']}'s {model}"


def size(p: dict) -> str:
    """'200,000,000 rows in public.orders, from one scale; ' or '' when the projection does not say."""
    if not p.get("rows") or not p.get("table"):
        return ""
    basis = ", from one scale" if p.get("basis") else ""
    return f"{p['rows']:,} rows in {p['table']}{basis}; "


def quoted(at_size) -> str:
    """' here, projected 2.3 min at production size (…; 62.2 s–6.1 min, nlogn model)', or '' without one."""
    if not at_size:
        return ""
    ms, low, high, model, rows = at_size
    how = f", {model} model" if model else ""
    return f" here, projected {human_ms(ms)} at production size ({rows}{human_ms(low)}–{human_ms(high)}{how})"
