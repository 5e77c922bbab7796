"""The fast kernels equal the naive loops that read like the lecture, on many shapes."""

import numpy as np
import pytest

import cnn_core as cc

CONV_CASES = [  # (N, D, H, W), K, F, S, P
    ((2, 3, 7, 7), 4, 3, 1, 0),
    ((2, 3, 7, 7), 4, 3, 2, 0),
    ((1, 1, 7, 7), 1, 3, 1, 1),
    ((2, 2, 9, 6), 3, 3, 3, 0),  # non-square, stride 3
    ((3, 4, 8, 10), 5, 5, 1, 2),
    ((1, 2, 6, 8), 3, 2, 2, 1),  # even filter
    ((2, 3, 5, 5), 2, 1, 1, 0),  # 1x1 convolution
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
    assert np.all(out == 75)  # every window: 5*5*3 ones


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
    np.testing.assert_allclose(cc.pool2d_backward(dout, cache), cc.pool2d_backward_naive(dout, x, f, s, mode), atol=1e-12)


def test_max_pool_4x4_by_hand():
    # the kind of 4x4 example the slides use: 2x2 windows, stride 2
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=float).reshape(1, 1, 4, 4)
    out, cache = cc.pool2d_forward(x, 2, 2, "max")
    np.testing.assert_array_equal(out[0, 0], [[6, 8], [3, 4]])
    dx = cc.pool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1]])
    avg, _ = cc.pool2d_forward(x, 2, 2, "avg")
    np.testing.assert_array_equal(avg[0, 0], [[3.25, 5.25], [2, 2]])
    l2, _ = cc.pool2d_forward(x, 2, 2, "l2")
    np.testing.assert_allclose(l2[0, 0, 0, 0], np.sqrt(1 + 1 + 25 + 36))


def test_max_pool_gradient_goes_to_one_position_only():
    x = np.zeros((1, 1, 2, 2))  # a tie: the gradient goes to the first maximum only
    out, cache = cc.pool2d_forward(x, 2, 2, "max")
    dx = cc.pool2d_backward(np.ones_like(out), cache)
    assert dx.sum() == 1 and dx[0, 0, 0, 0] == 1


def test_pool_bad_mode_and_bad_stride():
    with pytest.raises(ValueError, match="mode must be one of"):
        cc.pool2d_forward(np.zeros((1, 1, 4, 4)), 2, 2, "median")
    with pytest.raises(ValueError, match="does not fit"):
        cc.pool2d_forward(np.zeros((1, 1, 5, 5)), 2, 2, "max")


# ---------------------------------------------------------------- fast paths in detail
# conv2d_forward/backward take the flat-row path for stride 1 and the strided
# path for stride > 1, and reuse scratch buffers between calls; pooling loops
# over the F*F window offsets. Each case is checked against the naive loops.

FAST_CONV_CASES = [  # (N, D, H, W), K, F, S, P
    ((2, 3, 6, 9), 4, 3, 1, 1),  # flat rows: non-square, padded
    ((1, 1, 5, 7), 1, 5, 1, 0),  # flat rows: D=1, K=1, batch 1, filter as tall as the input
    ((3, 2, 4, 4), 2, 3, 1, 2),  # flat rows: padding larger than needed (output bigger than input)
    ((2, 1, 7, 5), 3, 1, 1, 1),  # flat rows: 1x1 filter with padding
    ((2, 5, 5, 5), 1, 2, 1, 0),  # flat rows: even filter, K=1
    ((2, 1, 6, 5), 8, 3, 1, 1),  # flat rows, K > 2*D*F: dx by col2im (else by row offsets)
    ((1, 2, 5, 7), 13, 3, 1, 0),  # flat rows, K > 2*D*F, batch 1, non-square
    ((2, 3, 9, 7), 2, 3, 2, 1),  # strided: stride 2, non-square, padded
    ((1, 1, 11, 8), 3, 2, 3, 0),  # strided: stride 3, D=1, batch 1, non-square
    ((2, 2, 8, 8), 1, 4, 2, 1),  # strided: K=1, stride 2, F=4
    ((1, 4, 6, 6), 2, 6, 3, 0),  # strided: output 1x1 (F = H)
]


