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
