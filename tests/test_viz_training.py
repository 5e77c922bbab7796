import numpy as np
import pytest

from cnn_core import evaluation as E
from cnn_core.viz import training as T


def test_plot_confusion_matrix_writes_the_counts():
    fig = T.plot_confusion_matrix(np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]]))
    assert fig.axes[0].get_title().endswith("4/6 right")
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["1", "1", "1", "1", "2"]


def test_learning_curves_one_or_several_runs():
    h = {"epoch": [1, 2], "loss": [1.0, 0.5], "accuracy": [0.5, 0.8], "val_loss": [0.9, 0.6], "val_accuracy": [0.6, 0.7]}
    fig = T.plot_learning_curves(h)
    assert len(fig.axes[0].lines) == 2 and list(fig.axes[1].lines[1].get_ydata()) == [0.6, 0.7]
    fig = T.plot_learning_curves({"CNN": h, "MLP": {k: v for k, v in h.items() if not k.startswith("val")}})
    assert [line.get_label() for line in fig.axes[1].lines] == ["CNN train", "CNN validation", "MLP train"]
    fig = T.plot_learning_curves(h, val_label="test")  # when fit's validation= data is a test set
    assert [line.get_label() for line in fig.axes[1].lines] == ["train", "test"]


def test_plot_filters_layouts():
    W = np.arange(8 * 9, dtype=float).reshape(8, 1, 3, 3)
    fig = T.plot_filters(W)
    ax = fig.axes[0]
    shown = ax.images[0].get_array()
    assert shown.shape == (3, 8 * 4 - 1)  # 8 filters of 3x3 with 1-pixel gaps
    assert np.array_equal(shown[:, 4:7], W[1, 0]) and np.isnan(np.ma.filled(shown, np.nan)[0, 3])
    assert [t.get_text() for t in ax.get_xticklabels()][3] == "filter 3"
    W = np.arange(4 * 3 * 9, dtype=float).reshape(4, 3, 3, 3)
    fig = T.plot_filters(W)
    shown = fig.axes[0].images[0].get_array()
    assert shown.shape == (4 * 4 - 1, 3 * 4 - 1)
    assert np.array_equal(shown[4:7, 8:11], W[1, 2])  # row = filter 1, column = input map 2
    assert "(4, 3, 3, 3)" in fig.axes[0].get_title()


def test_mosaic():
    m = T._mosaic(np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2), cols=2)
    assert m.shape == (5, 5)
    assert m[0, 0] == 0 and m[0, 3] == 4 and m[3, 0] == 8 and np.isnan(m[2]).all() and np.isnan(m[3:, 3:]).all()


def test_plot_activation_maps_and_explorer(digits, small_cnn):
    X, y = digits[2], digits[3]
    net = small_cnn()
    fig = T.plot_activation_maps(X[0], *E.activation_maps(net, X[0]), label=int(y[0]))
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[2:] == [
        "layer 1: ReLU(): 4 activation maps of 8x8",
        "layer 2: MaxPool2D(kernel_size=2, stride=2): 4 activation maps of 4x4",
        "layer 4: ReLU(): 8 activation maps of 4x4",
        "layer 5: MaxPool2D(kernel_size=2, stride=2): 8 activation maps of 2x2",
    ]
    probs = fig.axes[1].patches
    assert sum(p.get_height() for p in probs) == pytest.approx(1.0, abs=1e-5)
    render = T.activation_explorer(lambda image: E.activation_maps(net, image), X, y)
    fig = render(digit=3, example=2)
    assert fig.axes[0].get_title().endswith("label 3")
    i = np.flatnonzero(y == 3)[1]
    assert np.array_equal(fig.axes[0].images[0].get_array(), X[i, 0])


def test_misclassified_and_digits():
    X = np.zeros((5, 1, 8, 8))
    fig = T.plot_misclassified(X, np.array([1, 2, 3, 4, 5]), np.array([1, 0, 3, 0, 0]), max_n=2)
    assert fig._suptitle.get_text().startswith("3 misclassified test digits")
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["2 -> 0", "4 -> 0"]


def test_plot_shift_robustness(digits):
    grid = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
    fig = T.plot_shift_robustness({"a": grid, "b": grid}, digits[2][0], shifts=(-1, 0, 1))
    assert [ax.get_title() for ax in fig.axes[:3]] == ["right -1", "right +0", "right +1"]
    assert fig.axes[3].texts[4].get_text() == "0.50"


def test_learning_rate_explorer_draws_the_given_histories():
    asked = []

    def history(lr, lr_decay):
        asked.append((lr, lr_decay))
        return {
            "epoch": [1, 2, 3, 4],
            "loss": [1.0, 0.8, 0.6, 0.5],
            "accuracy": [0.5, 0.6, 0.7, 0.8],
            "val_loss": [1.0, 0.9, 0.8, 0.7],
            "val_accuracy": [0.4, 0.5, 0.65, 0.6],
        }

    explorer = T.LearningRateExplorer(history, momentum=0.5)
    fig = explorer(lr=0.05, lr_decay=0.5)
    assert fig._suptitle.get_text() == "SGD lr=0.05, momentum 0.5, lr x 0.5 after each epoch"
    assert list(fig.axes[1].lines[1].get_ydata()) == [0.4, 0.5, 0.65, 0.6]
    text = explorer.describe(lr=0.05, lr_decay=0.5)
    assert text == (
        "lr=0.05, lr_decay=0.5: over the last 2 epochs the validation accuracy ranges from 0.600 to 0.650; after epoch 4: 0.600."
    )
    assert asked == [(0.05, 0.5)] * 2


def test_shift_markdown():
    acc = np.arange(25, dtype=float).reshape(5, 5) / 100  # acc[dy, dx] for shifts -2..2
    text = T.shift_markdown({"A": E.shift_summary(acc), "B": E.shift_summary(1 - acc)})
    assert text.splitlines()[0] == "| test digits | A | B |"
    assert "| unshifted | 0.120 | 0.880 |" in text and len(text.splitlines()) == 2 + 6
