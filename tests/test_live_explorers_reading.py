"""What a student reads off the live explorers, measured on the drawn pixels in Chromium.

The page of tests/test_live_explorers.py (its ``page`` fixture, opened once from file://) is
driven by keyboard and mouse; the canvases are read back as PNG and compared with cnn_core:

* ch4 convolution and ch8 pooling: the selected output pixel is outlined on the output map and
  its window on the input (and on pooling's backward panel), at the place cnn_core's window
  formula gives, and the numbers shown are that pixel's;
* ch4: the colour scale of the activation map is the largest |output| of the valid region (the
  map computed without padding), so the zero padding does not make the cat's edges pale;
* ch8: the photo is large enough to recognise, and the backward panel shows where the gradient
  of every output arrives, cell by cell as cnn_core's pool2d_backward routes it;
* ch10 draw-a-digit: opens on an example it reads right, says that it always picks one of ten
  digits, asks for a digit on an empty drawing, and words a weak answer as a guess.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest

from cnn_core import functional as fn
from cnn_core.viz import live
from test_live_explorers import arr, page, state  # noqa: F401 (the page fixture)

# one page load: the file:// variant of the fixture (the served one adds nothing here)
from_disk = pytest.mark.parametrize("page", ["file"], indirect=True)

CONV_CANVAS = "#conv canvas"  # [0] input, [1] activation map
POOL_CANVAS = "#pool canvas"  # [0] input, [1] pooled map, [2] backward


def drawn(tab, selector: str, index: int) -> np.ndarray:
    """The RGB pixels of the index-th canvas matching selector, as drawn (read back as PNG)."""
    from PIL import Image

    url = tab.evaluate("([s, i]) => document.querySelectorAll(s)[i].toDataURL('image/png')", [selector, index])
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")).astype(int)


def ring(img: np.ndarray, r0: int, c0: int, rows: int, cols: int, cell: int) -> tuple[np.ndarray, np.ndarray]:
    """The pixels 1-2 and 3-4 px outside the cells [r0, r0+rows) x [c0, c0+cols) (inside the canvas)."""
    y0, x0, y1, x1 = r0 * cell, c0 * cell, (r0 + rows) * cell, (c0 + cols) * cell

    def band(d: int) -> np.ndarray:
        pts = [(y0 - d, x) for x in range(x0 - d, x1 + d)] + [(y1 + d - 1, x) for x in range(x0 - d, x1 + d)]
        pts += [(y, x0 - d) for y in range(y0 - d, y1 + d)] + [(y, x1 + d - 1) for y in range(y0 - d, y1 + d)]
        return np.array([img[y, x] for y, x in pts if 0 <= y < img.shape[0] and 0 <= x < img.shape[1]])

    return np.concatenate([band(1), band(2)]), np.concatenate([band(3), band(4)])


def assert_outlined(img: np.ndarray, r0: int, c0: int, rows: int, cols: int, cell: int) -> None:
    black, white = ring(img, r0, c0, rows, cols, cell)
    assert len(black) and (black == 0).all(), f"no black ring around cells ({r0}, {c0}) +{rows}x{cols}"
    assert len(white) and (white == 255).all(), f"no white ring around cells ({r0}, {c0}) +{rows}x{cols}"


def grey(values: np.ndarray, cell: int) -> np.ndarray:
    """A grey map as the page paints it: each value 0..1 as a cell x cell square."""
    g = np.clip(values * 255, 0, 255)
    return np.repeat(np.repeat(g, cell, axis=0), cell, axis=1)


# ---------------------------------------------------------------- ch10: draw a digit


@from_disk
def test_draw_a_digit_opens_on_a_digit_it_reads_right(page):  # noqa: F811 (the fixture imported above)
    import cnn_core as cc

    net, X_test, y_test = page.digits
    read = cc.predict(net, np.concatenate([live.digit_input(x) for x in X_test[:200, 0]]))
    wrong = int(np.flatnonzero(read != y_test[:200])[0])  # as chapter 10's first example was: misread
    examples, labels = np.concatenate([X_test[wrong : wrong + 1, 0], X_test[:5, 0]]), np.r_[y_test[wrong], y_test[:5]]
    start = live.opening_example(net, examples, labels)
    assert start > 0
    # a second draw-a-digit on the page, started as the book starts it
    page.evaluate(
        """(html) => { const d = document.createElement('div'); d.id = 'digit2'; d.innerHTML = html; document.body.append(d);
        const s = document.createElement('script'); s.src = '_static/live/explorers.js'; document.body.append(s); }""",
        live.digit_explorer(net, examples, labels).data,
    )
    page.wait_for_function("document.querySelector('#digit2 .cnn-live') && document.querySelector('#digit2 .cnn-live').cnnLive")
    s = page.evaluate(
        "() => { const t = document.querySelector('#digit2 .cnn-live').cnnLive; "
        "return {best: t.predicted, p: Array.from(t.probabilities.data)}; }"
    )
    chosen = page.locator("#digit2 select[aria-label='example digit']").input_value()
    assert chosen == f"test digit {start + 1} (label {labels[start]})"
    assert s["best"] == labels[start] and max(s["p"]) >= live.SURE
    assert f"The network reads {labels[start]} (" in page.inner_text("#digit2 .cnn-live-status")
    assert "always picks one of them" in page.inner_text("#digit2 .cnn-live")
    page.evaluate("() => document.getElementById('digit2').remove()")
    assert page.errors == []


def test_the_opening_example_is_the_first_read_right_and_none_is_refused():
    import cnn_core as cc

    net = cc.Sequential([cc.Flatten(), cc.Linear(32 * 32, 10, rng=0)])
    digits = np.zeros((3, 28, 28))
    digits[:, 10:18, 12:16] = 1
    read = int(cc.predict(net, live.digit_input(digits[0]))[0])
    assert live.opening_example(net, digits, np.array([read + 1, read + 1, read]) % 10) == 2
    with pytest.raises(ValueError, match="misreads every example"):
        live.opening_example(net, digits, np.full(3, (read + 1) % 10))


@from_disk
def test_an_empty_drawing_asks_for_a_digit_and_a_weak_answer_is_a_guess(page):  # noqa: F811 (the fixture imported above)
    page.click("#digit button:text('clear')")
    status = page.inner_text("#digit .cnn-live-status")
    assert status == "Draw a digit: the drawing area is empty."
    assert state(page, "digit", "predicted")["predicted"] is None
    assert "No drawing yet" in page.inner_text("#digit .cnn-live-bars")
    for name, pixels in [("a dot", np.pad(np.ones((2, 2)), ((13, 13), (13, 13)))), ("a grey wash", np.full((28, 28), 0.4))]:
        s = page.evaluate(
            "(px) => { const r = document.querySelector('#digit .cnn-live'); r.cnnLive.setPixels(px); "
            "return {p: Array.from(r.cnnLive.probabilities.data), best: r.cnnLive.predicted, ink: r.cnnLive.ink}; }",
            pixels.ravel().tolist(),
        )
        status = page.inner_text("#digit .cnn-live-status")
        top = max(s["p"])
        assert f"The network reads {s['best']}" in status, name
        assert ("only as a guess" in status) == (top < 0.5) and ("not sure" in status) == (0.5 <= top < 0.9), (name, top, status)
        assert status.startswith("Very little ink") == (s["ink"] < live.LITTLE_INK), (name, s["ink"])
    assert page.errors == []


# ---------------------------------------------------------------- ch4: convolution playground


def sobel_on_the_cat(tab) -> tuple[np.ndarray, np.ndarray]:
    """The cat and the vertical Sobel kernel, bias 0, set in the convolution playground."""
    cat = live.page_image(next(im for im in tab.config["conv"]["images"] if im["name"] == "cat"))
    tab.select_option("#conv select[aria-label='image']", "cat")
    tab.select_option("#conv select[aria-label='preset kernel']", "vertical edge (Sobel)")
    tab.fill("#conv input[aria-label='bias b']", "0")
    return cat, np.array(tab.config["conv"]["presets"]["vertical edge (Sobel)"], float)


@from_disk
def test_the_selected_pixel_and_its_window_are_drawn_on_both_convolution_panels(page):  # noqa: F811 (the fixture imported above)
    cat, w = sobel_on_the_cat(page)
    cell, P = page.config["conv"]["cell"], 1
    canvas = page.locator("#conv canvas[aria-label^='activation map']")
    r0, c0 = state(page, "conv", "selected")["selected"]
    assert (r0, c0) == (cat.shape[0] // 2, cat.shape[1] // 2)  # the page opens on the centre
    canvas.focus()
    for key in ["ArrowUp"] * 28 + ["ArrowLeft"] * 30:  # by keyboard
        page.keyboard.press(key)
    r, c = state(page, "conv", "selected")["selected"]
    assert (r, c) == (r0 - 28, c0 - 30)
    inp, out = drawn(page, CONV_CANVAS, 0), drawn(page, CONV_CANVAS, 1)
    assert_outlined(inp, r - P, c - P, 3, 3, cell)
    assert_outlined(out, r, c, 1, 1, cell)
    y, x = (r - P) * cell, (c - P) * cell  # the window itself is left as the picture shows it
    assert np.abs(inp[y : y + 3 * cell, x : x + 3 * cell, 0] - grey(cat[r - P : r + P + 1, c - P : c + P + 1], cell)).max() <= 1
    value = fn.conv2d_naive(cat[None, None], w[None, None], np.zeros(1), 1, P)[0, 0, r, c]
    assert f"(row {r}, column {c}) = {value:.3f}" in page.inner_text("#conv .cnn-live-picked")
    assert f"rows {r - P} to {r + P}, columns {c - P} to {c + P}" in canvas.get_attribute("aria-label")

    # a click elsewhere moves both outlines there; the old place shows the picture again
    box = canvas.bounding_box()
    sx = box["width"] / out.shape[1]
    page.mouse.click(box["x"] + (50.5 * cell) * sx, box["y"] + (40.5 * cell) * sx)
    assert state(page, "conv", "selected")["selected"] == [40, 50]
    inp2, out2 = drawn(page, CONV_CANVAS, 0), drawn(page, CONV_CANVAS, 1)
    assert_outlined(inp2, 39, 49, 3, 3, cell)
    assert_outlined(out2, 40, 50, 1, 1, cell)
    black, _ = ring(inp2, r - P, c - P, 3, 3, cell)
    assert not (black == 0).all()
    assert page.inner_text("#conv .cnn-live-readout").startswith("output pixel (row 40, column 50)")
    assert page.errors == []


@from_disk
def test_the_colour_scale_is_set_by_the_valid_region_not_the_padding(page):  # noqa: F811 (the fixture imported above)
    cat, w = sobel_on_the_cat(page)
    cell = page.config["conv"]["cell"]
    padded = fn.conv2d_naive(cat[None, None], w[None, None], np.zeros(1), 1, 1)[0, 0]
    valid = fn.conv2d_naive(cat[None, None], w[None, None], np.zeros(1), 1, 0)[0, 0]  # padding off
    m = np.abs(valid).max()
    assert np.abs(padded).max() > 1.3 * m  # the zero padding's border is the strongest output of the cat
    s = state(page, "conv", "scale", "scaleFrom")
    assert abs(s["scale"] - m) < 1e-9 and s["scaleFrom"] == "the valid region"
    caption = page.locator("#conv figcaption").nth(1).inner_text()
    assert f"Colour scale ±{m:.2f}" in caption and "zero padding" in caption
    # the drawn colours inside: as the map without padding is drawn on its own scale
    img = drawn(page, CONV_CANVAS, 1)
    r, c = state(page, "conv", "selected")["selected"]
    centre = img[cell // 2 :: cell, cell // 2 :: cell]
    a = np.minimum(1, np.abs(valid) / m)
    want_gb = 255 * (1 - a)  # red (v > 0) keeps R = 255 and fades G, B; blue the reverse
    got_gb = np.where(valid >= 0, centre[1:-1, 1:-1, 1], centre[1:-1, 1:-1, 0])
    away = np.ones_like(valid, bool)
    away[max(0, r - 3) : r + 2, max(0, c - 3) : c + 2] = False  # the selection's outline
    assert np.abs(got_gb - want_gb)[away].max() <= 1
    print(
        f"\ncat, vertical Sobel: scale ±{m:.2f} (the padding's would be ±{np.abs(padded).max():.2f}); "
        f"mean drawn strength inside {a.mean():.3f} (was {np.minimum(1, np.abs(valid) / np.abs(padded).max()).mean():.3f})"
    )


# ---------------------------------------------------------------- ch8: pooling


@from_disk
def test_pooling_shows_a_recognisable_photo_its_window_and_the_routed_gradient(page):  # noqa: F811 (the fixture imported above)
    cfg = page.config["pool"]
    cell = cfg["cell"]
    cat = live.page_image(next(im for im in cfg["images"] if im["name"] == "cat"))
    assert min(cat.shape) >= 64  # a cat a student can recognise (it was 16x24)
    page.select_option("#pool select[aria-label='image']", "cat")
    page.select_option("#pool select[aria-label='pooling mode']", "max")
    page.fill("#pool input[aria-label='window size F']", "2")
    page.fill("#pool input[aria-label='stride S']", "2")
    outmap = page.locator("#pool canvas[aria-label^='pooled map']")
    outmap.focus()
    for key in ["ArrowUp"] * 40 + ["ArrowLeft"] * 60 + ["ArrowDown"] * 9 + ["ArrowRight"] * 21:
        page.keyboard.press(key)
    st = state(page, "pool", "selected", "dxAll", "reached")
    r, c = st["selected"]
    assert (r, c) == (9, 21)
    x = cat[None, None]
    out = fn.pool2d_naive(x, 2, 2, "max")[0, 0]
    inp, pooled, back = (drawn(page, POOL_CANVAS, i) for i in range(3))
    assert pooled.shape == inp.shape  # the pooled map beside its input at the same size: coarser, visibly
    assert_outlined(inp, 2 * r, 2 * c, 2, 2, cell)
    assert_outlined(pooled, r, c, 1, 1, 2 * cell)
    assert_outlined(back, 2 * r, 2 * c, 2, 2, cell)

    # the backward panel: red exactly where cnn_core routes the gradient of every output
    routed = fn.pool2d_backward_naive(np.ones((1, 1) + out.shape), x, 2, 2, "max")[0, 0]
    rel = np.abs(arr(st["dxAll"])[0] - routed).max()
    assert rel < 1e-9
    centre = back[cell // 2 :: cell, cell // 2 :: cell]
    red = (centre[..., 0] > 150) & (centre[..., 1] < 60) & (centre[..., 2] < 60)
    away = np.ones(red.shape, bool)
    away[2 * r - 2 : 2 * r + 4, 2 * c - 2 : 2 * c + 4] = False
    assert np.array_equal(red[away], (routed != 0)[away])
    assert st["reached"] == (routed != 0).sum() == cat.size // 4
    print(f"\npooling backward panel: {red.mean():.1%} of the input's cells red (was 1 cell of 384, 0.3 %)")

    # the numbers are the selected output's
    window = cat[2 * r : 2 * r + 2, 2 * c : 2 * c + 2]
    ay, ax = np.unravel_index(window.argmax(), window.shape)
    status = page.inner_text("#pool .cnn-live-status")
    assert f"Selected output ({r}, {c}) = {out[r, c]:.3f}" in status
    assert f"at ({2 * r + ay}, {2 * c + ax}) = {window.max():.3f}" in status
    assert f"{cat.size // 4} of {cat.size} inputs get some" in status

    # a click (or tap) on the pooled map, or on the input, picks the output there
    box, scale = outmap.bounding_box(), outmap.bounding_box()["width"] / pooled.shape[1]
    page.mouse.click(box["x"] + 30.5 * 2 * cell * scale, box["y"] + 5.5 * 2 * cell * scale)
    assert state(page, "pool", "selected")["selected"] == [5, 30]
    first = page.locator(POOL_CANVAS).first.bounding_box()
    page.mouse.click(first["x"] + 41.5 * cell * scale, first["y"] + 20.5 * cell * scale)
    assert state(page, "pool", "selected")["selected"] == [10, 20]
    assert_outlined(drawn(page, POOL_CANVAS, 0), 20, 40, 2, 2, cell)
    assert page.errors == []


@from_disk
def test_every_explorer_still_fits_a_phone_with_its_captions(page):  # noqa: F811 (the fixture imported above)
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('.cnn-live, .cnn-live *')).filter(
            (el) => el.getBoundingClientRect().right > 392).map((el) => el.tagName + '.' + el.className)""")
        assert wide == []
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
