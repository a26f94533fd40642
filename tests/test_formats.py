"""Migration formats beyond plain SQL: Liquibase formatted-SQL changelogs and Alembic projects."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from common.errors import BadInput
from rehearse.sql.migration import load

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHANGELOG = FIXTURES / "liquibase" / "changelog.sql"
ALEMBIC = FIXTURES / "alembic_project"


def units(migration) -> list[list[int]]:
    return [[s.index for s in unit] for unit in migration.transactions()]


def bad(call, *args, **kwargs) -> str:
    with pytest.raises(BadInput) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def changelog(tmp_path, text: str) -> Path:
    path = tmp_path / "changelog.sql"
    path.write_text("--liquibase formatted sql\n\n" + text)
    return path


# --- Liquibase ---------------------------------------------------------------------------------------


def test_each_changeset_is_one_transaction_unit():
    migration = load(CHANGELOG)
    assert [s.kind for s in migration.statements] == [
        "ALTER TABLE",
        "ALTER TABLE",
        "CREATE INDEX",
        "CREATE FUNCTION",
        "CREATE TRIGGER",
        "COMMENT",
        "UPDATE",
    ]
    assert units(migration) == [[1, 2], [3], [4], [5, 6], [7]]
    assert [s.line for s in migration.statements] == [5, 6, 11, 15, 26, 29, 40]
    assert migration.sources == (str(CHANGELOG),) and migration.name == "changelog"


def test_run_in_transaction_false_runs_each_statement_on_its_own(tmp_path):
    path = changelog(
        tmp_path,
        "--changeset a:1 runInTransaction:false\nALTER TABLE orders ADD COLUMN c int;\nUPDATE orders SET c = 1;\n",
    )
    assert [s.transaction for s in load(path).statements] == [0, 0]
    assert load(CHANGELOG).statements[2].transaction == 0  # CREATE INDEX CONCURRENTLY in alice:2


def test_concurrently_in_a_transactional_changeset_is_refused(tmp_path):
    path = changelog(tmp_path, "--changeset a:1\nCREATE INDEX CONCURRENTLY i ON orders (note);\n")
    message = bad(load, path)
    assert message.startswith(f"{path}:4: CREATE INDEX CONCURRENTLY")
    assert "add runInTransaction:false" in message


def test_split_statements_false_keeps_the_body_whole_and_together(tmp_path):
    function = load(CHANGELOG).statements[3]
    assert function.sql.count(";") == 2 and function.sql.endswith("$$")  # semicolons of the body stay inside
    path = changelog(
        tmp_path,
        "--changeset a:1 runInTransaction:false splitStatements:false\n"
        "ALTER TABLE orders ADD COLUMN c int;\nUPDATE orders SET c = 1;\n",
    )
    migration = load(path)
    assert len(migration.statements) == 2 and units(migration) == [[1, 2]]  # sent together: one unit


def test_end_delimiter_ends_statements():
    trigger, comment = load(CHANGELOG).statements[4:6]
    assert trigger.sql.endswith("EXECUTE FUNCTION orders_touch_note()") and "/" not in trigger.sql
    assert comment.sql == "COMMENT ON COLUMN orders.note IS 'free text from support'"


def test_changesets_for_other_databases_are_skipped_with_a_note():
    migration = load(CHANGELOG)
    assert not any("NOCACHE" in s.sql for s in migration.statements)
    assert any("carol:5" in n and "dbms:oracle" in n for n in migration.notes)
    assert any("preconditions" in n for n in migration.notes)


def test_rollback_runs_newest_changeset_first():
    down = load(CHANGELOG).down
    assert [s.sql for s in down.statements] == [
        "DROP TRIGGER orders_touch_note ON orders",  # bob:4
        "DROP FUNCTION orders_touch_note()",  # bob:3, from the /* liquibase rollback */ block
        "DROP INDEX CONCURRENTLY orders_note_idx",  # alice:2, runInTransaction:false
        "ALTER TABLE orders DROP COLUMN note_set_at",  # alice:1, two --rollback lines, one unit
        "ALTER TABLE orders DROP COLUMN note",
    ]  # carol:6 is '--rollback empty': nothing
    assert units(down) == [[1], [2], [3], [4, 5]] and down.statements[2].transaction == 0
    assert [s.line for s in down.statements] == [31, 22, 12, 7, 8]
    assert down.notes == ()


def test_missing_rollback_fails_the_rollback_where_liquibase_would():
    migration = load(FIXTURES / "liquibase" / "missing_rollback.sql")
    down = migration.down
    assert [s.kind for s in down.statements] == ["DROP INDEX", "DO", "ALTER TABLE"]
    stand_in = down.statements[1]
    assert stand_in.line == 7 and "changeset alice:2 has no --rollback" in stand_in.sql
    assert "RAISE EXCEPTION" in stand_in.sql
    assert len(down.notes) == 1 and "alice:2" in down.notes[0] and "no --rollback" in down.notes[0]


def test_no_rollback_at_all_means_no_down_and_says_why(tmp_path):
    path = changelog(
        tmp_path,
        "--changeset a:1\nALTER TABLE orders ADD COLUMN c int;\n"
        "--changeset a:2\nALTER TABLE orders ADD COLUMN d int;\n",
    )
    migration = load(path)
    assert migration.down is None
    assert any("no changeset has a --rollback" in n for n in migration.notes)
    (tmp_path / "undo").mkdir()
    undo = changelog(tmp_path / "undo", "--changeset b:1\nSELECT 1;\n")
    assert load(path, down=undo).down.statements[0].sql == "SELECT 1"  # --down still overrides


def test_changelog_without_changesets_is_bad_input():
    path = FIXTURES / "liquibase" / "no_changesets.sql"
    message = bad(load, path)
    assert message.startswith(f"{path}: Liquibase changelog without any changeset")
    assert "--changeset author:id" in message


def test_syntax_error_in_a_changeset_names_file_line_and_changeset(tmp_path):
    path = changelog(
        tmp_path,
        "--changeset a:1\nALTER TABLE orders ADD COLUMN c int;\n--rollback SELECT 1;\n\n"
        "--changeset a:2\nUPDATE orders SET c = 1;\n  SELEC 3;\n",
    )
    message = bad(load, path)
    assert message.startswith(f'{path}: statement 2 (line 9, position 3): syntax error at or near "SELEC"')
    assert message.endswith("(in changeset a:2)")


def test_syntax_error_in_a_rollback_line_points_into_it(tmp_path):
    path = changelog(tmp_path, "--changeset a:1\nALTER TABLE orders ADD COLUMN c int;\n--rollback DROP TABL x;\n")
    message = bad(load, path)
    assert message.startswith(f"{path}: statement 1 (line 5, position 17):")
    assert "(in the rollback of changeset a:1)" in message


def test_properties_rollback_reference_and_duplicates(tmp_path):
    path = changelog(
        tmp_path,
        "--property name:tbl value:orders\n"
        "--changeset a:1\nCREATE INDEX i ON ${tbl} (note);\n--rollback DROP INDEX i;\n"
        "--changeset a:2\nDROP INDEX i;\n--rollback changesetId:1 changesetAuthor:a\n",
    )
    migration = load(path)
    assert migration.statements[0].sql == "CREATE INDEX i ON orders (note)"
    assert migration.down.statements[0].sql == "CREATE INDEX i ON orders (note)"
    twice = changelog(tmp_path, "--changeset a:1\nSELECT 1;\n--changeset a:1\nSELECT 2;\n")
    assert "appears twice" in bad(load, twice)


def test_changeset_without_sql_is_bad_input(tmp_path):
    path = changelog(tmp_path, "--changeset a:1\nSELECT 1;\n--changeset a:2\n-- to do\n--rollback SELECT 2;\n")
    assert bad(load, path).startswith(f"{path}:5: changeset a:2 has no SQL")


def test_only_the_header_makes_a_changelog(tmp_path):
    path = tmp_path / "plain.sql"
    path.write_text("--changeset a:1\nSELECT 1;\n--changeset a:2\nSELECT 2;\n")
    assert units(load(path)) == [[1, 2]]  # plain SQL: the --changeset lines are comments


# --- Alembic -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def alembic_migration():
    return load(ALEMBIC)  # a child process runs Alembic: once for the tests that only read the result


def test_alembic_revisions_become_statements_in_upgrade_order(alembic_migration):
    migration = alembic_migration
    assert [s.kind for s in migration.statements] == [
        "BEGIN",
        "CREATE TABLE",
        "ALTER TABLE",
        "INSERT",
        "CREATE INDEX",
        "UPDATE",
        "COMMIT",
    ]
    assert units(migration) == [[1, 2, 3, 4, 5, 6, 7]]  # Alembic's one BEGIN … COMMIT, kept as written
    names = [Path(s.source).name for s in migration.statements]
    assert names[2:4] == ["0001_add_order_note.py"] * 2 and names[4:6] == ["0002_index_order_note.py"] * 2
    assert migration.statements[2].sql == "ALTER TABLE orders ADD COLUMN note TEXT"
    assert migration.statements[2].line == 15  # def upgrade() in 0001_add_order_note.py
    assert any("alembic_version bookkeeping is kept" in n for n in migration.notes)


def test_alembic_downgrade_is_the_rollback(alembic_migration):
    down = alembic_migration.down
    assert [s.kind for s in down.statements] == [
        "BEGIN",
        "DROP INDEX",
        "UPDATE",
        "ALTER TABLE",
        "DELETE",
        "COMMIT",
        "DROP TABLE",
    ]
    names = [Path(s.source).name for s in down.statements]
    assert names[1:5] == ["0002_index_order_note.py"] * 2 + ["0001_add_order_note.py"] * 2
    assert down.statements[-1].sql == "DROP TABLE alembic_version" and down.statements[-1].transaction == 0
    assert any("added by the rehearsal" in n for n in down.notes)


def test_alembic_folder_without_ini_and_a_transaction_per_revision(tmp_path):
    folder = tmp_path / "project"
    shutil.copytree(ALEMBIC, folder, ignore=shutil.ignore_patterns("alembic.ini", "__pycache__"))
    env = folder / "env.py"
    env.write_text(
        env.read_text().replace("literal_binds=True,", "literal_binds=True, transaction_per_migration=True,")
    )
    migration = load(folder)
    assert [[s.kind for s in unit] for unit in migration.transactions()] == [
        ["BEGIN", "CREATE TABLE", "ALTER TABLE", "INSERT", "COMMIT"],
        ["BEGIN", "CREATE INDEX", "UPDATE", "COMMIT"],
    ]
    assert not list(folder.rglob("__pycache__"))  # nothing left behind in the team's project


def test_alembic_data_migration_that_reads_rows_is_bad_input(tmp_path):
    folder = tmp_path / "project"
    shutil.copytree(ALEMBIC, folder)
    (folder / "versions" / "0003_backfill.py").write_text(
        'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "0003"\ndown_revision = "0002"\n\n\n'
        "def upgrade():\n    rows = op.get_bind().execute(sa.text('SELECT order_id FROM orders')).fetchall()\n"
        "    op.execute(f\"UPDATE orders SET note = 'x' WHERE order_id = {rows[0][0]}\")\n\n\n"
        "def downgrade():\n    pass\n"
    )
    message = bad(load, folder)
    assert message.startswith(f"{folder}/versions/0003_backfill.py:9: Alembic's offline mode failed")
    assert "context.is_offline_mode()" in message


def test_cli_plan_on_the_alembic_project():
    res = subprocess.run(
        [sys.executable, "-m", "rehearse.cli", "plan", "tests/fixtures/alembic_project"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "0002_index_order_note.py:14" in res.stdout and "down: alembic_project (down)" in res.stdout


def test_alembic_rehearsal_with_rollback_restores_the_baseline():
    from rehearse import run
    from rehearse.analysis.summary import summary

    result = run(ALEMBIC, scale=0.01, seed=4242, rate=50, warmup=0.3, cooldown=0.3, rollback=True)
    data = summary(result)
    assert {s["status"] for s in data["statements"]} == {"ok"}
    rollback = result.manifest.rollback
    assert rollback.tested and rollback.restored and rollback.reapplied, rollback
    assert result.manifest.state_after.schema_diff == []  # up, then down under traffic: back to baseline
