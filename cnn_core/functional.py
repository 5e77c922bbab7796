"""Convolution and pooling kernels, forward and backward, on NCHW arrays.

Shapes (lecture symbol -> array axis):
    x    (N, D, H, W)     batch, depth D1, height H1, width W1
    w    (K, D, F, F)     K filters, each F x F spanning the full depth D
    b    (K,)
    out  (N, K, H2, W2)   H2 = (H + 2P - F)/S + 1, W2 = (W + 2P - F)/S + 1

Each operation comes twice:
  * ``*_naive``: Python loops that read like the lecture ("slide the filter
    over the image, take dot products"). For teaching and for testing.
  * the fast version the layers use: ``*_forward(...) -> (out, cache)`` and
    ``*_backward(dout, cache) -> grads``, im2col-style with stride tricks and
    one matrix product, no Python loop over pixels or batch items.
The convolution is a cross-correlation (the filter is not flipped), exactly as
in the deep-learning frameworks.
"""
from __future__ import annotations

import math
import threading

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .shapes import output_size

POOL_MODES = ("max", "avg", "l2")


# ---------------------------------------------------------------- checks


def _check_conv_args(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> None:
    if x.ndim != 4:
        raise ValueError(
            f"conv2d expects x of shape (N, D, H, W) (batch, depth, height, width), got {x.ndim}-D "
            f"shape {x.shape}; for a single image use x[None] or x.reshape(1, D, H, W)"
        )
    if w.ndim != 4 or w.shape[2] != w.shape[3]:
        raise ValueError(f"conv2d expects w of shape (K, D, F, F), got {w.shape}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"depth mismatch: the filters span D={w.shape[1]} channels but x has D={x.shape[1]} "
            f"(x.shape={x.shape}, w.shape={w.shape}); filters always extend the full depth of the input"
        )
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"conv2d expects b of shape (K,)=({w.shape[0]},), got {b.shape}")


def _check_pool_args(x: np.ndarray, mode: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"pooling expects x of shape (N, D, H, W), got {x.ndim}-D shape {x.shape}")
    if mode not in POOL_MODES:
        raise ValueError(f"pooling mode must be one of {POOL_MODES}, got {mode!r}")


