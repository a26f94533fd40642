"""PostgreSQL's text form of a one-dimensional array ('{a,"b c",NULL}') read into Python strings.

pg_dump --statistics-only writes most_common_vals and histogram_bounds this way (anyarray as text); the
rules are those of array_in: elements separated by commas, double quotes around elements that need them,
backslash escapes inside quotes, and an unquoted NULL (any case) for a null element.
"""

from __future__ import annotations

from common.errors import BadInput


def parse_array(text: str) -> list[str | None]:
    """'{1,"a,b",NULL}' → ['1', 'a,b', None]; BadInput when it is not a one-dimensional array literal."""
    body = text.strip()
    if body.startswith("[") and "=" in body:  # explicit bounds, '[0:2]={…}'
        body = body.split("=", 1)[1]
    if not (body.startswith("{") and body.endswith("}")):
        raise BadInput(f"not an array literal: {text[:40]!r}; statistics hold arrays such as '{{a,b}}'")
    body = body[1:-1]
    return [] if not body.strip() else list(_elements(body))


def _elements(body: str):
    i, n = 0, len(body)
    while i <= n:
        if i < n and body[i] == '"':
            value, i = _quoted(body, i + 1)
        else:
            end = body.find(",", i)
            end = n if end < 0 else end
            raw = body[i:end].strip()
            value, i = (None if raw.upper() == "NULL" else raw), end
        yield value
        i += 1  # past the comma (or past the end)


def _quoted(body: str, i: int) -> tuple[str, int]:
    out = []
    while body[i] != '"':
        if body[i] == "\\":
            i += 1
        out.append(body[i])
        i += 1
    return "".join(out), i + 1
