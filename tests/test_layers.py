"""Every layer's backward against central finite differences (float64, rel. error < 1e-6)."""

import numpy as np
import pytest

import cnn_core as cc
from cnn_core import check_layer

GRADCHECK_CASES = [
    (lambda: cc.Conv2D(3, 4, 3, stride=1, padding=0, rng=0), (2, 3, 7, 7)),
    (lambda: cc.Conv2D(3, 2, 3, stride=2, padding=1, rng=1), (2, 3, 7, 9)),  # stride 2, padding, non-square
    (lambda: cc.Conv2D(2, 3, 5, stride=1, padding=2, rng=2), (1, 2, 6, 5)),
    (lambda: cc.MaxPool2D(2), (2, 3, 6, 8)),
    (lambda: cc.MaxPool2D(3, stride=2), (2, 2, 7, 9)),
    (lambda: cc.AvgPool2D(2), (2, 3, 6, 8)),
    (lambda: cc.AvgPool2D(3, stride=1), (1, 2, 5, 7)),
    (lambda: cc.L2Pool2D(2), (2, 3, 6, 8)),
    (lambda: cc.L2Pool2D(3, stride=2), (1, 2, 7, 9)),
    (lambda: cc.Conv2D(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2, rng=6), (2, 4, 7, 8)),
    (lambda: cc.Conv2D(3, 3, 3, padding=2, dilation=2, groups=3, rng=7), (1, 3, 5, 6)),  # depthwise, dilated
    (lambda: cc.Conv2D(2, 3, 3, stride=2, rounding="floor", rng=8), (2, 2, 8, 6)),  # (8 - 3)/2 is not whole: floor
    (lambda: cc.ConvTranspose2D(3, 2, 3, stride=2, padding=1, output_padding=1, rng=9), (2, 3, 3, 4)),
    (lambda: cc.ConvTranspose2D(4, 6, (2, 3), stride=(1, 2), dilation=(2, 1), groups=2, rng=10), (1, 4, 3, 3)),
    (lambda: cc.MaxPool2D(3, stride=2, padding=1, ceil_mode=True), (2, 2, 6, 7)),
    (lambda: cc.AvgPool2D((2, 3), stride=2, padding=1, ceil_mode=True), (1, 2, 5, 6)),
    (lambda: cc.L2Pool2D(2, rounding="floor"), (1, 2, 5, 7)),
    (lambda: cc.ReLU(), (3, 2, 4, 5)),
    (lambda: cc.Sigmoid(), (4, 6)),
    (lambda: cc.Flatten(), (2, 3, 4, 5)),
    (lambda: cc.Linear(6, 4, rng=3), (5, 6)),
    (
        lambda: cc.Sequential(
            [cc.Conv2D(2, 3, 3, padding=1, rng=4), cc.ReLU(), cc.MaxPool2D(2), cc.Flatten(), cc.Linear(3 * 3 * 4, 5, rng=5)]
        ),
        (2, 2, 6, 8),
    ),
]


@pytest.mark.parametrize(
    "make, shape", GRADCHECK_CASES, ids=[f"{type(make()).__name__}-{i}" for i, (make, _) in enumerate(GRADCHECK_CASES)]
)
def test_backward_matches_numerical_gradient(make, shape):
    layer = make()
    x = np.random.default_rng(42).standard_normal(shape)
    errors = check_layer(layer, x)
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < 1e-6, errors


def test_gradient_check_catches_a_broken_backward():
    """The check can fail: a conv whose weight gradient is off by 1% is caught."""
    layer = cc.Conv2D(2, 2, 3, rng=0)
    original = layer.backward

    def broken(dy):
        dx = original(dy)
        layer.grads["W"] *= 1.01
        return dx

    layer.backward = broken
    errors = check_layer(layer, np.random.default_rng(0).standard_normal((1, 2, 5, 5)))
    assert errors["W"] > 1e-3 and errors["x"] < 1e-6


def test_conv_param_shapes_and_count():
    conv = cc.Conv2D(3, 10, 5, stride=1, padding=2)
    assert conv.params["W"].shape == (10, 3, 5, 5) and conv.params["b"].shape == (10,)
    assert cc.num_params(conv) == 760
    assert conv.forward(np.zeros((2, 3, 32, 32))).shape == (2, 10, 32, 32)
    assert conv.output_shape((3, 32, 32)) == (10, 32, 32)


