"""Hand-made filters and ``apply_filter``: run cnn_core's convolution on a photo.

Before a network learns its filters, we can write some by hand: an edge detector,
a blur, a sharpener. This module keeps them as named float arrays and applies
them with :func:`cnn_core.functional.conv2d_forward` (no second convolution).

Layouts. Photos are in picture layout, (H, W) grey or (H, W, D) colour, and so are
the kernels here: (F, F) for a single-channel filter, (F, F, D) for a filter that
spans the full depth D of a colour image, (K, F, F, D) for a bank of K of them.
:func:`as_conv_weights` turns any of these into cnn_core's (K, D, F, F).

Like every deep-learning library, the convolution is a cross-correlation:

    out[r, c] = sum_{i, j, d} x[r*S + i, c*S + j, d] * w[i, j, d] + b

The mathematical convolution flips the kernel first, (x * w)[r, c] =
sum_{i, j} x[r + i, c + j] * w[F-1-i, F-1-j] (valid part): see
:func:`convolve`.
"""

from __future__ import annotations

import numpy as np

from .functional import conv2d_forward
from .transforms import to_unit

_SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
_PREWITT_X = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=float)

#: Named 3x3 kernels, float64. Edge filters respond (positively) where the image gets
#: brighter to the right ("vertical edge") or downwards ("horizontal edge").
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "box blur": np.full((3, 3), 1 / 9),
    "Gaussian blur": np.outer([1, 2, 1], [1, 2, 1]) / 16.0,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "vertical edge (Sobel)": _SOBEL_X,
    "horizontal edge (Sobel)": _SOBEL_X.T.copy(),
    "vertical edge (Prewitt)": _PREWITT_X,
    "horizontal edge (Prewitt)": _PREWITT_X.T.copy(),
    "Laplacian (outline)": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
}
for _k in KERNELS.values():
    _k.setflags(write=False)  # shared constants: get a writable copy with kernel(name)


def kernel(name: str) -> np.ndarray:
    """A writable copy of the named kernel (see KERNELS)."""
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}; choose one of {list(KERNELS)}")
    return KERNELS[name].copy()


def box_kernel(kernel_size: int) -> np.ndarray:
    """The F x F average: every weight 1 / F^2."""
    if kernel_size < 1:
        raise ValueError(f"kernel_size must be >= 1, got {kernel_size}")
    return np.full((kernel_size, kernel_size), 1.0 / kernel_size**2)


def gaussian_kernel(kernel_size: int, sigma: float) -> np.ndarray:
    """w[i, j] proportional to exp(-((i-c)^2 + (j-c)^2) / (2 sigma^2)), c = (F-1)/2, summing to 1."""
    if kernel_size < 1 or sigma <= 0:
        raise ValueError(f"need kernel_size >= 1 and sigma > 0, got kernel_size={kernel_size}, sigma={sigma}")
    t = np.arange(kernel_size) - (kernel_size - 1) / 2
    g = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * sigma**2))
    return g / g.sum()


def flip(w: np.ndarray) -> np.ndarray:
    """The kernel rotated by 180 degrees, w[F-1-i, F-1-j] (the spatial axes 0 and 1)."""
    return np.asarray(w)[::-1, ::-1].copy()


def is_signed(w: np.ndarray, tol: float = 1e-9) -> bool:
    """True for a kernel whose weights sum to 0 (edge detectors): its output is
    zero on flat regions and takes both signs, best shown with a diverging colour map."""
    return abs(float(np.sum(w))) < tol


def color_filter_bank(kernel_size: int = 5) -> dict[str, np.ndarray]:
    """Six hand-made F x F x 3 colour filters, each spanning the full depth (R, G, B).

    Edges and blur look at brightness (the same 2-D pattern on all three channels,
    divided by 3); the last two compare colours at each pixel (colour-opponent).
    """
    g = gaussian_kernel(kernel_size, kernel_size / 4)
    t = np.arange(kernel_size) - (kernel_size - 1) / 2
    ramp = np.outer(np.ones(kernel_size), t) * g  # brighter to the right -> positive
    ramp /= np.abs(ramp).sum()
    diag = (t[:, None] + t[None, :]) * g
    diag /= np.abs(diag).sum()

    def grey(w2: np.ndarray) -> np.ndarray:
        return np.repeat(w2[:, :, None], 3, axis=2) / 3

    def colour(weights: tuple[float, float, float]) -> np.ndarray:
        return g[:, :, None] * np.array(weights, dtype=float)

    return {
        "vertical edge": grey(ramp),
        "horizontal edge": grey(ramp.T),
        "diagonal edge": grey(diag),
        "blur (brightness)": grey(g),
        "red vs green": colour((1.0, -1.0, 0.0)),
        "blue vs yellow": colour((-0.5, -0.5, 1.0)),
    }


