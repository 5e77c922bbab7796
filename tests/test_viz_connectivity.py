"""The connectivity drawings: what they show is read off the matrices, and every panel is labelled."""

import matplotlib
import numpy as np
import pytest

import matplotlib.pyplot as plt
from matplotlib.text import Annotation

from cnn_core.connectivity import connections, conv_weight_index
from cnn_core.filters import apply_filter
from cnn_core.viz import connectivity as vc


def arrows(ax):
    return [c for c in ax.get_children() if isinstance(c, Annotation)]


def titles(fig):
    return [ax.get_title() for ax in fig.axes]


def test_draw_graph_one_arrow_per_connection_and_highlight():
    fig, ax = plt.subplots()
    mats = [connections("conv", 5, 3, 1, 1)]
    vc.draw_graph(ax, mats, on=[np.eye(5, dtype=bool)[2], np.array([0, 1, 1, 1, 0], bool)], title="t")
    arr = arrows(ax)
    assert len(arr) == 13
    lit = [a for a in arr if a.arrow_patch.get_edgecolor()[:3] == matplotlib.colors.to_rgb(vc.ON)]
    assert len(lit) == 3  # x3 -> s2, s3, s4
    assert ax.get_title() == "t"


def test_sparse_vs_dense_counts_in_titles():
    fig = vc.plot_sparse_vs_dense(5, 3, 1, unit=2)
    t = titles(fig)
    assert "(13 connections):\n$x_{3}$ affects 3 outputs" in t[0] and "$s_{3}$ sees 3 inputs" in t[1]
    assert "(25 connections):\n$x_{3}$ affects 5 outputs" in t[2] and "$s_{3}$ sees 5 inputs" in t[3]
    assert [len(arrows(ax)) for ax in fig.axes] == [13, 13, 25, 25]


def test_receptive_cone_matches_formula():
    fig = vc.plot_receptive_cone(9, {"s1": [(3, 1, 1)] * 2, "s2": [(3, 2, 1), (3, 1, 1)]})
    t = titles(fig)
    assert "sees 5 inputs (receptive field 5)" in t[0] and "sees 7 inputs (receptive field 7)" in t[1]


def test_weight_sharing_central_weight_used_five_times():
    fig = vc.plot_weight_sharing(5, 3, 1)
    conv, dense = fig.axes
    bold = [a for a in arrows(conv) if a.arrow_patch.get_linewidth() == 3.0]
    assert len(bold) == 5 and "3 parameters shared by 13 connections" in conv.get_title()
    colours = {a.arrow_patch.get_edgecolor() for a in arrows(dense)}
    assert len(arrows(dense)) == 25 and len(colours) == 25  # every dense edge its own parameter
    assert [t.get_text() for t in conv.get_legend().get_texts()] == ["weight a", "weight b", "weight c"]


def test_grid_connections_7x7_stride_2():
    fig = vc.plot_grid_connections(7, 3, 2, 0, (1, 1), (2, 2))
    t = titles(fig)
    assert "the 9 pixels" in t[0] and "output 3×3" in t[1] and "the 4\nunits pixel (2, 2) affects" in t[3]


def test_conv_matrix_picture():
    fig = vc.plot_conv_matrix(5, 3, 1, 0, dense=True)
    t = titles(fig)
    assert "9×25 matrix (S=1, P=0): 81 nonzeros, 9 distinct weights" in t[1]
    assert "225 distinct weights" in t[3]
    numbers = sorted(int(x.get_text()) for x in fig.axes[3].texts)
    assert numbers == list(range(1, 226))  # every dense entry its own parameter
    assert fig.axes[1].images[0].get_array().shape == (9, 25)
    # stride 2, padding 1: 7 taps land on the image per axis (2 + 3 + 2), 7 * 7 = 49 nonzeros
    assert "9×25 matrix (S=2, P=1): 49 nonzeros, 9 distinct" in vc.plot_conv_matrix(5, 3, 2, 1).axes[1].get_title()
    with pytest.raises(ValueError, match="F <= 5"):
        vc.plot_conv_matrix(8, 6)
    with pytest.raises(ValueError, match="does not fit"):
        vc.render_conv_matrix(4, 2, 0)
    assert "does not fit" in vc.describe_conv_matrix(4, 2, 0)
    assert "4 rows (outputs) × 16 columns" in vc.describe_conv_matrix(4, 1, 0)


