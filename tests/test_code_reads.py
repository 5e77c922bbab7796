"""The code a student sees reads like the lecture (issue 25, item 4).

The scaffolding that keeps the prose true runs in every build and every nbval run, but a reader
does not see it: in the book its cell carries a MyST-NB tag that removes or hides the input, and
in Jupyter the same cell is collapsed (``metadata.jupyter.source_hidden``). CONTRIBUTING.md says
which tag to choose.

* Static, on the notebooks: no visible code line (a cell without a hiding tag) is an ``assert``,
  a ``glue(...)`` call or a seed / thread-limit line, unless the cell is in ``ALLOWED`` with a
  reason; every cell hidden in the book is collapsed in Jupyter, and every collapsed cell is
  hidden in the book.
* In Chromium, on the built book at 1280 px: no code block of a chapter scrolls sideways
  (``scrollWidth > clientWidth`` of ``div.cell_input pre``, the toggled ones opened first).

Run alone:  .venv/bin/python -m pytest -o addopts="" tests/test_code_reads.py
(the browser part builds the book unless CNN_BOOK_HTML names a built one).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from test_browser import PAGES, PAGE_TIMEOUT_MS, _page_id, html_dir  # noqa: F401 (fixture)

REPO_ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO_ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
CHAPTER_PAGES = [p for p in PAGES if re.fullmatch(r"book/\d\d_\w+", p)]

# MyST-NB tags that take a cell's source out of the reader's view (hide-* behind a toggle).
HIDING_TAGS = {"remove-cell", "remove-input", "hide-cell", "hide-input"}

# What a reader should not have to read past: name -> pattern of one source line.
SCAFFOLDING = {
    "assert": re.compile(r"^\s*assert\b"),
    "glue(...)": re.compile(r"(?<![\w.])glue\("),
    "seed or thread limit": re.compile(
        r"threadpool_limits|one_blas_thread|set_num_threads|OMP_NUM_THREADS|CNN_BOOK_SEED|CNN_BOOK_DTYPE"
        r"|(?<![\w.])(np\.)?random\.seed\(|^\s*SEEDS?\s*="
    ),
}

# (notebook stem, cell id) -> why this visible cell may keep a scaffolding line. A check the text
# walks through by hand may stay in view; nothing needs to today.
ALLOWED: dict[tuple[str, str], str] = {}

DESKTOP_WIDTH = 1280


def _hidden(cell) -> bool:
    return bool(HIDING_TAGS & set(cell.metadata.get("tags", [])))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_visible_code_has_no_scaffolding(path):
    """A visible code line is never an assert, a glue(...) call or a seed/thread-limit line."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or _hidden(cell) or (path.stem, cell.id) in ALLOWED:
            continue
        for line in cell.source.splitlines():
            kinds = [name for name, pattern in SCAFFOLDING.items() if pattern.search(line)]
            if kinds:
                found.append(f"cell {cell.id}: {kinds[0]}: {line.strip()}")
    assert not found, (
        f"{path.name}: move these lines into a hidden cell right after (tag remove-cell, "
        f'metadata {{"jupyter": {{"source_hidden": true}}}}; see CONTRIBUTING.md)\n  ' + "\n  ".join(found)
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_cells_hidden_in_the_book_are_collapsed_in_jupyter(path):
    """Hidden in the book <=> collapsed in Jupyter, so both readers see the same code."""
    wrong = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        collapsed = cell.metadata.get("jupyter", {}).get("source_hidden", False) is True
        if _hidden(cell) != collapsed:
            state = "hidden in the book but open in Jupyter" if _hidden(cell) else "collapsed in Jupyter only"
            wrong.append(f"cell {cell.id}: {state}")
    assert not wrong, f"{path.name}:\n  " + "\n  ".join(wrong)


def test_allowed_cells_exist():
    """Every ALLOWED entry names a visible cell that still needs it."""
    cells = {(p.stem, c.id): c for p in CHAPTERS for c in nbformat.read(p, as_version=4).cells}
    for key, reason in ALLOWED.items():
        assert key in cells and reason, f"ALLOWED {key}: no such cell, or no reason"
        lines = cells[key].source.splitlines()
        assert not _hidden(cells[key]), f"ALLOWED {key}: the cell is hidden anyway"
        assert any(p.search(line) for p in SCAFFOLDING.values() for line in lines), f"ALLOWED {key}: nothing to allow"


# Every code block of the page (toggled ones opened): [page-wide index, scrollWidth, clientWidth,
# the longest line]. Fonts must be loaded: a fallback font has other widths.
CODE_WIDTHS_JS = """async () => {
  await document.fonts.ready;
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  return Array.from(document.querySelectorAll('div.cell_input pre')).map((pre, i) => {
    const longest = pre.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '');
    return [i, pre.scrollWidth, pre.clientWidth, longest];
  });
}"""


@pytest.fixture(scope="module")
def desktop_tab(browser, html_dir):  # noqa: F811 (the fixture imported above)
    """One 1280 px tab for every chapter, pages opened from disk (no server needed)."""
    context = browser.new_context(viewport={"width": DESKTOP_WIDTH, "height": 900})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


@pytest.mark.parametrize("page", CHAPTER_PAGES, ids=_page_id)
def test_no_code_block_scrolls_at_desktop_width(page, html_dir, desktop_tab):  # noqa: F811
    """At 1280 px every code cell of the chapter fits its column: nothing to scroll sideways."""
    desktop_tab.goto((html_dir / f"{page}.html").as_uri(), wait_until="load")
    blocks = desktop_tab.evaluate(CODE_WIDTHS_JS)
    assert blocks, f"{page}: no code block found (selector div.cell_input pre)"
    wide = [
        f"block {i}: {scroll} px of text in {client} px, e.g. {longest.strip()[:90]!r} ({len(longest)} characters)"
        for i, scroll, client, longest in blocks
        if scroll > client
    ]
    assert not wide, (
        f"{page} at {DESKTOP_WIDTH} px: {len(wide)} of {len(blocks)} code blocks scroll sideways; wrap their long "
        f"lines (about 74 characters fit, 100 in a full-width cell)\n  " + "\n  ".join(wide)
    )
