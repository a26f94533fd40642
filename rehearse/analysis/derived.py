"""Frames derived from a run, computed once per result: lock spans, blocking, delays, the impact table.

One verdict reads them many times over (the summary, its impact table, the delays, the one-scale projection),
and each took seconds on a 0.1-scale run. `once` keeps each function's answer on the result it was computed
from (in its `__dict__`, beside the frames it derives from), so the memo lives and dies with the result;
`dataclasses.replace` makes a new result that starts with none. A result's frames are what the run recorded
and are not edited once analysed. Callers get a copy, so one caller adding a column changes nothing for the
next.
"""

from __future__ import annotations

import functools

MEMO = "_derived"  # the attribute of a result holding {(function, arguments): frame}


def once(compute):
    """Decorate `compute(result, *args, **kwargs)` (hashable arguments) to run once per result and arguments."""

    @functools.wraps(compute)
    def memoised(result, *args, **kwargs):
        memo = vars(result).setdefault(MEMO, {})
        key = (f"{compute.__module__}.{compute.__qualname__}", args, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = compute(result, *args, **kwargs)
        return memo[key].copy()

    return memoised
