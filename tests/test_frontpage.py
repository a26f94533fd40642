"""The front page (data/reports/index.html) built from saved runs: verdicts and numbers equal to the runs',
thumbnails and links that resolve, the dataset and the time shown, every value escaped, rendered in Chromium.

The runs are a tiny release (a lock held under traffic, then a quick column) reviewed once at scale 0.001:
its two saved runs are the "risky" and "safer" variants of an incident whose name is hostile.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rehearse.analysis.summary import longest_blocking_hold_ms, summary
from rehearse.measure.result import load
from rehearse.present import frontpage
from rehearse.present.release import page as release_page
from rehearse.verdicts.review import review
from rehearse.verdicts.verbs import judge
from tests.browser import CHROMIUM, dump_dom

EVIL = "<img src=x onerror=alert(1)>"
FAST = dict(scale=0.001, rate=50, warmup=0.7, cooldown=0.5)
RISKY = "BEGIN;\nLOCK TABLE orders IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(0.6);\nCOMMIT;\n"
SAFER = "ALTER TABLE orders ADD COLUMN note text;\n"


@pytest.fixture(scope="module")
def built():
    """Two saved runs (one review), a demo record naming them, and the front page written to a temp folder."""
    root = Path(tempfile.mkdtemp())
    for name, sql in (("risky", RISKY), ("safer", SAFER)):
        (root / "incident" / name).mkdir(parents=True)
        (root / "incident" / name / "up.sql").write_text(sql)
    done = review([root / "incident" / "risky", root / "incident" / "safer"], max_risk="amber", **FAST)
    out = root / "reports"
    out.mkdir()
    incident_page = f"01 {EVIL}'.html"
    (out / incident_page).write_text("<p>the incident's notebook</p>")
    (out / "00_dataset.html").write_text("<p>the dataset</p>")
    (out / f"review-{done.review_id}.html").write_text(release_page.render(done.release))
    record = dict(
        scale=0.001,
        started="2026-01-02 03:04:05",
        finished="2026-01-02 03:09:10",
        pages=[
            dict(name="00_dataset", page="00_dataset.html", outcome=f"FAILED: {EVIL}", runs=[]),
            dict(name=f"01_{EVIL}", page=incident_page, outcome="ok", runs=done.release["run_ids"]),
        ],
        release=dict(outcome="ok", review_id=done.review_id, page=f"review-{done.review_id}.html"),
    )
    index = frontpage.write(record, out)
    yield index, done
    shutil.rmtree(root, ignore_errors=True)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser's parser sees them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parsed(text: str) -> Elements:
    elements = Elements()
    elements.feed(text)
    return elements


def test_each_variant_shows_its_runs_verdict_and_numbers(built):
    index, done = built
    page = index.read_text()
    rows = re.findall(r"<tr class='variant' data-label='(\w+)' data-run='([^']+)'>(.*?)</tr>", page, re.S)
    assert [(label, run) for label, run, _ in rows] == list(zip(["risky", "safer"], done.release["run_ids"]))
    for _, run_id, row in rows:
        result = load(run_id)
        data = summary(result)
        expected = dict(
            longest_delay_ms=data["delayed_app_ms_max"] or 0.0,
            delayed_app_tx=data["delayed_app_tx"],
            errors=sum(phase["errors"] for phase in data["workload"].values()),
            lock_hold_ms=longest_blocking_hold_ms(result),
        )
        shown = {name: float(value) for name, value in re.findall(r"data-name='(\w+)' data-value='([^']+)'", row)}
        assert shown == pytest.approx(expected)
        assert f">{judge(result).level.upper()}</span>" in row
    risky = dict(re.findall(r"data-name='(\w+)' data-value='([^']+)'", rows[0][2]))
    assert float(risky["delayed_app_tx"]) > 0 and float(risky["lock_hold_ms"]) >= 500, "the lock held 0.6 s"


def test_thumbnails_and_links_resolve_to_files_beside_the_page(built):
    index, _ = built
    tags = parsed(index.read_text()).tags
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    links = [attrs["href"] for tag, attrs in tags if tag == "a"]
    assert len(images) == 2 and all((index.parent / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for src in images)
    from urllib.parse import unquote

    assert links and all((index.parent / unquote(href)).is_file() for href in links), links
    assert any(href.startswith("review-") for href in links), "the release page is linked"


def test_the_dataset_the_time_and_the_release_are_shown(built):
    index, done = built
    text = " ".join(parsed(index.read_text()).text)
    manifest = load(done.release["run_ids"][0]).manifest
    assert manifest.dataset in text and "2026-01-02 03:04:05" in text and "2026-01-02 03:09:10" in text
    assert done.release["decision"].upper() in text and done.review_id in text


def test_hostile_names_are_escaped(built):
    index, _ = built
    page = index.read_text()
    elements = parsed(page)
    assert not [attrs for tag, attrs in elements.tags if tag == "img" and attrs.get("src") == "x"]
    assert "<script" not in page and EVIL in " ".join(elements.text), "shown as typed, never as markup"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_chromium_renders_the_page_with_no_element_from_a_name(built):
    index, done = built
    dom = dump_dom(index)
    assert dom.count("<img") == 2 and 'src="x"' not in dom
    assert done.release["decision"].upper() in dom and "Incidents" in dom
