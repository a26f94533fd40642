"""Every notebook's shape (fast), and every incident notebook executed with papermill at a tiny scale (slow).

A notebook is a page over the library (STYLE lessons 1, 2, 11): committed without outputs, one `parameters`
cell whose names are the engine's config fields, no functions, classes or loops, and a closing assert on its
finding. Executed, a notebook is a test: its asserts are the incident's finding at any scale.
"""

from __future__ import annotations

import ast
import json
import re
import time
from pathlib import Path

import nbformat
import papermill
import pytest

from rehearse.measure.config import RehearsalConfig

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
REPORT = ROOT / "rehearse" / "present" / "report.ipynb"
PAGES = [*ALL, REPORT]  # every notebook a user or a report reads
# Parameters that are not RehearsalConfig fields: what to rehearse, the gate, and which saved run to report.
ALLOWED = {"path", "max_risk", "run_id"}
# Executed by the slow test: the dataset notebook and the incident notebooks (report.ipynb needs a saved run).
EXECUTED = [p for p in ALL if p.name[:2].isdigit()]
TINY = dict(scale=0.01, rate=100, warmup=1, cooldown=1)
TINIEST = {"00_dataset": dict(scale=0.001), "20_your_database": dict(scale=0.001)}
FORBIDDEN = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.For, ast.AsyncFor, ast.While)


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def python_of(cell) -> str:
    """The cell's source without IPython magics and shell escapes, which are not Python."""
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))


def parameters_cell(nb):
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"expected exactly one cell tagged 'parameters', found {len(tagged)}"
    return tagged[0]


def parameter_names(cell) -> list[str]:
    """Names assigned in the parameters cell, which must hold only literal assignments."""
    names = []
    for node in ast.parse(python_of(cell)).body:
        assert isinstance(node, (ast.Assign, ast.AnnAssign)), (
            f"the parameters cell holds only assignments, found: {ast.unparse(node)}"
        )
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        assert all(isinstance(t, ast.Name) for t in targets), f"assign plain names: {ast.unparse(node)}"
        ast.literal_eval(node.value)  # a literal default: papermill replaces it, a reader sees it
        names += [t.id for t in targets]
    return names


def unknown_parameters(names: list[str]) -> set[str]:
    return set(names) - RehearsalConfig.names() - ALLOWED


# The one import a page needs, and what it may use beside it (display, DataFrames, Optional for papermill).
LIBRARY = ("rehearse", "datagen", "dbserver", "common")
BESIDE = ("IPython.display", "pandas", "typing")


def imports_of(nb) -> list[str]:
    nodes = [n for c in code_cells(nb) for n in ast.walk(ast.parse(python_of(c)))]
    return [ast.unparse(n) for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom))]


def imported_module(statement: str) -> str:
    return statement.split()[1]


# A path leaving the project: up (../), home (~/), absolute (/x/), or the sibling folder the incidents were
# first written up in. Paths into the project's own folders must exist (placeholders <…>, elisions …/ and
# generated data/ aside), so a moved file is caught too.
OUTSIDE = re.compile(r"(?:^|[\s`'\"(\[])(\.\./|~/|/(?!/)[\w.-]+/|shared/)")
PATH = re.compile(r"(?<![\w/.…])([\w.-]+(?:/[\w.<>…*-]+)+)/?")
PROJECT = {p.name for p in ROOT.iterdir() if not p.name.startswith(".")} - {"data"}


def paths_outside(text: str) -> list[str]:
    bad = [text[m.start(1) :].split()[0] for m in OUTSIDE.finditer(text)]
    for token in PATH.findall(text):
        first = token.split("/")[0]
        if first in PROJECT and not re.search(r"[<>…*]", token) and not (ROOT / token).exists():
            bad.append(f"{token} (no such file in the project)")
    return bad


# -- (a) structure: fast, no database ---------------------------------------------------------------------