def _conv_case(shape, k, f, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((k, shape[1], f, f)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    return rng, x, w, b


def _assert_conv_matches_naive(x, w, b, s, p, dout=None, rng=None):
    dtype = x.dtype
    tol = 1e-12 if dtype == np.float64 else 1e-4
    out, cache = cc.conv2d_forward(x, w, b, s, p)
    expected = cc.conv2d_naive(x, w, b, s, p)
    assert out.dtype == dtype and out.shape == expected.shape and out.flags.c_contiguous
    np.testing.assert_allclose(out, expected, atol=tol, rtol=tol)
    if dout is None:
        dout = rng.standard_normal(out.shape).astype(dtype)
    grads = cc.conv2d_backward(dout, cache)
    for fast, naive in zip(grads, cc.conv2d_backward_naive(dout, x, w, s, p)):
        assert fast.dtype == dtype and fast.shape == naive.shape
        np.testing.assert_allclose(fast, naive, atol=tol, rtol=tol)
    return out, cache, dout, grads


@pytest.mark.parametrize("shape, k, f, s, p", FAST_CONV_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_flat_row_and_strided_paths_equal_naive(shape, k, f, s, p, dtype):
    rng, x, w, b = _conv_case(shape, k, f, dtype)
    _assert_conv_matches_naive(x, w, b, s, p, rng=rng)


@pytest.mark.parametrize(
    "shape, k, f, p",
    [((2, 3, 6, 9), 4, 3, 1), ((1, 1, 5, 7), 1, 5, 0), ((2, 1, 6, 5), 8, 3, 1), ((3, 2, 4, 4), 2, 3, 2), ((2, 3, 5, 5), 2, 1, 0)],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_both_stride_1_input_gradients_equal_naive(shape, k, f, p, dtype):
    # conv2d_backward picks one of two ways to compute dx for stride 1; check both on every case
    rng, x, w, b = _conv_case(shape, k, f, dtype, seed=2)
    out, cache = cc.conv2d_forward(x, w, b, 1, p)
    dout = rng.standard_normal(out.shape).astype(dtype)
    expected = cc.conv2d_backward_naive(dout, x, w, 1, p)[0]
    n, d, h, wd = x.shape
    h2, w2 = out.shape[2:]
    m = n * h2 * (wd + 2 * p)
    g_buf = np.zeros((k, f - 1 + m), dtype)
    g_buf[:, f - 1 :].reshape(k, n, h2, -1)[:, :, :, :w2] = dout.transpose(1, 0, 2, 3)
    fast = cc.fast
    geo = cc.naive.ConvGeometry((1, 1), (p, p), (1, 1), 1)
    for dxp in (fast._dx_col2im(g_buf[:, f - 1 :], w, x.shape, geo, h2, w2), fast._dx_row_offsets(g_buf, w, x.shape, geo, h2)):
        dx = dxp[:, :, p : p + h, p : p + wd].transpose(1, 0, 2, 3)
        tol = 1e-12 if dtype == np.float64 else 1e-4
        np.testing.assert_allclose(dx, expected, atol=tol, rtol=tol)


def test_conv_scratch_buffers_shared_by_interleaved_layers():
    # like a 2-layer net: forward A, forward B (other shape, reuses the scratch), backward B, backward A
    rng = np.random.default_rng(3)
    xa, wa, ba = rng.standard_normal((2, 3, 9, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    xb, wb, bb = rng.standard_normal((3, 2, 5, 5)), rng.standard_normal((2, 2, 2, 2)), rng.standard_normal(2)
    out_a, cache_a = cc.conv2d_forward(xa, wa, ba, 1, 1)
    out_b, cache_b = cc.conv2d_forward(xb, wb, bb, 1, 0)
    out_a2, cache_a2 = cc.conv2d_forward(xa, wa, ba, 2, 1)  # strided path in between
    np.testing.assert_allclose(out_a, cc.conv2d_naive(xa, wa, ba, 1, 1), atol=1e-12)
    np.testing.assert_allclose(out_b, cc.conv2d_naive(xb, wb, bb, 1, 0), atol=1e-12)
    dout_a, dout_b, dout_a2 = (rng.standard_normal(o.shape) for o in (out_a, out_b, out_a2))
    got = {
        name: cc.conv2d_backward(d, c)
        for name, d, c in [("b", dout_b, cache_b), ("a2", dout_a2, cache_a2), ("a", dout_a, cache_a)]
    }
    expected = {
        "a": cc.conv2d_backward_naive(dout_a, xa, wa, 1, 1),
        "b": cc.conv2d_backward_naive(dout_b, xb, wb, 1, 0),
        "a2": cc.conv2d_backward_naive(dout_a2, xa, wa, 2, 1),
    }
    for name in got:
        for fast, naive in zip(got[name], expected[name]):
            np.testing.assert_allclose(fast, naive, atol=1e-12)
    # the same cache twice gives the same gradients; returned arrays are not scratch memory
    again = cc.conv2d_backward(dout_a, cache_a)
    for first, second in zip(got["a"], again):
        np.testing.assert_array_equal(first, second)
        assert not np.shares_memory(first, second)


def test_conv_scratch_never_leaks_old_values():
    # a big call leaves large buffers with non-zero content; a small padded call must still pad with zeros
    rng = np.random.default_rng(4)
    big = rng.standard_normal((4, 3, 12, 12)) * 100
    cc.conv2d_backward(rng.standard_normal((4, 2, 12, 12)), cc.conv2d_forward(big, np.ones((2, 3, 3, 3)), np.ones(2), 1, 1)[1])
    x, w, b = rng.standard_normal((1, 1, 3, 4)), rng.standard_normal((2, 1, 3, 3)), rng.standard_normal(2)
    _assert_conv_matches_naive(x, w, b, 1, 2, rng=rng)
    cc.functional.free_workspace()
    _assert_conv_matches_naive(x, w, b, 1, 2, rng=rng)


def test_conv_inputs_that_are_views_or_of_mixed_dtype():
    rng = np.random.default_rng(5)
    base = rng.standard_normal((3, 7, 9, 2))
    x = base.transpose(0, 3, 1, 2)[:, :, ::2]  # a non-contiguous (3, 2, 4, 7) view
    w, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    _assert_conv_matches_naive(x, w, b, 1, 1, rng=rng)
    x32 = np.ascontiguousarray(x, dtype=np.float32)  # float32 input, float64 weights -> float64
    out, cache = cc.conv2d_forward(x32, w, b, 1, 1)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, cc.conv2d_naive(x32, w, b, 1, 1), atol=1e-12)
    dx, dw, db = cc.conv2d_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    np.testing.assert_allclose(db, np.full(3, out[0, 0].size * 3.0))


def test_conv_without_bias_is_zero_bias():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    out, _ = cc.conv2d_forward(x, w, None, 1, 1)
    np.testing.assert_allclose(out, cc.conv2d_naive(x, w, np.zeros(3), 1, 1), atol=1e-12)


def test_conv_fast_in_threads():
    # the scratch buffers are per thread: concurrent calls of different shapes stay correct
    from concurrent.futures import ThreadPoolExecutor

    def job(seed):
        rng = np.random.default_rng(seed)
        n, d, h, k, f, s, p = 2, 1 + seed % 3, 6 + seed % 4, 2 + seed % 2, 3, 1 + seed % 2, seed % 2
        h += (h + 2 * p - f) % s  # make the stride fit
        x, w, b = rng.standard_normal((n, d, h, h)), rng.standard_normal((k, d, f, f)), rng.standard_normal(k)
        for _ in range(20):
            out, cache = cc.conv2d_forward(x, w, b, s, p)
            dout = np.ones_like(out)
            dx = cc.conv2d_backward(dout, cache)[0]
        return np.allclose(out, cc.conv2d_naive(x, w, b, s, p), atol=1e-12) and np.allclose(
            dx, cc.conv2d_backward_naive(dout, x, w, s, p)[0], atol=1e-12
        )

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(job, range(8)))


FAST_POOL_CASES = [  # (N, D, H, W), F, S: tiled (S = F), gaps (S > F), overlapping (S < F)
    ((2, 3, 6, 8), 2, 2),
    ((1, 1, 9, 6), 3, 3),
    ((2, 2, 7, 10), 1, 3),
    ((1, 2, 8, 5), 2, 3),
    ((2, 1, 6, 7), 3, 1),
    ((1, 3, 9, 9), 3, 2),
]


@pytest.mark.parametrize("shape, f, s", FAST_POOL_CASES)
@pytest.mark.parametrize("mode", ["max", "avg", "l2"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pool_fast_paths_equal_naive(shape, f, s, mode, dtype):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    out, cache = cc.pool2d_forward(x, f, s, mode)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, cc.pool2d_naive(x, f, s, mode), atol=tol, rtol=tol)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = cc.pool2d_backward(dout, cache)
    assert dx.dtype == dtype and dx.shape == x.shape
    np.testing.assert_allclose(dx, cc.pool2d_backward_naive(dout, x, f, s, mode), atol=tol, rtol=tol)


@pytest.mark.parametrize("f, s", [(2, 2), (3, 1), (2, 3)])
def test_max_pool_ties_go_to_the_first_maximum_like_the_naive_loops(f, s):
    # after a ReLU many windows are all zeros; integer-valued inputs tie often too
    rng = np.random.default_rng(8)
    x = np.maximum(rng.integers(-2, 3, size=(2, 2, 8, 8)), 0).astype(np.float32)
    x = x[:, :, : s * ((8 - f) // s) + f, : s * ((8 - f) // s) + f]
    out, cache = cc.pool2d_forward(x, f, s, "max")
    dout = rng.standard_normal(out.shape).astype(np.float32)
    # the same positions get gradient (overlapping windows may add it up in another order)
    np.testing.assert_allclose(
        cc.pool2d_backward(dout, cache), cc.pool2d_backward_naive(dout, x, f, s, "max"), rtol=1e-6, atol=1e-6
    )
