"""Accessibility of the built book: axe-core on every page, at three screen widths.

Every page of ``_toc.yml`` is served on 127.0.0.1 (the ``base_url`` fixture of
tests/test_browser.py, network blocked as there) and loaded afresh at 1280 px (desktop),
390 px (phone) and 320 px (small phone, and 400 % zoom of a 1280 px window). Once the page
has settled (MathJax typeset, fonts and images loaded), axe-core, vendored by
scripts/fetch_web_assets.sh into ``book/_vendor/axe-core/``, is injected and run on the whole
document, theme parts included, with the rules tagged wcag2a, wcag2aa, wcag21a and wcag21aa.
Every violation fails the test, unless its (rule, page) pair is in ``ALLOWED`` below with a
reason. A failure lists rule id, impact, page, width and the CSS target of each node.

Run it alone:  make test PYTEST_ARGS="-k accessibility"
(with CNN_BOOK_HTML=_build/html it checks an already built book instead of building one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_book_build import html_for
from test_browser import PAGE_TIMEOUT_MS, PAGES, READY_JS, _page_id, base_url, html_dir  # noqa: F401 (fixtures)

REPO_ROOT = Path(__file__).resolve().parents[1]
AXE_JS = REPO_ROOT / "book" / "_vendor" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390, 320)
HEIGHT = 900
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# (rule id, page) pairs that may still fail, each with the reason. Keep this empty: a new entry
# needs a reason a reader would accept. Nothing is allowed today.
ALLOWED: dict[tuple[str, str], str] = {}

AXE_RUN_JS = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.map(t => Array.isArray(t) ? t.join(' >>> ') : t).join(' | '),
                               html: n.html.replace(/\\s+/g, ' ').slice(0, 120)})),
  }));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"no axe-core at {AXE_JS}: run scripts/fetch_web_assets.sh (make test does)", pytrace=False)
    return AXE_JS.read_text(encoding="utf-8")


def tabs_per_width(browser, root_url: str, widths, height: int = HEIGHT):
    """One browser context and one tab per width (a generator for a fixture: yields {width: tab},
    closes them after); only 127.0.0.1 is reachable."""
    allowed = root_url + "/"
    contexts, pages = [], {}
    for width in widths:
        ctx = browser.new_context(viewport={"width": width, "height": height})
        ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith((allowed, "data:")) else r.abort())
        page = ctx.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        contexts.append(ctx)
        pages[width] = page
    yield pages
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="module")
def tabs(browser, base_url):  # noqa: F811 (the fixture imported above)
    """One tab per width of WIDTHS, reused for every page."""
    yield from tabs_per_width(browser, base_url, WIDTHS)


def axe_violations(page, url: str, axe_source: str) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations of url, loaded afresh in page."""
    page.goto(url, wait_until="load")
    page.evaluate(READY_JS)
    page.wait_for_timeout(300)  # the book's and the theme's own load/resize handlers (debounced)
    page.add_script_tag(content=axe_source)
    return page.evaluate(AXE_RUN_JS, AXE_TAGS)


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_page_accessibility(page, html_dir, base_url, tabs, axe_source):  # noqa: F811
    """axe-core finds no WCAG 2.1 A/AA violation on the page at 1280, 390 and 320 px."""
    target = html_for(html_dir, page)
    assert target.is_file(), f"{page}: not built ({target})"
    url = f"{base_url}/{target.relative_to(html_dir).as_posix()}"
    problems, nodes = [], 0
    for width, tab in tabs.items():
        for v in axe_violations(tab, url, axe_source):
            if (v["id"], page) in ALLOWED:
                continue
            nodes += len(v["nodes"])
            for n in v["nodes"]:
                problems.append(f"{v['id']} ({v['impact']}) on {page} at {width}px: {n['target']}  [{v['help']}]  {n['html']}")
    if problems:
        pytest.fail(f"{page}: {nodes} axe violation node(s)\n  - " + "\n  - ".join(problems), pytrace=False)
