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
    ``*_backward(dout, cache) -> grads``. Convolution: im2col (every window
    becomes a column of a matrix) and one matrix product per pass; pooling:
    one whole-array step per window offset. The only Python loops run over
    the F*F offsets of the window, never over pixels or batch items.
The convolution is a cross-correlation (the filter is not flipped), exactly as
in the deep-learning frameworks.
"""
from __future__ import annotations

import math
import threading

import numpy as np

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
# returns is always a fresh array. One shortcut: conv2d_backward reuses the
# column matrix that conv2d_forward left in scratch memory if no other
# convolution on this thread has overwritten it since (as for the last layer
# before the loss); otherwise it rebuilds it from x.

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
# offset at a time: F*F copies, each moving a whole shifted picture. A last row
# of ones makes the bias one more weight (out = [W | b] @ [cols; 1]), so the
# same products also add the bias and, in backward, sum up db.
#
# Layout: channels first and the batch inside, xp[d, n, row, col], so that the
# matrix columns run over (image, output pixel) and one product covers the
# whole batch.
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
#
# Backward: the weight gradient is again one product with the columns. The
# input gradient is the product W^T @ G sent back to the pixels: either all F*F
# kernel offsets by shifted adds (col2im), or, for stride 1, the F column
# offsets inside a second product and only the F row offsets as adds (fewer,
# cheaper passes unless there are many more filters than input channels).


def _im2col(x: np.ndarray, f: int, stride: int, padding: int, h2: int, w2: int, dtype, owner=None):
    """Columns of the zero-padded x plus a row of ones, a (D*F*F + 1, N*H2*row) scratch matrix.

    cols[(d, i, j), (n, r, c)] = xp[n, d, r*S + i, c*S + j], cols[-1] = 1. Returns
    (cols, row): row = Wp for stride 1 (the flat-row trick: columns c >= W2 are
    junk) and row = W2 for stride > 1. ``owner`` records whose columns these are.
    """
    n, d, h, wd = x.shape
    hp, wp = h + 2 * padding, wd + 2 * padding
    flat = stride == 1
    row = wp if flat else w2
    m = n * h2 * row                           # number of columns (windows, junk included)
    _scratch.cols_owner = owner
    # zero-padded copy of x, channels first; stride 1 gets a spare zero row
    xp = _workspace("xp", (d, n, hp + flat, wp), dtype)
    xp.fill(0)
    xp[:, :, padding:padding + h, padding:padding + wd] = x.transpose(1, 0, 2, 3)
    cols = _workspace("cols", (d * f * f + 1, m), dtype)
    cols[-1] = 1
    if flat:
        length = h2 * wp                       # columns per image
        rows = xp.reshape(d, n, (hp + 1) * wp)
        dst = cols[:-1].reshape(d, f * f, n, length)
        for i in range(f):
            for j in range(f):
                start = i * wp + j
                dst[:, i * f + j] = rows[:, :, start:start + length]
    else:
        dst = cols[:-1].reshape(d, f, f, n, h2, w2)
        for i in range(f):
            for j in range(f):
                dst[:, i, j] = xp[:, :, i:i + stride * (h2 - 1) + 1:stride, j:j + stride * (w2 - 1) + 1:stride]
    return cols, row


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, tuple]:
    """Fast convolution as one matrix product (im2col):

        out[n, k, r, c] = sum over (d, i, j) of w[k, d, i, j] * xp[n, d, r*S + i, c*S + j] + b[k]
        i.e.  out = [W | b] @ [cols; 1],  W = w as a (K, D*F*F) matrix, cols from _im2col.

    The cache keeps x itself (do not change it in place before backward), not
    the columns, a matrix F*F times the size of x.
    """
    _check_conv_args(x, w, b)
    n, d, h, wd = x.shape
    k, _, f, _ = w.shape
    h2, w2 = output_size(h, f, stride, padding), output_size(wd, f, stride, padding)
    dtype = np.result_type(x, w)
    token = object()                           # tells backward whether the columns are still in scratch
    cols, row = _im2col(x, f, stride, padding, h2, w2, dtype, owner=token)
    wb = np.empty((k, d * f * f + 1), dtype=dtype)      # [W | b]
    wb[:, :-1] = w.reshape(k, -1)
    wb[:, -1] = 0 if b is None else b
    res = _workspace("res", (k, cols.shape[1]), dtype)
    np.matmul(wb, cols, out=res)
    # (K, N, H2, row) -> (N, K, H2, W2): batch axis first, junk columns cropped
    out = np.empty((n, k, h2, w2), dtype=dtype)
    out[...] = res.reshape(k, n, h2, row)[:, :, :, :w2].transpose(1, 0, 2, 3)
    return out, (x, w, stride, padding, token)


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of conv2d_forward, with G = dout as a (K, N*H2*row) matrix:

        [dw | db] = G @ [cols; 1]^T          (the row of ones sums up db)
        dx: each pixel gets w[k, d, i, j] * G[k, window] from every window that
            read it; see _dx_col2im and _dx_row_offsets.

    Junk columns (stride 1) get zero gradient, so they send nothing back.
    """
    x, w, stride, padding, token = cache
    n, d, h, wd = x.shape
    k, _, f, _ = w.shape
    _, _, h2, w2 = dout.shape
    dtype = np.result_type(dout, x, w)
    if getattr(_scratch, "cols_owner", None) is token and dtype == np.result_type(x, w):
        row = wd + 2 * padding if stride == 1 else w2   # forward's columns are still in scratch
        cols = _workspace("cols", (d * f * f + 1, n * h2 * row), dtype)
    else:
        cols, row = _im2col(x, f, stride, padding, h2, w2, dtype)
    _scratch.cols_owner = None                 # the columns get overwritten below
    m = n * h2 * row
    # G, with junk columns set to zero and F-1 zeros in front (_dx_row_offsets reads them)
    g_buf = _workspace("res", (k, f - 1 + m), dtype)
    g_buf[:, :f - 1] = 0
    g4 = g_buf[:, f - 1:].reshape(k, n, h2, row)
    g4[:, :, :, w2:] = 0
    g4[:, :, :, :w2] = dout.transpose(1, 0, 2, 3)
    g = g_buf[:, f - 1:]
    dwb = g @ cols.T                           # (K, D*F*F + 1): [dw | db]
    dw, db = dwb[:, :-1].reshape(w.shape), dwb[:, -1].copy()
    wt = w.astype(dtype, copy=False)
    if stride == 1 and k <= 2 * d * f:         # copies K*F rows of G, versus D*F*F rows of adds
        dxp = _dx_row_offsets(g_buf, wt, x.shape, padding, h2)
    else:
        dxp = _dx_col2im(g, wt, x.shape, stride, padding, h2, w2)
    dx = np.empty((n, d, h, wd), dtype=dtype)
    dx[...] = dxp[:, :, padding:padding + h, padding:padding + wd].transpose(1, 0, 2, 3)
    return dx, dw, db


