"""Accessibility checks axe-core cannot make, in the built book (headless Chromium, Playwright).

Every page of ``_toc.yml`` is served on 127.0.0.1 (fixtures of tests/test_browser.py, network
blocked, console and page errors fail) and loaded ONCE, at 1280 x 900 px with the reader's
``prefers-reduced-motion: reduce``. Then, in this order:

* **Motion** (WCAG 2.2.2, 2.3.3): nothing moves by itself — for a second after loading, no
  explorer, animation frame or canvas changes and no matplotlib animation runs its timer; no CSS
  animation runs and no element has a CSS transition; no scroll box scrolls smoothly.
* **Visible focus on the whole page** (2.4.7): after a Tab press (so the browser shows focus as
  for the keyboard), every tab stop outside the widgets is focused in turn: it matches
  ``:focus-visible`` and shows an outline or a box-shadow ring of >= 2 px with >= 3:1 contrast
  against what is behind it, not cut off by a box that hides its overflow (computed styles; a
  stop that fails them is measured in pixels, as below, before it is reported).
* **Keyboard-only explorers** (2.1.1, 2.1.2, 2.4.7): in every kernel-free explorer
  (``cnn_core.viz.explore.html_explorer``), matplotlib animation (``animate``) and live explorer
  (``book/_assets/live/explorers.js``): every control is reached with Tab and with Shift+Tab,
  and both leave the widget (no trap, canvases included); every control's indicator is
  measured in pixels (a screenshot of the control unfocused and focused: the pixels whose
  colour changes with >= 3:1 contrast must cover a 2 px ring around it); every action works
  from the keyboard: buttons with Enter and with Space, sliders/number fields/menus/radio
  groups with the arrow keys, focusable canvases (the selected output pixel, the drawing) with
  the arrow keys or Delete — each must change what the widget shows; no element of a widget
  answers the mouse or a finger (an event listener, read through the DevTools protocol) without
  being focusable. The pooling explorer's 'draw' mode is chosen with the keyboard and drawn on
  with the arrow keys and Space.
* **Text spacing** (1.4.12): with line height 1.5, paragraph spacing 2em, letter spacing 0.12em
  and word spacing 0.16em forced on every element (math excepted: MathJax lays out its glyphs
  itself), no text is cut off by a box that hides its overflow, no control's label leaves its
  control, and no text of an explorer overlaps one of its controls.
* **200 % zoom** (1.4.10): a 1280 x 900 window at 200 % is a 640 x 450 CSS px viewport. Nothing
  sticks out of it (the page never scrolls sideways; wide code, tables and formulas scroll in
  their own box, which must then be reachable with Tab so that the arrow keys scroll it), and
  every explorer control shown at 1280 px is still shown, on screen.

Run it alone:  make test PYTEST_ARGS="-k accessibility"  (this and tests/test_accessibility.py),
or on a built book: CNN_BOOK_HTML=_build/html .venv/bin/python -m pytest tests/test_keyboard_and_reflow.py
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from test_book_build import html_for
from test_browser import (  # noqa: F401 (fixtures)
    DESKTOP,
    OVERFLOW_TOLERANCE_PX,
    PAGES,
    Visit,
    _page_id,
    base_url,
    check_phone_layout,
    html_dir,
    open_page,
)

ZOOM_200 = {"width": DESKTOP["width"] // 2, "height": DESKTOP["height"] // 2}
WIDGETS = ".cnn-explorer, div.animation, div.cnn-live"
STILL_MS = 1000  # how long nothing may move by itself after loading
RING_PX = 2  # the focus indicator: a ring this thick ...
RING_CONTRAST = 3.0  # ... whose colour contrasts this much with the unfocused pixels
RING_COVER = 0.8  # share of a full 2 px ring that must change (rounded corners, anti-aliasing)

# WCAG 1.4.12's values, forced as a reader's style sheet would. MathJax's CHTML output places every
# glyph itself (letter spacing would pull formulas apart, as in any browser): it is left alone.
TEXT_SPACING_CSS = """
*:not(mjx-container):not(mjx-container *) {
  line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }
