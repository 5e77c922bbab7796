"""One plotting function, two explorers: a live ipywidgets one for a running
notebook, and a kernel-free HTML one for the online book.

A chapter writes ``render(**values) -> Figure`` once and a dict of controls,
``{"stride": [1, 2, 3], "padding": [0, 1]}``. Then

* ``explore(render, controls)`` gives ipywidgets sliders/dropdowns (needs a kernel);
* ``html_explorer(render, controls)`` pre-renders every combination and
  switches between the pictures with plain HTML/JS controls (no kernel needed);
* ``explorer(render, controls)``, what the chapters call: ONE explorer, the live
  one where a kernel runs (Jupyter, Colab, Binder) and the kernel-free one while
  Jupyter Book builds the book (``book/_ext/cnn_book.py`` sets ``CNN_BOOK_BUILD``);
* ``animate(fig, update, frames)`` turns a figure into a JS animation with
  play / step / speed buttons (matplotlib's ``to_jshtml``).

If ``render`` raises ``ValueError`` for a combination (a stride that does not
fit, say), both explorers show the error message instead of a picture.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import inspect
import json
import os
import re
import string
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt

from cnn_core.viz.readability import png_with_text_size, recording_text_sizes

Render = Callable[..., "plt.Figure"]

# Set (to "1") by the book's Sphinx extension before Jupyter Book executes the chapters.
BOOK_BUILD_ENV = "CNN_BOOK_BUILD"
TEMPLATES = Path(__file__).with_name("templates")

# JupyterLab / Notebook 7 bind the arrow keys (select the cell above/below) and would take them
# from a focused slider: Lumino skips its shortcuts inside elements with this attribute.
_SUPPRESS_SHORTCUTS = 'data-lm-suppress-shortcuts="true"'


def fig_to_data_uri(fig: "plt.Figure", dpi: int = 80) -> tuple[str, float | None]:
    """A figure as a base64 PNG data URI (and the figure closed), with its smallest text in PNG pixels."""
    png, sizes = png_with_text_size(fig, dpi)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(png).decode(), sizes.smallest


def _smallest_attribute(sizes: list[float | None]) -> str:
    """The data-min-text-px value for pictures with these smallest texts ("none": no text)."""
    drawn = [s for s in sizes if s is not None]
    return f"{min(drawn):.2f}" if drawn else "none"


class HTML:
    """Raw HTML that Jupyter and the book display as such."""

    def __init__(self, data: str) -> None:
        self.data = data

    def _repr_html_(self) -> str:
        return self.data

    def __repr__(self) -> str:
        return f"<HTML explorer, {len(self.data):,} characters>"


def _template(name: str) -> string.Template:
    """A file of cnn_core/viz/templates/ as a string.Template ($name placeholders)."""
    return string.Template((TEMPLATES / name).read_text(encoding="utf-8"))


def _label(value) -> str:
    return value if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)


def html_explorer(
    render: Render,
    controls: dict[str, Sequence],
    *,
    describe: Callable[..., str] | None = None,
    initial: dict | None = None,
    dpi: int = 80,
    title: str = "",
) -> HTML:
    """Pre-render render(**values) for every combination of control values and return
    HTML with one slider (numbers) or dropdown (strings) per control that swaps them.

    describe(**values) gives the caption and the image's alt text.
    """
    names = list(controls)
    states, smallest = {}, []
    for combo in itertools.product(*(range(len(controls[n])) for n in names)):
        values = {n: controls[n][i] for n, i in zip(names, combo)}
        caption = describe(**values) if describe else ", ".join(f"{n} = {_label(v)}" for n, v in values.items())
        try:
            img, text_px = fig_to_data_uri(render(**values), dpi)
            smallest.append(text_px)
            state = {"img": img, "text": caption, "error": ""}
        except ValueError as err:
            plt.close("all")
            state = {"img": "", "text": caption, "error": str(err)}
        states[",".join(map(str, combo))] = state
    uid = "cnnx-" + hashlib.sha1(json.dumps([title, names, list(states)]).encode()).hexdigest()[:10]
    start = [controls[n].index(initial[n]) if initial and n in initial else 0 for n in names]
    rows = []
    for n, s in zip(names, start):
        vals = controls[n]
        if all(isinstance(v, str) for v in vals):
            opts = "".join(
                f'<option value="{i}"{" selected" if i == s else ""}>{html.escape(v)}</option>' for i, v in enumerate(vals)
            )
            widget = f'<select data-name="{n}" aria-label="{html.escape(n)}">{opts}</select>'
        else:
            widget = (
                f'<input type="range" data-name="{n}" min="0" max="{len(vals) - 1}" value="{s}" step="1" '
                f'aria-label="{html.escape(n)}">'
            )
        labels = json.dumps([_label(v) for v in vals])
        rows.append(
            f'<label style="display:flex;gap:.6em;align-items:center;margin:.2em 0">'
            f'<span style="min-width:7em">{html.escape(n)}</span>{widget}'
            f'<output data-labels="{html.escape(labels)}" style="min-width:3em;font-weight:bold"></output></label>'
        )
    first = states[",".join(map(str, start))]
    states_json = json.dumps(states).replace("</", "<\\/")  # safe inside <script>
    heading = f'<div style="font-weight:bold;margin-bottom:.3em">{html.escape(title)}</div>' if title else ""
    hidden = "" if first["img"] else ";display:none"
    return HTML(
        _template("explorer.html").substitute(
            uid=uid,
            suppress=_SUPPRESS_SHORTCUTS,
            heading=heading,
            controls="".join(rows),
            caption=html.escape(first["text"]),
            error=html.escape(first["error"]),
            img=first["img"],
            min_text_px=_smallest_attribute(smallest),
            hidden=hidden,
            states=states_json,
        )
    )


def _caption_html(text: str, error: bool = False) -> str:
    """A caption (or error message) that wraps at word boundaries in every front end: print()
    output is a <pre> that JupyterLab breaks anywhere (word-break: break-all)."""
    style = "color:#b00020;font-family:monospace;white-space:pre-wrap" if error else "white-space:normal"
    return (
        f'<div class="cnn-caption" style="{style};word-break:normal;overflow-wrap:break-word;'
        f'margin:.3em 0">{html.escape(text)}</div>'
    )


def explore(
    render: Render,
    controls: dict[str, Sequence],
    *,
    describe: Callable[..., str] | None = None,
    initial: dict | None = None,
    title: str = "",
):
    """Live ipywidgets explorer (needs a running kernel) with the same controls as html_explorer."""
    import ipywidgets as w
    from IPython.display import HTML as IPyHTML, display

    def widget(name, values):
        value = initial[name] if initial and name in initial else values[0]
        if all(isinstance(v, str) for v in values):
            return w.Dropdown(options=list(values), value=value, description=name)
        return w.SelectionSlider(options=list(values), value=value, description=name, continuous_update=False)

    def show(**values):
        if describe:
            display(IPyHTML(_caption_html(describe(**values))))
        try:
            fig = render(**values)
        except ValueError as err:
            plt.close("all")
            display(IPyHTML(_caption_html(f"ValueError: {err}", error=True)))
            return
        display(fig)
        plt.close(fig)

    live = w.interactive(show, **{n: widget(n, v) for n, v in controls.items()})
    live.add_class("cnn-live-explorer")
    if title:
        live.children = (w.HTML(f"<b>{html.escape(title)}</b>"), *live.children)
    return live


def _start_state(render: Render, controls: dict[str, Sequence], initial: dict | None) -> dict:
    """The values an explorer starts from: initial, else the first value of a control, else
    render's default for a parameter that has no control (None when it has none)."""
    try:
        params = inspect.signature(render).parameters
    except (TypeError, ValueError):
        params = {}
    state = {n: p.default for n, p in params.items() if p.default is not inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD}
    state.update({n: vals[0] for n, vals in controls.items()})
    state.update(initial or {})
    return state


