"""GlobalAvgPool2D: the mean of each map, = AvgPool2D(H) + Flatten, gradients, PyTorch."""

import numpy as np
import pytest

import cnn_core as cc
from cnn_core.global_pool import GlobalAvgPool2D


def test_hand_worked_numbers():
    x = np.arange(8.0).reshape(1, 2, 2, 2)  # maps [[0, 1], [2, 3]] and [[4, 5], [6, 7]]
    layer = GlobalAvgPool2D()
    np.testing.assert_array_equal(layer.forward(x), [[1.5, 5.5]])
    np.testing.assert_array_equal(layer.backward(np.array([[4.0, 8.0]])), [[[[1, 1], [1, 1]], [[2, 2], [2, 2]]]])


def test_equals_one_big_average_pool_then_flatten():
    x = np.random.default_rng(0).standard_normal((3, 4, 5, 5))
    np.testing.assert_allclose(GlobalAvgPool2D().forward(x), cc.Flatten().forward(cc.AvgPool2D(5).forward(x)))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 1, 1), (3, 2, 7, 3)])
def test_backward_matches_finite_differences(shape):
    errors = cc.check_layer(GlobalAvgPool2D(), np.random.default_rng(1).standard_normal(shape))
    assert errors["x"] < 1e-8


def test_output_shape_takes_any_size():
    assert GlobalAvgPool2D().output_shape((512, 7, 7)) == (512,)
    assert GlobalAvgPool2D().output_shape((16, 3, 9)) == (16,)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (5, 8, 3, 3)])
def test_matches_pytorch(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, dout = rng.standard_normal(shape), rng.standard_normal(shape[:2])
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = torch.nn.functional.adaptive_avg_pool2d(xt, 1).flatten(1)
    yt.backward(torch.from_numpy(dout))
    layer = GlobalAvgPool2D()
    np.testing.assert_allclose(layer.forward(x), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), rtol=1e-12)