def as_conv_weights(w: np.ndarray, depth: int | None = None) -> np.ndarray:
    """Any kernel layout of this module -> cnn_core's (K, D, F, F).

    (F, F) -> (1, 1, F, F); (F, F, D) -> (1, D, F, F); (K, F, F, D) -> (K, D, F, F).
    If ``depth`` is given, the filter depth must equal it (filters always extend
    the full depth of the input volume).
    """
    w = np.asarray(w, dtype=float)
    if w.ndim == 2:
        out = w[None, None]
    elif w.ndim == 3:
        out = w.transpose(2, 0, 1)[None]
    elif w.ndim == 4:
        out = w.transpose(0, 3, 1, 2)
    else:
        raise ValueError(f"a kernel is (F, F), (F, F, D) or (K, F, F, D); got shape {w.shape}")
    if out.shape[2] != out.shape[3]:
        raise ValueError(f"kernels must be square F x F, got {out.shape[2]} x {out.shape[3]}")
    if depth is not None and out.shape[1] != depth:
        raise ValueError(
            f"the filter has depth {out.shape[1]} but the image has depth {depth}: "
            f"filters always extend the full depth of the input volume"
        )
    return np.ascontiguousarray(out)


def apply_filter(
    image: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0, bias: float | np.ndarray = 0.0
) -> np.ndarray:
    """Slide the kernel ``w`` over ``image`` (cross-correlation, as in CNNs), via conv2d_forward.

    image: (H, W) grey or (H, W, D) colour; uint8 images are scaled to [0, 1].
    w, by shape:
      (F, F)        on a grey image: one activation map (H2, W2);
                    on a colour image: the same filter on each channel separately,
                    (H2, W2, D) (per channel, like a blur applied to R, G and B);
      (F, F, D)     spans the full depth: one activation map (H2, W2), where
                    out[r, c] = sum(w * image[rS:rS+F, cS:cS+F, :]) + bias;
      (K, F, F, D)  K such filters: K maps stacked, (H2, W2, K).
    H2 = (H + 2P - F) / S + 1 (ValueError if the filter does not fit).
    """
    x = to_unit(image)
    if x.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, D), got shape {x.shape}")
    w = np.asarray(w, dtype=float)
    if w.ndim == 2 and x.ndim == 3:  # per channel: channels become the batch axis
        xb = x.transpose(2, 0, 1)[:, None]  # (D, 1, H, W)
        out, _ = conv2d_forward(xb, as_conv_weights(w), np.full(1, float(bias)), stride, padding)
        return out[:, 0].transpose(1, 2, 0)
    xb = x[None, None] if x.ndim == 2 else x.transpose(2, 0, 1)[None]  # (1, D, H, W)
    weights = as_conv_weights(w, depth=xb.shape[1])
    b = np.broadcast_to(np.asarray(bias, dtype=float), (weights.shape[0],))
    out, _ = conv2d_forward(xb, weights, np.array(b), stride, padding)
    return out[0, 0] if w.ndim < 4 else out[0].transpose(1, 2, 0)


def convolve(image: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The mathematical convolution (the kernel flipped), valid part: apply_filter with flip(w).

    Equals scipy.signal.convolve2d(image, w, mode="valid") for a grey image.
    w: (F, F) or (F, F, D), flipped in its two spatial axes.
    """
    if np.ndim(w) not in (2, 3):
        raise ValueError(f"convolve takes one kernel, (F, F) or (F, F, D); got shape {np.shape(w)}")
    return apply_filter(image, flip(w), stride, padding)
