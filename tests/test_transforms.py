import numpy as np
import pytest

from cnn_core import data
from cnn_core import transforms as T

SMALL = np.arange(1, 13, dtype=np.float64).reshape(3, 4) / 12  # a float image in (0, 1]


def test_translate_integer_shift_is_exact_and_matches_data_shift():
    x = np.arange(1, 10, dtype=np.float64).reshape(3, 3)
    np.testing.assert_allclose(T.translate(x, 1, 0, mode="constant"), [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    np.testing.assert_allclose(T.translate(x, 0, -1, mode="nearest"), [[2, 3, 3], [5, 6, 6], [8, 9, 9]])
    digits = data.load_digits()[0][:5, 0]
    for img in digits:
        np.testing.assert_allclose(T.translate(img, 2, -1, mode="constant"), data.shift(img, 2, -1), atol=1e-12)


def test_translate_by_half_a_pixel_interpolates():
    x = np.array([[0.0, 1.0, 0.0]])
    np.testing.assert_allclose(T.translate(x, 0, 0.5, mode="constant"), [[0.0, 0.5, 0.5]])


def test_uint8_in_uint8_out_with_rounding_and_clipping():
    img = np.array([[10, 200], [250, 3]], dtype=np.uint8)
    out = T.brightness(img, 1.5)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[15, 255], [255, 4]])  # 4.5 rounds to even 4, 300 and 375 clip
    assert T.brightness(SMALL, 2.0).max() == 1.0  # floats clip at white = 1


def test_rotate_quarter_turn_is_rot90_counter_clockwise():
    x = np.arange(16, dtype=np.float64).reshape(4, 4)
    np.testing.assert_allclose(T.rotate(x, 90), np.rot90(x), atol=1e-9)
    np.testing.assert_allclose(T.rotate(x, 0), x)


def test_zoom_and_flip():
    x = np.arange(9, dtype=np.float64).reshape(3, 3)
    np.testing.assert_allclose(T.zoom(x, 1.0), x)
    assert T.zoom(x, 1e9)[0, 0] == pytest.approx(4.0)  # infinite zoom sees only the centre pixel
    np.testing.assert_array_equal(T.flip(x), x[:, ::-1])
    with pytest.raises(ValueError, match="> 0"):
        T.zoom(x, 0)


