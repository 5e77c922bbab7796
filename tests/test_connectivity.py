"""A convolution as a sparse, tied fully connected layer; connections; receptive fields."""

import numpy as np
import pytest

from cnn_core.connectivity import (
    conv1d_weight_index,
    conv_matrix,
    conv_weight_index,
    connections,
    dense_weight_index,
    equivariance_gap,
    layer_output_sizes,
    locally_connected,
    num_connections,
    param_counts,
    reach,
    receptive_field_box,
    receptive_field_mask,
    steered_filters,
    unit_at,
)
from cnn_core.filters import apply_filter
from cnn_core.functional import conv2d_forward
from cnn_core.shapes import linear_num_params, receptive_field

CASES = [  # K, D, F, H, W, S, P
    (1, 1, 3, 5, 5, 1, 0),
    (2, 3, 3, 7, 9, 2, 1),  # stride 2, padding, several channels, non-square
    (4, 2, 5, 9, 9, 2, 2),
    (3, 3, 1, 4, 6, 1, 0),  # 1x1 filters
    (2, 1, 4, 8, 6, 2, 1),  # even filter
]


@pytest.mark.parametrize("k, d, f, h, w, s, p", CASES)
def test_conv_matrix_is_the_convolution(k, d, f, h, w, s, p):
    rng = np.random.default_rng(k + d + f)
    wt, b, x = rng.standard_normal((k, d, f, f)), rng.standard_normal(k), rng.standard_normal((d, h, w))
    m, b_vec = conv_matrix(wt, (d, h, w), s, p, b)
    out = conv2d_forward(x[None], wt, b, s, p)[0][0]
    assert m.shape == (out.size, x.size)
    np.testing.assert_allclose(m @ x.ravel() + b_vec, out.ravel(), atol=1e-12)
    # sparse: at most D*F*F weights per row; tied: only the numbers of the filters appear
    assert ((m != 0).sum(axis=1) <= d * f * f).all()
    assert set(np.unique(m[m != 0])) <= set(wt.ravel())
    assert (m != 0).sum() == num_connections((d, h, w), f, k, s, p)


OPTION_CASES = [  # K, (D, H, W), (Fh, Fw), stride, padding, dilation, groups, rounding
    (4, (2, 7, 7), (3, 3), 1, 2, 2, 1, "strict"),  # dilated (atrous): F_eff = 5
    (6, (4, 6, 8), (3, 2), (1, 2), (1, 0), 1, 2, "strict"),  # two groups, per-axis sizes
    (3, (3, 5, 5), (3, 3), 1, 1, 1, 3, "strict"),  # depthwise
    (6, (3, 5, 5), (3, 3), 2, 1, (2, 1), 3, "strict"),  # depthwise with multiplier 2, stride 2, dilated rows
    (2, (2, 6, 6), (1, 1), 1, 0, 1, 2, "strict"),  # 1x1, grouped: a per-pixel block-diagonal layer
    (2, (1, 8, 8), (3, 3), 3, 0, 1, 1, "floor"),  # PyTorch's floor drops the last column and row
]