def test_there_are_notebooks():
    assert {p.stem for p in ALL} >= {
        "01_type_change_transaction_id",
        "02_foreign_key_on_inconsistent_data",
        "03_incompatible_change_under_traffic",
        "04_backfill_single_vs_batched",
        "05_script_fails_halfway",
        "10_rehearse_your_migration",
    }


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebook_is_valid_and_stripped(path):
    json.loads(path.read_text(encoding="utf-8"))
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for cell in code_cells(nb):
        assert cell.outputs == [] and cell.execution_count is None, (
            f"commit notebooks without outputs (nbstripout): {cell.source[:60]!r}"
        )


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebook_is_a_page_over_the_library(path):
    nb = nbformat.read(path, as_version=4)
    cells = code_cells(nb)
    for cell in cells:
        assert "def " not in cell.source and "class " not in cell.source, (
            f"functions and classes belong in the library: {cell.source[:60]!r}"
        )
        found = [type(n).__name__ for n in ast.walk(ast.parse(python_of(cell))) if isinstance(n, FORBIDDEN)]
        assert not found, f"{', '.join(found)} in a notebook cell: move the logic into the library"
    assert cells and "assert" in cells[-1].source, "the last code cell asserts the notebook's finding"
    assert nb.cells[0].cell_type == "markdown", "open with the account of what the notebook shows"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_parameters_are_config_fields(path):
    nb = nbformat.read(path, as_version=4)
    cell = parameters_cell(nb)
    names = parameter_names(cell)
    assert names, "the parameters cell is empty"
    assert not unknown_parameters(names), (
        f"parameters {sorted(unknown_parameters(names))} are not RehearsalConfig fields (nor {sorted(ALLOWED)})"
    )
    for line in python_of(cell).splitlines():
        if line.strip():
            assert "#" in line, f"say what the parameter means and its unit in a trailing comment: {line!r}"
    seen = papermill.inspect_notebook(str(path))
    assert sorted(seen) == sorted(names), "papermill must read every parameter (no '=' in the comments)"


def test_an_unknown_parameter_name_is_caught():
    cell = nbformat.v4.new_code_cell("scale: float = 0.1  # scale factor\nscael: float = 0.2  # typo\n")
    assert unknown_parameters(parameter_names(cell)) == {"scael"}
    assert not unknown_parameters(["path", "scale", "dirt_orphan_items", "rollback", "down"])


def test_a_loop_in_a_cell_is_caught():
    cell = nbformat.v4.new_code_cell("for name in results:\n    print(name)\n")
    assert any(isinstance(n, FORBIDDEN) for n in ast.walk(ast.parse(python_of(cell))))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_notebook_imports_the_library_in_one_line(path):
    imports = imports_of(nbformat.read(path, as_version=4))
    library = [i for i in imports if imported_module(i).split(".")[0] in LIBRARY]
    assert library == ["import rehearse as rh"], f"import the library as `import rehearse as rh` only: {library}"
    others = [i for i in imports if i not in library and imported_module(i) not in BESIDE]
    assert not others, f"a page imports only rehearse (and {', '.join(BESIDE)}): {others}"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_notebook_points_only_at_files_in_the_project(path):
    nb = nbformat.read(path, as_version=4)
    bad = [p for cell in nb.cells for p in paths_outside(cell.source)]
    assert not bad, f"{path.name} mentions paths outside the project (a user has only the project): {bad}"


def test_a_path_outside_the_project_is_caught():
    assert paths_outside("see `shared/seeds/000_6921c43ea76362e5.txt`")
    assert paths_outside("(`../shared/seeds/001.txt`)") and paths_outside("open /home/me/incident.txt now")
    assert paths_outside("~/notes/x.md") and paths_outside("rules: `rehearse/findings.py`")  # moved long ago
    inside = (
        "`migrations/01_type_change_transaction_id/risky`, `…/risky`, `data/runs/<run_id>/`, a / b, https://x.org/a/b"
    )
    assert paths_outside(inside) == []


# -- (b) execution: each notebook at a tiny scale, a real server, its closing asserts ---------------------


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.stem)
def test_notebook_runs_and_its_finding_holds(path, tmp_path):
    """Runs in its own kernel, writing into tmp_path: notebooks can execute in parallel (xdist) safely."""
    output = tmp_path / path.name
    parameters = TINIEST.get(path.stem, TINY)
    started = time.monotonic()
    try:
        papermill.execute_notebook(
            str(path),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(NOTEBOOKS),
            progress_bar=False,
            execution_timeout=600,
        )
    except papermill.PapermillExecutionError as exc:
        pytest.fail(
            f"{path.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} (executed notebook: {output})"
        )
    print(f"{path.stem}: {time.monotonic() - started:.0f} s")


def test_the_template_gate_fails_a_failed_migration_even_at_max_risk_red(tmp_path):
    """The template's default max_risk is red: its closing gate must still stop a migration that failed."""
    migration = tmp_path / "broken.sql"
    migration.write_text("ALTER TABLE no_such_table ADD COLUMN note text;\n")
    template = NOTEBOOKS / "10_rehearse_your_migration.ipynb"
    parameters = TINY | dict(path=str(migration), rollback=False, max_risk="red", app_queries=None)
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        papermill.execute_notebook(
            str(template),
            str(tmp_path / "executed.ipynb"),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(NOTEBOOKS),
            progress_bar=False,
            execution_timeout=600,
        )
    assert failed.value.ename == "AssertionError"
    assert "the migration failed at statement 1: 42P01" in failed.value.evalue
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    assert "gate FAILED" in json.dumps(code_cells(executed)[-1].outputs), "the executed notebook is the report"
