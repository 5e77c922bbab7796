"""The N, F, S, P grid drawing: sizes in the titles, one bar per position, the hanging window."""

import itertools
import textwrap

import matplotlib
import numpy as np
import pytest

import matplotlib.pyplot as plt
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle

from cnn_core import output_size
from cnn_core.viz.stride_padding import (
    BAR,
    HANG_COLOR,
    controls,
    describe,
    grid_figure,
    render,
    shrinking_figure,
    slide_animation,
    maps_volume_figure,
)


def bars(ax):
    """(horizontal, vertical, red) counts of the position bars drawn in ax."""
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    horiz = [p for p in rects if p.get_height() == BAR]
    vert = [p for p in rects if p.get_width() == BAR]
    red = [p for p in horiz + vert if matplotlib.colors.same_color(p.get_edgecolor()[:3], HANG_COLOR)]
    return len(horiz), len(vert), len(red)


@pytest.mark.parametrize("stride, out", [(1, 5), (2, 3)])
def test_lecture_strides_that_fit(stride, out):
    fig = render(7, 3, stride, 0)
    ax, ax_out = fig.axes
    assert ax.get_title() == f"input 7×7\nfilter 3×3 (blue), stride {stride}"
    assert ax_out.get_title() == f"output {out}×{out}"
    assert fig._suptitle.get_text().endswith(f"= {out}")
    assert bars(ax) == (out, out, 0)


def test_stride_3_hangs_off_the_edge_with_the_message():
    fig = render(7, 3, 3, 0)
    ax, ax_out = fig.axes
    assert ax_out.get_title() == "output: doesn't fit!"
    with pytest.raises(ValueError) as err:
        output_size(7, 3, 3)
    shown = ax_out.texts[0].get_text()
    assert shown == "\n".join(textwrap.wrap(str(err.value), 30))
    assert "2.33" in fig._suptitle.get_text()
    assert bars(ax) == (3, 3, 2)  # 2 positions + 1 hanging, per axis
    hanging = [p for p in ax.patches if p.get_linestyle() == "--" and p.get_width() == 3 == p.get_height()]
    assert sorted(p.get_xy() for p in hanging) == [(0, 6), (6, 0)]  # one stride past the last fit


def test_padding_one_keeps_7x7_and_draws_zeros():
    fig = render(7, 3, 1, 1)
    ax, ax_out = fig.axes
    assert "zero-padded by P=1 → 9×9" in ax.get_title() and ax_out.get_title() == "output 7×7"
    zeros = [c for c in ax.collections if isinstance(c, PathCollection)]  # one "0" marker per padding cell
    assert len(zeros) == 1 and len(zeros[0].get_offsets()) == 9 * 9 - 7 * 7
    assert sorted(map(tuple, zeros[0].get_offsets()))[:2] == [(0.5, 0.5), (0.5, 1.5)]
    assert bars(ax) == (7, 7, 0)


def test_non_square_each_axis_its_own_formula():
    fig = grid_figure(5, 7, 3, 2, 0)
    assert fig.axes[1].get_title() == "output 2×3 (H×W)"
    assert fig._suptitle.get_text() == "H2 = (5 + 2·0 − 3)/2 + 1 = 2\nW2 = (7 + 2·0 − 3)/2 + 1 = 3"
    fig = grid_figure(6, 7, 3, 2, 0)  # rows do not fit, columns do
    assert fig.axes[1].get_title() == "output: doesn't fit!"
    assert bars(fig.axes[0]) == (3, 3, 1)


def test_describe():
    assert describe(7, 3, 2, 0) == "7×7 input, 3×3 filter, stride 2, padding 0: (7 + 2·0 − 3)/2 + 1 = 3 → output 3×3."
    assert describe(7, 3, 3, 0).endswith("= 2.33 → doesn't fit (1 column(s) at the edge never reached).")


def test_every_explorer_state_draws_without_error():
    combos = list(itertools.product(*controls.values()))
    assert len(combos) <= 60
    for values in combos[::5]:
        plt.close(render(*values))


def test_shrinking_figure_data():
    fig = shrinking_figure(32, 5, 8)
    no_pad, padded = fig.axes[0].get_lines()
    assert list(no_pad.get_ydata()) == [32, 28, 24, 20, 16, 12, 8, 4]
    assert list(padded.get_ydata()) == [32] * 9


def test_slide_animation_one_frame_per_position_of_the_slower_stride():
    import re

    h = slide_animation(7, 3, strides=(1, 2))._repr_html_()
    assert len(re.findall(r"frames\[\d+\] = ", h)) == 25
    with pytest.raises(ValueError, match="does not fit"):
        slide_animation(7, 3, strides=(3,))


def test_volume_figure_titles():
    fig = maps_volume_figure(np.zeros((32, 32, 3)), np.zeros((10, 32, 32)))
    assert len(fig.axes) == 11
    assert fig.axes[0].get_title() == "input 32×32×3" and fig.axes[10].get_title() == "map 10: 32×32"
    assert fig.axes[5].get_subplotspec().rowspan.start == 0 and fig.axes[6].get_subplotspec().rowspan.start == 1
