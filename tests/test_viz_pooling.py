"""Pooling figures: the slide's 4x4 example, the max-pool gradient, real maps, the explorer."""

import numpy as np
import pytest


from cnn_core.viz.pooling import (
    controls,
    describe,
    edge_maps,
    example_map,
    invariance_figure,
    invariance_table,
    pool_backward_figure,
    pool_example_figure,
    pool_maps_figure,
    render,
)

SLIDE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_example_figure_values_of_the_three_operations():
    fig = pool_example_figure(SLIDE)
    assert texts(fig.axes[1]) == ["6", "8", "3", "4"]  # CS231n's max pool
    assert texts(fig.axes[2]) == ["3.25", "5.25", "2", "2"]
    assert texts(fig.axes[3]) == ["7.94", "11.53", "4.24", "5.1"]  # sqrt(63), sqrt(133), ...
    assert fig.axes[0].get_title() == "input 4×4 (one depth slice)"
    assert fig.axes[1].get_title() == "max pool\n2×2, stride 2\n→ 2×2"


def test_backward_figure_gradient_only_at_the_maxima():
    fig = pool_backward_figure(SLIDE, np.array([[1.0, 2.0], [3.0, 4.0]]))
    dx = np.array(texts(fig.axes[2]), dtype=float).reshape(4, 4)  # 2×2 grid: dL/dx is below x
    expected = np.zeros((4, 4))
    expected[1, 1], expected[1, 3], expected[2, 0], expected[3, 3] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx, expected)
    outlined = [p for p in fig.axes[0].patches if p.get_width() == pytest.approx(0.84)]
    assert sorted(p.get_xy() for p in outlined) == sorted([(1.08, 1.08), (3.08, 1.08), (0.08, 2.08), (3.08, 3.08)])


def test_edge_maps_respond_to_the_right_direction():
    step = np.zeros((6, 6))
    step[:, 3:] = 1.0  # brighter to the right: a vertical edge
    maps = edge_maps(step)
    assert maps.shape == (1, 2, 4, 4) and maps.min() >= 0
    assert maps[0, 0].max() == 4.0 and maps[0, 1].max() == 0.0  # Sobel x: 1 + 2 + 1


def test_pool_maps_figure_sizes():
    fig = pool_maps_figure(np.random.default_rng(0).random((1, 2, 9, 8)), 2)
    assert fig.axes[0].get_title() == "input:\nvertical edges\n8×8"
    assert fig.axes[1].get_title() == "max\n2×2/2\n4×4"
    assert fig.axes[7].get_title() == "L2-norm\n2×2/2\n4×4"


def test_explorer_picture_and_caption():
    assert example_map().shape == (1, 1, 73, 110)
    fig = render("max", 2, 2)
    assert fig.axes[0].get_title() == "input: cat's\nvertical edges\n72×110"
    assert fig.axes[1].get_title() == "output: max pool\n2×2, stride 2\n36×55"
    assert "72×110 → 36×55" in describe("max", 2, 2)
    assert "73×109 → 24×36" in describe("avg", 4, 3)
    assert np.prod([len(v) for v in controls.values()]) <= 60


def test_invariance_figure_starts_at_no_change():
    x = np.random.default_rng(1).random((1, 1, 16, 16))
    fig = invariance_figure(x, shifts=range(3), settings=((1, 1, "max"), (2, 2, "max")))
    left, right = fig.axes
    assert [l.get_ydata()[0] for l in left.get_lines()] == [1.0, 1.0]
    assert [l.get_ydata()[0] for l in right.get_lines()] == [0.0, 0.0]
    assert [l.get_label() for l in right.get_lines()] == ["no pooling", "max 2×2/2"]
    table = invariance_table(x, shifts=range(3), settings=((1, 1, "max"), (2, 2, "max"))).data
    assert '<th scope="row">no pooling</th><td>1.00 / 0.00</td>' in table and '<th scope="col">shift 2</th>' in table
