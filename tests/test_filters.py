"""Hand-made filters and apply_filter (which must run cnn_core's own convolution)."""

import numpy as np
import pytest
from scipy.signal import convolve2d, correlate2d

from cnn_core import filters as flt
from cnn_core.filters import (
    KERNELS,
    apply_filter,
    as_conv_weights,
    box_kernel,
    color_filter_bank,
    convolve,
    flip,
    gaussian_kernel,
    is_signed,
    kernel,
)


@pytest.fixture
def img():
    rng = np.random.default_rng(0)
    return rng.random((9, 11))


def test_named_kernels_sum_as_documented():
    for name in ["identity", "box blur", "Gaussian blur", "sharpen"]:
        assert np.isclose(KERNELS[name].sum(), 1.0), name
    for name in [
        "vertical edge (Sobel)",
        "horizontal edge (Sobel)",
        "vertical edge (Prewitt)",
        "horizontal edge (Prewitt)",
        "Laplacian (outline)",
    ]:
        assert KERNELS[name].sum() == 0 and is_signed(KERNELS[name]), name
    assert KERNELS["Gaussian blur"][1, 1] == 4 / 16 and KERNELS["Gaussian blur"][0, 0] == 1 / 16
    assert np.array_equal(KERNELS["horizontal edge (Sobel)"], KERNELS["vertical edge (Sobel)"].T)
    assert all(w.shape == (3, 3) and w.dtype == np.float64 for w in KERNELS.values())


def test_kernel_returns_a_writable_copy_and_names_the_choices():
    w = kernel("sharpen")
    w[1, 1] = 0
    assert KERNELS["sharpen"][1, 1] == 5
    with pytest.raises(ValueError, match="choose one of"):
        kernel("blurr")
    with pytest.raises(ValueError):
        KERNELS["sharpen"][0, 0] = 1


def test_box_and_gaussian_kernels():
    assert np.allclose(box_kernel(2), 0.25)
    g = gaussian_kernel(5, 1.0)
    assert g.shape == (5, 5) and np.isclose(g.sum(), 1) and g.argmax() == 12
    assert np.isclose(g[2, 3] / g[2, 2], np.exp(-0.5))  # one sigma from the centre
    assert np.allclose(g, g.T) and np.allclose(g, flip(g))
    with pytest.raises(ValueError):
        gaussian_kernel(3, 0)


def test_sobel_on_a_step_edge_by_hand():
    step = np.array([[0, 0, 1, 1]] * 3, dtype=float)  # brighter to the right
    out = apply_filter(step, KERNELS["vertical edge (Sobel)"])
    assert out.shape == (1, 2)
    assert np.array_equal(out, [[4.0, 4.0]])  # (1 + 2 + 1) * (1 - 0)
    assert np.array_equal(apply_filter(step, KERNELS["horizontal edge (Sobel)"]), [[0.0, 0.0]])


def test_apply_filter_is_cross_correlation_and_convolve_flips(img):
    w = np.arange(9.0).reshape(3, 3)
    assert np.allclose(apply_filter(img, w), correlate2d(img, w, mode="valid"))
    assert np.allclose(convolve(img, w), convolve2d(img, w, mode="valid"))
    assert np.array_equal(flip(w), w[::-1, ::-1])
    assert np.array_equal(flip(KERNELS["vertical edge (Sobel)"]), -KERNELS["vertical edge (Sobel)"])
    with pytest.raises(ValueError, match="one kernel"):
        convolve(img, np.zeros((2, 3, 3, 1)))


def test_apply_filter_stride_padding_bias(img):
    w = np.ones((3, 3))
    out = apply_filter(img, w, stride=2, padding=1, bias=0.5)
    assert out.shape == (5, 6)  # (9 + 2 - 3)/2 + 1, (11 + 2 - 3)/2 + 1
    assert np.isclose(out[0, 0], img[:2, :2].sum() + 0.5)  # corner window: 4 real pixels
    assert np.isclose(out[1, 1], img[1:4, 1:4].sum() + 0.5)
    with pytest.raises(ValueError, match="does not fit"):
        apply_filter(img, w, stride=3)