@pytest.mark.parametrize("k, shape, f, s, p, dil, g, rounding", OPTION_CASES)
def test_conv_matrix_with_dilation_groups_and_rounding_is_the_convolution(k, shape, f, s, p, dil, g, rounding):
    rng = np.random.default_rng(k * g + f[0])
    d = shape[0]
    wt, b, x = rng.standard_normal((k, d // g, *f)), rng.standard_normal(k), rng.standard_normal(shape)
    m, b_vec = conv_matrix(wt, shape, s, p, b, dilation=dil, groups=g, rounding=rounding)
    out = conv2d_forward(x[None], wt, b, s, p, dil, g, rounding)[0][0]
    assert m.shape == (out.size, x.size)
    np.testing.assert_allclose(m @ x.ravel() + b_vec, out.ravel(), atol=1e-12)
    assert ((m != 0).sum(axis=1) <= (d // g) * f[0] * f[1]).all()  # a filter sees D/G channels
    # groups: the rows of group j touch only the columns of that group's input channels
    per_out, per_in = m.shape[0] // g, m.shape[1] // g
    for j in range(g):
        block = m[j * per_out : (j + 1) * per_out]
        assert not block[:, : j * per_in].any() and not block[:, (j + 1) * per_in :].any()


def test_conv_matrix_dilation_by_hand_one_row():
    # 1 x 5 input, filter [1, 2] with dilation 3: taps 3 cells apart, F_eff = 4, two outputs
    m, _ = conv_matrix(np.array([[[[1.0, 2.0]]]]), (1, 1, 5), dilation=3)
    np.testing.assert_array_equal(m, [[1, 0, 0, 2, 0], [0, 1, 0, 0, 2]])


def test_conv_matrix_groups_errors_say_what_to_change():
    with pytest.raises(ValueError, match=r"groups=2 must divide out_channels K=3"):
        conv_weight_index((3, 2, 3, 3), (4, 5, 5), groups=2)
    with pytest.raises(ValueError, match=r"span D=1 channels x groups=2 = 2 but the input .* has D=4.*D/groups"):
        conv_weight_index((2, 1, 3, 3), (4, 5, 5), groups=2)
    with pytest.raises(ValueError, match=r"dilated filter F_eff .* = 5.*larger than the padded input"):
        conv_weight_index((1, 1, 3, 3), (1, 4, 4), dilation=2)


def test_conv_matrix_by_hand_3x3_input_2x2_filter():
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    m, b_vec = conv_matrix(w, (1, 3, 3))
    expected = np.array(
        [[1, 2, 0, 3, 4, 0, 0, 0, 0], [0, 1, 2, 0, 3, 4, 0, 0, 0], [0, 0, 0, 1, 2, 0, 3, 4, 0], [0, 0, 0, 0, 1, 2, 0, 3, 4]],
        dtype=float,
    )
    np.testing.assert_array_equal(m, expected)
    np.testing.assert_array_equal(b_vec, np.zeros(4))


def test_bias_is_repeated_per_position():
    _, b_vec = conv_matrix(np.ones((2, 1, 3, 3)), (1, 4, 4), b=np.array([5.0, -1.0]))
    np.testing.assert_array_equal(b_vec, [5, 5, 5, 5, -1, -1, -1, -1])


def test_lecture_32x32x3_one_5x5x3_filter():
    idx = conv_weight_index((1, 3, 5, 5), (3, 32, 32))
    assert idx.shape == (28 * 28, 3072)
    assert idx.size == linear_num_params(32 * 32 * 3, 28 * 28, bias=False) == 2_408_448  # a dense layer's weights
    assert len(np.unique(idx[idx >= 0])) == 75  # the conv's weights
    assert (idx >= 0).sum() == 28 * 28 * 75 == 58_800 == num_connections((3, 32, 32), 5)
    assert param_counts(32, 3, 5, 1) == {"fully connected": 2_408_448, "locally connected": 58_800, "convolution": 75}


def test_zero_weights_still_count_as_connections():
    index = conv_weight_index((1, 1, 3, 3), (1, 4, 4))
    m, _ = conv_matrix(np.zeros((1, 1, 3, 3)), (1, 4, 4))
    assert (m == 0).all() and (index >= 0).sum() == 4 * 9


def test_depth_mismatch_and_batch_axis_are_explained():
    with pytest.raises(ValueError, match="depth mismatch.*full depth"):
        conv_weight_index((1, 3, 3, 3), (1, 5, 5))
    with pytest.raises(ValueError, match="drop the batch axis"):
        conv_matrix(np.ones((1, 1, 3, 3)), (1, 1, 5, 5))
    with pytest.raises(ValueError, match="does not fit"):
        conv_matrix(np.ones((1, 1, 3, 3)), (1, 7, 7), stride=3)


def test_goodfellow_1d_five_inputs_kernel_three():
    idx = conv1d_weight_index(5, 3, 1, 1)
    np.testing.assert_array_equal(
        idx, [[1, 2, -1, -1, -1], [0, 1, 2, -1, -1], [-1, 0, 1, 2, -1], [-1, -1, 0, 1, 2], [-1, -1, -1, 0, 1]]
    )
    conv, dense = connections("conv", 5, 3, 1, 1), connections("dense", 5, 3, 1, 1)
    assert conv.sum() == 13 and dense.sum() == 25 and dense.all()
    np.testing.assert_array_equal(np.flatnonzero(conv[:, 2]), [1, 2, 3])  # x3 affects s2, s3, s4
    np.testing.assert_array_equal(np.flatnonzero(conv[2]), [1, 2, 3])  # s3 sees x2, x3, x4
    assert connections("dense", 5, n_out=2).shape == (2, 5)
    with pytest.raises(ValueError, match="'conv' or 'dense'"):
        connections("sparse", 5)


def test_dense_index_every_entry_its_own_parameter():
    idx = dense_weight_index(4, 3)
    assert idx.shape == (3, 4) and len(np.unique(idx)) == 12


@pytest.mark.parametrize("layers", [[(3, 1, 1)] * 2, [(3, 2, 1), (3, 1, 1)], [(5, 1, 2), (3, 2, 1), (3, 1, 1)]])
def test_reach_down_the_stack_is_the_receptive_field(layers):
    mats, n = [], 21
    for f, s, p in layers:
        mats.append(conv1d_weight_index(n, f, s, p) >= 0)
        n = mats[-1].shape[0]
    on = reach(mats, len(mats), n // 2)
    assert on[0].sum() == receptive_field([(f, s) for f, s, _ in layers])
    assert on[-1].sum() == 1


def test_reach_up_is_what_an_input_affects():
    mats = [connections("conv", 7, 3, 1, 1)] * 2
    on = reach(mats, 0, 3)
    assert [v.sum() for v in on] == [1, 3, 5]


def _stack_pattern(layers, input_shape, position):
    """Nonzero pattern of one row of the product of the layers' (positive) matrices."""
    h, w = input_shape
    total = np.eye(h * w)
    for f, s, *p in layers:
        m, _ = conv_matrix(np.ones((1, 1, f, f)), (1, h, w), s, p[0] if p else 0)
        total = m @ total
        h, w = layer_output_sizes([(f, s, *p)], (h, w))[-1]
    return total[position[0] * w + position[1]].reshape(input_shape) > 0


@pytest.mark.parametrize(
    "layers, shape, pos",
    [
        ([(3, 1, 1)] * 3, (9, 9), (4, 4)),
        ([(3, 1, 1), (3, 1, 1), (2, 2), (3, 1, 1), (3, 1, 1)], (16, 16), (3, 4)),  # a pooling layer in between
        ([(3, 2, 1), (3, 2, 1)], (9, 13), (0, 0)),  # corner: clipped by padding
        ([(5, 1), (3, 2)], (13, 11), (2, 1)),
    ],
)
def test_receptive_field_mask_matches_the_matrices(layers, shape, pos):
    mask = receptive_field_mask(layers, shape, pos)
    np.testing.assert_array_equal(mask, _stack_pattern(layers, shape, pos))
    top, left, size = receptive_field_box(layers, pos)
    assert size == receptive_field([tuple(l)[:2] for l in layers])


def test_receptive_field_mask_by_hand():
    mask = receptive_field_mask([(3, 1, 1)] * 3, (3, 9, 9), (4, 4))  # depth is ignored
    assert mask.sum() == 49 and mask[1:8, 1:8].all()
    # walking down from row 0: [-1, 1], [-2, 2], pool: [-4, 5], [-5, 6], [-6, 7] -> 14 rows from -6
    assert receptive_field_box([(3, 1, 1), (3, 1, 1), (2, 2), (3, 1, 1), (3, 1, 1)], (0, 0)) == (-6, -6, 14)


def test_receptive_field_mask_errors():
    with pytest.raises(ValueError, match=r"outside the 7x7 output"):
        receptive_field_mask([(3, 1)], (9, 9), (7, 0))
    with pytest.raises(ValueError, match="does not fit"):
        receptive_field_mask([(3, 1, 1), (2, 2)], (9, 9), (0, 0))
    with pytest.raises(ValueError, match=r"\(F, S\) or \(F, S, P\)"):
        receptive_field_mask([(3,)], (9, 9), (0, 0))


def test_unit_at_finds_the_unit_centred_on_a_pixel():
    layers = [(3, 1, 1), (3, 1, 1), (2, 2), (3, 1, 1), (3, 1, 1)]
    r, c = unit_at(layers, (256, 384), (100, 137))
    top, left, size = receptive_field_box(layers, (r, c))
    assert top <= 100 < top + size and left <= 137 < left + size
    assert abs(top + (size - 1) / 2 - 100) <= 1 and abs(left + (size - 1) / 2 - 137) <= 1
    assert unit_at([(3, 2, 1)] * 2, (9, 9), (8, 8)) == (2, 2)
    assert unit_at([(3, 2, 1)] * 2, (9, 9), (500, -3)) == (2, 0)  # clipped to the output grid


def test_locally_connected_with_one_kernel_everywhere_is_a_convolution():
    rng = np.random.default_rng(1)
    img, k = rng.standard_normal((8, 10)), rng.standard_normal((3, 3))
    kernels = np.broadcast_to(k, (8, 10, 3, 3))
    np.testing.assert_allclose(locally_connected(img, kernels, padding=1), apply_filter(img, k, padding=1))
    with pytest.raises(ValueError, match=r"kernels.shape\[:2\] must be \(6, 8\)"):
        locally_connected(img, kernels)


def test_equivariance_conv_yes_untied_and_dense_no():
    rng = np.random.default_rng(2)
    y, x = np.mgrid[0:40, 0:50]
    img = np.sin(x / 4.0) + np.cos(y / 5.0) + (x > 25)  # a smooth picture with an edge
    k = rng.standard_normal((3, 3))
    gap, inner = equivariance_gap(lambda a: apply_filter(a, k, padding=1), img, 3, -5, margin=7)
    assert inner < 1e-12 and np.abs(gap).max() > 0.1  # exact inside, broken at the border only
    kernels = rng.standard_normal((40, 50, 3, 3))  # sparse but not shared
    assert equivariance_gap(lambda a: locally_connected(a, kernels, 1), img, 3, -5, 7)[1] > 0.5
    wd = rng.standard_normal((img.size, img.size)) / img.size  # dense
    assert equivariance_gap(lambda a: (wd @ a.ravel()).reshape(a.shape), img, 3, -5, 7)[1] > 0.05


def test_steered_filters_turn_across_the_columns():
    kx = np.array([[1.0, 0, -1]] * 3)
    f = steered_filters((4, 6), kx, kx.T, turns=1)
    assert f.shape == (4, 6, 3, 3)
    np.testing.assert_allclose(f[2, 0], kx)  # angle 0 at the left
    np.testing.assert_allclose(f[0, 3], kx.T, atol=1e-12)  # pi/2 half-way across
    np.testing.assert_allclose(steered_filters((1, 6), kx, kx.T, turns=2)[0, 3], -kx, atol=1e-12)