def test_gamma_and_shadow_values():
    img = np.array([[0, 64, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(T.gamma(img, 2.0), [[0, 16, 255]])  # 255 * (64/255)^2 = 16.06
    light = T.shadow_mask((5, 101), 0.8, angle=0, position=0.5, softness=0.01)
    assert light[:, 0] == pytest.approx(1.0) and light[:, -1] == pytest.approx(0.2)
    assert light[0, 50] == pytest.approx(0.6)  # half way across the edge
    out = T.shadow(np.full((5, 101, 3), 100, dtype=np.uint8), 0.8, angle=0, softness=0.01)
    assert out[0, 0, 0] == 100 and out[0, -1, 0] == 20


def test_elastic_is_deterministic_smooth_and_bounded():
    dy, dx = T.displacement_field((60, 80), alpha=5.0, sigma=8.0, seed=3)
    assert max(np.abs(dy).max(), np.abs(dx).max()) == pytest.approx(5.0)
    assert np.abs(np.diff(dx, axis=1)).max() < 1.0  # neighbours move together
    cat = data.cat()[::4, ::4]
    a, b = T.elastic(cat, 6, 8, seed=1), T.elastic(cat, 6, 8, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, T.elastic(cat, 6, 8, seed=2))
    np.testing.assert_array_equal(T.elastic(cat, 0.0, 8), cat)


def test_occlude_fills_only_the_box():
    img = np.zeros((4, 5), dtype=np.uint8)
    out = T.occlude(img, 1, 2, 2, 3, fill=7)
    assert out.sum() == 7 * 6 and out[1:3, 2:5].min() == 7
    assert T.occlude(img, 0, 0, 1, 1)[0, 0] == 128  # default mid-grey of 0..255 (127.5 rounds to even)
    other = np.full((4, 5), 9, dtype=np.uint8)
    assert T.occlude(img, 0, 0, 2, 2, fill=other).sum() == 9 * 4
    with pytest.raises(ValueError, match="inside"):
        T.occlude(img, 3, 3, 2, 2)


def test_ellipse_mask_and_clutter():
    m = T.ellipse_mask((21, 41), center=(10, 20), radii=(5, 10), softness=0.1)
    assert m[10, 20] == 1.0 and m[0, 0] == 0.0 and m[10, 31] == 0.0 and m[10, 30] == pytest.approx(1.0)
    img = np.full((21, 41, 3), 200, dtype=np.uint8)
    bg = np.zeros((42, 82, 3), dtype=np.uint8)  # resized to the image's size
    out = T.clutter(img, bg, m, amount=1.0)
    assert out[10, 20, 0] == 200 and out[0, 0, 0] == 0
    assert T.clutter(img, bg, m, amount=0.5)[0, 0, 0] == 100
    np.testing.assert_array_equal(T.clutter(img, bg, m, 0.0), img)
    with pytest.raises(ValueError, match="mask"):
        T.clutter(img, bg, m[:5], 1.0)


def test_vary_strength_zero_is_identity_and_unknown_kind_is_named():
    cat = data.cat()[::6, ::6]
    mask = T.ellipse_mask(cat.shape, (25, 37), (20, 30))
    for kind in T.VARIATIONS:
        out = T.vary(cat, kind, 0.0, background=data.photo("brick"), mask=mask)
        assert out.shape == cat.shape and out.dtype == np.uint8
        assert T.pixel_distance(out, cat, "rms") < 0.5, kind
        assert T.pixel_distance(T.vary(cat, kind, 1.0, background=data.photo("brick"), mask=mask), cat) > 0, kind
    with pytest.raises(ValueError, match="choose one of"):
        T.vary(cat, "blur", 0.5)
    with pytest.raises(ValueError, match="mask"):
        T.vary(cat, "background clutter", 0.5)


def test_pixel_distance_values_and_uint8_wraparound():
    a = np.array([[3, 0]], dtype=np.uint8)
    b = np.array([[5, 4]], dtype=np.uint8)
    assert T.pixel_distance(a, b, "l1") == 6.0
    assert T.pixel_distance(a, b, "l2") == pytest.approx(np.sqrt(20))
    assert T.pixel_distance(a, b, "rms") == pytest.approx(np.sqrt(10))
    assert (a - b)[0, 0] == 254  # what the float conversion avoids
    assert T.changed_fraction(a, b, tol=2.5) == 0.5
    with pytest.raises(ValueError, match="same shape"):
        T.pixel_distance(a, b.T)


def test_nearest_neighbor_and_pairwise():
    A = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(T.pairwise_l2(A, A), [[0, 5], [5, 0]], atol=1e-7)
    labels = T.nearest_neighbor(A, np.array([7, 9]), np.array([[2.9, 4.2], [0.1, -0.1]]))
    np.testing.assert_array_equal(labels, [9, 7])


def test_batch_input_gets_a_hint():
    with pytest.raises(ValueError, match="transpose"):
        T.flip(np.zeros((1, 3, 4, 4)))


def test_permute_pixels_round_trip_and_channels_together():
    img = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    perm = np.array([5, 0, 1, 2, 3, 4])
    out = T.permute_pixels(img, perm)
    np.testing.assert_array_equal(out[0, 0], img[1, 2])  # position 0 takes pixel 5 = (row 1, col 2), all 3 channels
    np.testing.assert_array_equal(T.permute_pixels(out, perm, inverse=True), img)
    with pytest.raises(ValueError, match="permutation"):
        T.permute_pixels(img, [0, 0, 1, 2, 3, 4])


def test_to_unit_is_the_one_conversion_rule_of_the_pictures():
    from cnn_core.transforms import to_unit

    u8 = np.array([[0, 51, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(to_unit(u8), [[0.0, 0.2, 1.0]])
    f = np.array([[0.25, 2.0]])
    assert to_unit(f).dtype == np.float64 and np.array_equal(to_unit(f), f)  # floats as they are
    assert to_unit([[1, 2]]).dtype == np.float64  # ints (not uint8) unscaled
