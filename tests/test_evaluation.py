"""cnn_core.evaluation: what a trained network does, in numbers (chapter 10)."""

import numpy as np
import pytest

import cnn_core as cc
from cnn_core import evaluation as E


def test_confusion_matrix_by_hand():
    C = E.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], n_classes=3)
    assert C.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_layer_outputs_and_activation_maps(digits, small_cnn):
    net = small_cnn()
    outs = E.layer_outputs(net, np.ones((2, 1, 8, 8), dtype=np.float32))
    assert [o.shape for _, o in outs][:3] == [(2, 4, 8, 8)] * 2 + [(2, 4, 4, 4)]
    assert outs[-1][0] == "7: Linear(32, 10)"
    image = digits[2][0]
    maps, probs = E.activation_maps(net, image)
    assert [name for name, _ in maps] == [
        "1: ReLU()",
        "2: MaxPool2D(kernel_size=2, stride=2)",
        "4: ReLU()",
        "5: MaxPool2D(kernel_size=2, stride=2)",
    ]
    assert [m.shape for _, m in maps] == [(4, 8, 8), (4, 4, 4), (8, 4, 4), (8, 2, 2)]
    np.testing.assert_allclose(probs, cc.softmax(net.forward(image[None]))[0])
    np.testing.assert_array_equal(maps[1][1], E.layer_outputs(net, image[None])[2][1][0])


def test_probabilities_are_the_softmax_of_the_scores(digits, small_cnn):
    net = small_cnn()
    p = E.probabilities(net, digits[2], batch_size=32)  # 100 examples in 4 batches, the last short
    assert p.shape == (100, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(p, cc.softmax(net.forward(digits[2])), rtol=1e-5)


def test_shift_accuracy(digits, small_cnn):
    X_te, y_te = digits[2], digits[3]
    net = small_cnn()
    grid = E.shift_accuracy(net, X_te, y_te, shifts=(-1, 0, 1))
    assert grid.shape == (3, 3)
    assert grid[1, 1] == cc.evaluate(net, X_te, y_te)[1]
    assert grid[0, 2] == cc.evaluate(net, cc.data.shift(X_te, -1, 1), y_te)[1]


def test_shift_summary_by_hand():
    acc = np.arange(25, dtype=float).reshape(5, 5) / 100  # acc[dy, dx] for shifts -2..2
    s = E.shift_summary(acc)
    assert s["unshifted"] == 0.12
    assert s["1 px left/right"] == pytest.approx((0.11 + 0.13) / 2)
    assert s["2 px up/down"] == pytest.approx((0.02 + 0.22) / 2)
    assert s["every shift"] == pytest.approx((acc.sum() - 0.12) / 24)


def test_learning_rate_runs_train_once_per_setting(digits, small_cnn):
    runs = E.LearningRateRuns(small_cnn, digits, epochs=2)
    run = runs.history(0.05, 0.5)
    assert len(run["val_accuracy"]) == 2
    assert runs.history(0.05, 0.5) is run and list(runs.runs) == [(0.05, 0.5)]
    again = cc.fit(small_cnn(), *digits[:2], epochs=2, lr=0.05, lr_decay=0.5, validation=digits[2:], progress=False)
    assert again["val_accuracy"] == run["val_accuracy"]  # a fresh model, same seed: the same run
