"""A projection as `rehearse.extrapolate` gives it, for the tests of its warnings and widenings."""

from __future__ import annotations


def at_ten_times(rows: int = 10**7, low_ms: float = 1000.0, high_ms: float = 2000.0, **keys) -> dict:
    """public.orders projected 10× past its largest rehearsal, with an interval of low_ms – high_ms for both
    the duration and the lock hold (`keys` override any field)."""
    return (
        dict(
            extrapolation_factor=10.0,
            rows=rows,
            table="public.orders",
            rehearsed_rows=rows // 10,
            low_ms=low_ms,
            high_ms=high_ms,
            hold_low_ms=low_ms,
            hold_high_ms=high_ms,
        )
        | keys
    )
