"""cnn_core.interpret: saliency, occlusion sensitivity and class-activation maps, checked on numbers."""

import numpy as np
import pytest

import cnn_core as cc
from cnn_core import interpret
from cnn_core.gradcheck import numerical_gradient, rel_error


def gap_cnn(seed=0):
    g = np.random.default_rng(seed)
    return cc.Sequential(
        [
            cc.Conv2D(1, 4, 3, padding=1, rng=g),
            cc.ReLU(),
            cc.MaxPool2D(2),
            cc.Conv2D(4, 6, 3, padding=1, rng=g),
            cc.ReLU(),
            cc.AvgPool2D(3),
            cc.Flatten(),
            cc.Linear(6, 5, rng=g),
        ]
    )


def image(seed=1, size=6):
    return np.random.default_rng(seed).random((1, size, size))


def test_saliency_is_the_finite_difference_gradient_of_the_score():
    model, x = gap_cnn(), image()
    model.layers[-1].params["b"][:] = np.arange(5)  # biases do not change the gradient
    for label in (0, 3):
        grad = saliency = interpret.saliency(model, x, label)
        numeric = numerical_gradient(lambda: interpret.scores(model, x)[label], x)
        assert saliency.shape == x.shape
        assert rel_error(grad, numeric) < 1e-6


def test_saliency_of_a_linear_model_is_its_weight_row():
    g = np.random.default_rng(0)
    model = cc.Sequential([cc.Flatten(), cc.Linear(9, 3, rng=g)])
    x = image(size=3)
    assert np.allclose(interpret.saliency(model, x, 2), model.layers[1].params["W"][2].reshape(1, 3, 3))


def test_occlusion_hand_worked_on_a_linear_model():
    # two classes, score_0 = sum of the top-left 2x2 pixels, score_1 = 0: p_0 = sigmoid(sum)
    model = cc.Sequential([cc.Flatten(), cc.Linear(9, 2)])
    W = np.zeros((2, 9))
    W[0, [0, 1, 3, 4]] = 1.0
    model.layers[1].params["W"][:] = W
    x = np.ones((1, 3, 3))
    drops = interpret.occlusion(model, x, 0, patch=2)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    expected = sig(4) - sig(np.array([[0, 2], [2, 3]]))  # pixels of the 2x2 block left after covering
    assert drops.shape == (2, 2)
    assert np.allclose(drops, expected)


def test_occlusion_of_a_zero_region_with_zeros_changes_nothing():
    model, x = gap_cnn(), image(size=6)
    x[:, :, :3] = 0.0  # the left half is empty
    drops = interpret.occlusion(model, x, 1, patch=3, stride=1)
    assert drops.shape == (4, 4)
    assert np.allclose(drops[:, 0], 0.0)  # squares inside the empty half
    assert np.abs(drops[:, 1:]).max() > 1e-6  # squares that cover ink do change it


def test_occlusion_stride_and_pixels():
    model, x = gap_cnn(), image(size=6)
    drops = interpret.occlusion(model, x, 2, patch=2, stride=2)
    assert drops.shape == (3, 3)
    pixels = interpret.occlusion_pixels(drops, (6, 6), patch=2, stride=2)
    assert np.allclose(pixels, np.kron(drops, np.ones((2, 2))))  # non-overlapping squares: blocks
    overlap = interpret.occlusion_pixels(np.array([[1.0, 3.0]]), (2, 3), patch=2, stride=1)
    assert np.allclose(overlap, [[1, 2, 3], [1, 2, 3]])  # the middle column is in both squares


def test_cam_mean_plus_bias_is_the_score():
    model, x = gap_cnn(), image()
    model.layers[-1].params["b"][:] = np.linspace(-1, 1, 5)
    logits = interpret.scores(model, x)
    for label in range(5):
        cam, bias = interpret.class_activation_map(model, x, label)
        assert cam.shape == (3, 3)
        assert np.isclose(cam.mean() + bias, logits[label])
        assert bias == model.layers[-1].params["b"][label]


def test_cam_refuses_a_model_without_a_gap_head():
    mlp = cc.Sequential([cc.Flatten(), cc.Linear(36, 8), cc.ReLU(), cc.Linear(8, 5)])
    with pytest.raises(ValueError, match="global average pooling, Flatten, Linear"):
        interpret.class_activation_map(mlp, image(), 0)
    not_global = gap_cnn()
    not_global.layers[5] = cc.AvgPool2D(1)
    not_global.layers[-1] = cc.Linear(54, 5)
    with pytest.raises(ValueError, match=r"not global on feature maps of 3 x 3: use AvgPool2D\(3\)"):
        interpret.class_activation_map(not_global, image(), 0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m: interpret.saliency(m, image()[None], 0), r"one image of shape \(D, H, W\).*pass x\[0\]"),
        (lambda m: interpret.saliency(m, image(), 5), "label must be a class 0..4"),
        (lambda m: interpret.occlusion(m, image(), 0, patch=7), "patch=7 is larger than the image"),
        (lambda m: interpret.occlusion(m, image(), 0, stride=0), "stride"),
    ],
)
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call(gap_cnn())


def test_cam_with_a_global_average_pool_layer():
    from cnn_core.global_pool import GlobalAvgPool2D

    model = gap_cnn()
    model.layers[5:7] = [GlobalAvgPool2D()]  # (N, 6, 3, 3) -> (N, 6) without a Flatten
    x = image()
    cam, bias = interpret.class_activation_map(model, x, 2)
    assert cam.shape == (3, 3) and np.isclose(cam.mean() + bias, interpret.scores(model, x)[2])