def test_receptive_field_explorer_view():
    fig = vc.render_receptive_field(3, 3, 2)
    assert "receptive field 15×15" in fig._suptitle.get_text()
    assert "output 33×49" in fig._suptitle.get_text()  # 257 -> 129 -> 65 -> 33
    assert len(fig.axes[1].get_legend().get_texts()) == 3  # one square per depth
    assert "15×15 square" in vc.describe_receptive_field(3, 3, 2)
    assert "187×187 square" in vc.describe_receptive_field(5, 7, 2)  # 1 + 6 * (1 + 2 + 4 + 8 + 16)
    # every combination of the explorer fits the crop
    for d in vc.RF_CONTROLS["depth"]:
        for f in vc.RF_CONTROLS["kernel_size"]:
            for s in vc.RF_CONTROLS["stride"]:
                vc.layer_output_sizes(vc._rf_layers(d, f, s), (257, 385))


def test_receptive_fields_static_figure():
    img = np.linspace(0, 1, 64 * 96).reshape(64, 96)
    fig = vc.plot_receptive_fields(img, {"a": [(3, 1, 1)] * 3, "b": [(3, 1, 1), (2, 2), (3, 1, 1)]}, (30, 40))
    t = titles(fig)
    assert "receptive field 7×7" in t[0] and "receptive field 8×8" in t[1]


def test_param_counts_bars_are_the_counts():
    fig = vc.render_param_counts(32, 3, 5, 1)
    widths = sorted(p.get_width() for p in fig.axes[0].patches)
    assert widths == [75, 58_800, 2_408_448]
    assert "32×32×3 → output 28×28×1" in fig.axes[0].get_title()
    assert "(32,113 times fewer)" in vc.describe_param_counts(32, 3, 5, 1)  # 2,408,448 / 75 = 32,112.6
    assert [vc._short_number(v) for v in (1, 100, 1e3, 2.5e6, 1e9, 1e12)] == ["1", "100", "1k", "2.5M", "1G", "1T"]


def test_filter_response_and_equivariance_figures():
    y, x = np.mgrid[0:30, 0:40]
    img = (x > 20).astype(float) + 0.1 * y
    k = np.array([[1.0, 0, -1]] * 3)
    fig = vc.plot_filter_response(img, k, apply_filter(img, k, 1))
    assert titles(fig)[0] == "input 30×40" and titles(fig)[1] == "edge filter\n3×3"
    rgb, k3 = np.stack([img] * 3, axis=-1), np.stack([k] * 3, axis=-1)
    fig = vc.plot_filter_response(rgb, k3, apply_filter(rgb, k3))
    assert titles(fig)[:2] == ["input 30×40×3", "edge filter\n3×3×3"] and "28×38" in titles(fig)[2]
    fig = vc.plot_equivariance(img, {"conv": lambda a: apply_filter(a, k, 1)}, 2, 3, 6)
    t = titles(fig)
    assert t[:3] == ["conv(x)", "conv(shift(x))", "shift(conv(x))"] and "max 0 inside" in t[3]


def test_conv_vs_matrix_and_matrix_pattern():
    img = np.linspace(0, 1, 8 * 8 * 3).reshape(8, 8, 3)
    a = np.arange(16.0).reshape(4, 4)
    fig = vc.plot_conv_vs_matrix(img, a, a + 1e-3)
    t = titles(fig)
    assert t[0] == "input 8×8×3" and t[1] == "Conv2D layer output\n4×4" and "max 0.001" in t[3]
    fig = vc.plot_matrix_pattern(conv_weight_index((1, 3, 5, 5), (3, 32, 32)), (3, 32, 32))
    assert "784×3072 = 2,408,448 entries, 58,800 nonzero (2.4%)" in fig.axes[0].get_title()
    assert [t.get_text() for t in fig.axes[0].texts] == [f"input channel {c}" for c in range(3)]
    assert fig.axes[1].images[0].get_array().shape == (56, 256)
