"""The fast kernels equal the naive loops that read like the lecture, on many shapes."""
import numpy as np
import pytest

import cnn_core as cc

CONV_CASES = [  # (N, D, H, W), K, F, S, P
    ((2, 3, 7, 7), 4, 3, 1, 0),
    ((2, 3, 7, 7), 4, 3, 2, 0),
    ((1, 1, 7, 7), 1, 3, 1, 1),
    ((2, 2, 9, 6), 3, 3, 3, 0),      # non-square, stride 3
    ((3, 4, 8, 10), 5, 5, 1, 2),
    ((1, 2, 6, 8), 3, 2, 2, 1),      # even filter
    ((2, 3, 5, 5), 2, 1, 1, 0),      # 1x1 convolution
]


@pytest.mark.parametrize("shape, k, f, s, p", CONV_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_fast_equals_naive(shape, k, f, s, p, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((k, shape[1], f, f)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    out, cache = cc.conv2d_forward(x, w, b, s, p)
    expected = cc.conv2d_naive(x, w, b, s, p)
    assert out.dtype == dtype and out.shape == expected.shape
    tol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(out, expected, atol=tol, rtol=tol)
    dout = rng.standard_normal(out.shape).astype(dtype)
    for fast, naive in zip(cc.conv2d_backward(dout, cache), cc.conv2d_backward_naive(dout, x, w, s, p)):
        assert fast.dtype == dtype and fast.shape == naive.shape
        np.testing.assert_allclose(fast, naive, atol=tol, rtol=tol)


def test_conv_is_cross_correlation_by_hand():
    # a 3x3 input and a 2x2 filter, worked by hand: out[0,0] = 1*1 + 2*0 + 4*0 + 5*(-1) = -4
    x = np.arange(1, 10, dtype=float).reshape(1, 1, 3, 3)
    w = np.array([[1.0, 0.0], [0.0, -1.0]]).reshape(1, 1, 2, 2)
    out, _ = cc.conv2d_forward(x, w, np.array([0.5]))
    np.testing.assert_array_equal(out[0, 0], [[-3.5, -3.5], [-3.5, -3.5]])


def test_conv_filters_span_full_depth():
    # a 5x5x3 filter on a 32x32x3 image gives one 28x28 activation map per filter
    x = np.ones((1, 3, 32, 32))
    w = np.ones((6, 3, 5, 5))
    out, _ = cc.conv2d_forward(x, w, np.zeros(6))
    assert out.shape == (1, 6, 28, 28)
    assert np.all(out == 75)   # every window: 5*5*3 ones


def test_conv_depth_mismatch_message():
    with pytest.raises(ValueError, match=r"filters span D=3 channels but x has D=1"):
        cc.conv2d_forward(np.zeros((1, 1, 7, 7)), np.zeros((2, 3, 3, 3)), np.zeros(2))


def test_conv_single_image_without_batch_axis_message():
    with pytest.raises(ValueError, match=r"x\[None\]"):
        cc.conv2d_forward(np.zeros((3, 7, 7)), np.zeros((2, 3, 3, 3)), np.zeros(2))


def test_conv_stride_that_does_not_fit_raises_not_crops():
    with pytest.raises(ValueError, match="does not fit"):
        cc.conv2d_forward(np.zeros((1, 1, 7, 7)), np.zeros((1, 1, 3, 3)), np.zeros(1), stride=3)
    with pytest.raises(ValueError, match="does not fit"):
        cc.conv2d_naive(np.zeros((1, 1, 7, 7)), np.zeros((1, 1, 3, 3)), np.zeros(1), stride=3)


POOL_CASES = [((2, 3, 8, 6), 2, 2), ((2, 3, 7, 7), 3, 1), ((1, 2, 7, 9), 3, 2), ((1, 1, 4, 4), 2, 1)]


@pytest.mark.parametrize("shape, f, s", POOL_CASES)
@pytest.mark.parametrize("mode", ["max", "avg", "l2"])
def test_pool_fast_equals_naive(shape, f, s, mode):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    out, cache = cc.pool2d_forward(x, f, s, mode)
    np.testing.assert_allclose(out, cc.pool2d_naive(x, f, s, mode), atol=1e-12)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(cc.pool2d_backward(dout, cache),
                               cc.pool2d_backward_naive(dout, x, f, s, mode), atol=1e-12)


def test_max_pool_4x4_by_hand():
    # the kind of 4x4 example the slides use: 2x2 windows, stride 2
    x = np.array([[1, 1, 2, 4],
                  [5, 6, 7, 8],
                  [3, 2, 1, 0],
                  [1, 2, 3, 4]], dtype=float).reshape(1, 1, 4, 4)
    out, cache = cc.pool2d_forward(x, 2, 2, "max")
    np.testing.assert_array_equal(out[0, 0], [[6, 8], [3, 4]])
    dx = cc.pool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1]])
    avg, _ = cc.pool2d_forward(x, 2, 2, "avg")
    np.testing.assert_array_equal(avg[0, 0], [[3.25, 5.25], [2, 2]])
    l2, _ = cc.pool2d_forward(x, 2, 2, "l2")
    np.testing.assert_allclose(l2[0, 0, 0, 0], np.sqrt(1 + 1 + 25 + 36))


def test_max_pool_gradient_goes_to_one_position_only():
    x = np.zeros((1, 1, 2, 2))          # a tie: the gradient goes to the first maximum only
    out, cache = cc.pool2d_forward(x, 2, 2, "max")
    dx = cc.pool2d_backward(np.ones_like(out), cache)
    assert dx.sum() == 1 and dx[0, 0, 0, 0] == 1


def test_pool_bad_mode_and_bad_stride():
    with pytest.raises(ValueError, match="mode must be one of"):
        cc.pool2d_forward(np.zeros((1, 1, 4, 4)), 2, 2, "median")
    with pytest.raises(ValueError, match="does not fit"):
        cc.pool2d_forward(np.zeros((1, 1, 5, 5)), 2, 2, "max")