def test_layers_without_parameters_have_empty_dicts():
    for layer in [cc.ReLU(), cc.Flatten(), cc.MaxPool2D(2), cc.AvgPool2D(2), cc.L2Pool2D(2)]:
        assert layer.params == {} and layer.grads == {} and cc.num_params(layer) == 0


def test_pool_stride_defaults_to_kernel_size():
    assert cc.MaxPool2D(3).stride == 3
    assert cc.MaxPool2D(2).forward(np.zeros((1, 4, 32, 32))).shape == (1, 4, 16, 16)


def test_linear_shapes():
    fc = cc.Linear(3072, 10)
    assert fc.params["W"].shape == (10, 3072)
    assert fc.forward(np.zeros((4, 3072))).shape == (4, 10)


def test_he_initialisation_scale_and_seed():
    a, b = cc.Conv2D(16, 32, 3, rng=7), cc.Conv2D(16, 32, 3, rng=7)
    np.testing.assert_array_equal(a.params["W"], b.params["W"])
    assert abs(a.params["W"].std() - np.sqrt(2 / (16 * 9))) < 0.01
    assert not np.array_equal(a.params["W"], cc.Conv2D(16, 32, 3, rng=8).params["W"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_end_to_end(dtype):
    net = cc.Sequential(
        [
            cc.Conv2D(1, 2, 3, padding=1, rng=0, dtype=dtype),
            cc.ReLU(),
            cc.MaxPool2D(2),
            cc.Flatten(),
            cc.Linear(2 * 4 * 4, 3, rng=1, dtype=dtype),
        ]
    )
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(dtype)
    out = net.forward(x)
    dx = net.backward(np.ones_like(out))
    assert out.dtype == dtype and dx.dtype == dtype
    assert all(g.dtype == dtype for g in net.grads.values())


@pytest.mark.parametrize(
    "layer, x, match",
    [
        (cc.Conv2D(3, 4, 3), np.zeros((1, 1, 7, 7)), r"Conv2D expects input depth D=3 \(axis 1 of \(N, D, H, W\)\), got 1"),
        (cc.Conv2D(3, 4, 3), np.zeros((3, 7, 7)), r"Conv2D expects a 4-D input \(N, D, H, W\), got shape \(3, 7, 7\)"),
        (cc.Conv2D(1, 1, 3, stride=3), np.zeros((1, 1, 7, 7)), r"\(7 \+ 2\*0 - 3\) / 3 \+ 1 = 2.33"),
        (cc.Linear(10, 2), np.zeros((1, 12)), r"Linear expects in_features=10 .*got 12"),
        (cc.Linear(12, 2), np.zeros((1, 3, 2, 2)), r"add a Flatten\(\) before it"),
        (cc.MaxPool2D(2), np.zeros((1, 1, 5, 5)), "does not fit"),
    ],
)
def test_bad_input_messages(layer, x, match):
    with pytest.raises(ValueError, match=match):
        layer.forward(x)


def test_backward_before_forward_says_so():
    with pytest.raises(RuntimeError, match="before forward"):
        cc.Conv2D(1, 1, 3).backward(np.zeros((1, 1, 5, 5)))


# ---------------------------------------------------------------- two rooms, one contract


@pytest.mark.parametrize(
    "make",
    [
        lambda kernels: cc.Conv2D(2, 3, 3, stride=2, padding=1, rng=0, kernels=kernels),
        lambda kernels: cc.MaxPool2D(2, kernels=kernels),
        lambda kernels: cc.AvgPool2D(3, stride=1, kernels=kernels),
        lambda kernels: cc.L2Pool2D(2, kernels=kernels),
        lambda kernels: cc.Conv2D(2, 4, (3, 1), stride=(1, 2), padding=1, dilation=2, groups=2, rng=0, kernels=kernels),
        lambda kernels: cc.ConvTranspose2D(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2, rng=0, kernels=kernels),
        lambda kernels: cc.MaxPool2D(3, stride=2, padding=1, ceil_mode=True, kernels=kernels),
        lambda kernels: cc.AvgPool2D(2, padding=1, rounding="ceil", kernels=kernels),
    ],
)
def test_a_layer_runs_the_lecture_loops_or_the_fast_kernels_with_the_same_results(make):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 7, 7)) if "Conv" in repr(make("fast")) else rng.standard_normal((2, 2, 6, 6))
    fast_layer, naive_layer = make("fast"), make("naive")
    if fast_layer.params:
        naive_layer.params = {k: v.copy() for k, v in fast_layer.params.items()}
    y = fast_layer.forward(x)
    np.testing.assert_allclose(naive_layer.forward(x), y, rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(naive_layer.backward(dy), fast_layer.backward(dy), rtol=1e-12, atol=1e-12)
    for name in fast_layer.grads:
        np.testing.assert_allclose(naive_layer.grads[name], fast_layer.grads[name], rtol=1e-12, atol=1e-12)


def test_naive_and_fast_modules_share_names_and_contract():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    for room in (cc.naive, cc.fast):
        out, cache = room.conv2d_forward(x, w, b, 1, 1)
        dx, dw, db = room.conv2d_backward(np.ones_like(out), cache)
        assert out.shape == (1, 3, 5, 5) and dx.shape == x.shape and dw.shape == w.shape and db.shape == (3,)
        p, pcache = room.pool2d_forward(x, 2, 1, "max")
        assert room.pool2d_backward(np.ones_like(p), pcache).shape == x.shape
    assert "kernels='naive'" in repr(cc.Conv2D(1, 1, 3, kernels="naive"))


def test_an_unknown_kernel_room_is_refused():
    with pytest.raises(ValueError, match="kernels must be 'fast' \\(im2col, the default\\) or 'naive'"):
        cc.Conv2D(1, 1, 3, kernels="gpu")
    with pytest.raises(ValueError, match="MaxPool2D: kernels must be"):
        cc.MaxPool2D(2, kernels="slow")


# ---------------------------------------------------------------- options beyond the lecture (issue 15)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (cc.Conv2D(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2, rng=0), (4, 7, 8)),
        (cc.Conv2D(3, 2, 3, stride=2, rounding="floor", rng=0), (3, 8, 6)),
        (cc.ConvTranspose2D(3, 2, 3, stride=2, padding=1, output_padding=1, rng=0), (3, 3, 4)),
        (cc.ConvTranspose2D(4, 6, (2, 3), stride=(1, 2), dilation=(2, 1), groups=2, rng=0), (4, 3, 3)),
        (cc.MaxPool2D(3, stride=2, padding=1, ceil_mode=True), (2, 6, 7)),
        (cc.AvgPool2D((2, 3), stride=2, rounding="floor"), (2, 5, 7)),
    ],
    ids=repr,
)
def test_output_shape_is_what_forward_returns(layer, shape):
    assert layer.forward(np.zeros((2, *shape))).shape == (2, *layer.output_shape(shape))


