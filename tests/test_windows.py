"""Window positions along an axis, cropping to fit, and the shift measurements of pooling."""

import itertools

import numpy as np
import pytest

from cnn_core import output_size, pool2d_forward
from cnn_core.data import shift
from cnn_core.windows import (
    coverage,
    crop_to_fit,
    fraction_unchanged,
    hanging_start,
    leftover,
    shift_change,
    shift_invariance,
    stack_sizes,
    window_starts,
)


def test_lecture_7x7_3x3_positions():
    assert window_starts(7, 3, 1) == [0, 1, 2, 3, 4]  # 5x5 output
    assert window_starts(7, 3, 2) == [0, 2, 4]  # 3x3 output
    assert window_starts(7, 3, 3) == [0, 3]  # the third would start at 6...
    assert leftover(7, 3, 3) == 1 and hanging_start(7, 3, 3) == 6  # ...and hang 2 cells off the edge
    assert leftover(7, 3, 2) == 0 and hanging_start(7, 3, 2) is None
    assert window_starts(7, 3, 1, padding=1) == list(range(7))  # pad 1: 7x7 output
    assert window_starts(7, 3, 3, padding=1) == [0, 3, 6] and hanging_start(7, 3, 3, 1) is None


def test_positions_agree_with_output_size_everywhere():
    for n, f, s, p in itertools.product(range(1, 12), range(1, 8), range(1, 5), range(0, 3)):
        if f > n + 2 * p:
            with pytest.raises(ValueError, match="larger than the padded input"):
                window_starts(n, f, s, p)
            assert leftover(n, f, s, p) == n + 2 * p and hanging_start(n, f, s, p) == 0
            continue
        starts = window_starts(n, f, s, p)
        assert starts[-1] + f <= n + 2 * p  # every window is inside
        if leftover(n, f, s, p) == 0:
            assert len(starts) == output_size(n, f, s, p) and starts[-1] + f == n + 2 * p
        else:
            with pytest.raises(ValueError, match="does not fit"):
                output_size(n, f, s, p)
            assert n + 2 * p - (starts[-1] + f) == leftover(n, f, s, p)  # cells never reached
            assert hanging_start(n, f, s, p) + f > n + 2 * p  # the next one hangs off


def test_coverage_border_vs_centre():
    c = coverage(32, 5)
    assert c[0] == 1 and c[1] == 2 and c[16] == 5 and c.sum() == 28 * 5
    assert np.outer(c, c)[0, 0] == 1 and np.outer(c, c)[16, 16] == 25
    assert coverage(32, 5, padding=2)[0] == 3 and coverage(7, 3, 2).tolist() == [1, 1, 2, 1, 2, 1, 1]


def test_crop_to_fit_cat_sizes():
    x = np.zeros((1, 1, 300, 451))
    assert crop_to_fit(x, 2, 2).shape == (1, 1, 300, 450)
    assert crop_to_fit(x, 3, 2).shape == (1, 1, 299, 451)
    assert crop_to_fit(x, 3, 3).shape == (1, 1, 300, 450)
    y = crop_to_fit(x, 3, 2)
    assert output_size(y.shape[2], 3, 2) == 149 and output_size(y.shape[3], 3, 2) == 225
    with pytest.raises(ValueError, match="larger than"):
        crop_to_fit(np.zeros((4, 4)), 5, 1)


def test_fraction_unchanged_by_hand():
    a, b = np.array([0.0, 1, 2, 0]), np.array([0.0, 1, 3, 5])
    assert fraction_unchanged(a, b) == pytest.approx(1 / 3)  # 0 vs 0 ignored
    assert fraction_unchanged(a, b, active_only=False) == 0.5
    assert fraction_unchanged(a, b, mask=np.array([1, 1, 0, 0], bool)) == 1.0
    with pytest.raises(ValueError, match="nothing to compare"):
        fraction_unchanged(np.zeros(3), np.zeros(3))


def test_shift_invariance_single_bright_pixel():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 2] = 1.0  # moves to column 3: still inside the same 2x2 window
    assert shift_invariance(x, 2, 2, "max", 0, 1) == 1.0
    assert shift_invariance(x, 1, 1, "max", 0, 1) == 0.0  # unpooled: both pixels changed
    assert shift_invariance(x, 2, 2, "avg", 0, 1) == 1.0  # same sum in the same window
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 1] = 1.0  # moves to column 2: into the next window
    assert shift_invariance(x, 2, 2, "max", 0, 1) == 0.0


def test_shift_change_is_zero_for_constant_maps_and_positive_otherwise():
    assert shift_change(np.ones((1, 2, 6, 6)), 2, 2, "max", 1, 1) == 0.0
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 2, 2] = 2.0
    # unpooled: |0 - 2| at (2,2) and |2 - 0| at (2,3), relative to the sum 2 -> 2
    assert shift_change(x, 1, 1, "max", 0, 1) == 2.0


def test_stride_two_pool_of_two_pixel_shift_is_a_one_cell_shift():
    x = np.random.default_rng(0).random((1, 1, 8, 8))
    a, _ = pool2d_forward(x, 2, 2, "max")
    b, _ = pool2d_forward(shift(x, 0, 2), 2, 2, "max")
    np.testing.assert_array_equal(b[..., 1:], a[..., :-1])


def test_stack_sizes_lecture_32_28_24():
    assert stack_sizes(32, 5, 2) == [32, 28, 24]
    assert stack_sizes(32, 5, 10) == [32, 28, 24, 20, 16, 12, 8, 4]  # stops: 5x5 on 4x4
    assert stack_sizes(32, 5, 4, padding=2) == [32] * 5
    assert stack_sizes(7, 3, 3, stride=3) == [7]  # stride 3 does not fit