"""

# --------------------------------------------------------------------------- shared JavaScript

# Helpers installed once per page (window.__kbd): names, visibility, colours, widget snapshots.
HELPERS_JS = """() => {
  const name = el => {
    if (!el || el === document.body) return 'body';
    const label = (el.getAttribute('aria-label') || el.getAttribute('title') || el.textContent || '')
        .trim().replace(/\\s+/g, ' ').slice(0, 40);
    return el.tagName.toLowerCase() + (el.type ? '[' + el.type + ']' : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).slice(0, 2).join('.') : '') +
        (label ? ' ' + JSON.stringify(label) : '');
  };
  const shown = el => { const st = getComputedStyle(el);
    return el.getClientRects().length > 0 && st.visibility !== 'hidden' && st.display !== 'none'; };
  const focusables = root => Array.from(root.querySelectorAll(
      'a[href], button, input, select, textarea, summary, [tabindex]')).filter(el =>
      !el.disabled && el.tabIndex >= 0 && el.type !== 'hidden' && shown(el) && !el.closest('[inert]'));
  // one tab stop per radio group: the checked radio, else the first
  const tabStops = root => focusables(root).filter(el => !(el.type === 'radio' && el.name) ||
      el === (root.querySelector(`input[type=radio][name="${el.name}"]:checked`) ||
              root.querySelector(`input[type=radio][name="${el.name}"]`)));
  const rgba = s => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const contrast = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const behind = el => {        // the opaque colour behind el (its ancestors' backgrounds, else white)
    for (let a = el.parentElement; a; a = a.parentElement) {
      const c = rgba(getComputedStyle(a).backgroundColor); if (c && c[3] > 0.5) return c; }
    return [255, 255, 255, 1]; };
  const own = el => { const c = rgba(getComputedStyle(el).backgroundColor); return c && c[3] > 0.5 ? c : behind(el); };
  // The strongest ring el (or a child, as the theme draws some) shows: outline or box-shadow, its
  // thickness in px, its contrast with what is behind it, and whether a box that hides its overflow
  // cuts it off on some side (then only pixels can tell: focus_ring_pixels).
  const ring = el => {
    let best = {px: 0, contrast: 0, how: 'none', cut: false, score: -1};
    for (const e of [el, ...Array.from(el.children).slice(0, 4)]) {
      const st = getComputedStyle(e), bg = behind(e);
      const take = (px, color, how, against, reach) => {
        if (!color || color[3] < 0.5) return;
        const k = contrast(color, against), score = (px >= RING_PX_ && k >= RING_CONTRAST_ ? 1000 : 0) + px;
        if (score > best.score) best = {px, contrast: Math.round(k * 100) / 100, how, cut: reach > 0 && cutOff(e, reach), score};
      };
      if (st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) > 0) {
        const px = st.outlineStyle === 'auto' ? 2 : parseFloat(st.outlineWidth);
        take(px, rgba(st.outlineColor), 'outline ' + st.outlineStyle, bg, px + parseFloat(st.outlineOffset || 0));
      }
      if (st.boxShadow && st.boxShadow !== 'none') {
        for (const sh of st.boxShadow.split(/,(?![^(]*\\))/)) {
          const color = rgba(sh), nums = (sh.replace(/rgba?\\([^)]*\\)/, '').match(/-?[\\d.]+px/g) || []).map(parseFloat);
          const [x, y, blur, spread] = nums.concat([0, 0, 0, 0]);
          const px = Math.max(Math.abs(x), Math.abs(y), spread + blur / 2), inset = /inset/.test(sh);
          take(px, color, 'box-shadow' + (inset ? ' inset' : ''), inset ? own(e) : bg, inset ? 0 : px);
        }
      }
    }
    return best;
  };
  // Does a box that hides its overflow cut off a ring `reach` px around el?
  const cutOff = (el, reach) => {
    const r = el.getBoundingClientRect();
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const st = getComputedStyle(a);
      if (st.overflowX === 'visible' && st.overflowY === 'visible') continue;
      const b = a.getBoundingClientRect(), l = b.left + a.clientLeft, t = b.top + a.clientTop;
      if (r.left - reach < l - 0.5 || r.top - reach < t - 0.5 || r.right + reach > l + a.clientWidth + 0.5 ||
          r.bottom + reach > t + a.clientHeight + 0.5) return true;
    }
    return false;
  };
  const good = (visible, r) => visible && r.px >= RING_PX_ && r.contrast >= RING_CONTRAST_ && !r.cut;
  const hash = s => {
    let h = 0; for (let i = 0; i < s.length; i += 7) h = (h * 31 + s.charCodeAt(i)) | 0;
    return s.length + ':' + h; };
  // What a widget shows, apart from the control `except`: its text, pictures, canvases, names, radios.
  const snapshot = (root, except) => {
    const parts = [root.innerText];
    root.querySelectorAll('img').forEach(i => parts.push(hash(i.getAttribute('src') || '')));
    root.querySelectorAll('canvas').forEach(c => { if (c !== except && c.width && c.height) {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let h = 0; for (let i = 0; i < d.length; i += 5) h = (h * 31 + d[i]) | 0;
      parts.push(c.width + 'x' + c.height + ':' + h); } });
    root.querySelectorAll('[aria-label]').forEach(e => { if (e !== except) parts.push(e.getAttribute('aria-label')); });
    root.querySelectorAll('input[type=radio], input[type=checkbox]').forEach(i => parts.push(String(i.checked)));
    return parts.join('|');
  };
  // The focused element as the page walk records it.
  let count = 0;
  const stop = () => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement || !document.hasFocus()) return null;
    if (!el.__kbdId) el.__kbdId = ++count;
    const r = ring(el), visible = el.matches(':focus-visible');
    return {id: el.__kbdId, name: name(el), visible, ring: r, good: good(visible, r), widget: !!el.closest(WIDGETS_)};
  };
  window.__kbd = {widgets: WIDGETS_, name, shown, focusables, tabStops, ring, good, snapshot, stop};
}"""
HELPERS_JS = (
    HELPERS_JS.replace("RING_CONTRAST_", str(RING_CONTRAST)).replace("RING_PX_", str(RING_PX)).replace("WIDGETS_", repr(WIDGETS))
)


# --------------------------------------------------------------------------- motion

MOTION_JS = """async (stillMs) => {
  const widgets = () => Array.from(document.querySelectorAll(__kbd.widgets)).map(w => __kbd.snapshot(w, null));
  const anims = () => Object.keys(window).filter(k => /^anim[0-9a-f]{8,}$/.test(k) && window[k] && 'current_frame' in window[k])
      .map(k => ({k, frame: window[k].current_frame, timer: !!window[k].timer}));
  const before = widgets(), framesBefore = anims();
  await new Promise(r => setTimeout(r, stillMs));
  const after = widgets(), framesAfter = anims();
  const problems = [];
  after.forEach((s, i) => {
    if (s !== before[i]) problems.push(`widget ${i + 1} changed by itself within ${stillMs} ms of loading`); });
  framesAfter.forEach((a, i) => { if (a.timer || a.frame !== framesBefore[i].frame)
      problems.push(`animation ${a.k} plays by itself (frame ${framesBefore[i].frame} -> ${a.frame})`); });
  for (const a of document.getAnimations()) {
    if (a.playState !== 'running') continue;
    const t = a.effect && a.effect.getTiming ? a.effect.getTiming() : {};
    if ((+t.duration || 0) > 10 || t.iterations === Infinity)
      problems.push(`a CSS animation runs (${a.animationName || a.constructor.name}, ${t.duration} ms x ${t.iterations}) on ` +
                    __kbd.name(a.effect && a.effect.target));
  }
  const sec = v => Math.max(0, ...v.split(',').map(s => parseFloat(s) * (/ms/.test(s) ? 0.001 : 1)));
  const moving = new Map();
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('mjx-container')) continue;
    const st = getComputedStyle(el);
    const key = sec(st.transitionDuration) > 0.01 ? 'transition ' + st.transitionDuration :
                st.scrollBehavior === 'smooth' ? 'scroll-behavior: smooth' : null;
    const kind = key + __kbd.name(el).split(' ')[0];
    if (key && !moving.has(kind)) moving.set(kind, `${key}: ${__kbd.name(el)}`);
  }
  for (const root of [document.documentElement, document.body])
    if (getComputedStyle(root).scrollBehavior === 'smooth')
      moving.set(root.tagName, `scroll-behavior: smooth on ${root.tagName.toLowerCase()}`);
  const list = Array.from(moving.values());
  if (list.length) problems.push(`${list.length} kind(s) of element move under prefers-reduced-motion: reduce, e.g. ` +
                                 list.slice(0, 4).join('; '));
  return problems;
}"""


def check_motion(visit: Visit) -> None:
    visit.problems += [f"[motion] {p}" for p in visit.page.evaluate(MOTION_JS, STILL_MS)]


# --------------------------------------------------------------------------- focus, measured in pixels


def _luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(float) / 255
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def _shot(page, clip: dict) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.screenshot(clip=clip, animations="disabled"))).convert("RGB"))


RECT_JS = """(el) => {
  el.scrollIntoView({block: 'center', inline: 'nearest'});
  const r = el.getBoundingClientRect(), vw = document.documentElement.clientWidth, vh = window.innerHeight, m = 8;
  const x0 = Math.max(0, r.left - m), y0 = Math.max(0, r.top - m);
  const x1 = Math.min(vw, r.right + m), y1 = Math.min(vh, r.bottom + m);
  return {clip: {x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0)},
          // the part of the element's outline that is on screen: the ring we expect
          ring: (r.top >= 0 ? Math.min(r.width, vw) : 0) + (r.bottom <= vh ? Math.min(r.width, vw) : 0) +
                (r.left >= 0 ? Math.min(r.height, vh) : 0) + (r.right <= vw ? Math.min(r.height, vh) : 0)};
}"""


def focus_ring_pixels(page, handle) -> tuple[int, int]:
    """(pixels whose colour changes >= 3:1 when the element takes keyboard focus, pixels a 2 px
    ring around its on-screen edges needs). The element is focused when this returns."""
    box = page.evaluate(RECT_JS, handle)
    handle.evaluate("el => el.blur()")
    before = _shot(page, box["clip"])
    handle.evaluate("el => el.focus({preventScroll: true})")
    after = _shot(page, box["clip"])
    if before.shape != after.shape:
        return 0, 1
    a, b = _luminance(before), _luminance(after)
    ratio = (np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05)
    return int((ratio >= RING_CONTRAST).sum()), int(RING_PX * box["ring"] * RING_COVER)


# --------------------------------------------------------------------------- the whole page, Tab by Tab

MAX_LISTED = int(os.environ.get("CNN_A11Y_LIST", "8"))  # problems of one kind listed in a failure


FOCUS_ALL_JS = """() => {
  const out = [];
  for (const el of __kbd.focusables(document.body)) {
    if (el.closest(__kbd.widgets)) continue;        // measured in pixels by check_widgets
    el.focus({preventScroll: true});
    if (document.activeElement === el) out.push(__kbd.stop());
  }
  return out;
}"""


def check_page_focus(visit: Visit) -> int:
    """Every tab stop of the page outside the widgets, focused after a Tab press (so that the
    browser shows focus as for the keyboard), shows a visible focus ring. Returns the stop count."""
    page = visit.page
    page.evaluate("() => scrollTo(0, 0)")
    page.keyboard.press("Tab")
    stops = page.evaluate(FOCUS_ALL_JS)
    if not stops:
        visit.problems.append("[keyboard] nothing on the page can be reached with Tab")
    weak = []
    for stop in stops:
        if stop["good"]:
            continue
        handle = page.evaluate_handle("id => Array.from(document.querySelectorAll('*')).find(e => e.__kbdId === id)", stop["id"])
        changed, needed = focus_ring_pixels(page, handle)
        if not stop["visible"] or changed < needed:
            ring = stop["ring"]
            weak.append(
                f"{stop['name']} ({'' if stop['visible'] else 'not :focus-visible, '}{ring['how']} {ring['px']:g}px, "
                f"contrast {ring['contrast']:g}{', cut off' if ring['cut'] else ''}; {changed} px change >= 3:1, {needed} needed)"
            )
    if weak:
        visit.problems.append(
            f"[focus] {len(weak)} tab stop(s) without a visible focus indicator: " + "; ".join(weak[:MAX_LISTED])
        )
    return len(stops)


# --------------------------------------------------------------------------- explorers and animations

SENTINELS_JS = """(root) => {
  const make = where => { const s = document.createElement('span'); s.tabIndex = 0; s.dataset.kbdSentinel = where;
    s.textContent = '\\u200b'; return s; };
  root.before(make('before')); root.after(make('after'));
  const stops = __kbd.tabStops(root);
  stops.forEach((el, i) => { el.dataset.kbdStop = i; });
  const options = el => Array.from(el.options).filter(o => !o.disabled);
  return stops.map(el => ({
    name: __kbd.name(el), tag: el.tagName.toLowerCase(), type: el.type || '', class: el.className,
    // a slider or menu with one value, or at its last value (then the arrow key goes back)
    fixed: el.tagName === 'SELECT' ? options(el).length < 2 :
           (el.type === 'range' || el.type === 'number') && el.min !== '' && el.min === el.max,
    atMax: el.tagName === 'SELECT' ? !options(el).some(o => o.index > el.selectedIndex) :
           (el.type === 'range' || el.type === 'number') && el.max !== '' && +el.value >= +el.max}));
}"""
ACTIVE_JS = """() => { const el = document.activeElement;
  return el.dataset && el.dataset.kbdSentinel ? el.dataset.kbdSentinel : el.dataset && el.dataset.kbdStop !== undefined ?
         +el.dataset.kbdStop : __kbd.name(el); }"""
CHANGED_JS = """async ([root, except, before]) => {
  for (let t = 0; t < 10; t++) {           // a widget answers at once, or on one of the next frames
    if (__kbd.snapshot(root, except) !== before) return true;
    await new Promise(r => setTimeout(r, 25));
  }
  return false;
}"""


def _walk(page, root, key: str, start: str, end: str, n: int) -> tuple[list, bool]:
    """Focus sentinel `start`, press `key` until sentinel `end` has focus: the stops met, and
    whether `end` was reached within n + 3 presses."""
    page.evaluate(f"() => document.querySelector('[data-kbd-sentinel=\"{start}\"]').focus()")
    met = []
    for _ in range(n + 3):
        page.keyboard.press(key)
        where = page.evaluate(ACTIVE_JS)
        if where == end:
            return met, True
        met.append(where)
    return met, False


def _act(page, root, stop: dict, i: int) -> str | None:
    """Use control i of the widget with the keyboard; None if the widget answered, else why not."""
    el = root.evaluate_handle(f"r => r.querySelector('[data-kbd-stop=\"{i}\"]')")
    if not el.evaluate("e => !!e"):
        return None  # rebuilt by an earlier action (a new kernel size): its twin was used already
    el.evaluate("e => e.focus()")
    tag, kind = stop["tag"], stop["type"]
    if stop["fixed"]:
        return None  # a slider or menu with one value: nothing to do
    if tag == "button" or kind in ("button", "submit"):
        root.evaluate(
            "r => { r.__kbdClicks = 0; if (!r.__kbdCounting) r.addEventListener('click', () => r.__kbdClicks++, true);"
            " r.__kbdCounting = true; }"
        )
        for key in ("Enter", " "):
            el.evaluate("e => e.focus()")
            page.keyboard.press(key)
        clicks = root.evaluate("r => r.__kbdClicks")
        return None if clicks == 2 else f"Enter and Space gave {clicks} click(s), not 2"
    if tag == "select" or kind in ("range", "number", "radio"):
        forward = ("ArrowUp" if kind == "number" else "ArrowDown" if tag == "select" else "ArrowRight",)
        back = {"ArrowUp": "ArrowDown", "ArrowDown": "ArrowUp", "ArrowRight": "ArrowLeft"}
        keys = [(forward[0], back[forward[0]])]
        if stop["atMax"]:
            keys = [(b, f) for f, b in keys]
    else:  # a focusable canvas or box: arrow keys (a selected pixel) or Delete (a drawing)
        keys = [("ArrowRight", "ArrowLeft"), ("ArrowDown", "ArrowUp"), ("Delete", None)]
    tried = []
    for key, undo in keys:
        before = root.evaluate("(r, e) => __kbd.snapshot(r, e)", el)
        page.keyboard.press(key)
        if page.evaluate(CHANGED_JS, [root, el, before]):
            if undo:
                page.keyboard.press(undo)
            return None
        tried.append(key.replace(" ", "Space"))
    return f"{'/'.join(tried)} changed nothing the widget shows"


POINTER_EVENTS = {"click", "dblclick", "mousedown", "mouseup", "pointerdown", "pointerup", "touchstart", "touchend"}
UNFOCUSABLE_JS = """(root) => Array.from(root.querySelectorAll('*')).filter(el =>
    el.tabIndex < 0 && !el.closest('a[href], button, label, select, summary') && __kbd.shown(el))"""


def pointer_only(page, root) -> list[str]:
    """Elements of the widget that answer a mouse or a finger (an event listener of theirs, read
    through the DevTools protocol) but can never be focused: no keyboard can do what they do."""
    cdp = page.context.new_cdp_session(page)
    try:
        found = cdp.send(
            "Runtime.callFunctionOn",
            {
                "functionDeclaration": UNFOCUSABLE_JS,
                "objectId": _object_id(cdp, root),
                "arguments": [{"objectId": _object_id(cdp, root)}],
            },
        )
        items = cdp.send("Runtime.getProperties", {"objectId": found["result"]["objectId"], "ownProperties": True})["result"]
        out = []
        for item in items:
            if not item["name"].isdigit():
                continue
            oid = item["value"]["objectId"]
            kinds = {
                e["type"] for e in cdp.send("DOMDebugger.getEventListeners", {"objectId": oid})["listeners"]
            } & POINTER_EVENTS
            if kinds:
                name = cdp.send(
                    "Runtime.callFunctionOn",
                    {"functionDeclaration": "function () { return __kbd.name(this); }", "objectId": oid, "returnByValue": True},
                )["result"]["value"]
                out.append(f"{name} ({', '.join(sorted(kinds))})")
        return out
    finally:
        cdp.detach()


def _object_id(cdp, handle) -> str:
    """The DevTools protocol's id of the element behind a Playwright handle (marked for a moment)."""
    handle.evaluate("e => { e.dataset.kbdCdp = '1'; }")
    try:
        return cdp.send("Runtime.evaluate", {"expression": "document.querySelector('[data-kbd-cdp]')"})["result"]["objectId"]
    finally:
        handle.evaluate("e => { delete e.dataset.kbdCdp; }")


