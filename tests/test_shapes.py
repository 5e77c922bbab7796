"""The lecture's formulas, checked against the numbers the slides work out by hand."""

import pytest

from cnn_core import (
    conv_num_params,
    conv_output_shape,
    linear_num_params,
    output_size,
    receptive_field,
    same_padding,
    transposed_output_size,
)


@pytest.mark.parametrize("stride, expected", [(1, 5), (2, 3)])
def test_lecture_7x7_input_3x3_filter(stride, expected):
    assert output_size(7, 3, stride) == expected


def test_stride_3_does_not_fit_and_the_message_teaches():
    with pytest.raises(ValueError) as err:
        output_size(7, 3, stride=3)
    msg = str(err.value)
    assert "does not fit" in msg
    assert "(7 + 2*0 - 3) / 3 + 1 = 2.33" in msg  # the formula with the numbers, as on the slide
    assert "stride S=2 fits" in msg and "padding P=1 fits with stride 3" in msg  # what to do instead
    assert output_size(7, 3, stride=2) == 3 and output_size(7, 3, stride=3, padding=1) == 3  # the hints are true


def test_padding_one_keeps_7x7():
    assert output_size(7, 3, stride=1, padding=1) == 7


@pytest.mark.parametrize("f, p", [(3, 1), (5, 2), (7, 3)])
def test_same_padding_rule(f, p):
    assert same_padding(f) == p
    assert output_size(32, f, 1, same_padding(f)) == 32


def test_same_padding_rejects_even_filter():
    with pytest.raises(ValueError, match="even filter F=4"):
        same_padding(4)


def test_examples_time_32x32x3_ten_5x5_filters():
    assert conv_output_shape((3, 32, 32), out_channels=10, kernel_size=5, stride=1, padding=2) == (10, 32, 32)
    assert conv_num_params(5, 3, 1) == 5 * 5 * 3 + 1 == 76
    assert conv_num_params(5, 3, 10) == 760


def test_fully_connected_vs_shared_filter():
    # FC from 32x32x3 to 28x28 (no bias) vs one 5x5x3 filter shared everywhere
    assert linear_num_params(32 * 32 * 3, 28 * 28, bias=False) == 2_408_448
    assert conv_num_params(5, 3, 1, bias=False) == 75


def test_shrinking_without_padding():
    sizes = [32]
    for _ in range(2):
        sizes.append(output_size(sizes[-1], 5))
    assert sizes == [32, 28, 24]


def test_non_square_input():
    assert conv_output_shape((3, 32, 20), 4, 4, stride=2, padding=1) == (4, 16, 10)


@pytest.mark.parametrize(
    "args, match",
    [
        ((0, 3), "input size N must be >= 1"),
        ((7, 0), "filter size F must be >= 1"),
        ((7, 3, 0), "stride S must be >= 1"),
        ((7, 3, 1, -1), "padding P must be >= 0"),
        ((5, 7), r"filter F=7 is larger than the padded input N \+ 2P = 5 \+ 2\*0 = 5.*P >= 1"),
    ],
)
def test_bad_sizes_are_named(args, match):
    with pytest.raises(ValueError, match=match):
        output_size(*args)


def test_non_integer_size_is_a_type_error():
    with pytest.raises(TypeError, match="whole number"):
        output_size(7.5, 3)


def test_receptive_field_grows_with_depth():
    assert receptive_field([]) == 1
    assert receptive_field([(3, 1)]) == 3
    assert receptive_field([(3, 1)] * 2) == 5  # two 3x3 convs see 5x5
    assert receptive_field([(3, 1)] * 3) == 7
    assert receptive_field([(3, 1), (2, 2), (3, 1)]) == 8  # pooling doubles the step of later layers


def test_non_square_error_names_the_axis():
    with pytest.raises(ValueError, match=r"^width W1=451: filter does not fit"):
        conv_output_shape((3, 300, 451), 8, 2, stride=2)


# ---------------------------------------------------------------- beyond the lecture (issue 15)


def test_dilation_replaces_f_by_f_eff():
    # a 3x3 filter with dilation 2 spans 5 cells: 7x7 -> 3x3, like a 5x5 filter
    assert output_size(7, 3, dilation=2) == output_size(7, 5) == 3
    assert output_size(7, 3, 1, 2, dilation=2) == 7  # padding d(F - 1)/2 = 2 keeps the size
    with pytest.raises(ValueError, match=r"F_eff = dilation\*\(F - 1\) \+ 1 = 4\*\(3 - 1\) \+ 1 = 9"):
        output_size(7, 3, dilation=4)


def test_rounding_strict_floor_ceil():
    # the lecture's 7x7, 3x3, stride 3: strict refuses (same message as ever), floor drops the
    # leftover column, ceil adds a partial window
    with pytest.raises(ValueError, match=r"\(7 \+ 2\*0 - 3\) / 3 \+ 1 = 2.33"):
        output_size(7, 3, 3)
    assert output_size(7, 3, 3, rounding="floor") == 2
    assert output_size(7, 3, 3, rounding="ceil") == 3
    assert output_size(7, 3, 2, rounding="ceil") == output_size(7, 3, 2) == 3  # whole: all three agree
    # PyTorch's rule: the extra window must start inside the input or its left padding
    assert output_size(5, 2, 2, padding=1, rounding="ceil") == 3  # would start at 6 >= N + P = 6: dropped
    with pytest.raises(ValueError, match="rounding must be one of 'strict'"):
        output_size(7, 3, 3, rounding="round")


def test_transposed_output_size_inverts_output_size():
    for n, f, s, p in [(7, 3, 2, 1), (32, 4, 2, 1), (5, 5, 1, 0), (14, 3, 3, 0)]:
        m = output_size(n, f, s, p, rounding="floor")
        op = (n + 2 * p - f) % s  # the leftover that floor dropped
        assert transposed_output_size(m, f, s, p, output_padding=op) == n
    assert transposed_output_size(16, 4, 2, 1) == 32  # DCGAN's 2x upsampling
    assert transposed_output_size(3, 3, 1, 0, dilation=2) == 7  # (3 - 1) + 2*2 + 1
    with pytest.raises(ValueError, match="output_padding=2 must be smaller than the stride S=2 or the dilation=1"):
        transposed_output_size(4, 3, 2, 0, output_padding=2)
    with pytest.raises(ValueError, match=r"= -1 is < 1"):
        transposed_output_size(1, 1, 1, 1)


def test_pairs_and_groups_in_shape_and_count():
    assert conv_output_shape((3, 7, 9), 4, (3, 5), stride=(1, 2), padding=(1, 0)) == (4, 7, 3)
    assert conv_output_shape((3, 7, 8), 4, 3, stride=2, rounding="floor") == (4, 3, 3)
    assert conv_num_params((3, 5), 4, 8) == (3 * 5 * 4 + 1) * 8
    assert conv_num_params(3, 96, 256, groups=2) == (3 * 3 * 48 + 1) * 256  # AlexNet's two GPUs
    assert conv_num_params(1, 64, 128) == (64 + 1) * 128  # a 1x1 convolution mixes channels only
    with pytest.raises(ValueError, match=r"groups=4 must divide out_channels K=6.*\[1, 2\]"):
        conv_num_params(3, 4, 6, groups=4)
    with pytest.raises(ValueError, match=r"pair \(height, width\)"):
        conv_output_shape((3, 7, 7), 2, (3, 3, 3))
