"""Big migrations: lines and error positions stay exact, trees are shared by shape, a size limit refuses early."""

from __future__ import annotations

import subprocess
import sys

import pytest

from common.errors import BadInput
from rehearse.measure.config import RehearsalConfig
from rehearse.sql import migration
from rehearse.sql.parse import iter_parse


def many(n: int) -> str:
    """n statements over several lines each, with comments and `;` inside strings and dollar quotes."""
    parts = []
    for i in range(n):
        if i % 3 == 0:
            parts.append(f"-- step {i}; not a statement\nUPDATE orders\n   SET note = 'a;b {i}'\n WHERE id = {i};")
        elif i % 3 == 1:
            parts.append(f"INSERT INTO orders (id, note) VALUES ({i}, $$x;\n{i}$$); /* tail; */")
        else:
            parts.append(f"ALTER TABLE orders ALTER COLUMN note TYPE varchar({i + 1});")
    return "\n\n".join(parts) + "\n"


def test_each_statement_keeps_its_exact_line_and_text():
    text = many(3000)
    statements = migration.split(text)
    assert len(statements) == 3000
    for st in statements:
        offset = text.index(st.sql)  # each statement's text is unique (its number is in it)
        assert st.line == text.count("\n", 0, offset) + 1
        assert not st.sql.endswith(";") and not st.sql.startswith(("--", "/*"))
    assert {st.kind for st in statements} == {"UPDATE", "INSERT", "ALTER TABLE"}


def test_a_syntax_error_deep_in_a_big_file_names_its_statement_line_and_position():
    text = many(3000) + "UPDATE orders SET note = 'x' LIMIT 1000;\n"
    with pytest.raises(BadInput) as info:
        migration.split(text, "big.sql")
    line = text.count("\n", 0, text.index("LIMIT 1000")) + 1
    assert f"big.sql: statement 3001 (line {line}, position 30)" in str(info.value)
    assert "no UPDATE/DELETE … LIMIT" in str(info.value)


def test_dml_of_one_shape_shares_a_tree_and_ddl_never_does():
    pieces = list(iter_parse(many(9), "f.sql"))
    updates, inserts, alters = pieces[0::3], pieces[1::3], pieces[2::3]
    assert len({id(p.node) for p in updates}) == 1 and len({id(p.node) for p in inserts}) == 1
    assert len({id(p.node) for p in alters}) == 3  # varchar(2), (5), (8): a literal can matter in DDL
    assert [p.node.cmds[0].def_.typeName.typmods[0].val.ival for p in alters] == [3, 6, 9]


def test_a_file_over_the_size_limit_is_refused_in_one_line_naming_the_limit_and_the_flag(tmp_path):
    big = tmp_path / "big.sql"
    big.write_text(many(30000))  # ~2 MB
    cmd = [sys.executable, "-m", "rehearse.cli", "plan", str(big), "--max-migration-mb", "1"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "over the 1 MB limit" in res.stderr and "--max-migration-mb 3" in res.stderr
    res = subprocess.run(cmd[:-1] + ["3"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    with pytest.raises(BadInput, match="over the 1 MB limit"):
        migration.load(big, max_mb=1)
    assert len(migration.load(big).statements) == 30000  # the default limit (100 MB) lets it through
    with pytest.raises(BadInput, match="max_migration_mb must be a number greater than 0"):
        RehearsalConfig(max_migration_mb=0)
