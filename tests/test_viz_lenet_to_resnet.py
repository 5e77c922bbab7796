"""Figures of chapter 12: what each one shows, checked on its artists."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_core.viz import lenet_to_resnet as V  # noqa: E402


def history(losses, accs):
    return {"epoch": list(range(1, len(losses) + 1)), "loss": losses, "val_accuracy": accs}


def test_depth_runs_draw_every_seed_and_the_mean():
    runs = {
        "plain": [history([2.3, 2.2], [0.1, 0.2]), history([2.3, 2.0], [0.1, 0.4])],
        "residual": [history([1.0, 0.5], [0.8, 0.9])] * 2,
    }
    fig = V.plot_depth_runs(runs)
    ax_loss, ax_acc = fig.axes
    assert len(ax_loss.lines) == 2 * 3  # two seeds + the mean, for two networks
    mean = [line for line in ax_acc.lines if line.get_label().startswith("plain (mean")][0]
    assert np.allclose(mean.get_ydata(), [0.1, 0.3])
    assert ax_loss.get_yscale() == "log"
    plt.close(fig)


def test_gradient_norms_at_their_depths():
    fig = V.plot_gradient_norms(
        {"plain": ([0, 1, 2], [[1e-2, 1e-1, 1.0], [2e-2, 2e-1, 1.0]]), "residual": ([0, 2], [[0.5, 0.5]])}
    )
    ax = fig.axes[0]
    assert len(ax.lines) == 3 and ax.get_yscale() == "log"
    assert list(ax.lines[2].get_xdata()) == [0, 2]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["plain", "residual"]
    plt.close(fig)


def test_lr_sweep_means_and_dots():
    fig = V.plot_lr_sweep({"no BN": {0.1: [0.8, 0.9], 0.01: [0.5, 0.7]}, "BN": {0.1: [0.9, 0.9], 0.01: [0.9, 0.8]}})
    ax = fig.axes[0]
    assert list(ax.lines[0].get_xdata()) == [0.01, 0.1]
    assert np.allclose(ax.lines[0].get_ydata(), [0.6, 0.85])
    assert ax.get_xscale() == "log" and len(ax.collections) == 4
    plt.close(fig)


def test_layer_costs_in_millions():
    fig = V.plot_layer_costs(["conv1", "fc"], [118_013_952, 2_048_000], [802_816, 1_000])
    ax_mac, ax_act = fig.axes
    assert [round(p.get_height(), 3) for p in ax_mac.patches] == [118.014, 2.048]
    assert [t.get_text() for t in ax_act.get_xticklabels()] == ["conv1", "fc"]
    plt.close(fig)


def test_receptive_fields_lines():
    fig = V.plot_receptive_fields({"VGG-16": [3, 5, 6], "ResNet-18": [7, 11]}, image_size=224)
    ax = fig.axes[0]
    assert list(ax.lines[0].get_ydata()) == [3, 5, 6] and list(ax.lines[1].get_xdata()) == [1, 2]
    plt.close(fig)


def test_attributions_and_the_missing_cam():
    img = np.zeros((1, 4, 4))
    fig = V.plot_attributions(img, {"saliency": np.ones((4, 4)), "CAM": None})
    assert len(fig.axes) == 3
    assert "no CAM" in fig.axes[2].texts[0].get_text()
    assert len(fig.axes[1].images) == 2  # the digit under the heat map
    plt.close(fig)


@pytest.fixture
def attribution_explorer():
    images = np.arange(2 * 16, dtype=float).reshape(2, 1, 4, 4)
    heat = [np.eye(4), np.ones((2, 2))]
    maps = {
        "CNN": {"saliency": heat, "occlusion": heat, "CAM": heat},
        "MLP": {"saliency": heat, "occlusion": heat, "CAM": [None, None]},
    }
    return V.AttributionExplorer(images, [3, 7], maps, {"CNN": [3, 1], "MLP": [3, 7]})


def test_attribution_explorer_panels(attribution_explorer):
    fig = attribution_explorer(digit=1, method="CAM", model="MLP")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "label 7" and titles[1] == "MLP says 7" and titles[2] == "CNN says 1"
    assert "no global\naverage\npooling" in fig.axes[1].texts[0].get_text()
    plt.close(fig)
    assert "largest at row 0, column 0 of a 4 x 4 map" in attribution_explorer.describe(0, "saliency", "CNN")
    assert "no global average pooling" in attribution_explorer.describe(0, "CAM", "MLP")
    with pytest.raises(ValueError, match="model must be one of"):
        attribution_explorer(0, "saliency", "RNN")
    with pytest.raises(ValueError, match="method must be one of"):
        attribution_explorer(0, "gradcam", "CNN")


def test_resnet_cost_markdown_rows_and_sources():
    from cnn_core.architectures import PublishedCost

    published = {
        "ResNet-50": [
            PublishedCost(None, 3.8e9, "He et al. (2016), Table 1"),
            PublishedCost(25_557_032, 4.09e9, "torchvision tables"),
        ]
    }
    rows = {
        "ResNet-50": {"params": 25_557_032, "macs": 4_089_184_256, "memory": 150_239_136},
        "ResNet-50 (paper's v1)": {"params": 25_557_032, "macs": 3_858_000_000, "memory": 2**20},
    }
    lines = V.resnet_cost_markdown(rows, published).splitlines()
    assert len(lines) == 4
    assert lines[2] == "| ResNet-50 | 25,557,032 | 25,557,032 (torchvision) | 4.089 G | 4.09 G (torchvision) | 143.3 MiB |"
    assert lines[3] == "| ResNet-50 (paper's v1) | 25,557,032 | — | 3.858 G | 3.8 G (paper) | 1.0 MiB |"
