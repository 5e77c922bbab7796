"""Text a student controls, made valid once where it enters the grader.

Printed output, exception messages and type names, tracebacks, function names, reprs, figure
titles, cell source: whatever a submission can put in a string may hold lone surrogates (which
no UTF-8 file can store), terminal control characters or megabytes. :func:`clean` is applied
where such text comes in (a sandbox's reply in :mod:`grade`, a notebook's cells in
``hw.py similarity``), so everything downstream (JSON, CSV, HTML) is ordinary text.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls and DEL, but \t and \n
TEXT_LIMIT = 100_000  # characters of one string from a submission


def clean(text: str, limit: int | None = TEXT_LIMIT) -> str:
    """``text`` with lone surrogates as U+FFFD, control characters other than tab and newline
    removed (a CR-LF line end becomes LF), and at most ``limit`` characters (a note says how many
    more there were)."""
    text = _CONTROL.sub("", _SURROGATE.sub("\ufffd", str(text)))
    if limit is not None and len(text) > limit:
        return text[:limit] + f"\n… ({len(text) - limit:,} more characters not shown)"
    return text
