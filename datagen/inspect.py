"""What a dataset looks like, as DataFrames: sizes, orders over time, per customer, amounts."""

from __future__ import annotations

import math

import pandas as pd

from datagen.dirt import MEASURES
from datagen.tables import TABLES
from datagen.template import Dataset


def _query(dataset: Dataset, query: str, params: tuple = ()) -> pd.DataFrame:
    # Read-only, short sessions: a template must have no open connections when someone clones it.
    with dataset.server.connect(dataset.name, options="-c default_transaction_read_only=on") as conn:
        cur = conn.execute(query, params)
        return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])


def table_sizes(dataset: Dataset) -> pd.DataFrame:
    """Rows, on-disk size (heap + indexes) and bytes per row of every table, from the manifest."""
    m = dataset.manifest
    order = [t.name for t in TABLES]  # jsonb keeps keys in its own order
    frame = pd.DataFrame({"rows": m["rows"], "bytes": m["table_bytes"]}).loc[order].rename_axis("table")
    frame["MB"] = (frame["bytes"] / 1e6).round(1)
    frame["bytes_per_row"] = (frame["bytes"] / frame["rows"]).round(0).astype(int)
    return frame.drop(columns="bytes")


def dirt(dataset: Dataset) -> pd.DataFrame:
    """Each kind of dirt: the share asked, the rows that share means, the rows measured after the load."""
    m = dataset.manifest
    return (
        pd.DataFrame({"share": m["dirt"], "expected_rows": m["dirt_expected"], "measured_rows": m["dirt_achieved"]})
        .loc[list(MEASURES)]
        .rename_axis("dirt")
    )


def orders_per_day(dataset: Dataset) -> pd.DataFrame:
    frame = _query(dataset, "SELECT created_at::date AS day, count(*) AS orders FROM orders GROUP BY 1 ORDER BY 1")
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def orders_per_customer(dataset: Dataset) -> pd.DataFrame:
    """How many customers placed n orders, for every n (customers without orders included as n = 0)."""
    return _query(
        dataset,
        """
        SELECT coalesce(o.n, 0) AS orders, count(*) AS customers
          FROM customers c LEFT JOIN (SELECT customer_id, count(*) AS n FROM orders GROUP BY 1) o USING (customer_id)
         GROUP BY 1 ORDER BY 1""",
    )


def top_customer_share(per_customer: pd.DataFrame, top: float = 0.01) -> float:
    """The share of all orders placed by the `top` fraction of customers who order most."""
    counts = per_customer.loc[per_customer.index.repeat(per_customer["customers"]), "orders"]
    ranked = counts.sort_values(ascending=False).to_numpy()
    k = max(1, round(top * len(ranked)))
    return float(ranked[:k].sum() / ranked.sum())


def amount_histogram(dataset: Dataset, bins: int = 60) -> pd.DataFrame:
    """Orders per bin of total_amount, bins equally wide on a log scale (amounts are log-normal)."""
    frame = _query(
        dataset,
        """
        WITH r AS (SELECT ln(min(total_amount)) AS lo, ln(max(total_amount)) + 1e-9 AS hi FROM orders)
        SELECT width_bucket(ln(total_amount), r.lo, r.hi, %s) AS bin, min(r.lo) AS lo, min(r.hi) AS hi,
               count(*) AS orders
          FROM orders, r GROUP BY 1 ORDER BY 1""",
        (bins,),
    )
    width = (frame["hi"] - frame["lo"]) / bins
    frame["low"] = (frame["lo"] + (frame["bin"] - 1) * width).map(lambda x: math.exp(float(x)))
    frame["high"] = (frame["lo"] + frame["bin"] * width).map(lambda x: math.exp(float(x)))
    return frame[["low", "high", "orders"]]
