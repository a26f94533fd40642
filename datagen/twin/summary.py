"""A twin's manifest for readers: fidelity per column and table as DataFrames, and the text `--info` prints.

The bounds are the round-trip acceptance's (README, "A twin of your schema"): a column's null fraction within
0.01 of production's, its distinct count within ×1.25, a table's bytes per row within ±10 %. The histogram
distance (share of rows moved between production's buckets, 0 = the same) has no acceptance bound; 0.1 is
shown as the line past which a column's shape is visibly off.
"""

from __future__ import annotations

import pandas as pd

NULL_FRAC_BOUND = 0.01
DISTINCT_BOUND = 1.25
SIZE_BOUND = 0.10
HISTOGRAM_LINE = 0.1


def columns_frame(manifest: dict) -> pd.DataFrame:
    """One row per (table, column) compared: the three errors, and whether it is within the bounds."""
    rows = [
        {
            "table": table,
            "column": column,
            "null_frac_error": found["null_frac_error"],
            "distinct_ratio": found["distinct_ratio"],
            "histogram_distance": found["histogram_distance"],
            "avg_width_twin": (found.get("avg_width") or {}).get("twin"),
            "avg_width_profile": (found.get("avg_width") or {}).get("profile"),
        }
        for table, per_table in manifest.get("fidelity", {}).items()
        for column, found in per_table["columns"].items()
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "table",
            "column",
            "null_frac_error",
            "distinct_ratio",
            "histogram_distance",
            "avg_width_twin",
            "avg_width_profile",
        ],
    )
    ratio = frame["distinct_ratio"].astype(float)
    distinct_ok = ratio.isna() | ((ratio >= 1 / DISTINCT_BOUND) & (ratio <= DISTINCT_BOUND))
    frame["within"] = (frame["null_frac_error"].astype(float) <= NULL_FRAC_BOUND) & distinct_ok
    return frame


def tables_frame(manifest: dict) -> pd.DataFrame:
    """One row per table: rows, heap+TOAST and index bytes per row on the twin and in the profile."""
    rows = []
    for table, found in manifest.get("fidelity", {}).items():
        heap, index = found["bytes_per_row"], found["index_bytes_per_row"]
        rows.append(
            {
                "table": table,
                "rows": found["rows"],
                "heap_twin": heap["twin"],
                "heap_profile": heap["profile"],
                "index_twin": index["twin"],
                "index_profile": index["profile"],
            }
        )
    frame = pd.DataFrame(rows, columns=["table", "rows", "heap_twin", "heap_profile", "index_twin", "index_profile"])
    frame["heap_error"] = (frame["heap_twin"] / frame["heap_profile"].where(frame["heap_profile"] > 0) - 1).round(3)
    return frame


def stand_ins_frame(manifest: dict) -> pd.DataFrame:
    """Every substitution `--stand-in-missing` made (empty when none)."""
    return pd.DataFrame(list(manifest.get("stand_ins") or ()), columns=["extension", "kind", "name", "done"])


def stand_in_lines(manifest: dict) -> list[str]:
    """One line per substitution, for the console after a build."""
    return [
        f"stand-in ({s['extension']}): {s['kind']} {s['name']}: {s['done']}" for s in manifest.get("stand_ins") or ()
    ]


def text(manifest: dict) -> str:
    """What `rehearse datagen --profile … --info` prints: the twin, its tables, the columns off bounds."""
    columns, tables = columns_frame(manifest), tables_frame(manifest)
    source = (manifest.get("profile") or {}).get("source", {}).get("server", "?")
    lines = [
        f"twin {manifest['name']}: scale {manifest['scale']:g}, seed {manifest['seed']}, built "
        f"{manifest.get('built_at', '?')} in {manifest.get('build_seconds', '?')} s, from the profile of {source}",
        "",
        "bytes per row, twin vs profile (heap with TOAST; indexes):",
        tables.to_string(index=False) if len(tables) else "(no tables)",
        "",
        f"columns: {int(columns['within'].sum())} of {len(columns)} within the bounds (null fraction "
        f"±{NULL_FRAC_BOUND}, distinct count ×{DISTINCT_BOUND})",
    ]
    outside = columns[~columns["within"]]
    if len(outside):
        lines += ["outside the bounds:", outside.drop(columns="within").to_string(index=False)]
    lines += _plans(manifest) + [""] + (stand_in_lines(manifest) or ["stand-ins: none"])
    return "\n".join(lines + reference_lines(manifest))


def reference_lines(manifest: dict) -> list[str]:
    """The references the twin drew from a parent's keys without a foreign key (the profile's)."""
    found = manifest.get("inferred_references") or []
    lines = [f"references beyond the schema's foreign keys: {len(found) or 'none'} (values drawn, no constraint)"]
    return lines + [
        f"  {r['table']}.{r['column']} → {r['parent_table']}.{r['parent_column']} ({r['evidence']})" for r in found
    ]


def _plans(manifest: dict) -> list[str]:
    plans = manifest.get("plans") or []
    if not plans:
        return []
    same = sum(1 for p in plans if p.get("same_shape"))
    lines = ["", f"generic plans of the profile's queries: {same} of {len(plans)} the same shape as production's"]
    for plan in (p for p in plans if not p.get("same_shape")):
        lines += [f"differs: {' '.join(plan['query'].split())[:100]}", "  production:", *plan["production"]]
        lines += ["  twin:", *(plan["twin"] or ["(not planned)"])]
    return lines


def plans_frame(manifest: dict) -> pd.DataFrame:
    """Per profile query with a production plan: whether its generic plan has the same shape on the twin."""
    rows = [
        dict(
            query=p["query"],
            same_shape=p["same_shape"],
            production=" / ".join(s.strip() for s in p["production"]),
            twin=" / ".join(s.strip() for s in p["twin"]),
        )
        for p in manifest.get("plans") or ()
    ]
    return pd.DataFrame(rows, columns=["query", "same_shape", "production", "twin"])
