"""Dropout: inverted scaling, seeded masks, evaluation = identity, backward with the same mask,
finite differences with a fixed mask, and PyTorch given PyTorch's mask (its generator differs)."""

import numpy as np
import pytest

import cnn_core as cc
from cnn_core.regularization import Dropout, dropout_backward, dropout_forward


def test_hand_worked_numbers():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    keep = np.array([[True, False, True, False]])
    out, cache = dropout_forward(x, 0.5, keep)
    np.testing.assert_array_equal(out, [[2.0, 0.0, 6.0, 0.0]])  # kept ones scaled by 1 / (1 - 0.5)
    np.testing.assert_array_equal(dropout_backward(np.ones((1, 4)), cache), [[2.0, 0.0, 2.0, 0.0]])


def test_drops_a_fraction_p_and_keeps_the_mean():
    x = np.ones((100, 50, 4, 4))
    out = Dropout(0.3, rng=0).forward(x)
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 0.01  # 80,000 draws: the standard error is 0.0016
    assert set(np.unique(out)) == {0.0, 1 / 0.7}
    assert abs(out.mean() - 1.0) < 0.02  # inverted dropout: the expected output is the input


def test_same_seed_same_masks_and_a_new_mask_each_call():
    x = np.ones((4, 3, 5, 5))
    a, b = Dropout(0.5, rng=1), Dropout(0.5, rng=1)
    first = a.forward(x)
    np.testing.assert_array_equal(first, b.forward(x))
    assert not np.array_equal(first, a.forward(x))


def test_backward_uses_the_forward_mask():
    layer = Dropout(0.4, rng=2)
    x = np.random.default_rng(0).standard_normal((3, 2, 4, 4))
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx == 0, out == 0)
    np.testing.assert_allclose(dx[dx != 0], 1 / 0.6)


def test_evaluation_mode_and_p_zero_are_the_identity():
    x = np.random.default_rng(0).standard_normal((3, 4))
    layer = Dropout(0.5, rng=0)
    layer.training = False
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)
    np.testing.assert_array_equal(Dropout(0.0, rng=0).forward(x), x)


def test_predict_runs_without_dropout():
    model = cc.Sequential([cc.Linear(4, 8, rng=0), cc.ReLU(), Dropout(0.9, rng=0), cc.Linear(8, 3, rng=1)])
    x = np.random.default_rng(1).standard_normal((20, 4))
    first = cc.predict(model, x)
    np.testing.assert_array_equal(first, cc.predict(model, x))  # deterministic: evaluation mode
    assert model.layers[2].training  # restored


class FixedMaskDropout(Dropout):
    """Dropout that draws the same mask at every forward, so finite differences see one function."""

    def forward(self, x):
        self.rng = np.random.default_rng(0)
        return super().forward(x)


def test_backward_matches_finite_differences_for_a_fixed_mask():
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    errors = cc.check_layer(FixedMaskDropout(0.35), x)
    assert errors["x"] < 1e-7, errors


def test_repr():
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"


@pytest.mark.parametrize("p, shape", [(0.5, (4, 3, 5, 5)), (0.2, (7, 11)), (0.9, (2, 6, 3, 4))])
def test_matches_pytorch_given_its_mask(p, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, dout = rng.uniform(0.5, 2.0, shape), rng.standard_normal(shape)  # no zeros in x: the mask is out != 0
    xt = torch.from_numpy(x).requires_grad_(True)
    torch.manual_seed(0)
    yt = torch.nn.functional.dropout(xt, p, training=True)
    yt.backward(torch.from_numpy(dout))
    keep = yt.detach().numpy() != 0
    out, cache = dropout_forward(x, p, keep)
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(dropout_backward(dout, cache), xt.grad.numpy(), rtol=1e-12, atol=0)
