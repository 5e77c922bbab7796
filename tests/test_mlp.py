import numpy as np
import pytest

import cnn_core as cc
from cnn_core import data, mlp

ACTS = ["sigmoid", "relu", "sigmoid"]


def _net(seed=0):
    rng = np.random.default_rng(seed)
    Ws = mlp.init_weights([5, 4, 3, 2], seed=seed)
    return Ws, rng.standard_normal((6, 5)), rng.uniform(size=(6, 2))


def test_forward_recursion_by_hand():
    W1, W2 = np.array([[1.0, -1.0], [2.0, 0.0]]), np.array([[1.0, 1.0]])
    a, o = mlp.forward([W1, W2], ["relu", "identity"], np.array([1.0, 3.0]))
    assert a[0] is None and np.array_equal(o[0], [1.0, 3.0])
    np.testing.assert_array_equal(a[1], [-2.0, 2.0])
    np.testing.assert_array_equal(o[1], [0.0, 2.0])
    np.testing.assert_array_equal(o[2], [2.0])
    assert mlp.squared_error([W1, W2], ["relu", "identity"], np.array([1.0, 3.0]), np.array([5.0])) == 9.0


def test_backward_output_case_by_hand():
    # one layer, identity: E = (w.x - y)^2, dE/da = 2(a - y), dE/dW = 2(a - y) x^T
    W, x, y = np.array([[2.0, 1.0]]), np.array([1.0, 3.0]), np.array([4.0])
    a, o = mlp.forward([W], ["identity"], x)
    grads, deltas = mlp.backward([W], ["identity"], a, o, y)
    np.testing.assert_array_equal(deltas[0], [2.0])
    np.testing.assert_array_equal(grads[0], [[2.0, 6.0]])


def test_backward_matches_numerical_gradient():
    Ws, X, Y = _net()
    a, o = mlp.forward(Ws, ACTS, X[0])
    grads, _ = mlp.backward(Ws, ACTS, a, o, Y[0])
    for W, g in zip(Ws, grads):
        num = cc.numerical_gradient(lambda: mlp.squared_error(Ws, ACTS, X[0], Y[0]), W)
        assert cc.rel_error(g, num) < 1e-7


def test_batch_form_equals_loop_and_sequential():
    Ws, X, Y = _net(1)
    batch, loop = mlp.batch_gradients(Ws, ACTS, X, Y), mlp.loop_gradients(Ws, ACTS, X, Y)
    for g1, g2 in zip(batch, loop):
        assert cc.rel_error(g1, g2) < 1e-12
    model = cc.Sequential([cc.Linear(5, 4), cc.Sigmoid(), cc.Linear(4, 3), cc.ReLU(), cc.Linear(3, 2), cc.Sigmoid()])
    for layer, W in zip(model.layers[::2], Ws):
        layer.params["W"][...] = W  # biases stay 0, as in the lecture
    out = model.forward(X)
    np.testing.assert_allclose(out, mlp.outputs(Ws, ACTS, X), atol=1e-14)
    loss, dout = cc.mse_loss(out, Y)
    assert loss == pytest.approx(np.mean([mlp.squared_error(Ws, ACTS, x, y) for x, y in zip(X, Y)]))
    model.backward(dout)
    for i, g in zip((0, 2, 4), batch):
        assert cc.rel_error(model.grads[f"{i}.W"], g) < 1e-12


def test_update_order_matters():
    Ws, X, Y = _net(2)
    right, wrong = [W.copy() for W in Ws], [W.copy() for W in Ws]
    grads, _ = mlp.backward(Ws, ACTS, *mlp.forward(Ws, ACTS, X[0]), Y[0])
    mlp.sgd_step(right, ACTS, X[0], Y[0], eta=0.5)
    mlp.sgd_step(wrong, ACTS, X[0], Y[0], eta=0.5, update_too_early=True)
    for W, W_new, g in zip(Ws, right, grads):
        np.testing.assert_allclose(W_new, W - 0.5 * g)
    np.testing.assert_allclose(wrong[-1], right[-1])  # the last layer is updated first, correctly
    assert cc.rel_error(wrong[0] - Ws[0], right[0] - Ws[0]) > 1e-3  # the first is not


def test_bias_is_a_weight_on_a_constant_one():
    layer = cc.Linear(3, 2, rng=0)
    layer.params["b"][...] = [0.5, -1.0]
    X = np.arange(6.0).reshape(2, 3)
    Wb = mlp.with_bias(layer.params["W"], layer.params["b"])
    assert Wb.shape == (2, 4)
    np.testing.assert_allclose(mlp.append_one(X) @ Wb.T, layer.forward(X))
    np.testing.assert_allclose(Wb @ mlp.append_one(X[1]), layer.forward(X[1:])[0])


def test_backprop_learns_two_digit_classes():
    X_tr, y_tr, X_te, y_te = data.load_digits()
    pick = lambda X, y: (X[(y == 3) | (y == 8)].reshape(-1, 64), (y[(y == 3) | (y == 8)] == 8)[:, None] * 1.0)
    A, YA = pick(X_tr, y_tr)
    B, YB = pick(X_te, y_te)
    Ws = mlp.init_weights([64, 16, 1], seed=0)
    errors = mlp.backprop(Ws, ["sigmoid", "sigmoid"], A, YA, eta=0.5, steps=1500, seed=0)
    assert errors.shape == (1500,) and errors[-300:].mean() < errors[:300].mean() / 5
    assert np.mean((mlp.outputs(Ws, ["sigmoid", "sigmoid"], B) > 0.5) == YB) > 0.95


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="one activation per layer"):
        mlp.forward(mlp.init_weights([2, 2]), ["relu", "relu"], np.ones(2))
    with pytest.raises(ValueError, match="D_l x D_"):
        mlp.forward([np.ones((3, 2)), np.ones((1, 4))], ["relu", "relu"], np.ones(2))
    with pytest.raises(ValueError, match="choose one of"):
        mlp.forward([np.ones((1, 2))], ["tanh"], np.ones(2))


def test_train_digits_mlp_history():
    h = mlp.train_digits_mlp(0.1, 16, 64, epochs=3)
    assert h["epoch"] == [1, 2, 3] and len(h["val_accuracy"]) == 3
    assert h["loss"][-1] < h["loss"][0]
