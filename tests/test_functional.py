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


# ---------------------------------------------------------------- beyond the lecture: pairs, dilation, groups,
# transposed convolution, pooling with padding and rounding (issue 15)


def test_dilated_filter_by_hand():
    # taps 2 apart: out[0, 0] = 1*x[0,0] + 2*x[0,2] + 3*x[2,0] + 4*x[2,2] = 1 + 6 + 33 + 52 = 92;
    # one step right adds (1+2+3+4)*1, one step down (1+2+3+4)*5 (x[r, c] = 5r + c + 1)
    x = np.arange(1, 26, dtype=float).reshape(1, 1, 5, 5)
    w = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    expected = 92 + 10 * np.arange(3)[None, :] + 50 * np.arange(3)[:, None]
    for room in (cc.naive, cc.fast):
        out, _ = room.conv2d_forward(x, w, None, dilation=2)
        np.testing.assert_array_equal(out[0, 0], expected)
    assert cc.output_size(5, 2, dilation=2) == 3  # F_eff = 2*(2 - 1) + 1 = 3


def test_transposed_convolution_by_hand():
    # each input pixel paints the filter, scaled by its value; overlaps add up
    x = np.array([[1.0, 0.0], [0.0, 1.0]]).reshape(1, 1, 2, 2)
    ones = np.ones((1, 1, 2, 2))
    for room in (cc.naive, cc.fast):
        out, _ = room.conv_transpose2d_forward(x, ones, None)
        np.testing.assert_array_equal(out[0, 0], [[1, 1, 0], [1, 2, 1], [0, 1, 1]])
        # F = S = 2 with a filter of ones: every pixel becomes a 2x2 block (nearest-neighbour upsampling)
        y = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
        up, _ = room.conv_transpose2d_forward(y, ones, np.array([0.5]), stride=2)
        np.testing.assert_array_equal(up[0, 0], np.kron(y[0, 0], np.ones((2, 2))) + 0.5)
        # padding cuts P rows and columns from each side; output_padding adds one back at the far edge
        cut, _ = room.conv_transpose2d_forward(y, ones, None, stride=2, padding=1, output_padding=1)
        np.testing.assert_array_equal(cut[0, 0], [[1, 2, 2], [3, 4, 4], [3, 4, 4]])
    assert cc.transposed_output_size(2, 2, 2) == 4 and cc.transposed_output_size(2, 2, 2, 1, 1) == 3


def test_grouped_convolution_by_hand():
    # two groups: filter 0 sees only channel 0 (all 1s), filter 1 only channel 1 (all 2s)
    x = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))])[None]
    w = np.array([10.0, 100.0]).reshape(2, 1, 1, 1)
    for room in (cc.naive, cc.fast):
        out, _ = room.conv2d_forward(x, w, np.array([1.0, 2.0]), groups=2)
        np.testing.assert_array_equal(out[0, 0], np.full((3, 3), 11.0))
        np.testing.assert_array_equal(out[0, 1], np.full((3, 3), 202.0))
    assert cc.conv_num_params(3, 32, 32, groups=32) == (3 * 3 * 1 + 1) * 32  # depthwise


def test_one_by_one_convolution_is_a_matrix_product_per_pixel():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((2, 6, 4, 5)), rng.standard_normal((3, 6, 1, 1)), rng.standard_normal(3)
    expected = np.einsum("kd,ndhw->nkhw", w[:, :, 0, 0], x) + b[:, None, None]
    for room in (cc.naive, cc.fast):
        out, _ = room.conv2d_forward(x, w, b)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_non_square_filter_stride_and_padding_by_hand():
    # a 1x3 filter [1, 0, -1] with stride (1, 2), padding (0, 1): horizontal differences x[c-1] - x[c+1]
    x = np.arange(12, dtype=float).reshape(1, 1, 3, 4)
    w = np.array([1.0, 0.0, -1.0]).reshape(1, 1, 1, 3)
    for room in (cc.naive, cc.fast):
        out, _ = room.conv2d_forward(x, w, None, stride=(1, 2), padding=(0, 1), rounding="floor")
        # columns c = 0, 2 of the padded row [0, x0, x1, x2, x3, 0]: 0 - x1, x1 - x3
        np.testing.assert_array_equal(out[0, 0], [[-1, -2], [-5, -2], [-9, -2]])


