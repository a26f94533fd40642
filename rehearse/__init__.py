"""Rehearse a PostgreSQL migration under traffic: the public verbs, and one import for notebooks.

`import rehearse as rh` gives the verbs (rh.run, rh.run_scales, rh.plan, rh.check, rh.judge, rh.report,
rh.load, rh.review and rh.load_review for a release), rh.summary, rh.verdict, rh.gate, rh.RehearsalConfig,
rh.RehearsalResult, and the packages a notebook page uses (rh.analysis, rh.plots, rh.incidents,
rh.compatibility, rh.preflight, rh.report_page, rh.release_page, rh.dataset_inspect, rh.dataset_plots, and for
a twin rh.profiles, rh.build_twin, rh.twin_summary, rh.twin_plots). The CLI is these verbs plus printing;
`datagen.build` and `dbserver.start/stop/status` are the other two. Everything is imported on first use, so that
`import rehearse.sql` does not pull in the whole engine.
"""

from __future__ import annotations

import importlib

_PUBLIC = {  # name -> (module, attribute); attribute None: the module itself
    "run": ("rehearse.verdicts.verbs", "run"),
    "run_scales": ("rehearse.verdicts.verbs", "run_scales"),
    "check": ("rehearse.verdicts.verbs", "check"),
    "judge": ("rehearse.verdicts.verbs", "judge"),
    "report": ("rehearse.present.report", "report"),
    "plan": ("rehearse.sql.migration", "plan"),
    "Migration": ("rehearse.sql.migration", "Migration"),
    "RunManifest": ("rehearse.measure.manifest", "RunManifest"),
    "load": ("rehearse.measure.result", "load"),
    "RehearsalConfig": ("rehearse.measure.config", "RehearsalConfig"),
    "RehearsalResult": ("rehearse.measure.result", "RehearsalResult"),
    "summary": ("rehearse.analysis.summary", "summary"),
    "verdict": ("rehearse.verdicts.judge", "verdict"),
    "gate": ("rehearse.verdicts.gate", "gate"),
    "review": ("rehearse.verdicts.review", "review"),
    "load_review": ("rehearse.verdicts.review", "load_review"),
    "release_page": ("rehearse.present.release.page", None),
    "compare_paragraph": ("rehearse.verdicts.judge", "compare_paragraph"),
    "rank": ("rehearse.verdicts.base", "rank"),
    "findings_table": ("rehearse.analysis.compare", "findings_table"),
    "statement_table": ("rehearse.present.console", "statement_table"),
    "timeline": ("rehearse.analysis.timeline", None),
    "compatibility": ("rehearse.analysis.compatibility", None),
    "preflight": ("rehearse.measure.preflight", None),
    "incidents": ("rehearse.present.incidents", None),
    "plots": ("rehearse.present.plots", None),
    "report_page": ("rehearse.present.report", None),  # what the report notebook shows
    "analysis": ("rehearse.analysis", None),
    "dataset_inspect": ("datagen.inspect", None),  # the dataset as DataFrames: sizes, orders per day, …
    "dataset_plots": ("datagen.plots", None),
    "profiles": ("datagen.profile", None),  # a profile of a database: from_server, from_files, load
    "build_twin": ("datagen.twin", "build_twin"),
    "twin_summary": ("datagen.twin.summary", None),  # a twin's fidelity as DataFrames and text
    "twin_plots": ("datagen.twin.plots", None),
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'rehearse' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = importlib.import_module(module)
    return value if attribute is None else getattr(value, attribute)