def check_widgets(visit: Visit) -> int:
    """Every control of every explorer and animation: reached by Tab and Shift+Tab (no trap),
    a focus ring measured in pixels, its action done with the keyboard. Returns the widget count."""
    page = visit.page
    widgets = page.query_selector_all(WIDGETS)
    for k, root in enumerate(widgets, 1):
        kind = root.evaluate("r => r.classList.contains('animation') ? 'animation' : r.dataset.kind || 'explorer'")
        where = f"[keyboard] {kind} {k}"
        stops = root.evaluate(SENTINELS_JS)
        try:
            if not stops:
                visit.problems.append(f"{where}: no control can be reached with Tab")
                continue
            for key, start, end in (("Tab", "before", "after"), ("Shift+Tab", "after", "before")):
                met, left = _walk(page, root, key, start, end, len(stops))
                if not left:
                    visit.problems.append(f"{where}: {key} is trapped (after {len(met)} presses focus is at {met[-1]!r})")
                missed = [s["name"] for i, s in enumerate(stops) if i not in met]
                if missed:
                    visit.problems.append(f"{where}: {key} never reaches {missed[:5]}")
                strays = [m for m in met if not isinstance(m, int)]
                if strays:
                    visit.problems.append(f"{where}: {key} leaves the widget midway, to {strays[:3]}")
            weak, kinds = [], set()
            for i, stop in enumerate(stops):
                handle = root.evaluate_handle(f"r => r.querySelector('[data-kbd-stop=\"{i}\"]')")
                ring = handle.evaluate("e => (e.focus({preventScroll: true}), __kbd.stop())")
                # measured in pixels: the first control of each kind, every canvas, every doubtful ring
                look = (stop["tag"], stop["type"], stop["class"])
                if ring["good"] and look in kinds and stop["tag"] != "canvas":
                    continue
                kinds.add(look)
                changed, needed = focus_ring_pixels(page, handle)
                if not ring["visible"] or changed < needed:
                    weak.append(f"{stop['name']} ({changed} px change >= 3:1, {needed} needed)")
            if weak:
                visit.problems.append(
                    f"[focus] {kind} {k}: {len(weak)} control(s) without a visible focus ring: " + "; ".join(weak[:6])
                )
            for what in pointer_only(page, root):
                visit.problems.append(f"{where}: only a mouse or a finger can use {what}: it cannot be focused")
            # buttons last: their check needs no particular state, and one may reset the widget (clear)
            for i, stop in sorted(enumerate(stops), key=lambda item: item[1]["tag"] == "button"):
                why = _act(page, root, stop, i)
                if why:
                    visit.problems.append(f"{where}: {stop['name']}: {why}")
        finally:
            page.evaluate(
                "() => { document.querySelectorAll('[data-kbd-sentinel]').forEach(s => s.remove());"
                " Object.keys(window).filter(k => /^anim[0-9a-f]{8,}$/.test(k) && window[k] && window[k].pause_animation)"
                ".forEach(k => window[k].pause_animation()); }"
            )
    return len(widgets)


