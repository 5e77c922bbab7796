import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnn_core import mlp
from cnn_core.viz import fully_connected as F


def test_moving_average_by_hand():
    np.testing.assert_allclose(F.moving_average([1, 2, 3, 4], 2), [1.5, 2.5, 3.5])
    with pytest.raises(ValueError, match="window"):
        F.moving_average([1, 2], 3)


def test_fc_cost_lecture_numbers():
    assert F.fc_cost(32, 32, 3, 1) == (3073, 3073 * 4 / 1e6)
    assert F.fc_cost(32, 32, 3, 784, bias=False)[0] == 2_408_448
    assert F.fc_cost(200, 200, 3, 1, bias=False)[0] == 120_000
    assert F.fc_cost(32, 32, 3, 784, bias=False, bytes_per_value=8)[1] == pytest.approx(19.267584)


def test_render_params_and_description():
    fig = F.render_params(32, 784)
    assert "2,409,232 params" in [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    text = F.describe_params(200, 1)
    assert "120,000 inputs" in text and "120,001 parameters" in text and "76 parameters" in text


def test_show_stretch_layout():
    img = np.zeros((4, 4, 3), dtype=np.uint8)
    img[..., 1] = 255
    fig = F.show_stretch(img)
    strip = fig.axes[-1]
    column = strip.images[0].get_array()
    assert column.shape == (1, 48)
    assert column[0, :16].max() == 0 and column[0, 16:32].min() == 255  # R block, then G block
    assert "48 x 1" in strip.get_title()
    plt.close(fig)


def test_training_explorer_draws_one_line_per_batch_size():
    calls = []

    def history(lr, width, batch):
        calls.append((lr, width, batch))
        return {"epoch": [1, 2], "loss": [2.0, 1.0], "val_accuracy": [0.5, 0.75]}

    render = F.TrainingExplorer(history, n_train=1347, n_test=450)
    fig = render(0.5, 3)
    assert len(fig.axes[1].lines) == len(F.BATCH_SIZES)
    assert [line.get_label() for line in fig.axes[1].lines][0] == "batch 4 (337 updates/epoch)"
    assert fig.axes[1].get_title() == "accuracy on the 450 test digits"
    assert "1,347 training digits" in fig.axes[1].get_xlabel()  # stacked: the x axis is labelled once, below
    plt.close(fig)
    assert "batch 4: 75%" in render.describe(0.5, 3)
    assert sorted(set(calls)) == [(0.5, 3, b) for b in F.BATCH_SIZES]


def test_digits_mlp_history_is_computed_once(monkeypatch):
    calls = []
    monkeypatch.setattr(mlp, "train_digits_mlp", lambda *a: calls.append(a) or {"loss": [1.0]})
    mlp.digits_mlp_history.cache_clear()
    try:
        assert mlp.digits_mlp_history(0.5, 3, 4) is mlp.digits_mlp_history(0.5, 3, 4)
        assert calls == [(0.5, 3, 4)]
    finally:
        mlp.digits_mlp_history.cache_clear()


def test_small_figures_have_titles():
    fig = F.plot_backprop(np.linspace(1, 0.1, 200), [0, 100, 200], [0.5, 0.9, 0.95], window=50)
    assert all(ax.get_title() for ax in fig.axes)
    plt.close(fig)
    fig = F.plot_timings([1, 8], [0.001, 0.008], [0.0005, 0.0006])
    assert "2x" in [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    W = np.arange(2 * 64, dtype=float).reshape(2, 64)
    fig = F.show_hidden_weights({"a": W, "b": -W}, n=2)
    assert len(fig.axes) == 4
    plt.close(fig)


def test_hidden_weights_all_zero_row_is_white_not_blue():
    W = np.zeros((2, 64))
    W[1, 5] = -3.0  # neuron 1 changed, neuron 0 did not
    fig = F.show_hidden_weights({"a": W}, n=2)
    zero, changed = fig.axes[0].images[0], fig.axes[1].images[0]
    assert zero.get_clim() == (-1.0, 1.0)  # 0 sits mid-scale: white, not the bottom colour
    assert np.allclose(zero.to_rgba(zero.get_array())[..., :3], zero.to_rgba(np.zeros(1))[0, :3])
    assert changed.get_clim() == (-3.0, 3.0)
    assert fig.axes[0].get_title() == "neuron 0: all 0" and fig.axes[1].get_title() == "neuron 1"
    plt.close(fig)
