"""The kernels as the lecture draws them: Python loops over images, filters and positions.

Shapes (lecture symbol -> array axis):
    x    (N, D, H, W)     batch, depth D1, height H1, width W1
    w    (K, D, F, F)     K filters, each F x F spanning the full depth D
    b    (K,)             one bias per filter, or None for no bias
    out  (N, K, H2, W2)   H2 = (H + 2P - F)/S + 1, W2 = (W + 2P - F)/S + 1

Read these first: ``conv2d_naive`` slides each filter over the padded image and takes dot
products; ``conv2d_backward_naive`` sends each output's gradient back through the same window
(dw += dout * window, dx[window] += dout * w, db = sum of dout); ``pool2d_naive`` and
``pool2d_backward_naive`` do the same for pooling. ``cnn_core.fast`` has the same operations,
tuned; both rooms offer the contract the layers use,
``conv2d_forward(x, w, b, S, P) -> (out, cache)``, ``conv2d_backward(dout, cache) -> (dx, dw, db)``,
``pool2d_forward(x, F, S, mode) -> (out, cache)``, ``pool2d_backward(dout, cache) -> dx``, so a
layer runs either (``Conv2D(..., kernels="naive")``).

The convolution is a cross-correlation (the filter is not flipped), exactly as in the
deep-learning frameworks. Inputs: arrays or nested lists; integer arrays (uint8 photos) are
converted to floating point first (to w's dtype, else float64), bools and objects are refused
(see ``cnn_core.inputs``). An empty batch (N = 0) gives empty outputs and zero weight gradients.
dout must have the shape of the forward output. inf and NaN propagate as in PyTorch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .inputs import array, as_float, check_shape, whole
from .shapes import output_size

POOL_MODES = ("max", "avg", "l2")


# ---------------------------------------------------------------- checks


def _conv_inputs(where: str, x, w, b, stride, padding):
    """Checked (x, w, b, S, P): 4-D numeric arrays of matching depth, integers converted to float."""
    x = array(where, "x", x, "(N, D, H, W)", 4, hint="for a single image use x[None] or x.reshape(1, D, H, W)")
    w = array(where, "w", w, "(K, D, F, F)", 4, hint="one filter of depth D is w.reshape(1, D, F, F)")
    k, d, f, f2 = w.shape
    if f != f2:
        raise ValueError(f"{where}: w must have shape (K, D, F, F) with square F x F filters, got {w.shape}")
    if k == 0 or f == 0:
        raise ValueError(f"{where}: w has shape {w.shape}: need at least one filter (K >= 1) of size F >= 1")
    if x.shape[1] != d:
        raise ValueError(
            f"{where}: depth mismatch: the filters span D={d} channels but x has D={x.shape[1]} "
            f"(x.shape={x.shape}, w.shape={w.shape}); filters always extend the full depth of the input"
        )
    if d == 0:
        raise ValueError(f"{where}: x has depth D=0 (shape {x.shape}): need at least one channel")
    if b is not None:
        if np.ndim(b) == 0 and not isinstance(b, np.ndarray) and isinstance(b, (int, float, np.number)):
            raise TypeError(
                f"{where}: b must be an array of shape (K,)=({k},), one bias per filter, got the scalar {b!r}; "
                f"for the same bias on every filter use np.full({k}, {b!r}), for no bias b=None"
            )
        b = array(where, "b", b, f"(K,)=({k},)")
        check_shape(where, "b", b, (k,), "one bias per filter")
    stride = whole("stride S", stride, 1, where)
    padding = whole("padding P", padding, 0, where)
    w = as_float(w)
    x = as_float(x, w)
    if b is not None:
        b = as_float(b, w)
    return x, w, b, stride, padding


def _conv_sizes(where: str, x: np.ndarray, f: int, stride: int, padding: int) -> tuple[int, int]:
    """(H2, W2), or the output_size error with the axis named."""
    sizes = []
    for axis, n in (("height H", x.shape[2]), ("width W", x.shape[3])):
        try:
            sizes.append(output_size(n, f, stride, padding))
        except ValueError as err:
            raise ValueError(f"{where}: x {axis}={n}: {err}") from None
    return sizes[0], sizes[1]


def _dout(where: str, dout, expected: tuple, what: str, like) -> np.ndarray:
    """dout checked against the forward output's shape, integers converted to like's float dtype."""
    dout = array(where, "dout", dout, str(tuple(expected)))
    check_shape(where, "dout", dout, expected, what)
    return as_float(dout, like)


def _pool_inputs(where: str, x, kernel_size, stride, mode):
    x = array(where, "x", x, "(N, D, H, W)", 4, hint="for a single image use x[None] or x.reshape(1, D, H, W)")
    if not isinstance(mode, str) or mode not in POOL_MODES:
        raise ValueError(f"{where}: pooling mode must be one of {POOL_MODES}, got {mode!r}")
    f = whole("kernel_size F", kernel_size, 1, where)
    stride = f if stride is None else whole("stride S", stride, 1, where)
    h2, w2 = _conv_sizes(where, x, f, stride, 0)
    return as_float(x), f, stride, h2, w2


def pad(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero-pad the two spatial axes of an (N, D, H, W) array by P on each side."""
    x = array("pad", "x", x, "(N, D, H, W)", 4, hint="for one image use pad(x[None], P)[0]")
    padding = whole("padding P", padding, 0, "pad")
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