def check_drawing(visit: Visit) -> None:
    """The pooling explorer's 'draw' mode by keyboard alone: chosen in its image menu, the input
    becomes a tab stop that a pen moved by the arrow keys (Space: paint here) draws on."""
    page = visit.page
    for root in page.query_selector_all("div.cnn-live[data-kind='pooling']"):
        menu = root.query_selector("select[aria-label='image']")
        menu.focus()
        page.keyboard.press("End")  # the last option, "draw"
        if menu.evaluate("m => m.value") != "draw":
            visit.problems.append("[keyboard] pooling: End on the image menu did not choose 'draw'")
            continue
        canvas = None
        for _ in range(4):  # the input (named 'input: ...') comes a few stops after the menu
            page.keyboard.press("Tab")
            if page.evaluate("() => (document.activeElement.getAttribute('aria-label') || '').startsWith('input')"):
                canvas = page.evaluate_handle("() => document.activeElement")
                break
        if canvas is None:
            visit.problems.append("[keyboard] pooling, 'draw': Tab does not reach the drawing")
        else:
            before = root.evaluate("(r, e) => __kbd.snapshot(r, e)", canvas)
            for key in ("ArrowRight", "ArrowRight", "ArrowDown", " "):
                page.keyboard.press(key)
            if not page.evaluate(CHANGED_JS, [root, canvas, before]):
                visit.problems.append("[keyboard] pooling, 'draw': the arrow keys and Space on the drawing changed nothing")
        visit.problems += [f"[keyboard] pooling, 'draw': only a mouse can use {w}" for w in pointer_only(page, root)]
        menu.focus()
        page.keyboard.press("Home")