def in_book_build() -> bool:
    """True while Jupyter Book executes the chapters (and nowhere else)."""
    return os.environ.get(BOOK_BUILD_ENV, "") not in ("", "0")


def explorer(
    render: Render,
    controls: dict[str, Sequence],
    *,
    describe: Callable[..., str] | None = None,
    initial: dict | None = None,
    book_controls: dict[str, Sequence] | None = None,
    dpi: int = 80,
    title: str = "",
):
    """One explorer per concept, shown the way the reader can use it.

    Where a kernel runs (JupyterLab, Notebook 7, Colab, Binder, nbval): the live ``explore``
    widget with ``controls``. While Jupyter Book builds the book: the kernel-free
    ``html_explorer``, pre-rendered over ``book_controls`` (default: ``controls``; fewer
    values keep a page light). Both start from the same picture: a ValueError says which
    control would start elsewhere.
    """
    book_controls = controls if book_controls is None else book_controls
    live, book = _start_state(render, controls, initial), _start_state(render, book_controls, initial)
    for name in sorted(set(live) & set(book)):
        if live[name] != book[name]:
            raise ValueError(
                f"explorer: the live and the book explorer would start at different {name!r} "
                f"({live[name]!r} vs {book[name]!r}); give initial={{{name!r}: ...}} with a value "
                f"both offer"
            )
    for name, vals in book_controls.items():
        if name in controls and not set(vals) <= set(controls[name]):
            raise ValueError(
                f"explorer: book_controls[{name!r}] has values the live explorer lacks: "
                f"{sorted(set(vals) - set(controls[name]), key=str)}"
            )
    if in_book_build():
        return html_explorer(render, book_controls, describe=describe, initial=initial, dpi=dpi, title=title)
    return explore(render, controls, describe=describe, initial=initial, title=title)


