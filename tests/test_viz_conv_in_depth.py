"""What the chapter's figures show: titles with sizes, the window and winners marked, the labelled
input and output of the transposed convolution, and the framework explorer's greyed-out rows."""

import matplotlib
import numpy as np
import pytest

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from cnn_core.frameworks import framework_table
from cnn_core.conv_in_depth import (
    backward_steps,
    full_convolution_dx,
    maxpool_routes,
    partial_sums,
    scatter_steps,
    tap_counts,
    transposed_by_matrix,
)
from cnn_core.viz.conv_in_depth import (
    DROP_COLOR,
    EXTRA_COLOR,
    FRAMEWORK_VIEWS,
    WINDOW_COLOR,
    backward_animation,
    backward_step_figure,
    dilation_figure,
    framework_book_controls,
    framework_controls,
    framework_describe,
    framework_render,
    framework_table_html,
    full_convolution_figure,
    images_figure,
    matrix_figure,
    maxpool_routing_figure,
    partial_sums_figure,
    patch_figure,
    transposed_animation,
    transposed_figure,
)

X = np.arange(25.0).reshape(5, 5) % 7
W = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
DOUT = np.array([[1.0, -2, 0], [3, 1, -1], [0, 2, 1]])


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def texts(ax):
    return [t.get_text() for t in ax.texts]


def red_boxes(ax):
    return [
        p
        for p in ax.patches
        if isinstance(p, Rectangle) and not p.get_fill() and matplotlib.colors.same_color(p.get_edgecolor()[:3], WINDOW_COLOR)
    ]


def test_backward_step_figure_marks_the_window_and_sums():
    steps = backward_steps(X, W, DOUT, 2, 1)
    fig = backward_step_figure(X, W, DOUT, steps, 4, padding=1)
    ax_x, ax_g, ax_dw, ax_dx = fig.axes
    assert ax_x.get_title() == "input x 5×5, padded P=1" and ax_g.get_title() == "upstream gradient dout 3×3"
    box = red_boxes(ax_x)[0]
    assert (box.get_x(), box.get_y(), box.get_width()) == (2, 2, 3)  # output (1, 1) at stride 2
    assert "g = dout[1, 1] = 1" in fig._suptitle.get_text() and "db = 3" in fig._suptitle.get_text()
    want = sum(s.dw for s in steps[:5])
    assert texts(ax_dw) == [f"{v:g}" for v in want.ravel()]


def test_backward_animation_has_one_frame_per_output():
    steps = backward_steps(X, W, DOUT, 2, 1)
    anim = backward_animation(X, W, DOUT, steps, padding=1)
    assert "Animation, 9 frames" in anim.data and anim.data.count("frames[") >= 9


def test_full_convolution_figure():
    full = full_convolution_dx(DOUT, W, 2, 1)
    fig = full_convolution_figure(DOUT, W, full, 2, 1)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[1].endswith("2 zeros around: 9×9") and titles[3] == "correlation: 7×7\nred: dX 5×5"
    assert texts(fig.axes[2]) == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]