def test_apply_filter_uses_cnn_core_convolution(monkeypatch, img):
    calls = []
    real = flt.conv2d_forward

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(flt, "conv2d_forward", spy)
    apply_filter(img, KERNELS["box blur"])
    assert calls == [(1, 1, 9, 11)]


def test_colour_per_channel_full_depth_and_bank():
    rng = np.random.default_rng(1)
    rgb = rng.random((8, 10, 3))
    w2 = KERNELS["vertical edge (Sobel)"]
    per = apply_filter(rgb, w2)
    assert per.shape == (6, 8, 3)
    for ch in range(3):
        assert np.allclose(per[..., ch], correlate2d(rgb[..., ch], w2, mode="valid"))
    w3 = rng.standard_normal((3, 3, 3))
    full = apply_filter(rgb, w3, bias=1.0)
    assert full.shape == (6, 8)
    assert np.isclose(full[2, 5], np.sum(w3 * rgb[2:5, 5:8, :]) + 1.0)  # 27-dim dot product + bias
    bank = np.stack([w3, -w3])
    both = apply_filter(rgb, bank, bias=np.array([1.0, 0.0]))
    assert both.shape == (6, 8, 2)
    assert np.allclose(both[..., 0], full) and np.allclose(both[..., 1], -(full - 1.0))


def test_uint8_images_are_scaled():
    img = np.full((4, 4), 255, dtype=np.uint8)
    assert np.allclose(apply_filter(img, KERNELS["identity"]), 1.0)


def test_depth_mismatch_and_bad_shapes_are_explained():
    rgb = np.zeros((6, 6, 3))
    with pytest.raises(ValueError, match="full depth"):
        apply_filter(rgb, np.zeros((3, 3, 2)))
    with pytest.raises(ValueError, match="full depth"):
        apply_filter(np.zeros((6, 6)), np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match="square"):
        as_conv_weights(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\(F, F\)"):
        as_conv_weights(np.zeros(3))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        apply_filter(np.zeros((1, 3, 6, 6)), np.zeros((3, 3)))


def test_as_conv_weights_layouts():
    w = np.arange(2 * 3 * 3 * 4.0).reshape(2, 3, 3, 4)  # (K, F, F, D)
    out = as_conv_weights(w)
    assert out.shape == (2, 4, 3, 3) and out[1, 2, 0, 1] == w[1, 0, 1, 2]
    assert as_conv_weights(w[0]).shape == (1, 4, 3, 3)
    assert as_conv_weights(np.ones((5, 5))).shape == (1, 1, 5, 5)


def test_color_filter_bank():
    bank = color_filter_bank(5)
    assert len(bank) == 6 and all(w.shape == (5, 5, 3) for w in bank.values())
    ramp = bank["vertical edge"]
    assert np.allclose(ramp[..., 0], ramp[..., 1]) and np.isclose(ramp.sum(), 0)
    assert np.allclose(bank["horizontal edge"][..., 0], ramp[..., 0].T)
    assert np.isclose(bank["blur (brightness)"].sum(), 1)
    # colour-opponent filters: zero on grey (equal R, G, B), positive on red / blue
    grey = np.full((5, 5, 3), 0.5)
    red = np.zeros((5, 5, 3))
    red[..., 0] = 1
    blue = np.zeros((5, 5, 3))
    blue[..., 2] = 1
    assert np.isclose(apply_filter(grey, bank["red vs green"])[0, 0], 0)
    assert np.isclose(apply_filter(grey, bank["blue vs yellow"])[0, 0], 0)
    assert apply_filter(red, bank["red vs green"])[0, 0] > 0.9
    assert apply_filter(blue, bank["blue vs yellow"])[0, 0] > 0.9
    # vertical edge: a step brighter to the right gives a positive response
    step = np.zeros((5, 5, 3))
    step[:, 3:] = 1
    assert apply_filter(step, ramp)[0, 0] > 0 and apply_filter(step[:, ::-1], ramp)[0, 0] < 0
