"""The shared explorers: the kernel-free HTML one and the sliding-window figures."""

import json
import re

import numpy as np
import pytest

import matplotlib.pyplot as plt

from cnn_core import output_size
from cnn_core.viz.explore import animate, explore, html_explorer
from cnn_core.viz.sliding import conv_animation, conv_step_figure


def render(n, stride):
    out = output_size(n, 3, stride)
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_title(str(out))
    return fig


def states_of(html):
    return json.loads(re.search(r'class="cnn-states">(.*?)</script>', html, re.S).group(1))


def test_html_explorer_prerenders_every_combination_and_errors():
    h = html_explorer(
        render, {"n": [5, 7], "stride": [1, 2, 3]}, describe=lambda n, stride: f"{n}x{n}, stride {stride}"
    )._repr_html_()
    states = states_of(h)
    assert sorted(states) == [f"{i},{j}" for i in range(2) for j in range(3)]
    assert states["1,1"]["img"].startswith("data:image/png;base64,") and states["1,1"]["error"] == ""
    assert states["1,2"]["img"] == "" and "does not fit" in states["1,2"]["error"]  # 7, 3, stride 3
    assert states["0,1"]["text"] == "5x5, stride 2"
    assert h.count('type="range"') == 2
    assert plt.get_fignums() == []  # every pre-rendered figure was closed


def test_html_explorer_is_accessible_and_self_contained():
    h = html_explorer(
        render, {"n": [5, 7], "stride": [1, 2]}, describe=lambda n, stride: f"{n}x{n} s{stride}", title="Stride"
    )._repr_html_()
    assert 'aria-label="stride"' in h and 'role="status"' in h  # named controls, announced caption
    assert 'alt="5x5 s1"' in h and "max-width:100%" in h  # alt text = caption; scales down
    assert "document.currentScript" in h  # binds to its own explorer
    assert "http://" not in h and "https://" not in h  # nothing to fetch


def test_html_explorer_dropdown_and_initial_state():
    h = html_explorer(lambda kind: render(7, 1), {"kind": ["max", "avg"]}, initial={"kind": "avg"})._repr_html_()
    assert '<option value="1" selected>avg</option>' in h


def test_live_explorer_has_the_same_controls():
    w = explore(render, {"n": [5, 7], "stride": [1, 2]})
    assert [c.description for c in w.children[:2]] == ["n", "stride"]
    assert list(w.children[1].options) == [1, 2]
    plt.close("all")


def test_animate_gives_js_controls():
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1])
    h = animate(fig, lambda i: line.set_ydata([0, i]), 3)._repr_html_()
    assert h.count("<img") >= 1 and "anim" in h and "frames" in h.lower()
    # the frame slider has no <label>: it carries its name (axe rule "label")
    sliders = re.findall(r"<input[^>]*_anim_slider[^>]*>", h)
    assert len(sliders) == 1 and 'aria-label="animation frame"' in sliders[0]


def test_animate_works_offline_and_has_alt_text():
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1])
    ax.set_title("input 5×5")
    fig.suptitle("frame 0")

    def update(i):
        line.set_ydata([0, i])
        fig.suptitle(f"frame {i}")  # narrates one frame: not part of the alt text
        ax.set_title(f"input 5×5, step {i}")  # titles as drawn before the animation are used

    h = animate(fig, update, 3)._repr_html_()
    assert "http://" not in h and "https://" not in h  # matplotlib links Font Awesome from a CDN
    assert '<i class="fa' not in h  # icons replaced by glyphs that need no font
    buttons = dict(re.findall(r'<button title="([^"]+)"[^>]*>\s*(.*?)</button>', h, re.S))
    assert buttons["Next frame"] == "\u25b7" and buttons["Play"] == "\u25b6" and len(buttons) == 9
    assert 'alt="Animation, 3 frames: input 5×5"' in h
    fig2, ax2 = plt.subplots()
    h2 = animate(fig2, lambda i: None, 2, alt="a <b> & c")._repr_html_()
    assert 'alt="a &lt;b&gt; &amp; c"' in h2


