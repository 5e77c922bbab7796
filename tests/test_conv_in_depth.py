"""conv_in_depth: the backward pass step by step, transposed convolution, dilation, 1x1 and
depthwise-separable convolutions, per-channel partial sums -- hand-worked numbers and cnn_core's kernels."""

import numpy as np
import pytest

import cnn_core as cc
from cnn_core.shapes import transposed_output_size
from cnn_core.conv_in_depth import (
    backward_steps,
    backward_totals,
    depthwise_separable,
    dilate_kernel,
    dilated_receptive_field,
    full_convolution_dx,
    maxpool_routes,
    partial_sums,
    pointwise_as_linear,
    scatter_steps,
    separable_params,
    tap_counts,
    transposed_by_matrix,
    transposed_by_scatter,
    upsample,
)

X = np.arange(1, 17.0).reshape(4, 4)  # 1..16
W = np.array([[1.0, 0.0], [2.0, -1.0]])


def test_backward_steps_by_hand():
    """4x4 input, 2x2 filter, stride 2: four windows, each sends its gradient back."""
    dout = np.array([[1.0, 2.0], [3.0, -1.0]])
    steps = backward_steps(X, W, dout, stride=2)
    assert [(s.r, s.c, s.g) for s in steps] == [(0, 0, 1.0), (0, 1, 2.0), (1, 0, 3.0), (1, 1, -1.0)]
    np.testing.assert_array_equal(steps[1].window, [[3, 4], [7, 8]])
    np.testing.assert_array_equal(steps[1].dw, [[6, 8], [14, 16]])
    np.testing.assert_array_equal(steps[1].dx.added, [[2, 0], [4, -2]])
    dx, dw, db = backward_totals(X, W, dout, stride=2)
    # dW = 1*[[1,2],[5,6]] + 2*[[3,4],[7,8]] + 3*[[9,10],[13,14]] - [[11,12],[15,16]]
    np.testing.assert_array_equal(dw, [[23, 28], [43, 48]])
    assert db == 5.0
    # stride 2 = the filter size: the windows do not overlap, dX is the filter tiled, times dout
    np.testing.assert_array_equal(dx, [[1, 0, 2, 0], [2, -1, 4, -2], [3, 0, -1, 0], [6, -3, -2, 1]])


@pytest.mark.parametrize("stride, padding, n, f", [(1, 0, 5, 3), (2, 1, 5, 3), (2, 0, 7, 3), (1, 2, 4, 3), (3, 1, 7, 3)])
def test_backward_totals_equal_cnn_core(stride, padding, n, f):
    rng = np.random.default_rng(n + f + stride)
    x, w = rng.integers(-3, 4, (n, n)).astype(float), rng.integers(-2, 3, (f, f)).astype(float)
    h2 = cc.output_size(n, f, stride, padding)
    dout = rng.integers(-2, 3, (h2, h2)).astype(float)
    dx, dw, db = backward_totals(x, w, dout, stride, padding)
    want = cc.conv2d_backward_naive(dout[None, None], x[None, None], w[None, None], stride, padding)
    np.testing.assert_allclose(dx, want[0][0, 0])
    np.testing.assert_allclose(dw, want[1][0, 0])
    assert db == pytest.approx(want[2][0])
    full = full_convolution_dx(dout, w, stride, padding)  # dX as the full convolution with the flipped filter
    np.testing.assert_allclose(full.dx, dx)
    np.testing.assert_array_equal(full.flipped, w[::-1, ::-1])
    assert full.grid.shape == ((h2 - 1) * stride + 1 + 2 * (f - 1),) * 2


def test_upsample_and_dilate():
    np.testing.assert_array_equal(upsample([[1, 2], [3, 4]], 2), [[1, 0, 2], [0, 0, 0], [3, 0, 4]])
    assert dilate_kernel(np.ones((3, 3)), 2).shape == (5, 5)
    assert dilate_kernel(np.ones((3, 3)), 2).sum() == 9
    np.testing.assert_array_equal(upsample(W, 1), W)


def test_maxpool_routes_match_cnn_core():
    x = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 7], [2, 6, 3, 1]], float)
    dout = np.array([[10.0, 20.0], [30.0, 40.0]])
    routes, dx = maxpool_routes(x, 2, 2, dout)
    assert [r.winner for r in routes] == [(1, 0), (1, 3), (3, 1), (2, 2)]  # the tie 7, 7 goes to the first
    assert dx.sum() == 100 and dx[2, 3] == 0
    want = cc.pool2d_backward_naive(dout[None, None], x[None, None], 2, 2, "max")[0, 0]
    np.testing.assert_array_equal(dx, want)
    # overlapping windows (3x3, stride 1 on 4x4): one input can win several windows and collect their gradients
    _, dx = maxpool_routes(x, 3, 1)
    assert dx[2, 2] == 4.0 and dx.sum() == 4.0
    np.testing.assert_array_equal(dx, cc.pool2d_backward_naive(np.ones((1, 1, 2, 2)), x[None, None], 3, 1)[0, 0])


