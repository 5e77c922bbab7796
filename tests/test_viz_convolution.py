"""Figures of the convolution chapter: shapes, labels, and the numbers they print."""

import json
import re

import numpy as np
import pytest

import matplotlib.pyplot as plt

from cnn_core import data
from cnn_core.filters import KERNELS, color_filter_bank
from cnn_core.viz import convolution as cv
from cnn_core.viz.explore import html_explorer


def titles(fig):
    return [ax.get_title() for ax in fig.axes]


def test_thumbnail_is_the_lectures_32x32x3_image():
    t = cv.thumbnail(data.cat(), 32)
    assert t.shape == (32, 32, 3) and t.dtype == np.float64
    assert 0 <= t.min() and t.max() <= 1
    grey = cv.thumbnail(np.full((10, 20), 255, dtype=np.uint8), 4)
    assert grey.shape == (4, 4) and np.allclose(grey, 1.0)


def test_small_photo_shrinks_and_is_cached():
    p = cv.small_photo("coffee", 120)
    assert p.shape == (80, 120) and 0 <= p.min() and p.max() <= 1
    assert cv.small_photo("coffee", 120) is p and not p.flags.writeable
    assert cv.small_photo("coffee", 60, gray=False).shape == (40, 60, 3)


def test_filter_rgb_maps_zero_to_grey():
    w = np.zeros((2, 2, 3))
    w[0, 0, 0] = -2
    w[1, 1, 2] = 1
    rgb = cv.filter_rgb(w)
    assert rgb[0, 0, 0] == 0 and rgb[1, 1, 2] == 0.75 and rgb[0, 1, 1] == 0.5


def test_volume_figure_labels_sizes_and_the_dot_product():
    img = cv.thumbnail(data.cat(), 32)
    bank = np.stack(list(color_filter_bank(5).values()))
    fig = cv.volume_figure(img, bank[0], position=(10, 12), bias=0.1)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "input volume\n32×32×3\n(width × height\n× depth)" in texts
    assert "activation\nmap\n28×28×1" in texts and "filter\n5×5×3" in texts
    value = np.sum(bank[0] * img[10:15, 12:17, :]) + 0.1
    assert f"= {value:.3f},\na 5·5·3 = 75-dimensional dot product + bias" in fig.axes[0].get_title()
    fig6 = cv.volume_figure(img, bank)
    texts6 = [t.get_text() for t in fig6.axes[0].texts]
    assert "6 activation\nmaps, stacked\n28×28×6" in texts6 and "6 filters,\neach 5×5×3" in texts6
    assert "one number at (10, 12) of filter 1 (blue):" in fig6.axes[0].get_title()  # which map the number is in
    assert "of filter 1" not in fig.axes[0].get_title()


def test_activation_maps_figure_one_map_per_filter():
    img = cv.thumbnail(data.cat(), 32)
    fig = cv.activation_maps_figure(img, color_filter_bank(5))
    assert len(fig.axes) == 12
    # two bands of three: filters 1-3 above their maps, then filters 4-6 above theirs
    assert titles(fig)[0] == "filter 1:\nvertical edge\n5×5×3"
    assert [titles(fig)[i] for i in (3, 4, 5, 9, 10, 11)] == [f"map {j}: 28×28" for j in range(1, 7)]
    assert fig.axes[3].images[0].get_array().shape == (28, 28)


def test_filter_figure_and_explorer_render():
    img = cv.small_photo("camera")
    fig = cv.render("vertical edge (Sobel)", "camera")
    assert titles(fig) == [
        f"input: camera\n{img.shape[0]}×{img.shape[1]}",
        "filter 3×3:\nvertical edge (Sobel)",
        f"output {img.shape[0] - 2}×{img.shape[1] - 2}\n(grey = 0)",
    ]
    m = fig.axes[2].images[0]
    assert m.get_array().shape == (img.shape[0] - 2, img.shape[1] - 2)
    lo, hi = m.get_clim()
    assert lo == -hi  # signed map: 0 is mid-grey
    assert cv.render("box blur", "camera").axes[2].images[0].get_clim() == (0, 1)


def test_explorer_controls_and_descriptions():
    assert set(cv.controls) == {"kernel", "photo"}
    assert all(k in KERNELS for k in cv.controls["kernel"]) and all(p in data.PHOTOS for p in cv.controls["photo"])
    n = len(cv.controls["kernel"]) * len(cv.controls["photo"])
    assert 20 <= n <= 60
    img = cv.small_photo("brick")
    d = cv.describe("sharpen", "brick")
    assert f"({img.shape[0]}×{img.shape[1]})" in d and f"{img.shape[0] - 2}×{img.shape[1] - 2}" in d
    assert "sum to 1" in d and "mid-grey" in cv.describe("Laplacian (outline)", "brick")


