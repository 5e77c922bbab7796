"""The same kernels as ``cnn_core.naive``, tuned: im2col and one matrix product per pass.

Same names and contract as the loops: ``conv2d_forward(x, w, b, S, P, dilation, groups, rounding)
-> (out, cache)``, ``conv2d_backward(dout, cache) -> (dx, dw, db)``, ``conv_transpose2d_forward(x, w,
b, S, P, output_padding, dilation, groups) -> (out, cache)``, ``conv_transpose2d_backward(dout,
cache) -> (dx, dw, db)``, ``pool2d_forward(x, F, S, mode, padding, ceil_mode, rounding) -> (out,
cache)``, ``pool2d_backward(dout, cache) -> dx``; the tests check them against the loops and PyTorch.
Grouped convolutions are one product per group; depthwise ones (groups = D) skip im2col (see
"depthwise convolution, fast"); the transposed convolution runs on the convolution's backward code.
Convolution: every window becomes a column of a matrix, so a pass is one matrix product;
pooling: one whole-array step per window offset. The only Python loops run over the F*F offsets
of the window (and over chunks of a large batch), never over pixels. Scratch buffers are reused
between calls up to SCRATCH_BYTES per thread; small products run on one BLAS thread.
"""

from __future__ import annotations

import math
import os
import threading
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from .inputs import pair
from .naive import ConvGeometry, _conv_inputs, _conv_rounding, _conv_sizes, _dout, _pool_inputs, _transposed_sizes


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
    stride: tuple[int, int]
    padding: tuple[int, int]
    token: object
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    out_size: tuple[int, int] = (0, 0)


class ConvTransposeCache(NamedTuple):
    """What conv_transpose2d_forward keeps for conv_transpose2d_backward (x itself, not a copy)."""

    x: np.ndarray
    w: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    out_size: tuple[int, int]


def _conv_plan(x_shape, w_shape, geo, h2, w2, itemsize):
    """(row, images per chunk): row = Wp for stride 1 (flat rows), W2 otherwise."""
    n, d, h, wd = x_shape
    k, _, fh, fw = w_shape
    (sh, sw), (ph, pw) = geo.stride, geo.padding
    hp, wp = h + 2 * ph, wd + 2 * pw
    row = wp if sh == sw == 1 else w2
    m1 = h2 * row  # matrix columns per image
    per_image = (
        d * (hp + 1) * wp  # xp / dxp
        + max(d * fh * fw + 1, k * fw) * m1  # cols / dcols / shifted G
        + k * m1  # res / G
        + (d * fh * m1 if sh == sw == 1 else 0)
    )  # R of _dx_row_offsets
    return row, _chunk_images(n, per_image, itemsize)


def _im2col(x: np.ndarray, fh: int, fw: int, geo, h2: int, w2: int, dtype):
    """Columns of the zero-padded x plus a row of ones, a (D*Fh*Fw + 1, N*H2*row) scratch matrix.

    cols[(d, i, j), (n, r, c)] = xp[n, d, r*Sh + i*dh, c*Sw + j*dw], cols[-1] = 1 (dh, dw: the
    dilation). Returns (cols, row): row = Wp for stride 1 (the flat-row trick: columns c >= W2
    are junk) and row = W2 for stride > 1.
    """
    n, d, h, wd = x.shape
    (sh, sw), (ph, pw), (dh, dw) = geo.stride, geo.padding, geo.dilation
    hp, wp = h + 2 * ph, wd + 2 * pw
    flat = sh == sw == 1
    row = wp if flat else w2
    m = n * h2 * row  # number of columns (windows, junk included)
    # zero-padded copy of x, channels first; stride 1 gets a spare zero row
    xp = _workspace("xp", (d, n, hp + flat, wp), dtype)
    xp.fill(0)
    xp[:, :, ph : ph + h, pw : pw + wd] = x.transpose(1, 0, 2, 3)
    cols = _workspace("cols", (d * fh * fw + 1, m), dtype)
    cols[-1] = 1
    if flat:
        length = h2 * wp  # columns per image
        rows = xp.reshape(d, n, (hp + 1) * wp)
        dst = cols[:-1].reshape(d, fh * fw, n, length)
        for i in range(fh):
            for j in range(fw):
                start = i * dh * wp + j * dw
                dst[:, i * fw + j] = rows[:, :, start : start + length]
    else:
        dst = cols[:-1].reshape(d, fh, fw, n, h2, w2)
        for i in range(fh):
            for j in range(fw):
                dst[:, i, j] = xp[:, :, _steps(i * dh, sh, h2), _steps(j * dw, sw, w2)]
    return cols, row