def _dx_col2im(g, w, x_shape, stride, padding, h2, w2):
    """Padded input gradient (D, N, Hp, Wp) by col2im: dcols = W^T @ G, then row
    (d, i, j) of dcols is added back where it was copied from, one shifted add
    per kernel offset (F*F adds of flat-row slices for stride 1)."""
    n, d, h, wd = x_shape
    k, _, f, _ = w.shape
    hp, wp = h + 2 * padding, wd + 2 * padding
    dcols = _workspace("cols", (d * f * f, g.shape[1]), g.dtype)   # the columns' buffer, free now
    np.matmul(w.reshape(k, -1).T, g, out=dcols)
    dxp = _workspace("xp", (d, n, hp + (stride == 1), wp), g.dtype)
    dxp.fill(0)
    if stride == 1:
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
    return dxp[:, :, :hp]


def _dx_row_offsets(g_buf, w, x_shape, padding, h2):
    """Padded input gradient (D, N, Hp, Wp) for stride 1, with the column offsets
    j inside a matrix product and only the F row offsets i left as adds:

        R[(d, i), q] = sum over (k, j) of w[k, d, i, j] * G[k, q - j]
        dx[d, p]     = sum over i of R[(d, i), p - i*Wp]          (flat positions)

    The shifted copies G[k, q - j] are F contiguous slices of the flat rows of G
    (the junk columns and the F-1 leading zeros supply the zeros at the edges).
    Cheaper than col2im's F*F adds unless K is large next to D*F.
    """
    n, d, h, wd = x_shape
    k, _, f, _ = w.shape
    hp, wp = h + 2 * padding, wd + 2 * padding
    m = g_buf.shape[1] - (f - 1)
    gj = _workspace("cols", (k, f, m), g_buf.dtype)    # the columns' buffer, free now
    for j in range(f):
        gj[:, j] = g_buf[:, f - 1 - j:f - 1 - j + m]
    r = _workspace("dcols", (d, f, n, h2 * wp), g_buf.dtype)
    np.matmul(w.transpose(1, 2, 0, 3).reshape(d * f, k * f), gj.reshape(k * f, m), out=r.reshape(d * f, m))
    dxp = _workspace("xp", (d, n, hp + 1, wp), g_buf.dtype)
    dxp.fill(0)
    rows = dxp.reshape(d, n, -1)
    for i in range(f):
        rows[:, :, i * wp:i * wp + h2 * wp] += r[:, i]
    return dxp[:, :, :hp]


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
#
# Pooling works on each activation map alone, so no matrix product is needed:
# loop over the F*F offsets (i, j) of the window instead of over the pixels.
# The view a[:, :, i::S, j::S] (cut to H2 x W2) holds, for every window at
# once, its element at offset (i, j); a running max, sum, or sum of squares
# over the F*F views gives every window's result.


