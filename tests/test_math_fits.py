"""Every display equation fits the screen: nothing cut off, nothing to scroll sideways.

Every page of ``_toc.yml`` is served on 127.0.0.1 (the ``base_url`` fixture of
tests/test_browser.py, network blocked) and loaded once at each of 1280 px (desktop), 390 px
(phone) and 320 px (small phone, and 400 % zoom of a 1280 px window), one tab per width. Once
MathJax has typeset the page, every ``<details>`` (exercise solutions) is opened and each
display equation (``mjx-container[display="true"]``) is measured: its rendered content
(``mjx-math``) must lie inside its own box, inside every box around it up to the article, and
inside the viewport, to within ``TOLERANCE_PX``. A box that scrolls is no excuse: the reader
must see the whole equation without scrolling. A display equation MathJax left untypeset fails
too (the test would otherwise pass on raw TeX).

A failure lists page, width, how far the equation sticks out, and its TeX (MathJax's own
record of the source, else the text of its assistive MathML).

Run it alone:  CNN_BOOK_HTML=_build/html .venv/bin/python -m pytest tests/test_math_fits.py
"""

from __future__ import annotations

import pytest

from test_accessibility import tabs  # noqa: F401 (fixture: one tab per width, 127.0.0.1 only)
from test_book_build import html_for
from test_browser import PAGES, _page_id, base_url, html_dir  # noqa: F401 (fixtures)

TOLERANCE_PX = 1  # sub-pixel rounding of MathJax's boxes

# MathJax has typeset the page (its deferred script has run by DOMContentLoaded) in its fonts.
MATH_READY_JS = """async () => {
  const mathjax = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
  for (const t0 = Date.now(); document.querySelector('.math') && !mathjax() && Date.now() - t0 < 20000;) {
    await new Promise(r => setTimeout(r, 50));
  }
  if (mathjax()) { await MathJax.startup.promise; }
  await document.fonts.ready;
}"""

# For every display equation: its content's left/right edges against the tightest box around
# it (the container, each ancestor up to the article, the viewport), and the TeX it came from.
DISPLAY_MATH_JS = """(tol) => {
  const vw = document.documentElement.clientWidth;
  const article = document.querySelector('article') || document.querySelector('main') || document.body;
  const items = (window.MathJax && MathJax.startup && MathJax.startup.document && MathJax.startup.document.math) || [];
  const name = el => el.tagName.toLowerCase() + (el.classList.length ? '.' + el.classList[0] : '');
  const texOf = new Map();
  for (const item of items) { if (item.typesetRoot) texOf.set(item.typesetRoot, item.math); }
  article.querySelectorAll('details:not([open])').forEach(d => { d.open = true; });   // solutions too
  const out = [];
  article.querySelectorAll('mjx-container[display="true"]').forEach((box, i) => {
    const math = box.querySelector('mjx-math') || box;
    const r = math.getBoundingClientRect();
    let left = 0, right = vw, by = 'the viewport';
    for (let a = box; a && a !== article.parentElement; a = a.parentElement) {
      const ar = a.getBoundingClientRect();
      if (ar.right < right) { right = ar.right; by = a === box ? 'its box' : name(a); }
      if (ar.left > left) left = ar.left;
    }
    const over = Math.max(r.right - right, left - r.left);
    if (over > tol) {
      const mml = box.querySelector('mjx-assistive-mml');
      const tex = texOf.get(box) || (mml ? mml.textContent : box.textContent);
      out.push({i, over: Math.round(over), width: Math.round(r.width), room: Math.round(right - left), by,
                tex: tex.trim().replace(/\\s+/g, ' ')});
    }
  });
  return {count: article.querySelectorAll('mjx-container[display="true"]').length, bad: out,
          untypeset: Array.from(article.querySelectorAll('div.math')).filter(d => !d.querySelector('mjx-container')).length};
}"""


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_display_math_fits(page, html_dir, base_url, tabs):  # noqa: F811 (fixtures imported above)
    """No display equation of the page sticks out of its column or the screen at 1280, 390 or 320 px."""
    target = html_for(html_dir, page)
    assert target.is_file(), f"{page}: not built ({target})"
    url = f"{base_url}/{target.relative_to(html_dir).as_posix()}"
    problems, counts = [], {}
    for width, tab in tabs.items():
        tab.goto(url, wait_until="domcontentloaded")  # the column's width does not wait for images
        tab.evaluate(MATH_READY_JS)
        found = tab.evaluate(DISPLAY_MATH_JS, TOLERANCE_PX)
        counts[width] = found["count"]
        if found["untypeset"]:
            problems.append(f"{page} at {width}px: {found['untypeset']} display equation(s) not typeset by MathJax")
        for eq in found["bad"]:
            problems.append(
                f"{page} at {width}px: equation #{eq['i'] + 1} is {eq['width']}px wide, {eq['over']}px more than "
                f"the {eq['room']}px of {eq['by']}: {eq['tex'][:300]}"
            )
    assert len(set(counts.values())) == 1, f"{page}: display equation count differs between widths {counts}"
    if problems:
        summary = f"{page}: {len(problems)} display equation(s) cut off, scrolling or not typeset"
        pytest.fail(summary + "\n  - " + "\n  - ".join(problems), pytrace=False)
