"""JUnit XML of a release summary: one testsuite per migration, a testcase per statement and one for its gate."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from common.text import shorten
from rehearse.verdicts.base import rank


def junit(release: dict) -> str:
    """Failed testcases: statements over the release's max_risk, and each migration's gate that failed."""
    root = ET.Element("testsuites", name=f"rehearse review {release.get('name')}")
    limit = release.get("max_risk", "amber")
    for m in release["migrations"]:
        cases = [
            (f"statement {s['index']}: {shorten(s.get('sql', ''), 60)}", s.get("verdict"), s.get("reasons") or [])
            for s in m.get("statements", [])
        ]
        failed = [c for c in cases if c[1] in ("green", "amber", "red") and rank(c[1]) > rank(limit)]
        gate = m.get("gate") or {}
        suite = ET.SubElement(
            root,
            "testsuite",
            name=str(m["name"]),
            tests=str(len(cases) + 1),
            failures=str(len(failed) + (not gate.get("passed"))),
        )
        for title, level, reasons in cases:
            case = ET.SubElement(suite, "testcase", classname=f"rehearse.{m['name']}", name=title)
            if (title, level, reasons) in failed:
                ET.SubElement(case, "failure", type=str(level), message="; ".join(reasons))
        case = ET.SubElement(suite, "testcase", classname=f"rehearse.{m['name']}", name="gate")
        if not gate.get("passed"):
            ET.SubElement(case, "failure", type="gate", message="; ".join(gate.get("reasons") or []))
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