def _window_views(a: np.ndarray, f: int, stride: int, h2: int, w2: int) -> list[np.ndarray]:
    """The F*F strided views v[i*F + j][n, d, r, c] = a[n, d, r*S + i, c*S + j], r < H2, c < W2."""
    return [a[:, :, i:i + stride * (h2 - 1) + 1:stride, j:j + stride * (w2 - 1) + 1:stride]
            for i in range(f) for j in range(f)]


def pool2d_forward(
    x: np.ndarray, kernel_size: int, stride: int | None = None, mode: str = "max"
) -> tuple[np.ndarray, tuple]:
    """Fast pooling over (N, D, H, W), one step per window offset (i, j):

        max:  out = max over (i, j) of v_ij
        avg:  out = sum of v_ij / F^2
        l2:   out = sqrt(sum of v_ij^2)

    The cache keeps x and out themselves (no copies): change neither in place
    before the backward pass.
    """
    _check_pool_args(x, mode)
    stride = kernel_size if stride is None else stride
    f = kernel_size
    n, d, h, wd = x.shape
    h2, w2 = output_size(h, f, stride), output_size(wd, f, stride)
    views = _window_views(x, f, stride, h2, w2)
    if mode == "max":
        out = views[0].copy()
        for v in views[1:]:
            np.maximum(out, v, out=out)
    else:
        dtype = np.result_type(x.dtype, 1.0)
        out = np.empty((n, d, h2, w2), dtype=dtype)
        if mode == "avg":
            out[...] = views[0]
            for v in views[1:]:
                out += v
            out *= 1.0 / (f * f)
        else:
            np.multiply(views[0], views[0], out=out)
            for v in views[1:]:
                out += v * v
            np.sqrt(out, out=out)
    saved = None if mode == "avg" else x
    return out, (x.shape, x.dtype, f, stride, mode, saved, out)


def pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of pool2d_forward, sent back through the same F*F views of dx:

        max:  dx_ij += dout where x_ij = out and no earlier offset was (the first maximum)
        avg:  dx_ij += dout / F^2
        l2:   dx_ij += dout * x_ij / out   (0 where out = 0)

    When the windows tile the input (stride = F) every element of dx is in
    exactly one view, so the views are written instead of added to.
    """
    x_shape, dtype, f, stride, mode, saved, out = cache
    n, d, h2, w2 = dout.shape
    tiled = stride == f
    dx = (np.empty if tiled else np.zeros)(x_shape, dtype=np.result_type(dtype, dout))
    views = _window_views(dx, f, stride, h2, w2)
    if mode == "max":
        free = None                          # windows whose maximum has not been found yet
        for v, xv in zip(views, _window_views(saved, f, stride, h2, w2)):
            hit = xv == out                  # this offset holds its window's maximum ...
            if free is None:
                free = ~hit
            else:
                hit &= free                  # ... and no earlier offset did (ties: first one wins)
                free ^= hit
            if tiled:
                np.multiply(dout, hit, out=v)
            else:
                v += dout * hit
    elif mode == "avg":
        g = dout / (f * f)
        for v in views:
            if tiled:
                v[...] = g
            else:
                v += g
    else:
        g = np.divide(dout, out, out=np.zeros(dout.shape, dtype=np.result_type(dout, out)), where=out > 0)
        for v, xv in zip(views, _window_views(saved, f, stride, h2, w2)):
            if tiled:
                np.multiply(g, xv, out=v)
            else:
                v += g * xv
    return dx