@pytest.mark.parametrize("stride, padding, n, f", [(1, 0, 2, 3), (2, 0, 2, 3), (2, 1, 3, 3), (3, 0, 2, 2), (2, 1, 3, 4)])
def test_transposed_convolution_three_ways(stride, padding, n, f):
    """M^T x == the scatter of x * w == the backward pass's dX of the convolution big -> n."""
    rng = np.random.default_rng(f * 10 + n)
    x, w = rng.integers(-3, 4, (n, n)).astype(float), rng.integers(-2, 3, (f, f)).astype(float)
    m, y = transposed_by_matrix(x, w, stride, padding)
    big = transposed_output_size(n, f, stride, padding)
    assert y.shape == (big, big) and m.shape == (n * n, big * big)
    np.testing.assert_allclose(transposed_by_scatter(x, w, stride, padding), y)
    zeros = np.zeros((1, 1, big, big))
    dx = cc.conv2d_backward_naive(x[None, None], zeros, w[None, None], stride, padding)[0]
    np.testing.assert_allclose(dx[0, 0], y)
    assert cc.output_size(big, f, stride, padding) == n


def test_transposed_by_hand():
    """2x2 input, 3x3 filter of ones, stride 2: a 5x5 output; the middle row and column get two copies."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    _, y = transposed_by_matrix(x, np.ones((3, 3)), stride=2)
    np.testing.assert_array_equal(y[0], [1, 1, 3, 2, 2])
    np.testing.assert_array_equal(y[2], [4, 4, 10, 6, 6])
    assert y.sum() == 9 * x.sum()
    assert len(scatter_steps(x, np.ones((3, 3)), 2)) == 4


def test_partial_sums():
    x = np.stack([X, -X, np.ones((4, 4))])  # 3 channels
    w = np.stack([W, W, np.full((2, 2), 0.5)])
    ps = partial_sums(x, w, b=1.0, r=1, c=2)
    # window rows 1-2, cols 2-3: channel 0 [[7,8],[11,12]] . W = 7 + 22 - 12 = 17
    assert ps.per_channel.tolist() == [17.0, -17.0, 2.0] and ps.total == 3.0
    out = cc.conv2d_naive(x[None], w[None], np.array([1.0]))
    assert out[0, 0, 1, 2] == ps.total
    with pytest.raises(ValueError, match="outside the 3 x 3 output"):
        partial_sums(x, w, r=3)


def test_receptive_fields_with_dilation():
    assert dilated_receptive_field([(3, 1, 1)] * 3) == 7 == cc.receptive_field([(3, 1)] * 3)
    assert dilated_receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15  # atrous: 1 + 2 + 4 + 8
    assert dilated_receptive_field([(3, 1, 2)] * 3) == 13
    assert dilated_receptive_field([(3, 2, 1), (3, 1, 2)]) == 1 + 2 + 2 * 2 * 2
    full = tap_counts([(3, 1, 1), (3, 1, 2), (3, 1, 4)])
    assert full.shape == (15, 15) and (full > 0).all() and full.sum() == 9**3
    grid = tap_counts([(3, 1, 2)] * 3)
    assert grid.shape == (13, 13) and (grid[1::2, :] == 0).all()  # gridding: odd rows never seen
    assert tap_counts([(3, 2, 1), (3, 1, 1)]).shape == (7, 7)


def test_pointwise_is_a_linear_layer_per_pixel():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(3, 4, 5)), rng.normal(size=(2, 3, 1, 1)), rng.normal(size=2)
    np.testing.assert_allclose(pointwise_as_linear(x, w, b), cc.conv2d_naive(x[None], w, b)[0])
    with pytest.raises(ValueError, match=r"\(K, D, 1, 1\)"):
        pointwise_as_linear(x, rng.normal(size=(2, 3, 3, 3)))


def test_separable_params_and_forward():
    c = separable_params(3, 64, 128)
    assert c.standard == (9 * 64 + 1) * 128 == 73_856
    assert (c.depthwise, c.pointwise) == (10 * 64, 65 * 128)
    assert c.separable == 640 + 8_320 and c.ratio == pytest.approx(8_960 / 73_856)
    assert separable_params(3, 64, 128, bias=False).ratio == pytest.approx(1 / 128 + 1 / 9)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 3, 6, 6))
    wd, wp = rng.normal(size=(3, 1, 3, 3)), rng.normal(size=(4, 3, 1, 1))
    out = depthwise_separable(x, wd, wp, padding=1)
    assert out.shape == (1, 4, 6, 6)
    # channel 0 of the depthwise step only sees input channel 0
    mid = cc.conv2d_naive(x[:, [0]], wd[[0]], None, 1, 1)
    one = np.zeros((4, 3, 1, 1))
    one[0, 0] = 1.0
    np.testing.assert_allclose(depthwise_separable(x, wd, one, padding=1)[:, [0]], mid)


def test_bad_inputs():
    with pytest.raises(ValueError, match="dout must have the forward output's shape"):
        backward_steps(X, W, np.ones((2, 2)))
    with pytest.raises(ValueError, match="square F x F"):
        backward_steps(X, np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"x must be a 2-D array \(H, W\)"):
        backward_steps(X[None], W, np.ones((3, 3)))
    with pytest.raises(ValueError, match="does not fit"):
        maxpool_routes(np.ones((5, 5)), 2)
    with pytest.raises(ValueError, match="w_depth must have shape"):
        depthwise_separable(np.ones((1, 3, 4, 4)), np.ones((3, 3, 3, 3)), np.ones((2, 3, 1, 1)))
