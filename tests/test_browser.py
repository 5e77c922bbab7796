"""The built book as readers see it, in a real browser (headless Chromium driven by Playwright).

Every page of ``_toc.yml`` is served on 127.0.0.1 and opened at desktop width
(1280 px), then narrowed to phone width (390 px). A page fails if

* any request fails (HTTP >= 400, a network error) or leaves 127.0.0.1 (the book
  must work with no network: every request to another host is blocked and reported);
* the console shows an error or a script throws (only ``ALLOWED_CONSOLE`` passes);
* a visible ``<img>`` did not load, or an ``<img>`` has no alt text;
* math is left unrendered (a ``.math`` element without ``mjx-container``, raw
  ``\\(`` / ``\\[`` / ``$$`` in the text) or MathJax shows a TeX error;
* a kernel-free explorer (``cnn_core.viz.explore.html_explorer``) does not change
  its picture/caption/error when a control moves (range inputs are moved with the
  keyboard, as a reader without a mouse would), or a matplotlib animation
  (``animate``) does not change frame on "Next frame" / "Play";
* narrowed to phone width, content sticks out of the screen (an element wider than the
  viewport that is not inside a scrolling box), or an explorer/animation is wider
  than the screen.

One page is also opened from disk (``file://``) with every non-file request
blocked: the book works without a server. Screenshots go to
``_build/screenshots/<page>-<width>.png`` (whole page) and ``<page>-<width>-top.png``
(first screen), kept as CI artifacts.

Environment:
  CNN_BOOK_HTML          test this built HTML folder instead of building the book
                         (the ``built_book`` fixture builds it otherwise)
  CNN_BOOK_TOC           the _toc.yml listing the pages (default: the repository's)
  CNN_BOOK_SCREENSHOTS   where screenshots go (default: _build/screenshots)
  CNN_CHROMIUM           the browser binary (default: /usr/bin/chromium)
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from test_book_build import html_for, toc_files

REPO_ROOT = Path(__file__).resolve().parents[1]
TOC = Path(os.environ.get("CNN_BOOK_TOC") or REPO_ROOT / "_toc.yml")
PAGES = [re.sub(r"\.(md|ipynb)$", "", f) for f in toc_files(TOC)]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
OVERFLOW_TOLERANCE_PX = 2
PAGE_TIMEOUT_MS = 60_000

# Console messages that are not failures. Keep this minimal; each entry says why it is harmless.
ALLOWED_CONSOLE: list[tuple[re.Pattern, str]] = [
    # Informational output of the theme / togglebutton / MathJax is logged at level
    # "log"/"info" and is never collected; only "error" messages are checked, and
    # every one of them fails the test unless listed here. (Nothing listed yet.)
]


def _page_id(page: str) -> str:
    return page.rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def html_dir(request) -> Path:
    given = os.environ.get("CNN_BOOK_HTML")
    if given:
        path = Path(given).resolve()
        assert (path / "index.html").is_file(), f"CNN_BOOK_HTML={given} has no index.html"
        return path
    return request.getfixturevalue("built_book")


@pytest.fixture(scope="module")
def base_url(html_dir: Path):
    """The HTML folder served by a quiet threaded http.server on 127.0.0.1, a free port."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    out = Path(os.environ.get("CNN_BOOK_SCREENSHOTS") or REPO_ROOT / "_build" / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


# --------------------------------------------------------------------------- page visits


@dataclass
class Visit:
    """A loaded page and everything that went wrong while loading and using it."""

    name: str
    page: object
    problems: list[str] = field(default_factory=list)
    ready: object = None  # what the page's ready_js returned

    def fail_if_problems(self):
        if self.problems:
            pytest.fail(f"{self.name}: {len(self.problems)} problem(s)\n  - " + "\n  - ".join(self.problems), pytrace=False)


