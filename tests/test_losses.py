import numpy as np
import pytest

from cnn_core import mse_loss, numerical_gradient, rel_error, softmax, softmax_cross_entropy


def test_cross_entropy_by_hand():
    # uniform logits over 4 classes: loss = log 4
    loss, d = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    assert loss == pytest.approx(np.log(4))
    np.testing.assert_allclose(d, [[-0.375, 0.125, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]])


def test_cross_entropy_stable_for_huge_logits():
    loss, d = softmax_cross_entropy(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]]), np.array([0, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(d))
    assert loss == pytest.approx(1e4 / 2)
    assert np.allclose(softmax(np.array([[1000.0, 1000.0]])), 0.5)


def test_cross_entropy_gradient_numerically():
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((5, 7)), rng.integers(0, 7, 5)
    _, d = softmax_cross_entropy(logits, labels)
    assert rel_error(d, numerical_gradient(lambda: softmax_cross_entropy(logits, labels)[0], logits)) < 1e-7


def test_mse_is_the_lectures_squared_error():
    # one sample: E = ||h - y||^2, dE/dh = 2 (h - y)
    loss, d = mse_loss(np.array([[1.0, 2.0]]), np.array([[0.0, 4.0]]))
    assert loss == 5.0
    np.testing.assert_array_equal(d, [[2.0, -4.0]])
    rng = np.random.default_rng(1)
    p, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert rel_error(mse_loss(p, t)[1], numerical_gradient(lambda: mse_loss(p, t)[0], p)) < 1e-7


@pytest.mark.parametrize(
    "logits, labels, match",
    [
        (np.zeros(4), np.array([0]), r"logits must have shape \(N, C\)"),
        (np.zeros((2, 4)), np.array([0, 1, 2]), r"labels must have shape \(N,\)=\(2,\)"),
        (np.zeros((2, 4)), np.array([0, 4]), r"integers in \[0, 4\)"),
        (np.zeros((2, 4)), np.array([0.0, 1.0]), r"integers in \[0, 4\)"),
    ],
)
def test_cross_entropy_bad_labels(logits, labels, match):
    with pytest.raises(ValueError, match=match):
        softmax_cross_entropy(logits, labels)


def test_mse_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        mse_loss(np.zeros((2, 3)), np.zeros((2, 2)))
