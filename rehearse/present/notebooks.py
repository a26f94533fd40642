"""Executing notebooks (papermill) and turning them into HTML pages (nbconvert) for the review meeting."""

from __future__ import annotations

import warnings
from pathlib import Path

from common.paths import data_dir, project_root

NOTEBOOKS = project_root() / "notebooks"


def reports_dir() -> Path:
    return data_dir() / "reports"


def execute(notebook: str | Path, parameters: dict, output: Path, timeout: int = 1800) -> Path:
    """Run a notebook top to bottom; a failed run still writes the executed notebook (the failure report)."""
    import papermill

    output.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(NOTEBOOKS),
            progress_bar=False,
            execution_timeout=timeout,
        )
    return output


def to_html(executed: Path, output: Path, hide_code: bool = False) -> Path:
    """A self-contained HTML page (figures embedded) of an executed notebook."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=hide_code, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    output.write_text(body)
    return output
