"""How the sampler keeps what it saw: rows column by column, frames at the end."""

from __future__ import annotations

import pandas as pd


class Columns:
    """Rows kept column by column; repeated strings (modes, names, queries) stored once."""

    def __init__(self, dtypes: dict[str, str]):
        self.dtypes = {"t": "float64", "rtt": "float64", **dtypes}
        self.data: dict[str, list] = {name: [] for name in self.dtypes}
        self._strings: dict[str, str] = {}

    def add_arrays(self, t: float, rtt: float, arrays: dict[str, list | None]) -> None:
        n = len(arrays["pid"] or ())
        if not n:
            return
        self.data["t"].extend([t] * n)
        self.data["rtt"].extend([rtt] * n)
        for name, values in arrays.items():
            if values is None or not isinstance(next(filter(None, values), None), str):
                self.data[name].extend(values or [None] * n)
            else:
                self.data[name].extend([self._strings.setdefault(v, v) if v else v for v in values])

    def add_row(self, row: dict) -> None:
        for name, value in row.items():
            self.data[name].append(value)

    def frame(self) -> pd.DataFrame:
        # Cut to the shortest column: only differs if a stuck thread was abandoned mid-append.
        n = min(len(v) for v in self.data.values())
        return pd.DataFrame(
            {name: pd.Series(values[:n], dtype=self.dtypes[name]) for name, values in self.data.items()}
        )


def activity_frame(columns: Columns) -> pd.DataFrame:
    frame = columns.frame()
    lists = [[int(p) for p in s.split(",")] if isinstance(s, str) and s else [] for s in frame["blocked_by"]]
    frame["blocked_by"] = pd.Series(lists, index=frame.index, dtype="object")
    return frame


def load_frame(columns: Columns) -> pd.DataFrame:
    frame = columns.frame()
    # Percent of ONE core between consecutive load samples (two busy cores read 200).
    frame["cpu_percent"] = 100 * frame["cpu_seconds"].diff() / frame["cpu_t"].diff()
    return frame