def test_maxpool_routing_marks_the_winners():
    x = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 7], [2, 6, 3, 1]], float)
    dout = np.array([[10.0, 20], [30, 40]])
    routes, dx = maxpool_routes(x, 2, 2, dout)
    fig = maxpool_routing_figure(x, dout, routes, dx, 2, 2)
    bold = sorted(t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold")
    assert bold == ["4", "5", "6", "7"]
    assert sorted(t for t in texts(fig.axes[2]) if t != "0") == ["10", "20", "30", "40"]


def test_transposed_figure_labels_input_and_output():
    xs, ws = np.array([[1.0, 2], [3, 4]]), np.array([[1.0, 0, 1], [0, 2, 0], [1, 0, 1]])
    steps = scatter_steps(xs, ws, 2)
    fig = transposed_figure(xs, ws, steps, 2)
    ax_in, _, ax_out = fig.axes
    assert ax_in.get_title().startswith("INPUT x 2×2") and ax_out.get_title().startswith("OUTPUT y 5×5")
    _, y = transposed_by_matrix(xs, ws, 2)
    assert texts(ax_out) == [f"{v:g}" for v in y.ravel()]
    fig = transposed_figure(xs, ws, steps, 2, step=0)
    assert texts(fig.axes[2])[:5] == ["1", "0", "1", "0", "0"]
    assert "input pixel (0, 0) = 1 adds 1 × w" in fig._suptitle.get_text()
    anim = transposed_animation(xs, ws, steps, 2)
    assert "INPUT x 2×2" in anim.data and "OUTPUT" in anim.data


def test_matrix_figure_shows_the_numbers():
    xs, ws = np.array([[1.0, 2], [3, 4]]), np.array([[1.0, 0, 1], [0, 2, 0], [1, 0, 1]])
    m, _ = transposed_by_matrix(xs, ws, 2)
    fig = matrix_figure(m, (2, 2), (5, 5), row=1)
    ax, ax_row = fig.axes
    assert len(ax.texts) == int((m != 0).sum()) == 4 * 5
    assert "M, 4×25" in ax.get_title() and "where x[0, 1] lands" in ax_row.get_title()


def test_partial_sums_figure():
    x = np.stack([np.arange(9.0).reshape(3, 3)] * 3)
    w = np.stack([np.eye(3), -np.eye(3), np.ones((3, 3))])
    fig = partial_sums_figure(partial_sums(x, w, b=2.0), w)
    assert fig._suptitle.get_text() == "output = 12 + -12 + 36 + bias 2 = 38"
    assert fig.axes[0].get_title() == "red: window"


def test_dilation_figure_counts_unseen_pixels():
    stacks = {"d = 1, 2, 4": tap_counts([(3, 1, 1), (3, 1, 2), (3, 1, 4)]), "3 × d = 2": tap_counts([(3, 1, 2)] * 3)}
    img = np.random.default_rng(0).random((60, 60))
    fig = dilation_figure(img, stacks, (30, 30))
    assert fig.axes[0].get_title().endswith("receptive field 15×15, 0 pixels never read")
    assert fig.axes[1].get_title().endswith(f"receptive field 13×13, {13 * 13 - 7 * 7} pixels never read")


def test_images_and_patch_figures():
    fig = images_figure({"a": np.zeros((4, 4)), "b": np.ones((4, 4, 3))})
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    fig = patch_figure(np.zeros((100, 120, 3)), 50, 60, 3)
    assert fig.axes[1].get_title() == "zoom: the 3×3 window at row 50, column 60"


def _fills(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_fill()]


def test_framework_explorer_greys_out_dropped_rows():
    fig = framework_render(8, 3, 2, 0, 1, "PyTorch Conv2d (floor)")
    ax, ax_t = fig.axes
    cells = _fills(ax)[:8]
    grey = [i for i, p in enumerate(cells) if matplotlib.colors.same_color(p.get_facecolor()[:3], DROP_COLOR)]
    assert grey == [7]
    assert "→ output 3; input rows [7] are never read" in ax.get_title(loc="left")
    table = texts(ax_t)[0].splitlines()
    assert table[0].split() == ["lecture", "doesn't", "fit"] and table[1].startswith("▶ PyTorch Conv2d (floor)")
    assert table[2].endswith(" 4") and table[3].endswith(" 4")
    fig = framework_render(8, 3, 2, 0, 1, "PyTorch MaxPool2d ceil_mode")  # the partial window reads row 7
    bars = [p for p in fig.axes[0].patches if p.get_height() == 0.3]
    assert len(bars) == 4 and matplotlib.colors.same_color(bars[-1].get_edgecolor()[:3], EXTRA_COLOR)
    assert "every input row is read" in fig.axes[0].get_title(loc="left")


def test_framework_explorer_lecture_and_keras_views():
    fig = framework_render(7, 3, 3, 0, 1, "lecture")
    assert "doesn't fit" in fig.axes[0].get_title(loc="left")
    bars = [p for p in fig.axes[0].patches if p.get_height() == 0.3]
    assert matplotlib.colors.same_color(bars[-1].get_edgecolor()[:3], WINDOW_COLOR)
    fig = framework_render(8, 3, 2, 0, 1, "Keras 'same'")
    assert "pads 0 left + 1 right" in fig.axes[0].get_title(loc="left")
    assert framework_describe(8, 3, 2, 0, 2, "Keras 'same'").endswith("(got strides=2, dilation_rate=2)")
    with pytest.raises(ValueError, match="dilation_rate"):
        framework_render(8, 3, 2, 0, 2, "Keras 'same'")
    assert framework_describe(8, 3, 2, 0, 1, "PyTorch Conv2d (floor)").endswith("output 3; input rows [7] are never read.")


def test_framework_controls():
    assert set(framework_controls) == set(framework_book_controls)
    for name, values in framework_book_controls.items():
        assert set(values) <= set(framework_controls[name])
    assert framework_controls["framework"] == list(FRAMEWORK_VIEWS)
    combos = int(np.prod([len(v) for v in framework_book_controls.values()]))
    assert combos <= 100  # pre-rendered in the book


def test_framework_table_html():
    table = framework_table_html(framework_table(7, 3, 3)).data
    assert table.count("<tr>") == 1 + 8 and "overflow-x:auto" in table
    # it scrolls on a phone: a keyboard reaches it, a screen reader names it (axe: scrollable-region-focusable)
    assert 'tabindex="0"' in table and 'role="region"' in table and "aria-label=" in table
    assert "<td>—</td>" in table and "<td>input rows [6] never read</td>" in table
    assert "<code>nn.Conv2d(…, 3, stride=3, padding=&#x27;same&#x27;)</code>" in table