def pad(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero-pad the two spatial axes of an (N, D, H, W) array by P on each side."""
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


# ---------------------------------------------------------------- convolution, naive


def conv2d_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Slide each filter over the padded input and take dot products (loops, for teaching)."""
    _check_conv_args(x, w, b)
    n, _, h, wd = x.shape
    k, _, f, _ = w.shape
    h2, w2 = output_size(h, f, stride, padding), output_size(wd, f, stride, padding)
    xp = pad(x, padding)
    out = np.zeros((n, k, h2, w2), dtype=np.result_type(x, w))
    for i in range(n):                      # each image
        for j in range(k):                  # each filter -> one activation map
            for r in range(h2):             # each output row
                for c in range(w2):         # each output column
                    window = xp[i, :, r * stride:r * stride + f, c * stride:c * stride + f]
                    out[i, j, r, c] = np.sum(window * w[j]) + b[j]
    return out


def conv2d_backward_naive(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of conv2d_naive, by the same loops: each output got
    sum(window * w[j]) + b[j], so it sends dout * w[j] back to its window and
    dout * window to w[j]."""
    n, _, h, wd = x.shape
    k, _, f, _ = w.shape
    _, _, h2, w2 = dout.shape
    xp = pad(x, padding)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros(k, dtype=w.dtype)
    for i in range(n):
        for j in range(k):
            for r in range(h2):
                for c in range(w2):
                    rs, cs = r * stride, c * stride
                    dxp[i, :, rs:rs + f, cs:cs + f] += dout[i, j, r, c] * w[j]
                    dw[j] += dout[i, j, r, c] * xp[i, :, rs:rs + f, cs:cs + f]
                    db[j] += dout[i, j, r, c]
    dx = dxp[:, :, padding:padding + h, padding:padding + wd]
    return dx, dw, db


# ---------------------------------------------------------------- scratch memory
#
# The fast kernels need large temporary arrays (the column matrix alone is F*F
# times the input). Allocating them fresh on every call is surprisingly costly:
# the operating system hands out new memory one 4 KiB page at a time, and
# touching each new page (a "page fault") can cost more than the arithmetic on
# it. So each thread keeps a few scratch buffers and reuses them; their content
# is undefined until written. Only temporaries live there: what a kernel
# returns, or keeps for the backward pass, is always a fresh array.

_scratch = threading.local()


def _workspace(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A scratch array of the given shape for this thread (contents undefined)."""
    size = math.prod(shape)
    buf = getattr(_scratch, name, None)
    if buf is None or buf.dtype != dtype or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        setattr(_scratch, name, buf)
    return buf[:size].reshape(shape)


def free_workspace() -> None:
    """Release this thread's scratch buffers (they are rebuilt on the next call)."""
    _scratch.__dict__.clear()


# ---------------------------------------------------------------- convolution, fast
#
# im2col: write every F x F x D window as one column of a matrix, so the whole
# convolution is one matrix product, (K, D*F*F) @ (D*F*F, number of windows).
# Row (d, i, j) of that matrix holds, for every window, the input pixel at
# offset (i, j) of the window in channel d. So the matrix is built one kernel
# offset at a time: F*F copies, each moving a whole shifted picture.
#
# Layout: channels first and the batch inside, xp[d, n, row, col], so that the
# product's columns run over (image, output pixel) and one product covers the
# batch.
#
# The flat-row trick (stride 1). Store each padded image row after row, as one
# flat row of Hp*Wp numbers. Output pixel (r, c) reads, at kernel offset (i, j),
# the pixel at flat position (r + i)*Wp + (c + j) = (r*Wp + c) + (i*Wp + j).
# So if we let the output also run over the full padded width (c = 0..Wp-1,
# the last F-1 columns being junk that we crop), offset (i, j) is ONE contiguous
# slice of the flat row, starting at i*Wp + j: long memory copies instead of
# millions of short strided ones. A spare zero row at the bottom keeps the last
# junk columns' slices inside the buffer. For stride S > 1 the pixels of one
# offset are S apart, so that path copies strided windows (no junk columns).


def _im2col(x: np.ndarray, f: int, stride: int, padding: int, h2: int, w2: int, dtype):
    """Columns of the zero-padded x, as a (D*F*F, N*H2*row) scratch matrix.

    cols[(d, i, j), (n, r, c)] = xp[n, d, r*S + i, c*S + j]. Returns (cols, row):
    row = Wp for stride 1 (the flat-row trick: columns c >= W2 are junk) and
    row = W2 for stride > 1.
    """
    n, d, h, wd = x.shape
    hp, wp = h + 2 * padding, wd + 2 * padding
    flat = stride == 1
    # zero-padded copy of x, channels first; stride 1 gets a spare zero row
    xp = _workspace("xp", (d, n, hp + flat, wp), dtype)
    xp.fill(0)
    xp[:, :, padding:padding + h, padding:padding + wd] = x.transpose(1, 0, 2, 3)
    if flat:
        length = h2 * wp                       # outputs per image, junk columns included
        rows = xp.reshape(d, n, (hp + 1) * wp)
        cols = _workspace("cols", (d, f * f, n, length), dtype)
        for i in range(f):
            for j in range(f):
                start = i * wp + j
                cols[:, i * f + j] = rows[:, :, start:start + length]
        return cols.reshape(d * f * f, n * length), wp
    cols = _workspace("cols", (d, f, f, n, h2, w2), dtype)
    for i in range(f):
        for j in range(f):
            cols[:, i, j] = xp[:, :, i:i + stride * (h2 - 1) + 1:stride, j:j + stride * (w2 - 1) + 1:stride]
    return cols.reshape(d * f * f, n * h2 * w2), w2


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, tuple]:
    """Fast convolution as one matrix product (im2col):

        out[n, k, r, c] = sum over (d, i, j) of w[k, d, i, j] * xp[n, d, r*S + i, c*S + j] + b[k]
        i.e.  out = W @ cols + b,  W = w as a (K, D*F*F) matrix, cols from _im2col.

    The cache keeps x itself; the backward pass rebuilds the columns (cheaper
    than keeping a matrix F*F times the size of x).
    """
    _check_conv_args(x, w, b)
    n, d, h, wd = x.shape
    k, _, f, _ = w.shape
    h2, w2 = output_size(h, f, stride, padding), output_size(wd, f, stride, padding)
    dtype = np.result_type(x, w)
    cols, row = _im2col(x, f, stride, padding, h2, w2, dtype)
    res = _workspace("res", (k, cols.shape[1]), dtype)
    np.matmul(w.reshape(k, d * f * f).astype(dtype, copy=False), cols, out=res)
    if b is not None:
        res += b[:, None]
    # (K, N, H2, row) -> (N, K, H2, W2): move the batch axis first, crop the junk columns
    out = np.empty((n, k, h2, w2), dtype=dtype)
    out[...] = res.reshape(k, n, h2, row)[:, :, :, :w2].transpose(1, 0, 2, 3)
    return out, (x, w, stride, padding)


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of conv2d_forward, with G = dout as a (K, N*H2*row) matrix:

        db = sum of dout over (n, r, c),   dw = G @ cols^T,   dcols = W^T @ G,

    and col2im: each row (d, i, j) of dcols is added back to the positions it
    was copied from, one shifted add per kernel offset (F*F adds in all).
    Junk columns (stride 1) get zero gradient, so they add nothing.
    """
    x, w, stride, padding = cache
    n, d, h, wd = x.shape
    k, _, f, _ = w.shape
    _, _, h2, w2 = dout.shape
    hp, wp = h + 2 * padding, wd + 2 * padding
    dtype = np.result_type(dout, x, w)
    db = dout.sum(axis=(0, 2, 3)).astype(dtype, copy=False)
    cols, row = _im2col(x, f, stride, padding, h2, w2, dtype)
    g = _workspace("res", (k, n, h2, row), dtype)
    if row != w2:                               # junk columns must carry zero gradient
        g[:, :, :, w2:] = 0
    g[:, :, :, :w2] = dout.transpose(1, 0, 2, 3)
    g = g.reshape(k, n * h2 * row)
    dw = (g @ cols.T).reshape(w.shape)
    dcols = cols                                # the columns are no longer needed: reuse their buffer
    np.matmul(w.reshape(k, d * f * f).T.astype(dtype, copy=False), g, out=dcols)
    dxp = _workspace("xp", (d, n, hp + (stride == 1), wp), dtype)
    dxp.fill(0)
    if stride == 1:                             # flat rows: offset (i, j) is one contiguous slice
        length = h2 * wp
        rows = dxp.reshape(d, n, -1)
        dcols = dcols.reshape(d, f * f, n, length)
        for i in range(f):
            for j in range(f):
                start = i * wp + j
                rows[:, :, start:start + length] += dcols[:, i * f + j]
    else:
        dcols = dcols.reshape(d, f, f, n, h2, w2)
        for i in range(f):
            for j in range(f):
                dxp[:, :, i:i + stride * (h2 - 1) + 1:stride, j:j + stride * (w2 - 1) + 1:stride] += dcols[:, i, j]
    dx = np.empty((n, d, h, wd), dtype=dtype)
    dx[...] = dxp[:, :, padding:padding + h, padding:padding + wd].transpose(1, 0, 2, 3)
    return dx, dw, db


# ---------------------------------------------------------------- pooling, naive


def _pool_window(window: np.ndarray, mode: str) -> float:
    if mode == "max":
        return window.max()
    if mode == "avg":
        return window.mean()
    return np.sqrt(np.sum(window * window))


def pool2d_naive(x: np.ndarray, kernel_size: int, stride: int | None = None, mode: str = "max") -> np.ndarray:
    """Slide an F x F window over each activation map (depth 1) and keep its max,
    average, or L2 norm sqrt(sum of squares). No parameters."""
    _check_pool_args(x, mode)
    stride = kernel_size if stride is None else stride
    n, d, h, wd = x.shape
    h2, w2 = output_size(h, kernel_size, stride), output_size(wd, kernel_size, stride)
    out = np.zeros((n, d, h2, w2), dtype=x.dtype)
    for i in range(n):
        for ch in range(d):                 # each activation map on its own
            for r in range(h2):
                for c in range(w2):
                    window = x[i, ch, r * stride:r * stride + kernel_size, c * stride:c * stride + kernel_size]
                    out[i, ch, r, c] = _pool_window(window, mode)
    return out


def pool2d_backward_naive(
    dout: np.ndarray, x: np.ndarray, kernel_size: int, stride: int | None = None, mode: str = "max"
) -> np.ndarray:
    """Gradient of pool2d_naive: max sends dout to the (first) largest input of its
    window, avg spreads dout / F^2 over the window, L2 sends dout * x / out."""
    stride = kernel_size if stride is None else stride
    f = kernel_size
    dx = np.zeros_like(x)
    n, d, h2, w2 = dout.shape
    for i in range(n):
        for ch in range(d):
            for r in range(h2):
                for c in range(w2):
                    rs, cs = r * stride, c * stride
                    window = x[i, ch, rs:rs + f, cs:cs + f]
                    g = dout[i, ch, r, c]
                    if mode == "max":
                        a, bb = np.unravel_index(np.argmax(window), window.shape)
                        dx[i, ch, rs + a, cs + bb] += g
                    elif mode == "avg":
                        dx[i, ch, rs:rs + f, cs:cs + f] += g / (f * f)
                    else:
                        norm = _pool_window(window, "l2")
                        if norm > 0:
                            dx[i, ch, rs:rs + f, cs:cs + f] += g * window / norm
    return dx


# ---------------------------------------------------------------- pooling, fast


def pool2d_forward(
    x: np.ndarray, kernel_size: int, stride: int | None = None, mode: str = "max"
) -> tuple[np.ndarray, tuple]:
    """Fast pooling over (N, D, H, W): all windows as one strided view, reduced at once."""
    _check_pool_args(x, mode)
    stride = kernel_size if stride is None else stride
    f = kernel_size
    n, d, h, wd = x.shape
    h2, w2 = output_size(h, f, stride), output_size(wd, f, stride)
    windows = sliding_window_view(x, (f, f), axis=(2, 3))[:, :, ::stride, ::stride]
    windows = windows.reshape(n, d, h2, w2, f * f)
    if mode == "max":
        arg = windows.argmax(axis=-1)
        out = np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]
        saved = arg
    elif mode == "avg":
        out = windows.mean(axis=-1)
        saved = None
    else:
        out = np.sqrt(np.einsum("...i,...i->...", windows, windows))
        saved = windows
    return out, (x.shape, x.dtype, f, stride, mode, saved, out)


def pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of pool2d_forward: per window, dlocal[i] = dout * d out / d x_i, then
    each window's F*F gradients are added back into place (F*F strided adds)."""
    x_shape, dtype, f, stride, mode, saved, out = cache
    n, d, h2, w2 = dout.shape
    if mode == "max":
        dlocal = np.zeros((n, d, h2, w2, f * f), dtype=dout.dtype)
        np.put_along_axis(dlocal, saved[..., None], dout[..., None], axis=-1)
    elif mode == "avg":
        dlocal = np.broadcast_to((dout / (f * f))[..., None], (n, d, h2, w2, f * f))
    else:
        scale = np.divide(dout, out, out=np.zeros_like(dout, dtype=np.result_type(dout, out)), where=out > 0)
        dlocal = saved * scale[..., None]
    dlocal = dlocal.reshape(n, d, h2, w2, f, f)
    if stride == f:  # windows tile the input: one reshape puts every gradient in place
        dx = np.zeros(x_shape, dtype=np.result_type(dtype, dout))
        dx[:, :, :h2 * f, :w2 * f] = dlocal.transpose(0, 1, 2, 4, 3, 5).reshape(n, d, h2 * f, w2 * f)
        return dx
    dx = np.zeros(x_shape, dtype=np.result_type(dtype, dout))
    for i in range(f):
        for j in range(f):
            dx[:, :, i:i + stride * h2:stride, j:j + stride * w2:stride] += dlocal[..., i, j]
    return dx
