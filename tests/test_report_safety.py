"""Reports are safe HTML: markup that comes from a migration (names, defaults, SQL), from the database (error
messages) or from the user (the migration's folder name) shows as text; Chromium creates no element from it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import pytest

from common.paths import data_dir
from rehearse import run
from rehearse.cli import main
from rehearse.present import report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

COLUMN = "<img src=x onerror=alert(1)>"
MIGRATION = f"""-- rehearse:no-transaction
ALTER TABLE orders ADD COLUMN "{COLUMN}" text DEFAULT '<script>document.title="pwned-default"</script>';
COMMENT ON TABLE orders IS '<b id="pwned-sql">bold</b>';
DO $$ BEGIN RAISE EXCEPTION '<i id="pwned-error">boom</i>'; END $$;
"""


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report") / '<u id="pwned-name">x'
    folder.mkdir()
    (folder / "up.sql").write_text(MIGRATION)
    return run(folder, scale=0.001, seed=42, rate=20, clients=2, warmup=0.5, cooldown=0.5)


def test_markdown_texts_escape_what_the_run_recorded(hostile_run):
    state = report.state_text(hostile_run)
    assert "onerror" in state and COLUMN not in state and "<script>" not in state
    assert "<" not in report.explain_text(report.judge(hostile_run)).replace("&lt;", "")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
def test_no_element_is_created_from_the_payload(hostile_run, capsys):
    assert main(["report", str(data_dir() / "runs" / hostile_run.run_id)]) == 0  # the folder form
    page = capsys.readouterr().out.strip().splitlines()[-1]
    assert page.endswith(f"{hostile_run.run_id}.html")
    assert not any(p.is_dir() for p in (data_dir() / "reports").iterdir())  # no stray notebook in a sub-folder
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", f"file://{page}"],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    assert "Migration rehearsal report" in dom and "onerror" in dom  # the payload is on the page, as text
    elements = _elements(dom)
    assert [e for e in elements if any(v and "pwned" in v for _, v in e[1])] == []  # no id from the payload
    assert [e for e in elements if any(name.startswith("on") for name, _ in e[1])] == []  # no handler attribute
    assert [e for e in elements if e[0] == "img" and ("src", "x") in e[1]] == []
    assert "pwned" not in _script_text(dom)  # the default's <script> never became one


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


def _elements(dom: str) -> list:
    """(tag, attributes) of every element the browser built: what the page's DOM holds, not its text."""
    collector = _Collector()
    collector.feed(dom)
    return collector.elements


def _script_text(dom: str) -> str:
    collector = _Collector()
    collector.feed(dom)
    return "".join(collector.scripts)
