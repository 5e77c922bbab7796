"""cnn_core.depth: plain vs residual networks, the error signal per layer, seeded training runs."""

import numpy as np
import pytest

import cnn_core as cc
from cnn_core import depth
from cnn_core.gradcheck import numerical_gradient, rel_error
from cnn_core.losses import softmax_cross_entropy
from cnn_core.normalization import BatchNorm2D
from cnn_core.residual import Residual


def digits(n=32, seed=0):
    g = np.random.default_rng(seed)
    return g.random((n, 1, 8, 8)), g.integers(0, 10, n)


def test_plain_and_residual_have_the_same_layers_and_parameters():
    plain, res = depth.deep_cnn(3, residual=False), depth.deep_cnn(3, residual=True)
    assert (
        plain.num_params()
        == res.num_params()
        == cc.conv_num_params(3, 1, 8) + 6 * cc.conv_num_params(3, 8, 8) + (8 * 16 + 1) * 10
    )
    assert sum(isinstance(layer, Residual) for layer in res.layers) == 3
    assert sum(isinstance(layer, cc.Conv2D) for layer in plain.layers) == 1 + 2 * 3
    bn = depth.deep_cnn(2, residual=False, batchnorm=True, width=4)
    assert sum(isinstance(layer, BatchNorm2D) for layer in bn.layers) == 1 + 2 * 2
    assert bn.output_shape((1, 8, 8)) == (10,)


def test_zero_init_residual_net_starts_as_its_stem_and_head():
    x, _ = digits(4)
    deep = depth.deep_cnn(5, residual=True, rng=1)
    shallow = depth.deep_cnn(0, residual=True, rng=2)
    shallow.layers[0].params["W"][...] = deep.layers[0].params["W"]
    shallow.layers[-1].params["W"][...] = deep.layers[-1].params["W"]
    assert np.allclose(deep.forward(x), shallow.forward(x))  # every block is the identity at the start
    he = depth.deep_cnn(5, residual=True, zero_init_residual=False, rng=1)
    assert not np.allclose(he.forward(x), shallow.forward(x))
    bn = depth.deep_cnn(2, residual=True, batchnorm=True)
    assert all(np.all(layer.body.layers[-1].params["gamma"] == 0) for layer in bn.layers if isinstance(layer, Residual))


def test_signal_gradient_at_the_input_is_the_finite_difference_gradient():
    X, y = digits(6)
    model = depth.deep_cnn(2, residual=True, zero_init_residual=False, width=3, rng=0)
    depths, norms = depth.signal_gradient_norms(model, X, y)
    assert depths == [0, 1, 3, 5]  # stem, two blocks of two convs, the Linear
    numeric = numerical_gradient(lambda: softmax_cross_entropy(model.forward(X), y)[0], X)
    assert rel_error(np.array(norms[0]), np.array(np.linalg.norm(numeric))) < 1e-6


def test_signal_through_identity_blocks_is_unchanged():
    X, y = digits(16)
    depths, norms = depth.signal_gradient_norms(depth.deep_cnn(6, residual=True), X, y)
    assert depths == [0, 1, 3, 5, 7, 9, 11, 13]
    assert np.allclose(norms[1:-1], norms[1])  # each block passes dy on: dy + 0
    plain_depths, plain = depth.signal_gradient_norms(depth.deep_cnn(6, residual=False), X, y)
    assert plain_depths == list(range(14))
    assert len(plain) == 14


def test_train_seeds_is_reproducible_and_seeds_differ():
    X, y = digits(64)
    data = (X[:48], y[:48], X[48:], y[48:])
    make = lambda s: depth.deep_cnn(1, residual=True, width=4, rng=s)  # noqa: E731
    a = depth.train_seeds(make, data, [0, 1], epochs=2, lr=0.01)
    b = depth.train_seeds(make, data, [0], epochs=2, lr=0.01)
    assert len(a) == 2 and a[0]["loss"] == b[0]["loss"] and a[0]["loss"] != a[1]["loss"]
    assert len(a[0]["val_accuracy"]) == 2
    sweep = depth.lr_sweep(make, data, [0.01, 0.1], [0, 1], epochs=1)
    assert list(sweep) == [0.01, 0.1] and all(len(v) == 2 for v in sweep.values())
    assert sweep[0.01][0] == depth.train_seeds(make, data, [0], epochs=1, lr=0.01)[0]["val_accuracy"][-1]


def test_a_diverging_run_is_a_result():
    X, y = digits(64)
    data = (X[:48], y[:48], X[48:], y[48:])
    h = depth.train_seeds(lambda s: depth.deep_cnn(2, residual=False, rng=s), data, [0], epochs=2, lr=1e6)[0]
    assert not np.isfinite(h["loss"][-1]) or h["loss"][-1] > 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"blocks": -1}, "blocks"),
        ({"blocks": 2, "width": 0}, "width"),
        ({"blocks": 2, "input_shape": (1, 0, 8)}, r"input_shape\[1\]"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        depth.deep_cnn(residual=True, **kwargs)