# --------------------------------------------------------------------------- text spacing

SPACING_JS = """() => {
  const problems = [];
  const hiddenOnPurpose = el => { const st = getComputedStyle(el);   // screen-reader-only text
    return el.clientWidth <= 1 || el.clientHeight <= 1 || /rect\\(0/.test(st.clip) || st.clipPath.startsWith('inset(50%'); };
  const textRects = el => { const out = [];
    const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (w.nextNode() && out.length < 200) {
      const n = w.currentNode, p = n.parentElement;
      if (!n.textContent.trim() || !p || p.closest('mjx-container, script, style, .cnn-states') || !__kbd.shown(p)) continue;
      const r = document.createRange(); r.selectNodeContents(n);
      for (const q of r.getClientRects())
        if (q.width > 0 && q.height > 0) out.push({rect: q, text: n.textContent.trim().slice(0, 30), node: p});
    }
    return out; };
  const inside = (q, b, tol) =>
    q.left >= b.left - tol && q.right <= b.right + tol && q.top >= b.top - tol && q.bottom <= b.bottom + tol;
  // 1. text cut off by a box that hides its overflow
  const clipped = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('mjx-container') || !__kbd.shown(el)) continue;
    const st = getComputedStyle(el);
    const hx = /hidden|clip/.test(st.overflowX), hy = /hidden|clip/.test(st.overflowY);
    if (!(hx || hy) || hiddenOnPurpose(el)) continue;
    if (!(hx && el.scrollWidth > el.clientWidth + 1) && !(hy && el.scrollHeight > el.clientHeight + 1)) continue;
    const b = el.getBoundingClientRect();
    const box = {left: b.left + el.clientLeft, top: b.top + el.clientTop,
                 right: b.left + el.clientLeft + el.clientWidth, bottom: b.top + el.clientTop + el.clientHeight};
    const cut = textRects(el).filter(t => !(hx ? (t.rect.left >= box.left - 1 && t.rect.right <= box.right + 1) : true) ||
                                          !(hy ? (t.rect.top >= box.top - 1 && t.rect.bottom <= box.bottom + 1) : true));
    if (cut.length && !clipped.some(c => c.contains(el))) {
      clipped.push(el);
      const how = `overflow ${st.overflowX}/${st.overflowY}`;
      problems.push(`text cut off by ${__kbd.name(el)} (${how}): ${JSON.stringify(cut[0].text)}`);
    }
  }
  // 2. a control's label leaves the control; 3. explorer text over a control
  for (const c of document.querySelectorAll('button, summary, .cnn-explorer label, .cnn-live label')) {
    if (!__kbd.shown(c) || c.closest('mjx-container') || hiddenOnPurpose(c)) continue;
    if (!/^(BUTTON|SUMMARY)$/.test(c.tagName)) continue;
    const b = c.getBoundingClientRect();
    const out = textRects(c).filter(t => !inside(t.rect, b, 1));
    if (out.length) problems.push(`the label ${JSON.stringify(out[0].text)} sticks out of ${__kbd.name(c)}`);
  }
  for (const w of document.querySelectorAll(__kbd.widgets)) {
    const controls = Array.from(w.querySelectorAll('input, select, button, canvas, img')).filter(__kbd.shown);
    for (const t of textRects(w)) {
      const hit = controls.find(c => !c.contains(t.node) && (() => { const r = c.getBoundingClientRect();
        return Math.min(r.right, t.rect.right) - Math.max(r.left, t.rect.left) > 2 &&
               Math.min(r.bottom, t.rect.bottom) - Math.max(r.top, t.rect.top) > 2; })());
      if (hit) { problems.push(`explorer text ${JSON.stringify(t.text)} overlaps ${__kbd.name(hit)}`); break; }
    }
  }
  return problems;
}"""


