"""The same kernels as ``cnn_core.naive``, tuned: im2col and one matrix product per pass.

Same names and contract as the loops: ``conv2d_forward(x, w, b, S, P) -> (out, cache)``,
``conv2d_backward(dout, cache) -> (dx, dw, db)``, ``pool2d_forward(x, F, S, mode) -> (out, cache)``,
``pool2d_backward(dout, cache) -> dx``; the tests check them against the loops and PyTorch.
Convolution: every window becomes a column of a matrix, so a pass is one matrix product;
pooling: one whole-array step per window offset. The only Python loops run over the F*F offsets
of the window (and over chunks of a large batch), never over pixels. Scratch buffers are reused
between calls up to SCRATCH_BYTES per thread; small products run on one BLAS thread.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from .naive import _conv_inputs, _conv_sizes, _dout, _pool_inputs


# ---------------------------------------------------------------- scratch memory
#
# The fast kernels need large temporary arrays (the column matrix alone is F*F
# times the input). Allocating them fresh on every call is surprisingly costly:
# the operating system hands out new memory one 4 KiB page at a time, and
# touching each new page (a "page fault") can cost more than the arithmetic on
# it. So each thread keeps a few scratch buffers and reuses them; their content
# is undefined until written. Only temporaries live there: what a kernel
# returns is always a fresh array.
#
# Their size is capped: a batch is processed in chunks of images small enough
# that all scratch buffers together fit in SCRATCH_BYTES, and only buffers
# within that cap are kept after a call. So at most SCRATCH_BYTES per thread
# stay allocated between calls (free_workspace() releases them), and a large
# batch needs its own arrays plus about SCRATCH_BYTES, not F*F copies of x.
# (A single image too large for the cap gets temporaries, freed after the call.)
#
# One shortcut: conv2d_backward reuses the column matrix that conv2d_forward
# left in scratch memory if the whole batch was one chunk and no other
# convolution on this thread has overwritten it since (as for the last layer
# before the loss); otherwise it rebuilds it from x.

SCRATCH_BYTES = 48 * 2**20  # the cap on the scratch memory each thread keeps (48 MiB)

_scratch = threading.local()


def _workspace(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A scratch array of the given shape for this thread (contents undefined).

    Kept for the next call if all of this thread's buffers then fit in SCRATCH_BYTES,
    otherwise a temporary array.
    """
    size = math.prod(shape)
    dtype = np.dtype(dtype)
    bufs = _scratch.__dict__.setdefault("bufs", {})
    buf = bufs.get(name)
    if buf is not None and buf.dtype == dtype and buf.size >= size:
        return buf[:size].reshape(shape)
    others = sum(v.nbytes for k, v in bufs.items() if k != name)
    if others + size * dtype.itemsize > SCRATCH_BYTES:
        return np.empty(shape, dtype=dtype)  # too big to keep: a temporary
    bufs[name] = buf = np.empty(size, dtype=dtype)
    return buf[:size].reshape(shape)


def _is_scratch(name: str, arr: np.ndarray) -> bool:
    buf = getattr(_scratch, "bufs", {}).get(name)
    return buf is not None and np.may_share_memory(buf, arr)


def scratch_bytes() -> int:
    """Bytes of scratch memory this thread keeps between calls (at most SCRATCH_BYTES)."""
    return sum(v.nbytes for v in getattr(_scratch, "bufs", {}).values())


def free_workspace() -> None:
    """Release this thread's scratch buffers (they are rebuilt on the next call)."""
    _scratch.__dict__.clear()