# Resolves once MathJax has typeset the page, fonts are loaded and every image
# has finished (loaded or failed).
READY_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  await document.fonts.ready;
  await Promise.all(Array.from(document.images).filter(i => !i.complete && i.getAttribute('src'))
      .map(i => new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })));
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)));
}"""


def open_page(context, url: str, name: str, allowed_prefixes: tuple[str, ...], ready_js: str = READY_JS) -> Visit:
    """Open url in a new tab of context; requests outside allowed_prefixes are blocked;
    then ready_js is awaited (by default: MathJax done, fonts and images loaded)."""
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    visit = Visit(name, page)
    problems = visit.problems

    bad_urls: set[str] = set()  # one report per broken URL, not one per symptom

    def network_problem(url: str, text: str):
        if url not in bad_urls:
            bad_urls.add(url)
            problems.append(text)

    def route(r):
        u = r.request.url
        if u.startswith(allowed_prefixes) or u.startswith("data:"):
            r.continue_()
        else:
            network_problem(u, f"request to the network (blocked; the book must work offline): {u[:160]}")
            r.abort()

    def on_console(msg):
        if msg.type != "error":
            return
        text = msg.text
        if any(rx.search(text) for rx, _why in ALLOWED_CONSOLE):
            return
        loc = msg.location or {}
        url = loc.get("url", "")
        if text.startswith("Failed to load resource"):  # also catches requests Playwright does not see
            network_problem(url, f"failed to load {url[:160]}: {text[:120]}")
            return
        where = f" at {url}:{loc.get('lineNumber', '')}" if url else ""
        problems.append(f"console error: {text[:300]}{where}")

    def on_response(resp):
        if resp.status >= 400:
            network_problem(resp.url, f"HTTP {resp.status} for {resp.url[:160]}")

    def on_failed(req):
        if req.url.startswith(allowed_prefixes):
            network_problem(req.url, f"request failed ({req.failure}): {req.url[:160]}")

    def on_pageerror(err):
        frames = [ln.strip() for ln in (getattr(err, "stack", "") or "").splitlines()[1:2]]
        problems.append(f"JavaScript error: {str(err)[:300]}" + (f" ({frames[0]})" if frames else ""))

    page.route("**/*", route)
    page.on("console", on_console)
    page.on("pageerror", on_pageerror)
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.goto(url, wait_until="load")
    visit.ready = page.evaluate(ready_js)
    return visit


# --------------------------------------------------------------------------- checks

IMAGES_JS = """() => Array.from(document.images).map((img, i) => {
  const st = getComputedStyle(img);
  const explorer = img.closest('.cnn-explorer');
  const cell = img.closest('.cell');
  const code = cell && cell.querySelector('.cell_input pre');
  let heading = null;                         // the section the image is in
  for (let sec = img.closest('section'); sec && !heading; sec = sec.parentElement.closest('section')) {
    heading = sec.querySelector(':scope > h1, :scope > h2, :scope > h3, :scope > h4');
  }
  return {
    i, src: (img.getAttribute('src') || '').slice(0, 80), alt: img.getAttribute('alt'),
    visible: st.display !== 'none' && st.visibility !== 'hidden' && img.getClientRects().length > 0,
    loaded: img.complete && img.naturalWidth > 0,
    decorative: img.getAttribute('role') === 'presentation' || img.getAttribute('aria-hidden') === 'true',
    explorerError: explorer ? explorer.querySelector('.cnn-error').textContent.trim() : null,
    section: heading ? heading.textContent.replace(/#$/, '').trim().slice(0, 60) : '',
    code: code ? code.textContent.trim().split('\\n').pop().slice(0, 70) : '',
  };
})"""
# An alt text that is the picture's file name (what MyST-NB writes for a plain
# matplotlib output) tells a screen-reader user nothing.
FILE_NAME_ALT = re.compile(r"(^|/)[\w.-]+\.(png|jpe?g|gif|svg|webp)$", re.I)


def check_images(visit: Visit):
    nameless = []
    for img in visit.page.evaluate(IMAGES_JS):
        what = f"image #{img['i']} (src {img['src'] or '(none)'!r})"
        if img["visible"] and not img["loaded"]:
            visit.problems.append(f"{what} did not load")
        if not img["visible"] and img["explorerError"] == "":
            visit.problems.append(f"{what}: explorer shows neither a picture nor an error")
        alt = (img["alt"] or "").strip()
        if img["decorative"]:
            continue
        if not alt:
            visit.problems.append(f"{what} has no alt text")
        elif FILE_NAME_ALT.search(alt):
            where = f"section {img['section']!r}" + (f", cell ending {img['code']!r}" if img["code"] else "")
            nameless.append(f"#{img['i']} ({where})")
    if nameless:
        visit.problems.append(
            f"{len(nameless)} figure(s) have their file name as alt text, not a description "
            '(give the code cell the metadata {"mystnb": {"image": {"alt": "what the figure shows"}}}): ' + "; ".join(nameless)
        )


MATH_JS = """() => {
  const root = document.querySelector('main') || document.body;
  const math = Array.from(root.querySelectorAll('.math'));
  const unrendered = math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.trim().slice(0, 60));
  const errors = Array.from(root.querySelectorAll('mjx-merror, mjx-container [data-mjx-error]'))
      .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80));
  const raw = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode(n) {
    return n.parentElement.closest('pre, code, script, style, textarea, mjx-container, .cnn-states')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT; }});
  while (walker.nextNode()) {
    const t = walker.currentNode.textContent;
    const m = t.match(/\\\\\\(|\\\\\\[|\\$\\$/);
    if (m) raw.push(t.slice(Math.max(0, m.index - 20), m.index + 40).trim());
  }
  return {count: math.length, rendered: root.querySelectorAll('mjx-container').length, unrendered, errors, raw};
}"""


def check_math(visit: Visit, source_html: str):
    m = visit.page.evaluate(MATH_JS)
    has_math = 'class="math' in source_html
    if has_math and m["rendered"] == 0:
        visit.problems.append(f"math not rendered: {m['count']} math element(s), no mjx-container (MathJax did not load or run)")
    elif m["unrendered"]:
        visit.problems.append(f"{len(m['unrendered'])} of {m['count']} math element(s) not rendered, e.g. {m['unrendered'][0]!r}")
    for err in m["errors"][:3]:
        visit.problems.append(f"MathJax error in formula: {err!r}")
    for text in m["raw"][:3]:
        visit.problems.append(f"raw TeX left in the text: {text!r}")


EXPLORER_STATE_JS = """(root) => {
  const img = root.querySelector('.cnn-image');
  const st = getComputedStyle(img);
  return {
    img: img.getAttribute('src') || '', caption: root.querySelector('.cnn-caption').textContent,
    error: root.querySelector('.cnn-error').textContent, shown: st.display !== 'none',
    loaded: img.complete && img.naturalWidth > 0,
    outputs: Array.from(root.querySelectorAll('output')).map(o => o.textContent),
  };
}"""


def _explorer_state(root):
    state = root.evaluate(EXPLORER_STATE_JS)
    if state["shown"] and not state["loaded"]:  # a freshly switched data: URI decodes asynchronously
        root.evaluate("r => r.querySelector('.cnn-image').decode().catch(() => null)")
        state = root.evaluate(EXPLORER_STATE_JS)
    return state


def _describe(state) -> str:
    return f"caption {state['caption']!r}" + (f", error {state['error'][:60]!r}" if state["error"] else "")


def check_explorers(visit: Visit) -> int:
    """Move every control of every html_explorer through all its values. Returns the explorer count."""
    explorers = visit.page.locator(".cnn-explorer").all()
    for k, root in enumerate(explorers, 1):
        title = root.locator(":scope > div").first.text_content() or ""
        where = f"explorer {k} ({title.strip()[:50]!r})"
        controls = root.locator("[data-name]").all()
        if not controls:
            visit.problems.append(f"{where} has no controls")
        for control in controls:
            name = control.get_attribute("data-name")
            kind = control.evaluate("el => el.tagName === 'SELECT' ? 'select' : el.type")
            n = int(control.evaluate("el => el.tagName === 'SELECT' ? el.options.length : (+el.max - +el.min + 1)"))
            start = control.input_value()
            if kind == "range":  # the keyboard, as a reader without a mouse would
                control.focus()
                control.press("Home")
            else:
                control.select_option(index=0)
            prev = _explorer_state(root)
            unchanged, same_label, stale, missing = [], [], [], []
            for step in range(1, n):
                if kind == "range":
                    control.press("ArrowRight")
                else:
                    control.select_option(index=step)
                cur = _explorer_state(root)
                if (cur["img"], cur["caption"], cur["error"]) == (prev["img"], prev["caption"], prev["error"]):
                    unchanged.append(step)
                if cur["outputs"] == prev["outputs"]:
                    same_label.append(step)
                if cur["error"] and cur["shown"]:
                    stale.append(f"#{step}: {_describe(cur)}")
                if not cur["error"] and not (cur["shown"] and cur["loaded"]):
                    missing.append(f"#{step}: {_describe(cur)}")
                prev = cur
            what = f"{where}, control {name!r} ({n} values)"
            if unchanged:
                visit.problems.append(
                    f"{what}: moving to value(s) {unchanged} changed neither picture, caption nor error (still {_describe(prev)})"
                )
            if same_label:
                visit.problems.append(
                    f"{what}: the value shown next to the control did not change at value(s) {same_label} ({prev['outputs']})"
                )
            for m in stale:
                visit.problems.append(f"{what}: shows an error and a stale picture at value {m}")
            for m in missing:
                visit.problems.append(f"{what}: no error, but the picture is missing or broken at value {m}")
            # back to where the page started, so the screenshot shows the initial state
            control.evaluate("(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", start)
    return len(explorers)


def check_animations(visit: Visit) -> int:
    """Step, play and speed up every matplotlib animation. Returns the animation count."""
    page = visit.page
    animations = page.locator("div.animation").all()
    for k, anim in enumerate(animations, 1):
        where = f"animation {k}"
        img = anim.locator("img").first
        uid = (img.get_attribute("id") or "").removeprefix("_anim_img")
        obj = f"window['anim{uid}']"
        try:
            page.wait_for_function(f"() => {obj} && document.getElementById('_anim_img{uid}').src", timeout=5000)
        except Exception:
            visit.problems.append(f"{where}: never started (no first frame)")
            continue
        before = img.get_attribute("src")
        anim.locator("button[title='Next frame']").click()
        after = img.get_attribute("src")
        frame = page.evaluate(f"() => {obj}.current_frame")
        if after == before or frame != 1:
            visit.problems.append(f"{where}: 'Next frame' did not change the frame (frame {frame})")
        interval = page.evaluate(f"() => {obj}.interval")
        anim.locator("button[title='Increase speed']").click()
        if not page.evaluate(f"() => {obj}.interval") < interval:
            visit.problems.append(f"{where}: 'Increase speed' did not shorten the frame interval")
        anim.locator("button[title='First frame']").click()
        anim.locator("button[title='Play']").click()
        try:
            page.wait_for_function(f"() => {obj}.current_frame >= 1", timeout=8000)
        except Exception:
            visit.problems.append(f"{where}: 'Play' did not advance the frames")
        anim.locator("button[title='Pause']").click()
        anim.locator("button[title='First frame']").click()
        if not img.evaluate("i => i.complete && i.naturalWidth > 0"):
            visit.problems.append(f"{where}: the first frame did not load")
    return len(animations)


OVERFLOW_JS = """(tol) => {
  const vw = document.documentElement.clientWidth;
  // Inside a box that scrolls sideways (a code cell, a wide table) which itself fits: fine.
  // Inside a box that clips it (overflow hidden): the reader cannot see the rest.
  const container = el => { for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o !== 'visible' && a.getBoundingClientRect().right <= vw + tol) return o; }
      return null; };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).slice(0, 2).join('.') : '');
  const root = document.querySelector('article') || document.querySelector('main') || document.body;
  const bad = [], reported = [];
  for (const el of root.querySelectorAll('*')) {
    if (el.closest('mjx-container') && el.tagName !== 'MJX-CONTAINER') continue;
    if (reported.some(p => p.contains(el))) continue;      // report the outermost culprit only
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + tol) continue;
    const box = container(el);
    if (box === 'auto' || box === 'scroll') continue;
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
    const clipped = `(its ${box} box clips ${Math.round(r.right - vw)}px)`;
    bad.push(box ? `${name(el)} is cut off at the screen edge ${clipped}: ${JSON.stringify(text)}`
                 : `${name(el)} reaches x=${Math.round(r.right)}px: ${JSON.stringify(text)}`);
    reported.push(el);
    if (bad.length >= 5) break;
  }
  const widgets = Array.from(document.querySelectorAll('.cnn-explorer, div.animation')).map((el, i) => {
    const r = el.getBoundingClientRect();
    const img = el.querySelector('img');
    const ir = img ? img.getBoundingClientRect() : r;
    return {i, kind: el.classList.contains('cnn-explorer') ? 'explorer' : 'animation',
            right: Math.round(Math.max(r.right, ir.right)), width: Math.round(r.width)};
  }).filter(w => w.right > vw + tol);
  return {vw, scrollWidth: document.documentElement.scrollWidth, bad, widgets};
}"""


def check_phone_layout(visit: Visit):
    o = visit.page.evaluate(OVERFLOW_JS, OVERFLOW_TOLERANCE_PX)
    if o["scrollWidth"] > o["vw"] + OVERFLOW_TOLERANCE_PX:
        visit.problems.append(f"page scrolls sideways at {o['vw']}px: content is {o['scrollWidth']}px wide")
    for b in o["bad"]:
        visit.problems.append(f"does not fit the {o['vw']}px screen: {b}")
    for w in o["widgets"]:
        visit.problems.append(f"{w['kind']} {w['i'] + 1} does not fit the {o['vw']}px screen (right edge {w['right']}px)")


def screenshot(visit: Visit, folder: Path, width: int):
    """<page>-<width>.png: the whole page; <page>-<width>-top.png: the first screen as a reader
    sees it (a full-page capture drops the theme's sticky sidebars and header buttons)."""
    stem = f"{_page_id(visit.name)}-{width}"
    visit.page.screenshot(path=str(folder / f"{stem}.png"), full_page=True)
    visit.page.evaluate("() => window.scrollTo(0, 0)")
    visit.page.screenshot(path=str(folder / f"{stem}-top.png"))


# --------------------------------------------------------------------------- browser tests


@pytest.fixture(scope="module")
def desktop(browser):
    ctx = browser.new_context(viewport=DESKTOP)
    yield ctx
    ctx.close()


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_page_in_browser(page, html_dir, base_url, desktop, screenshots):
    """One load per page: at 1280 px requests, console, images + alt, math, explorers and
    animations; then the same page narrowed to 390 px: nothing sticks out, widgets fit."""
    target = html_for(html_dir, page)
    assert target.is_file(), f"{page}: not built ({target})"
    rel = target.relative_to(html_dir).as_posix()
    visit = open_page(desktop, f"{base_url}/{rel}", page, (base_url + "/",))
    try:
        check_images(visit)
        check_math(visit, target.read_text(encoding="utf-8"))
        check_explorers(visit)
        check_animations(visit)
        screenshot(visit, screenshots, DESKTOP["width"])
        # Phone width. Layout here follows the window width only (the theme's and
        # cnn-book.css's media queries), so narrowing the window shows the phone layout.
        visit.page.set_viewport_size(PHONE)
        visit.page.evaluate(READY_JS)
        before = len(visit.problems)
        check_phone_layout(visit)
        visit.problems[before:] = [f"[{PHONE['width']}px] {p}" for p in visit.problems[before:]]
        screenshot(visit, screenshots, PHONE["width"])
        visit.fail_if_problems()
    finally:
        visit.page.close()


def _offline_page(html_dir: Path) -> str:
    """The stride/padding chapter if it is in the book, else the page with the most explorers."""

    def explorers(p):
        return html_for(html_dir, p).read_text(encoding="utf-8").count('class="cnn-explorer"')

    stride = [p for p in PAGES if "stride" in p]
    return stride[0] if stride else max(PAGES, key=explorers)


def test_book_works_from_disk_without_network(html_dir, desktop):
    """file:// with every non-file request blocked: math, pictures and explorers still work."""
    page = _offline_page(html_dir)
    url = html_for(html_dir, page).resolve().as_uri()
    visit = open_page(desktop, url, f"{page} (file://)", ("file://",))
    try:
        check_images(visit)
        check_math(visit, html_for(html_dir, page).read_text(encoding="utf-8"))
        check_explorers(visit)
        check_animations(visit)
        visit.fail_if_problems()
    finally:
        visit.page.close()


# --------------------------------------------------------------------------- MathJax's accessibility settings

# MathJax 3 keeps the settings of its right-click menu in localStorage under this key (ui/menu:
# Menu.MENU_STORAGE), as JSON of the settings that differ from its defaults; every later page of
# the same origin (all of file://) reads them. "explorer" is Accessibility > Activate,
# "collapsible" Accessibility > Collapsible Math: both load the speech-rule engine, whose rule
# files (sre/mathmaps/*.json) the offline book does not have and file:// could not fetch.
MATHJAX_MENU_STORAGE = "MathJax-Menu-Settings"
SAVED_MATHJAX_SETTINGS = {
    "explorer": {"explorer": True},
    "explorer+collapsible+assistive-mml": {"explorer": True, "collapsible": True, "assistiveMml": True},
}

# READY_JS, but a MathJax that never finishes (what the explorer did) fails within 20 s, not 60.
MATH_READY_JS = """async () => {
  const done = (window.MathJax && MathJax.startup && MathJax.startup.promise)
      ? MathJax.startup.promise.then(() => 'typeset') : Promise.resolve('no MathJax');
  const state = await Promise.race([done, new Promise(r => setTimeout(() => r('timeout'), 20000))]);
  await document.fonts.ready;
  await new Promise(r => setTimeout(r, 1000));    // anything MathJax loads after typesetting
  return state;
}"""

MATH_A11Y_JS = """(key) => {
  const root = document.querySelector('main') || document.body;
  const boxes = Array.from(root.querySelectorAll('mjx-container'));
  const menu = window.MathJax && MathJax.startup && MathJax.startup.document && MathJax.startup.document.menu;
  const offered = id => {
    try { const item = menu.menu.findID('Accessibility', id); return !!item && !item.isHidden(); }
    catch (e) { return null; }
  };
  return {
    math: root.querySelectorAll('.math').length,
    containers: boxes.length,
    // laid out (not inside a closed dropdown) but of no size: an equation gone blank
    blank: boxes.filter(c => c.getClientRects().length > 0).filter(c => {
      const r = c.getBoundingClientRect(); return !(r.width > 0 && r.height > 0); }).length,
    sized: boxes.filter(c => { const r = c.getBoundingClientRect(); return r.width > 0 && r.height > 0; }).length,
    noMathml: boxes.filter(c => !c.querySelector('mjx-assistive-mml > math')).length,
    explorerOffered: offered('Activate'),
    collapsibleOffered: offered('Collapsible'),
    saved: localStorage.getItem(key),
  };
}"""


def _math_chapter(html_dir: Path) -> str:
    """The first chapter (not the front page) with math."""
    for page in PAGES[1:]:
        if 'class="math' in html_for(html_dir, page).read_text(encoding="utf-8"):
            return page
    pytest.skip("no chapter with math")


@pytest.mark.parametrize("saved", list(SAVED_MATHJAX_SETTINGS.values()), ids=list(SAVED_MATHJAX_SETTINGS))
def test_math_survives_saved_mathjax_accessibility_settings(html_dir, browser, saved):
    """A reader who once switched on MathJax's accessibility explorer (saved in localStorage, so
    every later page has it) still sees every equation on a chapter opened from disk, and a screen
    reader gets a MathML copy of each (assistive MathML); the explorer is not offered again."""
    page = _math_chapter(html_dir)
    target = html_for(html_dir, page)
    ctx = browser.new_context(viewport=DESKTOP)
    # Before any script of every page: the setting as MathJax's menu saves it.
    ctx.add_init_script(f"localStorage.setItem({json.dumps(MATHJAX_MENU_STORAGE)}, {json.dumps(json.dumps(saved))});")
    try:
        visit = open_page(ctx, target.resolve().as_uri(), f"{page} (file://, saved {saved})", ("file://",), MATH_READY_JS)
        try:
            if visit.ready != "typeset":
                visit.problems.append(f"MathJax did not finish typesetting ({visit.ready})")
            m = visit.page.evaluate(MATH_A11Y_JS, MATHJAX_MENU_STORAGE)
            if m["containers"] == 0 or m["sized"] == 0:
                visit.problems.append(
                    f"math blank: {m['math']} math element(s), {m['containers']} mjx-container, {m['sized']} of visible size"
                )
            if m["blank"]:
                visit.problems.append(f"{m['blank']} of {m['containers']} typeset equation(s) have no size (blank)")
            if m["noMathml"]:
                visit.problems.append(
                    f"{m['noMathml']} of {m['containers']} equation(s) without assistive MathML (mjx-assistive-mml > math)"
                )
            if m["explorerOffered"] or m["collapsibleOffered"]:
                visit.problems.append(
                    "MathJax's menu still offers Accessibility > Activate / Collapsible Math, which blank the math offline"
                )
            saved_now = json.loads(m["saved"] or "{}")
            if saved_now.get("explorer") or saved_now.get("collapsible"):
                visit.problems.append(f"the saved explorer setting was kept: {m['saved']}")
            check_math(visit, target.read_text(encoding="utf-8"))
            visit.fail_if_problems()
        finally:
            visit.page.close()
    finally:
        ctx.close()


# --------------------------------------------------------------------------- static checks of the HTML


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag in ("img", "script", "source") and a.get("src"):
            self.srcs.append(a["src"])


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def _is_internal(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not url.startswith("//")


def test_internal_links_and_anchors_resolve(html_dir):
    """Every relative href/src of every built page points at a file that exists, and every
    #anchor at an id on the target page (Sphinx -n checks references; this checks the HTML)."""
    problems = []
    pages = sorted(p for p in html_dir.rglob("*.html") if not {"_static", "_sources"} & set(p.parts))
    for page in pages:
        links = _parse(page)
        for url in links.hrefs + links.srcs:
            if not _is_internal(url):
                continue
            parts = urlsplit(url)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{page.relative_to(html_dir)}: {url} -> missing file")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _parse(target).ids:
                problems.append(
                    f"{page.relative_to(html_dir)}: {url} -> no id {parts.fragment!r} in {target.relative_to(html_dir)}"
                )
    assert pages, f"no HTML pages in {html_dir}"
    problems = list(dict.fromkeys(problems))  # a link repeated on a page counts once
    assert not problems, f"{len(problems)} broken internal link(s):\n" + "\n".join(problems[:40])


def _repository() -> tuple[str, str, str]:
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]
    org, name = repo["url"].rstrip("/").split("/")[-2:]
    return org, name, repo.get("branch", "main")


def test_notebook_pages_have_launch_and_download_buttons(html_dir):
    """Every chapter notebook can be downloaded as .ipynb from its page, and run live (Binder,
    Colab, configured in _config.yml from `repository:`), or, while `repository.url` is the
    placeholder, shows no launch or repository link (it would lead nowhere)."""
    org, name, branch = _repository()
    placeholder = org.upper() == "YOUR-ORG"  # book/_ext/cnn_book.py hides dead links then
    notebooks = [p for p in PAGES if (REPO_ROOT / f"{p}.ipynb").is_file()]
    problems = []
    for page in notebooks:
        built = html_for(html_dir, page)
        links = _parse(built).hrefs
        if placeholder:
            dead = [h for h in links if "mybinder.org" in h or "colab.research.google.com" in h or f"github.com/{org}/" in h]
            if dead:
                problems.append(f"{page}: links into the placeholder repository {dead[:3]}")
        binder = f"https://mybinder.org/v2/gh/{org}/{name}/{branch}?urlpath=lab/tree/{page}.ipynb"
        colab = f"https://colab.research.google.com/github/{org}/{name}/blob/{branch}/{page}.ipynb"
        for what, url in (("Binder", binder), ("Colab", colab)):
            if not placeholder and url not in links:
                problems.append(f"{page}: no {what} launch link {url}")
        downloads = [h for h in links if h.endswith(f"_sources/{page}.ipynb")]
        if not downloads:
            problems.append(f"{page}: no .ipynb download link")
        elif not (built.parent / downloads[0]).is_file():
            problems.append(f"{page}: .ipynb download {downloads[0]} missing from the build")
    assert not problems, "\n".join(problems)