def test_conv_step_figure_labels_and_value():
    x = np.arange(49, dtype=float).reshape(7, 7)
    w = np.ones((3, 3))
    fig = conv_step_figure(x, w, stride=2, padding=0, step=4)  # output (1, 1) of a 3x3 output
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["input 7×7", "filter 3×3", "output 3×3\n(stride 2)"]
    window_sum = x[2:5, 2:5].sum()
    assert fig._suptitle.get_text() == f"output[1, 1] = sum(window ∘ filter) = {window_sum:g}"
    plt.close(fig)


def test_conv_step_figure_refuses_a_stride_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        conv_step_figure(np.zeros((7, 7)), np.ones((3, 3)), stride=3)
    plt.close("all")


def test_conv_animation_has_one_frame_per_output():
    h = conv_animation(np.zeros((5, 5)), np.ones((3, 3)), stride=1)._repr_html_()
    assert len(re.findall(r"frames\[\d+\] = ", h)) == 9


# --------------------------------------------------------------------------- explorer(): one per concept


def test_explorer_is_live_in_a_kernel_and_prerendered_in_the_book(monkeypatch):
    from cnn_core.viz.explore import BOOK_BUILD_ENV, HTML, explorer

    monkeypatch.delenv(BOOK_BUILD_ENV, raising=False)
    live = explorer(render, {"n": [5, 7], "stride": [1, 2]}, book_controls={"n": [5, 7], "stride": [1]}, title="Stride")
    assert "cnn-live-explorer" in live._dom_classes
    assert [getattr(c, "description", None) for c in live.children[1:3]] == ["n", "stride"]  # after the title
    plt.close("all")
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    book = explorer(render, {"n": [5, 7], "stride": [1, 2]}, book_controls={"n": [5, 7], "stride": [1]})
    assert isinstance(book, HTML) and sorted(states_of(book.data)) == ["0,0", "1,0"]  # book_controls only


def test_explorer_refuses_two_different_starting_pictures():
    from cnn_core.viz.explore import explorer

    with pytest.raises(ValueError, match="start at different 'stride'.*initial"):
        explorer(render, {"n": [5], "stride": [1, 2]}, book_controls={"n": [5], "stride": [2]})
    with pytest.raises(ValueError, match="has values the live explorer lacks"):
        explorer(render, {"n": [5, 7], "stride": [1]}, book_controls={"n": [5, 9], "stride": [1]})

    # a control only the live explorer has must start at render's default
    def render_k(n, k=2):
        return render(n, 1)

    with pytest.raises(ValueError, match="'k'"):
        explorer(render_k, {"n": [5], "k": [1, 2]}, book_controls={"n": [5]})
    plt.close("all")


def test_live_captions_wrap_at_word_boundaries():
    """print() output is a <pre> that JupyterLab breaks anywhere; captions are HTML text."""
    from cnn_core.viz.explore import _caption_html

    h = _caption_html("a long <caption> & more")
    assert "&lt;caption&gt; &amp;" in h and "white-space:normal" in h and "word-break:normal" in h
    assert "<pre" not in h and "pre-wrap" in _caption_html("ValueError: x", error=True)


def test_kernel_free_controls_keep_their_arrow_keys():
    """JupyterLab / Notebook 7 bind the arrow keys; Lumino leaves them to elements inside
    data-lm-suppress-shortcuts, and the explorer stops them from scrolling the page."""
    h = html_explorer(render, {"n": [5, 7], "stride": [1, 2]})._repr_html_()
    assert 'class="cnn-explorer" data-lm-suppress-shortcuts="true"' in h
    assert "stopPropagation" in h and "keydown" in h
    fig, ax = plt.subplots()
    a = animate(fig, lambda i: None, 2)._repr_html_()
    assert '<div class="animation" data-lm-suppress-shortcuts="true">' in a


def test_control_labels_with_quotes_survive_the_html_attribute():
    """A value such as Keras "'same'" must not end the data-labels attribute early (the page
    parses it as JSON to show the value next to the control)."""
    from html.parser import HTMLParser

    values = ["Keras 'same'", 'say "valid"', "a < b & c"]
    page = html_explorer(lambda framework: plt.figure(), {"framework": values}).data
    found = []

    class Outputs(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "output":
                found.append(json.loads(dict(attrs)["data-labels"]))

    Outputs().feed(page)
    assert found == [values]
    plt.close("all")