def test_conv_transpose_layer_params_and_repr():
    layer = cc.ConvTranspose2D(8, 4, 4, stride=2, padding=1, groups=2, rng=0)
    assert layer.params["W"].shape == (8, 2, 4, 4) and layer.params["b"].shape == (4,)  # (D, K/G, F, F)
    assert layer.num_params() == cc.conv_num_params(4, 4, 8, bias=False, groups=2) + 4
    assert layer.output_shape((8, 16, 16)) == (4, 32, 32)  # the classic 2x upsampling: F=4, S=2, P=1
    assert repr(layer) == "ConvTranspose2D(8, 4, kernel_size=4, stride=2, padding=1, groups=2)"


def test_conv_layer_options_in_params_and_repr():
    layer = cc.Conv2D(6, 6, (3, 5), padding=(1, 2), dilation=2, groups=6, rng=0)
    assert layer.params["W"].shape == (6, 1, 3, 5)  # depthwise: one 3x5 filter per channel
    assert layer.num_params() == cc.conv_num_params((3, 5), 6, 6, groups=6) == (3 * 5 + 1) * 6
    assert repr(layer) == "Conv2D(6, 6, kernel_size=(3, 5), stride=1, padding=(1, 2), dilation=2, groups=6)"
    assert repr(cc.Conv2D(3, 8, 3, padding=1)) == "Conv2D(3, 8, kernel_size=3, stride=1, padding=1)"  # unchanged
    assert repr(cc.MaxPool2D(3, 2, padding=1, ceil_mode=True)) == "MaxPool2D(kernel_size=3, stride=2, padding=1, ceil_mode=True)"
    assert repr(cc.MaxPool2D(2)) == "MaxPool2D(kernel_size=2, stride=2)"  # unchanged