def _steps(start: int, stride: int, count: int) -> slice:
    """count cells, stride apart, from start on."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def _grouped(a: np.ndarray, groups: int) -> np.ndarray:
    """A (rows, m) matrix whose rows run over the groups as (groups, rows/groups, m)."""
    return a.reshape(groups, a.shape[0] // groups, a.shape[1])


def _conv_columns_product(x, w, b, geo, h2, w2, out, token=None):
    """out[:] = the convolution of x (already checked), chunk by chunk: [W | b] @ [cols; 1]
    (groups: one product per group, then + b)."""
    n, d = x.shape[:2]
    k, d_group, fh, fw = w.shape
    groups = geo.groups
    dtype = out.dtype
    _scratch.cols_owner = None  # the columns get overwritten below
    if _is_depthwise(x.shape, w.shape, groups):
        return _depthwise_forward(x, w, b, geo, h2, w2, out, token)
    if groups == 1:
        wb = np.empty((k, d * fh * fw + 1), dtype=dtype)  # [W | b]
        wb[:, :-1] = w.reshape(k, -1)
        wb[:, -1] = 0 if b is None else b
    else:
        wg = w.reshape(groups, k // groups, d_group * fh * fw).astype(dtype, copy=False)
    row, chunk = _conv_plan(x.shape, w.shape, geo, h2, w2, dtype.itemsize)
    for start in range(0, n, chunk):
        xc = x[start : start + chunk]
        cols, row = _im2col(xc, fh, fw, geo, h2, w2, dtype)
        res = _workspace("res", (k, cols.shape[1]), dtype)
        if groups == 1:
            matmul(wb, cols, out=res)
        else:
            matmul(wg, _grouped(cols[:-1], groups), out=_grouped(res, groups))
            if b is not None:
                res += b[:, None]
        # (K, n, H2, row) -> (n, K, H2, W2): batch axis first, junk columns cropped
        out[start : start + chunk] = res.reshape(k, len(xc), h2, row)[:, :, :, :w2].transpose(1, 0, 2, 3)
        if token is not None and chunk >= n and _is_scratch("cols", cols):
            _scratch.cols_owner = (token, dtype)
    return out


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    rounding: str = "strict",
) -> tuple[np.ndarray, ConvCache]:
    """Fast convolution as one matrix product (im2col):

        out[n, k, r, c] = sum over (d, i, j) of w[k, d, i, j] * xp[n, d, r*Sh + i*dh, c*Sw + j*dw] + b[k]
        i.e.  out = [W | b] @ [cols; 1],  W = w as a (K, D*Fh*Fw) matrix, cols from _im2col

    (dh, dw: the dilation, 1 in the lecture). With groups G, one product per group:
    out_g = W_g @ cols_g over the D/G channels of group g. The cache keeps x itself (do not
    change it in place before backward), not the columns, a matrix F*F times the size of x.
    A large batch is processed in chunks of images (see SCRATCH_BYTES).
    """
    where = "conv2d_forward"
    x, w, b, geo = _conv_inputs(where, x, w, b, stride, padding, dilation, groups)
    h2, w2 = _conv_sizes(where, x, w.shape[2:], geo.stride, geo.padding, geo.dilation, _conv_rounding(where, rounding))
    token = object()  # tells backward whether the columns are still in scratch
    out = np.empty((x.shape[0], w.shape[0], h2, w2), dtype=np.result_type(x, w))
    _conv_columns_product(x, w, b, geo, h2, w2, out, token)
    return out, ConvCache(x, w, geo.stride, geo.padding, token, geo.dilation, geo.groups, (h2, w2))


def conv2d_backward(dout: np.ndarray, cache: ConvCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of conv2d_forward, with G = dout as a (K, N*H2*row) matrix:

        [dw | db] = G @ [cols; 1]^T          (the row of ones sums up db; groups: per group)
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
    x, w, stride, padding, token, dilation, groups, (h2, w2) = cache
    geo = ConvGeometry(stride, padding, dilation, groups)
    n, k = x.shape[0], w.shape[0]
    dout = _dout(where, dout, (n, k, h2, w2), "the output of conv2d_forward: (N, K, H2, W2)", np.result_type(x, w))
    return _conv_grads(dout, x, x.shape, w, geo, h2, w2, token=token)


def _conv_grads(dout, x, x_shape, w, geo, h2, w2, token=None, want_dx=True, want_dw=True):
    """(dx, dw, db) of the convolution of x (shape x_shape) with w, given dout; x is only read for
    dw (so it may be None without it), dx is None unless want_dx, dw and db None unless want_dw."""
    n, d, h, wd = x_shape
    k, d_group, fh, fw = w.shape
    (ph, pw), groups = geo.padding, geo.groups
    flat = geo.stride == (1, 1)
    dtype = np.result_type(dout, w) if x is None else np.result_type(dout, x, w)
    owner = getattr(_scratch, "cols_owner", None)
    _scratch.cols_owner = None  # the scratch gets overwritten below
    forward_left = want_dw and owner is not None and owner[0] is token and owner[1] == dtype
    if _is_depthwise(x_shape, w.shape, groups) and np.isfinite(w).all() and (x is None or np.isfinite(x).all()):
        return _depthwise_grads(dout, x, x_shape, w, geo, h2, w2, want_dx, want_dw, dtype, forward_left)
    row, chunk = _conv_plan(x_shape, w.shape, geo, h2, w2, dtype.itemsize)
    # forward's columns are still in scratch (a depthwise forward left phases, not columns)
    reuse = forward_left and chunk >= n and not _is_depthwise(x_shape, w.shape, groups)
    wt = w.astype(dtype, copy=False)
    w_finite = bool(np.isfinite(wt).all())
    lead = (fw - 1) * geo.dilation[1]  # zeros in front of G (_dx_row_offsets reads them)
    dwb = np.zeros((k, d_group * fh * fw + 1), dtype=dtype) if want_dw else None
    dx = np.empty((n, d, h, wd), dtype=dtype) if want_dx else None
    for start in range(0, n, chunk):
        dc = dout[start : start + chunk]
        nc = len(dc)
        m = nc * h2 * row
        # G, with junk columns set to zero and `lead` zeros in front
        g_buf = _workspace("res", (k, lead + m), dtype)
        g_buf[:, :lead] = 0
        g4 = g_buf[:, lead:].reshape(k, nc, h2, row)
        g4[:, :, :, w2:] = 0
        g4[:, :, :, :w2] = dc.transpose(1, 0, 2, 3)
        g = g_buf[:, lead:]
        if want_dw:
            if reuse:  # forward's columns are still in scratch
                cols = _workspace("cols", (d * fh * fw + 1, m), dtype)
            else:
                cols, row = _im2col(x[start : start + chunk], fh, fw, geo, h2, w2, dtype)
            part = _weight_grad(g, cols, groups)
            if flat and row > w2 and not np.isfinite(part).all():
                # an inf/NaN in x may sit in a junk column, where 0 * inf = NaN: zero them and redo
                cols.reshape(-1, nc, h2, row)[:, :, :, w2:] = 0
                part = _weight_grad(g, cols, groups)
            dwb += part
        if want_dx:
            if flat and groups == 1 and k <= 2 * d * fh and w_finite:  # copies K*Fw rows of G, versus D*Fh*Fw rows of adds
                dxp = _dx_row_offsets(g_buf, wt, (nc, d, h, wd), geo, h2)
            else:
                dxp = _dx_col2im(g, wt, (nc, d, h, wd), geo, h2, w2, zero_junk=not w_finite)
            dx[start : start + chunk] = dxp[:, :, ph : ph + h, pw : pw + wd].transpose(1, 0, 2, 3)
    if not want_dw:
        return dx, None, None
    return dx, dwb[:, :-1].reshape(w.shape).copy(), dwb[:, -1].copy()


def _weight_grad(g: np.ndarray, cols: np.ndarray, groups: int) -> np.ndarray:
    """[dw | db] of one chunk, (K, D/G*Fh*Fw + 1): G @ [cols; 1]^T, one product per group."""
    with np.errstate(invalid="ignore"):  # a NaN from a junk column is removed by the caller
        if groups == 1:
            return matmul(g, cols.T)
        k = g.shape[0]
        part = np.empty((k, cols.shape[0] // groups + 1), dtype=g.dtype)
        part[:, :-1] = matmul(_grouped(g, groups), _grouped(cols[:-1], groups).transpose(0, 2, 1)).reshape(k, -1)
        part[:, -1] = g.sum(axis=1)
        return part


def _dx_col2im(g, w, x_shape, geo, h2, w2, zero_junk=False):
    """Padded input gradient (D, N, Hp, Wp) by col2im: dcols = W^T @ G (per group), then row
    (d, i, j) of dcols is added back where it was copied from, one shifted add
    per kernel offset (Fh*Fw adds of flat-row slices for stride 1). zero_junk
    zeroes dcols' junk columns first (needed when w holds inf/NaN: 0 * inf = NaN)."""
    n, d, h, wd = x_shape
    k, d_group, fh, fw = w.shape
    (sh, sw), (ph, pw), (dh, dw), groups = geo
    hp, wp = h + 2 * ph, wd + 2 * pw
    flat = sh == sw == 1
    dcols = _workspace("cols", (d * fh * fw, g.shape[1]), g.dtype)  # the columns' buffer, free now
    if groups == 1:
        matmul(w.reshape(k, -1).T, g, out=dcols)
    else:
        wg = w.reshape(groups, k // groups, d_group * fh * fw)
        matmul(wg.transpose(0, 2, 1), _grouped(g, groups), out=_grouped(dcols, groups))
    dxp = _workspace("xp", (d, n, hp + flat, wp), g.dtype)
    dxp.fill(0)
    if flat:
        if zero_junk and wp > w2:
            dcols.reshape(-1, n, h2, wp)[:, :, :, w2:] = 0
        length = h2 * wp
        rows = dxp.reshape(d, n, -1)
        dcols = dcols.reshape(d, fh * fw, n, length)
        for i in range(fh):
            for j in range(fw):
                start = i * dh * wp + j * dw
                rows[:, :, start : start + length] += dcols[:, i * fw + j]
    else:
        dcols = dcols.reshape(d, fh, fw, n, h2, w2)
        for i in range(fh):
            for j in range(fw):
                dxp[:, :, _steps(i * dh, sh, h2), _steps(j * dw, sw, w2)] += dcols[:, i, j]
    return dxp[:, :, :hp]


def _dx_row_offsets(g_buf, w, x_shape, geo, h2):
    """Padded input gradient (D, N, Hp, Wp) for stride 1, with the column offsets
    j inside a matrix product and only the Fh row offsets i left as adds:

        R[(d, i), q] = sum over (k, j) of w[k, d, i, j] * G[k, q - j*dw]
        dx[d, p]     = sum over i of R[(d, i), p - i*dh*Wp]          (flat positions)

    (dh, dw: the dilation). The shifted copies G[k, q - j*dw] are Fw contiguous slices of
    the flat rows of G (the junk columns and the (Fw-1)*dw leading zeros supply the zeros at
    the edges, so w must be finite: 0 * inf = NaN). Cheaper than col2im's Fh*Fw adds unless
    K is large next to D*Fh.
    """
    n, d, h, wd = x_shape
    k, _, fh, fw = w.shape
    (ph, pw), (dh, dw) = geo.padding, geo.dilation
    hp, wp = h + 2 * ph, wd + 2 * pw
    lead = (fw - 1) * dw
    m = g_buf.shape[1] - lead
    gj = _workspace("cols", (k, fw, m), g_buf.dtype)  # the columns' buffer, free now
    for j in range(fw):
        gj[:, j] = g_buf[:, lead - j * dw : lead - j * dw + m]
    r = _workspace("dcols", (d, fh, n, h2 * wp), g_buf.dtype)
    matmul(w.transpose(1, 2, 0, 3).reshape(d * fh, k * fw), gj.reshape(k * fw, m), out=r.reshape(d * fh, m))
    dxp = _workspace("xp", (d, n, hp + 1, wp), g_buf.dtype)
    dxp.fill(0)
    rows = dxp.reshape(d, n, -1)
    for i in range(fh):
        rows[:, :, i * dh * wp : i * dh * wp + h2 * wp] += r[:, i]
    return dxp[:, :, :hp]


# ---------------------------------------------------------------- depthwise convolution, fast
#
# Depthwise (groups = D, each filter sees one channel; K = D * multiplier) has
# only Fh*Fw numbers per filter, so im2col's matrix products degenerate into
# products with one row or one column, which BLAS does slowly, after copying
# the input Fh*Fw times. Instead: one multiply-add over the whole batch per
# kernel offset, straight from the padded input.
#
# For stride 1 the flat-row trick goes one step further: the padded images of a
# channel lie one after the other in one flat row (a spare zero image at the
# end), so offset (i, j) of every window of every image is ONE contiguous slice
# starting at i*dh*Wp + j*dw. Outputs computed at junk positions (columns >= W2,
# rows >= H2, reading across into the next row or image) are cropped; in backward
# their gradient is zero, so inputs that are not finite take the general path
# (0 * inf = NaN would leak).
#
# Stride S > 1: split the padded input into its Sh*Sw phases, phase (a, b) =
# xp[a::Sh, b::Sw]. Offset (i, j) of window (r, c) reads xp[r*Sh + i*dh, c*Sw + j*dw],
# which is phase ((i*dh) % Sh, (j*dw) % Sw) at (r + (i*dh) // Sh, c + (j*dw) // Sw):
# a stride-1 read again, so each offset is one contiguous slice of one phase.
#
# The batch is not chunked here: the scratch (phases, sums, one temporary) is
# about four times x, taken as temporaries beyond SCRATCH_BYTES.


def _is_depthwise(x_shape, w_shape, groups: int) -> bool:
    return groups > 1 and groups == x_shape[1] and w_shape[1] == 1


def _phase_grid(x_shape, geo) -> tuple[int, int]:
    """(rows, columns) of one phase of the padded input, a spare zero row included."""
    (sh, sw), (ph, pw) = geo.stride, geo.padding
    return -(-(x_shape[2] + 2 * ph) // sh) + 1, -(-(x_shape[3] + 2 * pw) // sw)


def _phase_slices(x_shape, geo) -> list[tuple[int, slice, slice, slice, slice]]:
    """For each phase (a, b): (index, its rows and columns that hold input cells, those input rows and columns)."""
    n, d, h, wd = x_shape
    (sh, sw), (ph, pw) = geo.stride, geo.padding
    out = []
    for a in range(sh):
        q_r = -(-(ph - a) // sh) if ph > a else 0  # first phase row that holds an input row
        rows = slice(a + q_r * sh - ph, h, sh)
        n_r = len(range(*rows.indices(h)))
        for b in range(sw):
            q_c = -(-(pw - b) // sw) if pw > b else 0
            cols = slice(b + q_c * sw - pw, wd, sw)
            n_c = len(range(*cols.indices(wd)))
            out.append((a * sw + b, slice(q_r, q_r + n_r), slice(q_c, q_c + n_c), rows, cols))
    return out


def _depthwise_phases(x: np.ndarray, geo, dtype) -> np.ndarray:
    """The Sh*Sw phases of zero-padded x, channels first, each followed by a spare zero image:
    a (Sh*Sw, D, (N + 1) * Hq * Wq) scratch array (Hq, Wq from _phase_grid). Phase (a, b) holds
    the padded rows a, a + Sh, ... and columns b, b + Sw, ..., copied straight from x."""
    n, d = x.shape[:2]
    (sh, sw) = geo.stride
    hq, wq = _phase_grid(x.shape, geo)
    phases = _workspace("xp", (sh * sw, d, n + 1, hq, wq), dtype)
    phases.fill(0)
    xt = x.transpose(1, 0, 2, 3)
    for index, phase_rows, phase_cols, rows, cols in _phase_slices(x.shape, geo):
        phases[index, :, :n, phase_rows, phase_cols] = xt[:, :, rows, cols]
    return phases.reshape(sh * sw, d, -1)


def _depthwise_taps(geo, fh: int, fw: int, wq: int) -> list[tuple[int, int, int]]:
    """(t, phase, flat offset) of every kernel offset (i, j), t = i*Fw + j."""
    (sh, sw), (dh, dw) = geo.stride, geo.dilation
    return [
        (i * fw + j, (i * dh % sh) * sw + j * dw % sw, (i * dh // sh) * wq + j * dw // sw) for i in range(fh) for j in range(fw)
    ]


PARALLEL_ELEMENTS = 2**18  # a depthwise pass over at least this many numbers is split over threads

_pool_executor = None


def _channel_parts(d: int, elements: int) -> list[slice]:
    """The channels split into one part per BLAS thread (numpy's thread setting) when a pass is large.

    numpy's element-wise work runs on one core; the depthwise passes are independent per channel
    and numpy releases the GIL inside them, so Python threads can share them out.
    """
    libs = _blas()
    threads = min(d, max((lib.get_num_threads() for lib in libs), default=1)) if elements >= PARALLEL_ELEMENTS else 1
    bounds = np.linspace(0, d, threads + 1).astype(int)
    return [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _for_channel_parts(work, parts: list[slice]) -> None:
    """work(part) for every part, on worker threads when there are several."""
    global _pool_executor
    if len(parts) == 1:
        work(parts[0])
        return
    if _pool_executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool_executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="cnn_core-depthwise")
    for future in [_pool_executor.submit(work, part) for part in parts]:
        future.result()


def _depthwise_forward(x, w, b, geo, h2, w2, out, token=None):
    """out[n, d*M + c] = sum over (i, j) of w[d*M + c, 0, i, j] * xp[n, d, r*Sh + i*dh, c*Sw + j*dw] + b[d*M + c]
    (M: the depth multiplier K/D), one multiply-add of contiguous slices per kernel offset."""
    n, d = x.shape[:2]
    k, _, fh, fw = w.shape
    mult, dtype = k // d, out.dtype
    phases = _depthwise_phases(x, geo, dtype)
    hq, wq = _phase_grid(x.shape, geo)
    m = n * hq * wq
    taps = w.reshape(d, mult, fh * fw).astype(dtype, copy=False)
    acc = _workspace("res", (d, mult, m), dtype)
    tmp = _workspace("cols", (d, m), dtype)
    offsets = _depthwise_taps(geo, fh, fw, wq)

    def work(ch: slice) -> None:
        for c in range(mult):
            for t, phase, start in offsets:
                if t == 0:
                    np.multiply(phases[phase, ch, start : start + m], taps[ch, c, t, None], out=acc[ch, c])
                else:
                    np.multiply(phases[phase, ch, start : start + m], taps[ch, c, t, None], out=tmp[ch])
                    acc[ch, c] += tmp[ch]

    _for_channel_parts(work, _channel_parts(d, d * m))
    out[...] = acc.reshape(k, n, hq, wq)[:, :, :h2, :w2].transpose(1, 0, 2, 3)
    if b is not None:
        out += b[:, None, None]
    if token is not None and _is_scratch("xp", phases):  # backward may reuse the phases
        _scratch.cols_owner = (token, dtype)
    return out


def _depthwise_grads(dout, x, x_shape, w, geo, h2, w2, want_dx, want_dw, dtype, reuse=False):
    """(dx, dw, db) of _depthwise_forward, with G on the phase grid (zero at junk positions): each
    offset (i, j) sends w * G back to its slice of its phase and collects sum(G * that slice) for
    dw; the phases of dx are then put back in place. x may be None without want_dw; reuse: the
    forward pass left x's phases in scratch."""
    n, d, h, wd = x_shape
    k, _, fh, fw = w.shape
    mult = k // d
    (sh, sw) = geo.stride
    hq, wq = _phase_grid(x_shape, geo)
    m = n * hq * wq
    taps = w.reshape(d, mult, fh * fw).astype(dtype, copy=False)
    offsets = _depthwise_taps(geo, fh, fw, wq)
    parts = _channel_parts(d, d * m)
    g = _workspace("res", (k, n, hq, wq), dtype)
    g.fill(0)
    g[:, :, :h2, :w2] = dout.transpose(1, 0, 2, 3)
    g = g.reshape(d, mult, m)
    dx = dwt = db = None
    if want_dw:
        if reuse:
            phases = _workspace("xp", (sh * sw, d, (n + 1) * hq * wq), dtype)
        else:
            phases = _depthwise_phases(x, geo, dtype)
        dwt = np.empty((d, mult, fh * fw), dtype=dtype)

        def weight_work(ch: slice) -> None:
            for c in range(mult):
                for t, phase, start in offsets:  # one dot product per channel: (D, 1, m) @ (D, m, 1)
                    dwt[ch, c, t] = np.matmul(g[ch, c, None, :], phases[phase, ch, start : start + m, None])[:, 0, 0]

        _for_channel_parts(weight_work, parts)
        db = dout.sum(axis=(0, 2, 3), dtype=dtype)
    if want_dx:
        dphases = _workspace("xp", (sh * sw, d, (n + 1) * hq * wq), dtype)
        tmp = _workspace("cols", (d, m), dtype)

        def input_work(ch: slice) -> None:
            dphases[:, ch] = 0
            for c in range(mult):
                for t, phase, start in offsets:
                    np.multiply(g[ch, c], taps[ch, c, t, None], out=tmp[ch])
                    dphases[phase, ch, start : start + m] += tmp[ch]

        _for_channel_parts(input_work, parts)
        dphases = dphases.reshape(sh * sw, d, n + 1, hq, wq)
        dx = np.empty((n, d, h, wd), dtype=dtype)
        dxt = dx.transpose(1, 0, 2, 3)
        for index, phase_rows, phase_cols, rows, cols in _phase_slices(x_shape, geo):
            dxt[:, :, rows, cols] = dphases[index, :, :n, phase_rows, phase_cols]
    return dx, None if dwt is None else dwt.reshape(w.shape), db


# ---------------------------------------------------------------- transposed convolution, fast
#
# A transposed convolution is the backward pass of a convolution run forward:
# its output is the input gradient dx of the convolution with the same w
# (read as K filters of depth D/G: w's first axis, D, is that convolution's K),
# stride, padding and dilation, whose "dout" is our x. Its input gradient is that
# convolution's forward pass applied to dout, and its weight gradient is that
# convolution's weight gradient with the roles of x and dout swapped. So it runs
# on exactly the code above, and conv_transpose2d_forward(x, w) equals
# conv2d_backward's dx for dout = x to the last bit.


def conv_transpose2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> tuple[np.ndarray, ConvTransposeCache]:
    """Fast transposed convolution: the input gradient of conv2d(y, w, S, P, dilation, groups)
    for dout = x, plus the bias:

        H_out = (H - 1)S - 2P + dilation(F - 1) + output_padding + 1

    w has PyTorch's layout (D, K/G, Fh, Fw). The cache keeps x itself, not a copy.
    """
    where = "conv_transpose2d_forward"
    x, w, b, geo = _conv_inputs(where, x, w, b, stride, padding, dilation, groups, True)
    op = pair("output_padding", output_padding, 0, where)
    h_out, w_out = _transposed_sizes(where, x, w, geo, op)
    n, _, h, wd = x.shape
    k = w.shape[1] * geo.groups
    out, _, _ = _conv_grads(x, None, (n, k, h_out, w_out), w, geo, h, wd, want_dw=False)
    if b is not None:
        out += b[:, None, None]
    return out, ConvTransposeCache(x, w, geo.stride, geo.padding, op, geo.dilation, geo.groups, (h_out, w_out))


def conv_transpose2d_backward(dout: np.ndarray, cache: ConvTransposeCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of conv_transpose2d_forward:

    dx = conv2d(dout, w, S, P, dilation, groups)   (the convolution it transposes, run forward)
    dw = that convolution's weight gradient with input dout and output gradient x
    db = dout summed over the batch and the pixels
    """
    where = "conv_transpose2d_backward"
    if not isinstance(cache, ConvTransposeCache):
        raise TypeError(
            f"{where}: cache must be the second value returned by conv_transpose2d_forward "
            f"(out, cache = conv_transpose2d_forward(x, w, b, stride, padding)), got {type(cache).__name__}"
        )
    x, w, stride, padding, _, dilation, groups, (h_out, w_out) = cache
    geo = ConvGeometry(stride, padding, dilation, groups)
    n, _, h, wd = x.shape
    k = w.shape[1] * groups
    dout = _dout(
        where, dout, (n, k, h_out, w_out), "the output of conv_transpose2d_forward: (N, K, H_out, W_out)", np.result_type(x, w)
    )
    dtype = np.result_type(dout, x, w)
    dx = np.empty(x.shape, dtype=dtype)
    _conv_columns_product(dout, w.astype(dtype, copy=False), None, geo, h, wd, dx)
    _, dw, _ = _conv_grads(x, dout, dout.shape, w, geo, h, wd, want_dx=False)
    return dx, dw, dout.sum(axis=(0, 2, 3))


# ---------------------------------------------------------------- pooling, fast
#
# Pooling works on each activation map alone, so no matrix product is needed:
# loop over the F*F offsets (i, j) of the window instead of over the pixels.
# The view a[:, :, i::S, j::S] (cut to H2 x W2) holds, for every window at
# once, its element at offset (i, j); a running max, sum, or sum of squares
# over the F*F views gives every window's result.
#
# With padding, or a last window hanging over the edge (rounding="ceil"), a is
# a padded copy of x: -inf around it for max (a padded cell never wins), 0 for
# avg and L2 (it adds nothing); the average then divides each window by its
# number of cells inside the padded input (PyTorch's count_include_pad=True).


class PoolCache(NamedTuple):
    """What pool2d_forward keeps for pool2d_backward (x, or its padded copy, and out themselves, not copies)."""

    x_shape: tuple
    dtype: np.dtype
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    mode: str
    x: np.ndarray | None
    out: np.ndarray
    padding: tuple[int, int] = (0, 0)
    divisor: float | np.ndarray = 1.0
    padded_shape: tuple = ()


def _window_views(a: np.ndarray, f, stride, h2: int, w2: int) -> list[np.ndarray]:
    """The Fh*Fw strided views v[i*Fw + j][n, d, r, c] = a[n, d, r*Sh + i, c*Sw + j], r < H2, c < W2."""
    (fh, fw), (sh, sw) = f, stride
    return [a[:, :, _steps(i, sh, h2), _steps(j, sw, w2)] for i in range(fh) for j in range(fw)]


def _pool_padded(x: np.ndarray, geo, fill: float) -> np.ndarray:
    """x itself, or a copy framed by `fill` that every window of geo fits in (padding, ceil overhang)."""
    n, d, h, wd = x.shape
    (fh, fw), (sh, sw), (ph, pw), _, (h2, w2) = geo
    hp, wp = max((h2 - 1) * sh + fh, ph + h), max((w2 - 1) * sw + fw, pw + wd)
    if (hp, wp) == (h, wd):
        return x
    a = np.full((n, d, hp, wp), fill, dtype=x.dtype)
    a[:, :, ph : ph + h, pw : pw + wd] = x
    return a


def _pool_divisor(x_shape, geo) -> float | np.ndarray:
    """What avg pooling divides each window by: Fh*Fw, or (H2, W2) counts of cells inside the padded input."""
    (fh, fw), (sh, sw), (ph, pw), _, (h2, w2) = geo
    counts = []
    for n, f, s, p, size in zip(x_shape[2:], (fh, fw), (sh, sw), (ph, pw), (h2, w2)):
        starts = np.arange(size) * s - p
        counts.append(np.minimum(starts + f, n + p) - starts)
    if (counts[0] == fh).all() and (counts[1] == fw).all():
        return float(fh * fw)
    return np.multiply.outer(counts[0], counts[1])


def pool2d_forward(
    x: np.ndarray,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    mode: str = "max",
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    rounding: str = "strict",
) -> tuple[np.ndarray, PoolCache]:
    """Fast pooling over (N, D, H, W), one step per window offset (i, j):

        max:  out = max over (i, j) of v_ij     (NaN if the window holds a NaN)
        avg:  out = sum of v_ij / F^2           (/ the cells inside the padded input, at a ceil edge)
        l2:   out = sqrt(sum of v_ij^2)

    padding, ceil_mode and rounding as in cnn_core.naive.pool2d_naive. The cache keeps x and
    out themselves (no copies): change neither in place before the backward pass.
    """
    x, geo = _pool_inputs("pool2d_forward", x, kernel_size, stride, mode, padding, ceil_mode, rounding)
    n, d, h, wd = x.shape
    h2, w2 = geo.out_size
    a = _pool_padded(x, geo, -np.inf if mode == "max" else 0.0)
    views = _window_views(a, geo.kernel_size, geo.stride, h2, w2)
    out = np.empty((n, d, h2, w2), dtype=x.dtype)
    divisor = _pool_divisor(x.shape, geo) if mode == "avg" else 1.0
    if mode == "max":
        out[...] = views[0]
        for v in views[1:]:
            np.maximum(out, v, out=out)
    elif mode == "avg":
        out[...] = views[0]
        for v in views[1:]:
            out += v
        if np.ndim(divisor) == 0:
            out *= 1.0 / divisor
        else:
            out /= divisor
    else:
        np.multiply(views[0], views[0], out=out)
        for v in views[1:]:
            out += v * v
        np.sqrt(out, out=out)
    saved = None if mode == "avg" else a
    return out, PoolCache(x.shape, x.dtype, geo.kernel_size, geo.stride, mode, saved, out, geo.padding, divisor, a.shape)


def pool2d_backward(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """Gradient of pool2d_forward, sent back through the same F*F views of dx:

        max:  dx_ij += dout where x_ij = out and no earlier offset was (the first maximum;
              in a window holding NaN, the last NaN, as in PyTorch)
        avg:  dx_ij += dout / F^2               (/ the window's count at a padded edge)
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
    x_shape, dtype, f, stride, mode, saved, out, (ph, pw), divisor, padded_shape = cache
    h2, w2 = out.shape[2:]
    dout = _dout(where, dout, out.shape, "the output of pool2d_forward: (N, D, H2, W2)", dtype)
    padded = tuple(padded_shape) != tuple(x_shape)
    tiled = stride == f and tuple(padded_shape[2:]) == (h2 * stride[0], w2 * stride[1])
    dx = (np.empty if tiled else np.zeros)(padded_shape, dtype=np.result_type(dtype, dout))
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
        g = dout / divisor
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
    if padded:
        return dx[:, :, ph : ph + x_shape[2], pw : pw + x_shape[3]].copy()
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
