"""The review page: written from a saved run, rendered by a real browser with its verdict and figures."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import pytest

from rehearse import run
from rehearse.present import report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "up.sql"
    path.write_text("ALTER TABLE orders ADD COLUMN note text;\nUPDATE orders SET note = order_status;")
    result = run(path, scale=0.01, seed=4242, rate=100, clients=4, warmup=1, cooldown=1)
    return report.write(result.run_id)


def test_page_is_self_contained_with_verdict_first_and_code_hidden(page):
    text = page.read_text()
    assert text.count("data:image/png;base64") >= 4  # figures embedded, no side files
    assert text.index("RED") < text.index("Findings per statement")
    assert "report.judge(" not in text  # code cells hidden


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
def test_page_renders_in_headless_chromium(page):
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    assert "Migration rehearsal report" in dom
    assert dom.count("<img") >= 4
    with tempfile.TemporaryDirectory() as profile:
        shot = page.with_suffix(".png")
        subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--window-size=1300,2000",
                f"--screenshot={shot}",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
        )
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