def test_static_explorer_prerenders_every_state():
    h = html_explorer(
        cv.render, {"kernel": ["identity", "sharpen"], "photo": ["chelsea"]}, describe=cv.describe, dpi=40
    )._repr_html_()
    states = json.loads(re.search(r'class="cnn-states">(.*?)</script>', h, re.S).group(1))
    assert sorted(states) == ["0,0", "1,0"]
    assert all(s["img"].startswith("data:image/png;base64,") and not s["error"] for s in states.values())


def test_filters_grid_edges_and_depth_modes():
    img = cv.small_photo("chelsea", 90)
    fig = cv.filters_grid_figure(img, ["box blur", "sharpen"], ncols=2)
    h, w = img.shape
    assert titles(fig)[:3] == [
        f"input {h}×{w}",
        f"box blur\n3×3 filter → {h - 2}×{w - 2}",
        f"sharpen\n3×3 filter → {h - 2}×{w - 2}",
    ]
    fig = cv.edges_figure(img)
    assert titles(fig)[1] == f"vertical edges (Sobel)\n{img.shape[0] - 2}×{img.shape[1] - 2}"
    strength = fig.axes[3].images[0].get_array()
    assert strength.min() >= 0
    rgb = cv.small_photo("coffee", 90, gray=False)
    fig = cv.depth_modes_figure(rgb, KERNELS["vertical edge (Sobel)"])
    h2, w2 = rgb.shape[0] - 2, rgb.shape[1] - 2
    assert titles(fig)[1].endswith(f"→ {h2}×{w2}×3") and titles(fig)[2].endswith(f"→ {h2}×{w2}×1")


def test_symbolic_conv_figure_writes_the_sums():
    fig = cv.symbolic_conv_figure(3, 4, 2)
    out_texts = [t.get_text() for t in fig.axes[2].texts]
    assert out_texts[0] == "aw+bx+ey+fz" and out_texts[-1] == "gw+hx+ky+lz" and len(out_texts) == 6
    assert titles(fig) == ["input 3×4", "filter 2×2", "output 2×3"]
    with pytest.raises(ValueError):
        cv.symbolic_conv_figure(2, 2, 3)


def test_correlation_vs_convolution_figure_values():
    x = np.arange(16.0).reshape(4, 4)
    w = np.array([[1.0, 0, 0], [0, 0, 0], [0, 0, 0]])  # picks the top-left of each window
    fig = cv.correlation_vs_convolution_figure(x, w)
    corr = [t.get_text() for t in fig.axes[3].texts]
    conv = [t.get_text() for t in fig.axes[4].texts]
    assert corr == ["0", "1", "4", "5"]  # x[r, c]
    assert conv == ["10", "11", "14", "15"]  # flipped: x[r + 2, c + 2]
    assert titles(fig)[2] == "w flipped\n(rotated 180°)"


def test_kernel_playground_loads_presets_and_reacts_to_edits():
    ui = cv.kernel_playground(photos=("camera",), start="box blur")
    preset = ui.children[0].children[0]
    grid = ui.children[2]
    assert np.allclose(ui.current_kernel(), np.round(KERNELS["box blur"], 4))
    preset.value = "sharpen"
    assert np.array_equal(ui.current_kernel(), KERNELS["sharpen"])
    grid.children[4].value = 9.0
    assert ui.current_kernel()[1, 1] == 9.0


@pytest.mark.parametrize("stride, padding, show_values", [(1, 0, True), (2, 1, True), (2, 1, False)])
def test_animation_frames_equal_a_fresh_drawing_of_that_step(stride, padding, show_values):
    """The stepper draws once, then only moves the windows and fills the output: any
    sequence of steps must give the picture a fresh figure of that step gives."""
    from cnn_core.viz.sliding import _conv_stepper, conv_step_figure

    x, w = np.arange(49.0).reshape(7, 7) % 5, KERNELS["vertical edge (Sobel)"]
    fig = conv_step_figure(x, w, stride, padding, 0, show_values=show_values)
    update = _conv_stepper(fig, fig.axes, x, w, stride, padding, 0.0, show_values)
    for step in (0, update.frames - 1, 2):  # forward, to the end, and back again
        update(step)
        fresh = conv_step_figure(x, w, stride, padding, step, show_values=show_values)
        fig.canvas.draw()
        fresh.canvas.draw()
        assert np.array_equal(np.asarray(fig.canvas.buffer_rgba()), np.asarray(fresh.canvas.buffer_rgba()))
        visible = [t.get_text() for t in fig.axes[2].texts if t.get_visible()]
        assert len(visible) == (step + 1 if show_values else 0)  # outputs computed so far
        plt.close(fresh)
    plt.close(fig)