# matplotlib's to_jshtml draws its buttons with Font Awesome 4 icons from a CDN
# stylesheet: offline (or on a page without that font) the buttons are blank.
# Plain Unicode glyphs need no font download; title/aria-label name each button.
_ANIM_GLYPHS = {
    "fa-minus": "\u2212",  # Decrease speed
    "fa-fast-backward": "\u21e4",  # First frame (not U+23EE: missing from common fonts)
    "fa-step-backward": "\u25c1",  # Previous frame
    "fa-play fa-flip-horizontal": "\u25c0",  # Play backwards
    "fa-pause": "\u275a\u275a",  # Pause
    "fa-play": "\u25b6",  # Play
    "fa-step-forward": "\u25b7",  # Next frame
    "fa-fast-forward": "\u21e5",  # Last frame
    "fa-plus": "+",  # Increase speed
}
_FA_LINK = re.compile(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">\s*')
_FA_ICON = re.compile(r'<i class="fa (fa-[a-z-]+(?: fa-flip-horizontal)?)"></i>')
_ANIM_IMG = re.compile(r'<img id="(_anim_img[0-9a-f]+)">')
_ANIM_DIV = re.compile(r'<div class="animation">')
_ANIM_SLIDER = re.compile(r'<input id="(_anim_slider[0-9a-f]+)" type="range"')


def animate(fig: "plt.Figure", update: Callable[[int], object], frames: int, interval: int = 600, alt: str | None = None) -> HTML:
    """A JS animation (play, step, speed controls) of update(frame) over the figure; no kernel needed.

    Works offline (no icon font from a CDN: the buttons are Unicode glyphs) and the
    frame image carries alt text: ``alt``, or else "Animation, N frames: <the panel titles>",
    read before the frames are drawn (the suptitle usually narrates one frame, so it is left out).
    """
    from matplotlib.animation import FuncAnimation

    if alt is None:
        titles = " | ".join(t for t in (ax.get_title() for ax in fig.axes) if t.strip())
        alt = f"Animation, {frames} frames" + (f": {titles}" if titles else "")
    anim = FuncAnimation(fig, update, frames=frames, interval=interval)
    with recording_text_sizes() as sizes:
        out = anim.to_jshtml(default_mode="once")
    plt.close(fig)
    out = _FA_LINK.sub("", out)
    out = _FA_ICON.sub(lambda m: _ANIM_GLYPHS.get(m.group(1), "\u2022"), out)
    out = _ANIM_IMG.sub(
        lambda m: (
            f'<img id="{m.group(1)}" alt="{html.escape(alt)}" data-min-text-px="{sizes.as_attribute()}" '
            'style="max-width:100%;height:auto">'
        ),
        out,
    )
    # the frame slider has no <label>: name it for screen readers (axe: label)
    out = _ANIM_SLIDER.sub(lambda m: f'<input id="{m.group(1)}" type="range" aria-label="animation frame"', out)
    out = _ANIM_DIV.sub(f'<div class="animation" {_SUPPRESS_SHORTCUTS}>', out, count=1)
    return HTML(out)