# ---------------------------------------------------------------- convolution, naive


def conv2d_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Slide each filter over the padded input and take dot products (loops, for teaching)."""
    x, w, b, stride, padding = _conv_inputs("conv2d_naive", x, w, b, stride, padding)
    n, _, h, wd = x.shape
    k, _, f, _ = w.shape
    h2, w2 = _conv_sizes("conv2d_naive", x, f, stride, padding)
    b = np.zeros(k, dtype=w.dtype) if b is None else b
    xp = pad(x, padding)
    out = np.zeros((n, k, h2, w2), dtype=np.result_type(x, w))
    for i in range(n):  # each image
        for j in range(k):  # each filter -> one activation map
            for r in range(h2):  # each output row
                for c in range(w2):  # each output column
                    window = xp[i, :, r * stride : r * stride + f, c * stride : c * stride + f]
                    out[i, j, r, c] = np.sum(window * w[j]) + b[j]
    return out


def conv2d_backward_naive(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of conv2d_naive, by the same loops: each output got
    sum(window * w[j]) + b[j], so it sends dout * w[j] back to its window and
    dout * window to w[j]."""
    where = "conv2d_backward_naive"
    x, w, _, stride, padding = _conv_inputs(where, x, w, None, stride, padding)
    n, _, h, wd = x.shape
    k, _, f, _ = w.shape
    h2, w2 = _conv_sizes(where, x, f, stride, padding)
    dout = _dout(
        where, dout, (n, k, h2, w2), "the output of conv2d_naive(x, w, b, stride, padding): (N, K, H2, W2)", np.result_type(x, w)
    )
    dtype = np.result_type(dout, x, w)
    xp = pad(x, padding).astype(dtype, copy=False)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape, dtype=dtype)
    db = np.zeros(k, dtype=dtype)
    for i in range(n):
        for j in range(k):
            for r in range(h2):
                for c in range(w2):
                    rs, cs = r * stride, c * stride
                    dxp[i, :, rs : rs + f, cs : cs + f] += dout[i, j, r, c] * w[j]
                    dw[j] += dout[i, j, r, c] * xp[i, :, rs : rs + f, cs : cs + f]
                    db[j] += dout[i, j, r, c]
    dx = dxp[:, :, padding : padding + h, padding : padding + wd]
    return dx, dw, db


# ---------------------------------------------------------------- pooling, naive


def _pool_window(window: np.ndarray, mode: str) -> float:
    if mode == "max":
        return window.max()
    if mode == "avg":
        return window.mean()
    return np.sqrt(np.sum(window * window))


def _max_position(window: np.ndarray) -> tuple[int, int]:
    """Where max pooling sends the gradient: the first largest value; in a window
    holding NaN (whose max is NaN) the last NaN, as PyTorch does."""
    nans = np.flatnonzero(np.isnan(window))
    flat = nans[-1] if nans.size else np.argmax(window)
    return np.unravel_index(flat, window.shape)


