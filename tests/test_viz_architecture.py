import numpy as np
import pytest

from cnn_core import architectures as A
from cnn_core.viz import architecture as V


def test_plot_summary_draws_the_summary_table_with_aligned_bars():
    net = A.lenet5()
    fig = V.plot_summary(net, (1, 32, 32))
    ax_text, ax_bar = fig.axes
    assert [t.get_text() for t in ax_text.texts] == net.summary_table((1, 32, 32)).splitlines()
    bars = ax_bar.patches
    widths = sorted(int(b.get_width()) for b in bars)
    assert widths == sorted([156, 2416, 48120, 10164, 850])
    first_conv_row = [t.get_position()[1] for t in ax_text.texts if t.get_text().startswith("Conv2D(1, 6")][0]
    assert any(b.get_y() + b.get_height() / 2 == pytest.approx(first_conv_row) and int(b.get_width()) == 156 for b in bars)


def test_render_builder_and_its_errors():
    fig = V.render_builder(N=2, M=3, Q=1)
    assert "N=2, M=3, Q=1" in fig.axes[0].get_title(loc="left")
    with pytest.raises(ValueError, match="block 6 of M=6"):
        V.render_builder(N=1, M=6, Q=0)
    assert "does not fit" in V.describe_builder(N=1, M=6, Q=0)
    text = V.describe_builder(N=2, M=3, Q=1)
    assert "(32, 4, 4)" in text and "512 numbers" in text and "51,522 parameters" in text


def test_builder_controls_stay_small():
    combos = np.prod([len(v) for v in V.BUILDER_CONTROLS.values()])
    assert combos <= 60
    assert set(V.BUILDER_LIVE_CONTROLS) == {"N", "M", "Q", "filters", "input_size"}


def test_shape_profiles_and_param_split():
    nets = {"LeNet-5": (A.lenet5(), (1, 32, 32)), "VGG-16": (A.vgg16(), (3, 224, 224))}
    fig = V.plot_shape_profiles(nets)
    ax_h, ax_d = fig.axes
    lenet_h = ax_h.lines[0].get_ydata()
    assert list(lenet_h) == [32, 28, 28, 14, 10, 10, 5]
    assert list(ax_d.lines[1].get_ydata())[-1] == 512
    # two nets on top of each other stay distinguishable: another style, another width
    first, second = ax_h.lines[:2]
    assert first.get_linestyle() != second.get_linestyle()
    assert first.get_linewidth() > second.get_linewidth()
    assert [t.get_text() for t in ax_h.get_yticklabels()][:2] == ["8", "16"]
    fig = V.plot_param_split({"a": (25, 75), "b": (90, 10)})
    shares = [round(p.get_width(), 2) for p in fig.axes[0].patches]
    assert shares == [0.25, 0.75, 0.9, 0.1]


def test_param_count_markdown():
    text = V.param_count_markdown(A.param_count_comparison(), A.published_param_counts())
    lines = text.splitlines()
    assert len(lines) == 2 + 5
    assert "| VGG-16 | 138,357,544 |" in text and "| 1.003 |" in text
    assert "| ZF Net | 62,357,608 | no total stated" in text and "| — |" in text


def test_googlenet_markdown():
    text = V.googlenet_markdown(A.googlenet_param_table(), A.googlenet_param_table(bias=False))
    lines = text.splitlines()
    assert len(lines) == 2 + 12 + 1
    assert lines[3] == "| conv 1x1 + 3x3 | 192 | 114,944 | 114,688 | 112.0K | 112K |"
    assert lines[-1] == "| **total** | | **6,998,552** | 6,990,272 | 6826.4K | 6797.7K |"


def test_param_count_markdown_with_multiply_adds():
    macs = {"LeNet-5": 416_520, "VGG-16": 15_470_264_320, "GoogLeNet": "1.5 G (paper)"}
    text = V.param_count_markdown(A.param_count_comparison(), A.published_param_counts(), macs)
    lines = text.splitlines()
    assert lines[0].startswith("| net | counted by cnn_core | published | ratio | multiply-adds, one image |")
    assert "| VGG-16 | 138,357,544 |" in text and "| 1.003 | 15.47 G |" in text
    assert "| 0.42 M |" in text and "| 1.5 G (paper) |" in text
    assert "| AlexNet |" in text and text.count("| — |") >= 2  # no count given: a dash


def test_params_vs_compute_bars():
    fig = V.plot_params_vs_compute({"a": (10, 90), "b": (50, 50)}, {"a": (99, 1), "b": (75, 25)})
    ax = fig.axes[0]
    widths = [round(p.get_width(), 2) for p in ax.patches]
    assert widths == [0.9, 0.5, 0.01, 0.25]  # parameters first, then multiply-adds
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