def check_text_spacing(visit: Visit) -> None:
    page = visit.page
    style = page.add_style_tag(content=TEXT_SPACING_CSS)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")
    problems = page.evaluate(SPACING_JS)
    style.evaluate("s => s.remove()")
    visit.problems += [f"[text spacing] {p}" for p in problems[:10]]
    if len(problems) > 10:
        visit.problems.append(f"[text spacing] ... and {len(problems) - 10} more")


# --------------------------------------------------------------------------- 200 % zoom

CONTROLS_JS = """() => Array.from(document.querySelectorAll(__kbd.widgets)).map(w => {
  const vw = document.documentElement.clientWidth;
  return Array.from(w.querySelectorAll('input, select, button, canvas, img')).filter(e => e.type !== 'file')
    .map(e => { const r = e.getBoundingClientRect();
      return {name: __kbd.name(e), shown: __kbd.shown(e) && r.width > 0, onScreen: r.left >= -1 && r.right <= vw + 1}; });
})"""
SCROLL_BOXES_JS = """(tol) => {
  const bad = [];
  for (const el of document.querySelectorAll('.bd-article *')) {
    const st = getComputedStyle(el);
    if (!/(auto|scroll)/.test(st.overflowX) || el.scrollWidth <= el.clientWidth + tol || !__kbd.shown(el)) continue;
    if (el.tabIndex < 0 && !el.querySelector('a[href], button, input, select, [tabindex]'))
      bad.push(`${__kbd.name(el)} scrolls sideways but cannot be reached with Tab`);
  }
  return bad.slice(0, 5);
}"""