def pool2d_naive(x: np.ndarray, kernel_size: int, stride: int | None = None, mode: str = "max") -> np.ndarray:
    """Slide an F x F window over each activation map (depth 1) and keep its max,
    average, or L2 norm sqrt(sum of squares). No parameters."""
    x, f, stride, h2, w2 = _pool_inputs("pool2d_naive", x, kernel_size, stride, mode)
    n, d, h, wd = x.shape
    out = np.zeros((n, d, h2, w2), dtype=x.dtype)
    for i in range(n):
        for ch in range(d):  # each activation map on its own
            for r in range(h2):
                for c in range(w2):
                    window = x[i, ch, r * stride : r * stride + f, c * stride : c * stride + f]
                    out[i, ch, r, c] = _pool_window(window, mode)
    return out


def pool2d_backward_naive(
    dout: np.ndarray, x: np.ndarray, kernel_size: int, stride: int | None = None, mode: str = "max"
) -> np.ndarray:
    """Gradient of pool2d_naive: max sends dout to the (first) largest input of its
    window, avg spreads dout / F^2 over the window, L2 sends dout * x / out (0 where out = 0)."""
    where = "pool2d_backward_naive"
    x, f, stride, h2, w2 = _pool_inputs(where, x, kernel_size, stride, mode)
    n, d = x.shape[:2]
    dout = _dout(where, dout, (n, d, h2, w2), f"the output of pool2d_naive(x, {f}, {stride}, {mode!r}): (N, D, H2, W2)", x.dtype)
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    for i in range(n):
        for ch in range(d):
            for r in range(h2):
                for c in range(w2):
                    rs, cs = r * stride, c * stride
                    window = x[i, ch, rs : rs + f, cs : cs + f]
                    g = dout[i, ch, r, c]
                    if mode == "max":
                        a, bb = _max_position(window)
                        dx[i, ch, rs + a, cs + bb] += g
                    elif mode == "avg":
                        dx[i, ch, rs : rs + f, cs : cs + f] += g / (f * f)
                    else:
                        norm = _pool_window(window, "l2")
                        if norm != 0:  # NaN windows pass NaN on, as in PyTorch
                            dx[i, ch, rs : rs + f, cs : cs + f] += g * window / norm
    return dx


# ---------------------------------------------------------------- the layers' contract


class ConvLoopsCache(NamedTuple):
    """What the naive conv2d_forward keeps for conv2d_backward."""

    x: np.ndarray
    w: np.ndarray
    stride: int
    padding: int


class PoolLoopsCache(NamedTuple):
    """What the naive pool2d_forward keeps for pool2d_backward."""

    x: np.ndarray
    kernel_size: int
    stride: int
    mode: str
    out: np.ndarray


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, ConvLoopsCache]:
    """conv2d_naive with the layers' contract: (out, cache)."""
    x, w, b, stride, padding = _conv_inputs("conv2d_forward", x, w, b, stride, padding)
    return conv2d_naive(x, w, b, stride, padding), ConvLoopsCache(x, w, stride, padding)


def conv2d_backward(dout: np.ndarray, cache: ConvLoopsCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """conv2d_backward_naive with the layers' contract: (dx, dw, db)."""
    return conv2d_backward_naive(dout, cache.x, cache.w, cache.stride, cache.padding)


def pool2d_forward(
    x: np.ndarray, kernel_size: int, stride: int | None = None, mode: str = "max"
) -> tuple[np.ndarray, PoolLoopsCache]:
    """pool2d_naive with the layers' contract: (out, cache)."""
    x, f, stride, _, _ = _pool_inputs("pool2d_forward", x, kernel_size, stride, mode)
    out = pool2d_naive(x, f, stride, mode)
    return out, PoolLoopsCache(x, f, stride, mode, out)


def pool2d_backward(dout: np.ndarray, cache: PoolLoopsCache) -> np.ndarray:
    """pool2d_backward_naive with the layers' contract: dx."""
    return pool2d_backward_naive(dout, cache.x, cache.kernel_size, cache.stride, cache.mode)
