"""The house rules a new engineer relies on: small modules, short functions, the layer order written once."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "dbserver", "datagen", "rehearse")
SOURCES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 50


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_module_is_small_and_says_what_it_holds(path):
    text = path.read_text()
    assert text.count("\n") <= MAX_MODULE_LINES, f"{_name(path)}: over {MAX_MODULE_LINES} lines; cut it by concept"
    assert ast.get_docstring(ast.parse(text)), f"{_name(path)}: opens with no docstring saying what it holds"


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_functions_are_short(path):
    tree = ast.parse(path.read_text())
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 >= MAX_FUNCTION_LINES
    ]
    assert not long, f"{_name(path)}: {', '.join(long)}"


def test_the_layer_order_is_written_once_and_covers_every_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    named = {name.strip() for layer in layers for name in layer.split(":")}
    top = {p.name for p in (ROOT / "rehearse").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    cli = {f"rehearse.{p.stem}" for p in (ROOT / "rehearse").glob("cli*.py")}
    assert {f"rehearse.{t}" for t in top} | cli | {"datagen", "dbserver", "common"} <= named