def test_pool_ceil_and_padding_by_hand():
    x = np.arange(25, dtype=float).reshape(1, 1, 5, 5)
    for room in (cc.naive, cc.fast):
        mx, _ = room.pool2d_forward(x, 2, 2, "max", ceil_mode=True)  # (5 - 2)/2 + 1 = 2.5 -> 3 windows
        np.testing.assert_array_equal(mx[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
        avg, _ = room.pool2d_forward(x, 2, 2, "avg", rounding="ceil")
        assert avg[0, 0, 0, 2] == (4 + 9) / 2  # the edge window holds 2 cells: divide by 2, not 4
        assert avg[0, 0, 2, 2] == 24
        floor, _ = room.pool2d_forward(x, 2, 2, "max", rounding="floor")
        np.testing.assert_array_equal(floor[0, 0], [[6, 8], [16, 18]])
        padded, _ = room.pool2d_forward(np.ones((1, 1, 3, 3)), 3, 1, "avg", padding=1)
        assert padded[0, 0, 0, 0] == 4 / 9 and padded[0, 0, 1, 1] == 1  # zeros of the padding count (PyTorch)
        neg, _ = room.pool2d_forward(-np.ones((1, 1, 3, 3)), 3, 1, "max", padding=1)
        np.testing.assert_array_equal(neg, -1)  # a padded cell never wins a max
    with pytest.raises(ValueError, match=r"\(5 \+ 2\*0 - 2\) / 2 \+ 1 = 2.50"):  # strict stays the default
        cc.pool2d_forward(x, 2, 2)


def _loss_and_gradients(forward, backward_grads, arrays, dout):
    """Numerical gradients of sum(forward() * dout) w.r.t. each array, next to the analytic ones."""
    for a, analytic in zip(arrays, backward_grads):
        numeric = cc.numerical_gradient(lambda: float(np.sum(forward() * dout)), a)
        assert cc.rel_error(analytic, numeric) < 1e-6, (a.shape, cc.rel_error(analytic, numeric))


NEW_CONV_CASES = [  # (N, D, H, W), K, (Fh, Fw), stride, padding, dilation, groups
    ((2, 4, 7, 8), 6, (3, 2), (2, 1), (1, 2), (2, 1), 2),
    ((1, 3, 6, 6), 3, (3, 3), 1, 1, 2, 3),  # depthwise, dilated
    ((2, 2, 5, 7), 4, (1, 1), (1, 2), 0, 1, 1),  # 1x1, strided per axis
    ((1, 6, 9, 8), 4, (2, 3), (3, 2), (0, 1), (1, 2), 2),
    ((2, 4, 8, 8), 8, (3, 3), 1, (2, 0), 3, 4),
    ((2, 4, 9, 8), 8, (3, 2), (2, 3), (1, 1), (1, 2), 4),  # depthwise, strided: the phases path
    ((1, 3, 9, 9), 3, (3, 3), 2, 1, 2, 3),  # depthwise, strided and dilated
]


@pytest.mark.parametrize("shape, k, f, s, p, dil, g", NEW_CONV_CASES)
def test_conv_options_naive_gradients_match_finite_differences(shape, k, f, s, p, dil, g):
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal(shape), rng.standard_normal((k, shape[1] // g, *f)), rng.standard_normal(k)
    out = cc.conv2d_naive(x, w, b, s, p, dil, g, "floor")
    dout = rng.standard_normal(out.shape)
    grads = cc.conv2d_backward_naive(dout, x, w, s, p, dil, g, "floor")
    _loss_and_gradients(lambda: cc.conv2d_naive(x, w, b, s, p, dil, g, "floor"), grads, (x, w, b), dout)


@pytest.mark.parametrize("shape, k, f, s, p, dil, g", NEW_CONV_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_options_fast_equals_naive(shape, k, f, s, p, dil, g, dtype):
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((k, shape[1] // g, *f)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-4
    out, cache = cc.fast.conv2d_forward(x, w, b, s, p, dil, g, "floor")
    out_n, cache_n = cc.naive.conv2d_forward(x, w, b, s, p, dil, g, "floor")
    assert out.dtype == dtype
    np.testing.assert_allclose(out, out_n, rtol=tol, atol=tol)
    dout = rng.standard_normal(out.shape).astype(dtype)
    for fast, naive in zip(cc.fast.conv2d_backward(dout, cache), cc.naive.conv2d_backward(dout, cache_n)):
        assert fast.dtype == dtype and fast.shape == naive.shape
        np.testing.assert_allclose(fast, naive, rtol=tol, atol=tol)


TRANSPOSED_CASES = [  # (N, D, H, W), K, (Fh, Fw), stride, padding, output_padding, dilation, groups
    ((2, 3, 4, 5), 2, (3, 3), 2, 1, 1, 1, 1),
    ((1, 4, 3, 3), 6, (2, 3), (2, 3), (0, 1), (1, 2), (2, 1), 2),
    ((2, 4, 5, 4), 4, (3, 3), 1, 1, 0, 2, 4),  # depthwise, dilated
    ((1, 2, 3, 4), 3, (1, 1), 3, 0, 2, 1, 1),  # 1x1, upsampling by 3
]


@pytest.mark.parametrize("shape, k, f, s, p, op, dil, g", TRANSPOSED_CASES)
def test_conv_transpose_naive_gradients_match_finite_differences(shape, k, f, s, p, op, dil, g):
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal(shape), rng.standard_normal((shape[1], k // g, *f)), rng.standard_normal(k)
    out = cc.conv_transpose2d_naive(x, w, b, s, p, op, dil, g)
    dout = rng.standard_normal(out.shape)
    grads = cc.conv_transpose2d_backward_naive(dout, x, w, s, p, op, dil, g)
    _loss_and_gradients(lambda: cc.conv_transpose2d_naive(x, w, b, s, p, op, dil, g), grads, (x, w, b), dout)


@pytest.mark.parametrize("shape, k, f, s, p, op, dil, g", TRANSPOSED_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_transpose_fast_equals_naive(shape, k, f, s, p, op, dil, g, dtype):
    rng = np.random.default_rng(10)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((shape[1], k // g, *f)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-4
    out, cache = cc.fast.conv_transpose2d_forward(x, w, b, s, p, op, dil, g)
    out_n, cache_n = cc.naive.conv_transpose2d_forward(x, w, b, s, p, op, dil, g)
    assert out.dtype == dtype and out.shape == out_n.shape
    np.testing.assert_allclose(out, out_n, rtol=tol, atol=tol)
    dout = rng.standard_normal(out.shape).astype(dtype)
    for fast, naive in zip(cc.fast.conv_transpose2d_backward(dout, cache), cc.naive.conv_transpose2d_backward(dout, cache_n)):
        assert fast.dtype == dtype and fast.shape == naive.shape
        np.testing.assert_allclose(fast, naive, rtol=tol, atol=tol)


@pytest.mark.parametrize("shape, k, f, s, p, op, dil, g", TRANSPOSED_CASES)
def test_conv_transpose_is_the_input_gradient_of_the_convolution_exactly(shape, k, f, s, p, op, dil, g):
    # conv2d with input y of the transposed output's shape and K = D filters of depth K/G
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal(shape), rng.standard_normal((shape[1], k // g, *f))
    for room in (cc.fast, cc.naive):
        out, _ = room.conv_transpose2d_forward(x, w, None, s, p, op, dil, g)
        y = rng.standard_normal(out.shape)
        conv_out, conv_cache = room.conv2d_forward(y, w, None, s, p, dil, g, "floor")
        assert conv_out.shape == x.shape  # the convolution maps the transposed output's size back
        dx = room.conv2d_backward(x, conv_cache)[0]
        # equal to the last bit: fast runs the same code; the loops do the same additions in the same order
        assert np.array_equal(out, dx)


@pytest.mark.parametrize(
    "input_shape, k, f, s, p, dil, g",
    [
        ((2, 5, 5), 3, 3, 2, 1, 1, 1),
        ((3, 6, 7), 2, (2, 3), 1, 0, 1, 1),
        ((1, 4, 4), 1, 2, 2, 0, 1, 1),
        ((2, 7, 7), 2, 3, 1, 2, 2, 1),  # dilated
        ((4, 5, 7), 6, (3, 2), (2, 1), 1, (1, 2), 2),  # grouped, per-axis, dilated columns
        ((3, 5, 5), 6, 3, 2, 1, 1, 3),  # depthwise, multiplier 2
    ],
)
def test_conv_transpose_is_the_transpose_of_the_conv_matrix(input_shape, k, f, s, p, dil, g):
    # connectivity.conv_matrix(w, (D, H, W)) is the convolution as an (K*H2*W2, D*H*W) matrix M;
    # the transposed convolution with the same w (and stride, padding, dilation, groups) computes M^T @ x
    rng = np.random.default_rng(12)
    fh, fw = (f, f) if isinstance(f, int) else f
    w = rng.standard_normal((k, input_shape[0] // g, fh, fw))
    m, _ = cc.conv_matrix(w, input_shape, s, p, dilation=dil, groups=g)
    k_, h2, w2 = cc.conv_output_shape(input_shape, k, (fh, fw), s, p, dil)
    x = rng.standard_normal((1, k_, h2, w2))
    expected = (m.T @ x.ravel()).reshape(input_shape)
    for room in (cc.fast, cc.naive):
        out, _ = room.conv_transpose2d_forward(x, w, None, s, p, dilation=dil, groups=g)
        assert out.shape[1:] == input_shape
        np.testing.assert_allclose(out[0], expected, rtol=1e-12, atol=1e-12)


NEW_POOL_CASES = [  # (N, D, H, W), F, S, padding, rounding
    ((2, 3, 5, 5), 2, 2, 0, "ceil"),
    ((1, 2, 7, 6), 3, 2, 1, "ceil"),
    ((2, 2, 8, 7), (3, 2), (2, 1), (1, 1), "floor"),
    ((1, 3, 7, 7), 3, 3, 1, "strict"),
    ((2, 1, 9, 4), 4, 3, 2, "ceil"),
]


@pytest.mark.parametrize("shape, f, s, p, rounding", NEW_POOL_CASES)
@pytest.mark.parametrize("mode", ["max", "avg", "l2"])
def test_pool_padding_and_rounding_naive_gradients_and_fast(shape, f, s, p, rounding, mode):
    rng = np.random.default_rng(13)
    x = rng.standard_normal(shape)
    out = cc.pool2d_naive(x, f, s, mode, p, rounding=rounding)
    dout = rng.standard_normal(out.shape)
    dx = cc.pool2d_backward_naive(dout, x, f, s, mode, p, rounding=rounding)
    _loss_and_gradients(lambda: cc.pool2d_naive(x, f, s, mode, p, rounding=rounding), [dx], [x], dout)
    fast_out, cache = cc.fast.pool2d_forward(x, f, s, mode, p, rounding == "ceil", "floor" if rounding == "floor" else "strict")
    np.testing.assert_allclose(fast_out, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cc.fast.pool2d_backward(dout, cache), dx, rtol=1e-12, atol=1e-12)


def test_depthwise_split_over_threads_equals_naive(monkeypatch):
    # large depthwise passes are shared out over threads by channel; force it on a small case
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(cc.fast, "PARALLEL_ELEMENTS", 0)
    rng = np.random.default_rng(14)
    x, w, b = rng.standard_normal((2, 5, 7, 6)), rng.standard_normal((10, 1, 3, 2)), rng.standard_normal(10)
    with threadpoolctl.threadpool_limits(3, user_api="blas"):
        if cc.fast._blas():
            parts = cc.fast._channel_parts(5, 1)
            assert len(parts) == 3 and [p.start for p in parts] == [0, 1, 3] and parts[-1].stop == 5
        for s in (1, 2):
            out, cache = cc.fast.conv2d_forward(x, w, b, s, 1, (1, 2), 5, "floor")
            out_n, cache_n = cc.naive.conv2d_forward(x, w, b, s, 1, (1, 2), 5, "floor")
            np.testing.assert_allclose(out, out_n, rtol=1e-12, atol=1e-12)
            dout = rng.standard_normal(out.shape)
            for got, expected in zip(cc.fast.conv2d_backward(dout, cache), cc.naive.conv2d_backward(dout, cache_n)):
                np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_padded_max_pool_of_minus_inf_sends_the_gradient_to_an_input_cell():
    # a window of -inf input cells and -inf padding: its gradient goes to its first input cell (PyTorch, naive)
    x = np.full((1, 1, 3, 3), -np.inf)
    dout = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 0, 0], expected[0, 0, 0, 1], expected[0, 0, 1, 0], expected[0, 0, 1, 1] = 1, 2, 3, 4
    for room in (cc.naive, cc.fast):
        out, cache = room.pool2d_forward(x, 2, 2, "max", 1, rounding="floor")
        assert np.all(out == -np.inf)
        np.testing.assert_array_equal(room.pool2d_backward(dout, cache), expected)
