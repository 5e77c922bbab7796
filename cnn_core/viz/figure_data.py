"""The numbers behind a data figure, as a table a screen reader can read.

A chart (curves, bars) shows its data to the eye only. Below it the book shows the same numbers
in a ``<details>`` disclosure, closed: a ``<table>`` with a caption and column headers, inside a
box that scrolls sideways on a narrow screen (keyboard-focusable, named, as axe requires).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from cnn_core.viz.explore import HTML


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return html.escape(str(value))


def data_table(summary: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> HTML:
    """A closed disclosure "Data: <summary>" holding a table with these column headers and rows
    (the first column heads each row; floats to 4 significant digits, ints with thousands commas)."""
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"data_table: every row needs {len(columns)} values ({', '.join(columns)})")
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in columns)
    body = "".join(
        f'<tr><th scope="row">{_cell(row[0])}</th>' + "".join(f"<td>{_cell(v)}</td>" for v in row[1:]) + "</tr>" for row in rows
    )
    label = html.escape(summary)
    return HTML(
        f'<details class="cnn-figure-data"><summary>Data: {label}</summary>'
        f'<div class="cnn-figure-data-scroll" role="region" tabindex="0" aria-label="table: {label}">'
        f"<table><caption>{label}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></details>"
    )