def check_zoom(visit: Visit, at_1280: list) -> None:
    page = visit.page
    page.set_viewport_size(ZOOM_200)
    page.wait_for_timeout(400)  # the theme's and a11y.js's debounced resize handlers
    before = len(visit.problems)
    check_phone_layout(visit)
    visit.problems += page.evaluate(SCROLL_BOXES_JS, OVERFLOW_TOLERANCE_PX)
    for k, (wide, narrow) in enumerate(zip(at_1280, page.evaluate(CONTROLS_JS)), 1):
        lost = [n["name"] for w, n in zip(wide, narrow) if w["shown"] and not (n["shown"] and n["onScreen"])]
        if lost:
            visit.problems.append(f"widget {k}: {len(lost)} control(s) shown at 1280 px are hidden or off screen: {lost[:4]}")
    visit.problems[before:] = [f"[200% zoom, {ZOOM_200['width']}px] {p}" for p in visit.problems[before:]]
    page.set_viewport_size(DESKTOP)


# --------------------------------------------------------------------------- the test


@pytest.fixture(scope="module")
def reader(browser):
    """A reader who asked for reduced motion, at desktop width; one context for every page."""
    ctx = browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
    yield ctx
    ctx.close()


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_keyboard_motion_spacing_reflow_accessibility(page, html_dir, base_url, reader):  # noqa: F811
    """One load per page: motion, visible focus on every tab stop, every explorer by keyboard
    alone, text spacing, 200 % zoom (see the module docstring)."""
    target = html_for(html_dir, page)
    assert target.is_file(), f"{page}: not built ({target})"
    visit = open_page(reader, f"{base_url}/{target.relative_to(html_dir).as_posix()}", page, (base_url + "/",))
    try:
        visit.page.evaluate(HELPERS_JS)
        check_motion(visit)
        at_1280 = visit.page.evaluate(CONTROLS_JS)
        check_page_focus(visit)
        check_widgets(visit)
        check_drawing(visit)
        check_text_spacing(visit)
        check_zoom(visit, at_1280)
        visit.fail_if_problems()
    finally:
        visit.page.close()