def _chunk_images(n: int, per_image: int, itemsize: int) -> int:
    """How many images per chunk so that their scratch (per_image elements each) fits in SCRATCH_BYTES."""
    return max(1, min(n, SCRATCH_BYTES // max(1, per_image * itemsize)))


# ---------------------------------------------------------------- BLAS threads
#
# numpy's matrix products run on a BLAS library (OpenBLAS) with one thread per
# core. For a small product, splitting it costs more than it saves, and on a
# busy machine it can cost a lot: when one thread is descheduled the others wait
# for it, and between products the idle threads spin and take a core from the
# Python thread. So products below SMALL_PRODUCT_FLOPS run on one thread
# (through threadpoolctl); larger ones keep the caller's setting (never more).

SMALL_PRODUCT_FLOPS = 64e6  # 2*M*K*N below which a product uses one BLAS thread

_blas_libs = None


def _blas() -> list:
    global _blas_libs
    if _blas_libs is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas_libs = ThreadpoolController().select(user_api="blas").lib_controllers
        except Exception:  # threadpoolctl missing or cannot inspect this BLAS: leave threads alone
            _blas_libs = []
    return _blas_libs


@contextmanager
def blas_threads_for(flops: float):
    """Run the block with one BLAS thread if it does fewer than SMALL_PRODUCT_FLOPS operations."""
    libs = _blas() if flops < SMALL_PRODUCT_FLOPS else []
    saved = [lib.get_num_threads() for lib in libs]
    for lib, n in zip(libs, saved):
        if n != 1:
            lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libs, saved):
            if n != 1:
                lib.set_num_threads(n)


def one_blas_thread():
    """Run the block with one BLAS thread: for small matrices more threads only add overhead (and
    contend for the cores of a busy machine). No-op without threadpoolctl."""
    return blas_threads_for(0.0)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a @ b, on one BLAS thread when the product is small (see SMALL_PRODUCT_FLOPS)."""
    flops = 2.0 * a.shape[-2] * a.shape[-1] * b.shape[-1] * math.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    with blas_threads_for(flops):
        return np.matmul(a, b, out=out)


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
# matrix columns run over (image, output pixel) and one product covers a
# whole chunk of the batch.
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
# Junk columns must not leak into real results: in backward their gradient is
# set to zero, but 0 * inf = NaN, so when x or w holds inf/NaN the junk
# columns are zeroed as well (see conv2d_backward); otherwise a NaN would reach
# gradient entries that never read the inf.
#
# Backward: the weight gradient is again one product with the columns. The
# input gradient is the product W^T @ G sent back to the pixels: either all F*F
# kernel offsets by shifted adds (col2im), or, for stride 1, the F column
# offsets inside a second product and only the F row offsets as adds (fewer,
# cheaper passes unless there are many more filters than input channels).


class ConvCache(NamedTuple):
    """What conv2d_forward keeps for conv2d_backward (x itself, not a copy)."""

    x: np.ndarray
    w: np.ndarray
    stride: int
    padding: int
    token: object


def _conv_plan(x_shape, w_shape, stride, padding, h2, w2, itemsize):
    """(row, images per chunk): row = Wp for stride 1 (flat rows), W2 otherwise."""
    n, d, h, wd = x_shape
    k, _, f, _ = w_shape
    hp, wp = h + 2 * padding, wd + 2 * padding
    row = wp if stride == 1 else w2
    m1 = h2 * row  # matrix columns per image
    per_image = (
        d * (hp + 1) * wp  # xp / dxp
        + max(d * f * f + 1, k * f) * m1  # cols / dcols / shifted G
        + k * m1  # res / G
        + (d * f * m1 if stride == 1 else 0)
    )  # R of _dx_row_offsets
    return row, _chunk_images(n, per_image, itemsize)


def _im2col(x: np.ndarray, f: int, stride: int, padding: int, h2: int, w2: int, dtype):
    """Columns of the zero-padded x plus a row of ones, a (D*F*F + 1, N*H2*row) scratch matrix.

    cols[(d, i, j), (n, r, c)] = xp[n, d, r*S + i, c*S + j], cols[-1] = 1. Returns
    (cols, row): row = Wp for stride 1 (the flat-row trick: columns c >= W2 are
    junk) and row = W2 for stride > 1.
    """
    n, d, h, wd = x.shape
    hp, wp = h + 2 * padding, wd + 2 * padding
    flat = stride == 1
    row = wp if flat else w2
    m = n * h2 * row  # number of columns (windows, junk included)
    # zero-padded copy of x, channels first; stride 1 gets a spare zero row
    xp = _workspace("xp", (d, n, hp + flat, wp), dtype)
    xp.fill(0)
    xp[:, :, padding : padding + h, padding : padding + wd] = x.transpose(1, 0, 2, 3)
    cols = _workspace("cols", (d * f * f + 1, m), dtype)
    cols[-1] = 1
    if flat:
        length = h2 * wp  # columns per image
        rows = xp.reshape(d, n, (hp + 1) * wp)
        dst = cols[:-1].reshape(d, f * f, n, length)
        for i in range(f):
            for j in range(f):
                start = i * wp + j
                dst[:, i * f + j] = rows[:, :, start : start + length]
    else:
        dst = cols[:-1].reshape(d, f, f, n, h2, w2)
        for i in range(f):
            for j in range(f):
                dst[:, i, j] = xp[:, :, i : i + stride * (h2 - 1) + 1 : stride, j : j + stride * (w2 - 1) + 1 : stride]
    return cols, row


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, ConvCache]:
    """Fast convolution as one matrix product (im2col):

        out[n, k, r, c] = sum over (d, i, j) of w[k, d, i, j] * xp[n, d, r*S + i, c*S + j] + b[k]
        i.e.  out = [W | b] @ [cols; 1],  W = w as a (K, D*F*F) matrix, cols from _im2col.

    The cache keeps x itself (do not change it in place before backward), not
    the columns, a matrix F*F times the size of x. A large batch is processed in
    chunks of images (see SCRATCH_BYTES).
    """
    x, w, b, stride, padding = _conv_inputs("conv2d_forward", x, w, b, stride, padding)
    n, d, h, wd = x.shape
    k, _, f, _ = w.shape
    h2, w2 = _conv_sizes("conv2d_forward", x, f, stride, padding)
    dtype = np.result_type(x, w)
    token = object()  # tells backward whether the columns are still in scratch
    _scratch.cols_owner = None
    wb = np.empty((k, d * f * f + 1), dtype=dtype)  # [W | b]
    wb[:, :-1] = w.reshape(k, -1)
    wb[:, -1] = 0 if b is None else b
    out = np.empty((n, k, h2, w2), dtype=dtype)
    row, chunk = _conv_plan(x.shape, w.shape, stride, padding, h2, w2, dtype.itemsize)
    for start in range(0, n, chunk):
        xc = x[start : start + chunk]
        cols, row = _im2col(xc, f, stride, padding, h2, w2, dtype)
        res = _workspace("res", (k, cols.shape[1]), dtype)
        matmul(wb, cols, out=res)
        # (K, n, H2, row) -> (n, K, H2, W2): batch axis first, junk columns cropped
        out[start : start + chunk] = res.reshape(k, len(xc), h2, row)[:, :, :, :w2].transpose(1, 0, 2, 3)
        if chunk >= n and _is_scratch("cols", cols):
            _scratch.cols_owner = (token, dtype)
    return out, ConvCache(x, w, stride, padding, token)


def conv2d_backward(dout: np.ndarray, cache: ConvCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of conv2d_forward, with G = dout as a (K, N*H2*row) matrix:

        [dw | db] = G @ [cols; 1]^T          (the row of ones sums up db)
        dx: each pixel gets w[k, d, i, j] * G[k, window] from every window that
            read it; see _dx_col2im and _dx_row_offsets.

    Junk columns (stride 1) get zero gradient, so they send nothing back.
    """
    where = "conv2d_backward"
    if not isinstance(cache, ConvCache):
        raise TypeError(
            f"{where}: cache must be the second value returned by conv2d_forward "
            f"(out, cache = conv2d_forward(x, w, b, stride, padding)), got {type(cache).__name__}"
        )
    x, w, stride, padding, token = cache
    n, d, h, wd = x.shape
    k, _, f, _ = w.shape
    h2, w2 = _conv_sizes(where, x, f, stride, padding)
    dout = _dout(where, dout, (n, k, h2, w2), "the output of conv2d_forward: (N, K, H2, W2)", np.result_type(x, w))
    dtype = np.result_type(dout, x, w)
    row, chunk = _conv_plan(x.shape, w.shape, stride, padding, h2, w2, dtype.itemsize)
    owner = getattr(_scratch, "cols_owner", None)
    reuse = owner is not None and owner[0] is token and owner[1] == dtype and chunk >= n
    _scratch.cols_owner = None  # the columns get overwritten below
    wt = w.astype(dtype, copy=False)
    w_finite = bool(np.isfinite(wt).all())
    dwb = np.zeros((k, d * f * f + 1), dtype=dtype)
    dx = np.empty((n, d, h, wd), dtype=dtype)
    for start in range(0, n, chunk):
        xc, dc = x[start : start + chunk], dout[start : start + chunk]
        nc = len(xc)
        m = nc * h2 * row
        if reuse:  # forward's columns are still in scratch
            cols = _workspace("cols", (d * f * f + 1, m), dtype)
        else:
            cols, row = _im2col(xc, f, stride, padding, h2, w2, dtype)
        # G, with junk columns set to zero and F-1 zeros in front (_dx_row_offsets reads them)
        g_buf = _workspace("res", (k, f - 1 + m), dtype)
        g_buf[:, : f - 1] = 0
        g4 = g_buf[:, f - 1 :].reshape(k, nc, h2, row)
        g4[:, :, :, w2:] = 0
        g4[:, :, :, :w2] = dc.transpose(1, 0, 2, 3)
        g = g_buf[:, f - 1 :]
        with np.errstate(invalid="ignore"):  # a NaN from a junk column is removed just below
            part = matmul(g, cols.T)  # (K, D*F*F + 1): [dw | db] of this chunk
        if stride == 1 and row > w2 and not np.isfinite(part).all():
            # an inf/NaN in x may sit in a junk column, where 0 * inf = NaN: zero them and redo
            cols.reshape(-1, nc, h2, row)[:, :, :, w2:] = 0
            part = matmul(g, cols.T)
        dwb += part
        if stride == 1 and k <= 2 * d * f and w_finite:  # copies K*F rows of G, versus D*F*F rows of adds
            dxp = _dx_row_offsets(g_buf, wt, xc.shape, padding, h2)
        else:
            dxp = _dx_col2im(g, wt, xc.shape, stride, padding, h2, w2, zero_junk=not w_finite)
        dx[start : start + chunk] = dxp[:, :, padding : padding + h, padding : padding + wd].transpose(1, 0, 2, 3)
    dw, db = dwb[:, :-1].reshape(w.shape).copy(), dwb[:, -1].copy()
    return dx, dw, db


def _dx_col2im(g, w, x_shape, stride, padding, h2, w2, zero_junk=False):
    """Padded input gradient (D, N, Hp, Wp) by col2im: dcols = W^T @ G, then row
    (d, i, j) of dcols is added back where it was copied from, one shifted add
    per kernel offset (F*F adds of flat-row slices for stride 1). zero_junk
    zeroes dcols' junk columns first (needed when w holds inf/NaN: 0 * inf = NaN)."""
    n, d, h, wd = x_shape
    k, _, f, _ = w.shape
    hp, wp = h + 2 * padding, wd + 2 * padding
    dcols = _workspace("cols", (d * f * f, g.shape[1]), g.dtype)  # the columns' buffer, free now
    matmul(w.reshape(k, -1).T, g, out=dcols)
    dxp = _workspace("xp", (d, n, hp + (stride == 1), wp), g.dtype)
    dxp.fill(0)
    if stride == 1:
        if zero_junk and wp > w2:
            dcols.reshape(-1, n, h2, wp)[:, :, :, w2:] = 0
        length = h2 * wp
        rows = dxp.reshape(d, n, -1)
        dcols = dcols.reshape(d, f * f, n, length)
        for i in range(f):
            for j in range(f):
                start = i * wp + j
                rows[:, :, start : start + length] += dcols[:, i * f + j]
    else:
        dcols = dcols.reshape(d, f, f, n, h2, w2)
        for i in range(f):
            for j in range(f):
                dxp[:, :, i : i + stride * (h2 - 1) + 1 : stride, j : j + stride * (w2 - 1) + 1 : stride] += dcols[:, i, j]
    return dxp[:, :, :hp]


def _dx_row_offsets(g_buf, w, x_shape, padding, h2):
    """Padded input gradient (D, N, Hp, Wp) for stride 1, with the column offsets
    j inside a matrix product and only the F row offsets i left as adds:

        R[(d, i), q] = sum over (k, j) of w[k, d, i, j] * G[k, q - j]
        dx[d, p]     = sum over i of R[(d, i), p - i*Wp]          (flat positions)

    The shifted copies G[k, q - j] are F contiguous slices of the flat rows of G
    (the junk columns and the F-1 leading zeros supply the zeros at the edges, so
    w must be finite: 0 * inf = NaN). Cheaper than col2im's F*F adds unless K is
    large next to D*F.
    """
    n, d, h, wd = x_shape
    k, _, f, _ = w.shape
    hp, wp = h + 2 * padding, wd + 2 * padding
    m = g_buf.shape[1] - (f - 1)
    gj = _workspace("cols", (k, f, m), g_buf.dtype)  # the columns' buffer, free now
    for j in range(f):
        gj[:, j] = g_buf[:, f - 1 - j : f - 1 - j + m]
    r = _workspace("dcols", (d, f, n, h2 * wp), g_buf.dtype)
    matmul(w.transpose(1, 2, 0, 3).reshape(d * f, k * f), gj.reshape(k * f, m), out=r.reshape(d * f, m))
    dxp = _workspace("xp", (d, n, hp + 1, wp), g_buf.dtype)
    dxp.fill(0)
    rows = dxp.reshape(d, n, -1)
    for i in range(f):
        rows[:, :, i * wp : i * wp + h2 * wp] += r[:, i]
    return dxp[:, :, :hp]


# ---------------------------------------------------------------- pooling, fast
#
# Pooling works on each activation map alone, so no matrix product is needed:
# loop over the F*F offsets (i, j) of the window instead of over the pixels.
# The view a[:, :, i::S, j::S] (cut to H2 x W2) holds, for every window at
# once, its element at offset (i, j); a running max, sum, or sum of squares
# over the F*F views gives every window's result.


class PoolCache(NamedTuple):
    """What pool2d_forward keeps for pool2d_backward (x and out themselves, not copies)."""

    x_shape: tuple
    dtype: np.dtype
    kernel_size: int
    stride: int
    mode: str
    x: np.ndarray | None
    out: np.ndarray


def _window_views(a: np.ndarray, f: int, stride: int, h2: int, w2: int) -> list[np.ndarray]:
    """The F*F strided views v[i*F + j][n, d, r, c] = a[n, d, r*S + i, c*S + j], r < H2, c < W2."""
    return [
        a[:, :, i : i + stride * (h2 - 1) + 1 : stride, j : j + stride * (w2 - 1) + 1 : stride]
        for i in range(f)
        for j in range(f)
    ]


def pool2d_forward(x: np.ndarray, kernel_size: int, stride: int | None = None, mode: str = "max") -> tuple[np.ndarray, PoolCache]:
    """Fast pooling over (N, D, H, W), one step per window offset (i, j):

        max:  out = max over (i, j) of v_ij     (NaN if the window holds a NaN)
        avg:  out = sum of v_ij / F^2
        l2:   out = sqrt(sum of v_ij^2)

    The cache keeps x and out themselves (no copies): change neither in place
    before the backward pass.
    """
    x, f, stride, h2, w2 = _pool_inputs("pool2d_forward", x, kernel_size, stride, mode)
    n, d, h, wd = x.shape
    views = _window_views(x, f, stride, h2, w2)
    out = np.empty((n, d, h2, w2), dtype=x.dtype)
    if mode == "max":
        out[...] = views[0]
        for v in views[1:]:
            np.maximum(out, v, out=out)
    elif mode == "avg":
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
    return out, PoolCache(x.shape, x.dtype, f, stride, mode, saved, out)


def pool2d_backward(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """Gradient of pool2d_forward, sent back through the same F*F views of dx:

        max:  dx_ij += dout where x_ij = out and no earlier offset was (the first maximum;
              in a window holding NaN, the last NaN, as in PyTorch)
        avg:  dx_ij += dout / F^2
        l2:   dx_ij += dout * x_ij / out   (0 where out = 0)

    When the windows tile the input (stride = F) every element of dx is in
    exactly one view, so the views are written instead of added to.
    """
    where = "pool2d_backward"
    if not isinstance(cache, PoolCache):
        raise TypeError(
            f"{where}: cache must be the second value returned by pool2d_forward "
            f"(out, cache = pool2d_forward(x, kernel_size, stride, mode)), got {type(cache).__name__}"
        )
    x_shape, dtype, f, stride, mode, saved, out = cache
    h2, w2 = out.shape[2:]
    dout = _dout(where, dout, out.shape, "the output of pool2d_forward: (N, D, H2, W2)", dtype)
    tiled = stride == f
    dx = (np.empty if tiled else np.zeros)(x_shape, dtype=np.result_type(dtype, dout))
    views = _window_views(dx, f, stride, h2, w2)
    if mode == "max":
        xviews = _window_views(saved, f, stride, h2, w2)
        hits = _max_hits(xviews, out)
        for v, hit in zip(views, hits):
            if tiled:
                np.copyto(v, 0)
                np.copyto(v, dout, where=hit)  # not dout * hit: inf * 0 would be NaN
            else:
                v += np.where(hit, dout, 0)
    elif mode == "avg":
        g = dout / (f * f)
        for v in views:
            if tiled:
                v[...] = g
            else:
                v += g
    else:
        g = np.divide(dout, out, out=np.zeros(dout.shape, dtype=np.result_type(dout, out)), where=out != 0)
        for v, xv in zip(views, _window_views(saved, f, stride, h2, w2)):
            if tiled:
                np.multiply(g, xv, out=v)
            else:
                v += g * xv
    return dx


def _max_hits(xviews: list[np.ndarray], out: np.ndarray) -> list[np.ndarray]:
    """For each window offset, where the window's gradient goes: the first offset equal to
    the maximum, or, in windows whose maximum is NaN, the last NaN (as PyTorch does)."""
    hits, free = [], None  # free: windows whose maximum has not been found yet
    for xv in xviews:
        hit = xv == out  # this offset holds its window's maximum ...
        if free is None:
            free = ~hit
        else:
            hit &= free  # ... and no earlier offset did (ties: first one wins)
            free ^= hit
        hits.append(hit)
    nan_windows = np.isnan(out)
    if nan_windows.any():
        taken = ~nan_windows
        for k in range(len(xviews) - 1, -1, -1):  # the last NaN of each NaN window
            hit = np.isnan(xviews[k]) & ~taken
            taken |= hit
            hits[k] = hits[k] | hit
    return hits
