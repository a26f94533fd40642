"""Acceptance (not in make test): profile a real application's published schema by the files path.

Danbooru's Rails structure.sql (../shared/schemas/danbooru.structure.sql) is pg_dump --schema-only output
with Rails' migration versions appended. Without statistics, row counts come from --rows. Prints what the
profile holds and how long reading it took; exits non-zero when an expectation fails.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # bench/datagen.py shadows datagen
sys.path.insert(0, str(HERE.parent))

from datagen.profile import Profile, from_files  # noqa: E402

SCHEMA = HERE.parent.parent / "shared" / "schemas" / "danbooru.structure.sql"
ROWS = "posts=5000000,users=600000,tags=1200000,comments=3000000"


def main() -> int:
    if not SCHEMA.exists():
        print(f"FAILED: {SCHEMA} not found; this acceptance needs ../shared/schemas")
        return 2
    started = time.perf_counter()
    profile = from_files(SCHEMA, rows=ROWS, values=False)
    seconds = time.perf_counter() - started
    again = Profile.from_json(profile.to_json())
    columns = [c for t in profile.tables for c in t.columns]
    types = Counter(c.type for c in columns)
    print(f"danbooru: {len(profile.tables)} tables, {len(columns)} columns, read in {seconds:.2f} s")
    print("kinds:", dict(Counter(t.kind for t in profile.tables)))
    print("types:", ", ".join(f"{name} ×{n}" for name, n in types.most_common()))
    print("rows given:", {t.qualified: t.reltuples for t in profile.tables if t.reltuples >= 0})
    print("notes:", *profile.holds.notes, sep="\n  ")
    checks = {
        "round trip through JSON": again == profile,
        "65+ tables": len(profile.tables) >= 65,
        "rows given for posts": profile.table("posts").reltuples == 5_000_000,
        "Rails migration versions left out": "INSERT INTO" not in profile.schema_sql,
        "schema keeps its indexes": profile.schema_sql.count("CREATE INDEX") > 100,
    }
    for name, ok in checks.items():
        print(("ok   " if ok else "FAIL ") + name)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
