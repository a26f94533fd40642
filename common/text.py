"""Text helpers every layer shows numbers and SQL with: one line of SQL, a duration a person reads."""

from __future__ import annotations

import html
import re


def shorten(text: str, width: int = 60) -> str:
    """`text` on one line (runs of whitespace collapsed), cut to `width` characters with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def human_ms(ms: float) -> str:
    """A duration in ms as a person reads it: 850 ms, 12.3 s, 4.5 min, 2.1 h."""
    seconds = ms / 1000
    if seconds < 1:
        return f"{ms:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def markdown_text(text: str) -> str:
    """`text` as literal Markdown: on one line, its Markdown punctuation backslash-escaped and its HTML
    escaped, so a value from a migration or a database (a column named `<img onerror=…>`) shows as typed."""
    flat = " ".join(str(text).split())
    return html.escape(_MARKDOWN.sub(r"\\\1", flat), quote=False)
