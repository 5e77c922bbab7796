"""The kernels as the lecture draws them: Python loops over images, filters and positions.

Shapes (lecture symbol -> array axis):
    x    (N, D, H, W)     batch, depth D1, height H1, width W1
    w    (K, D, F, F)     K filters, each F x F spanning the full depth D
    b    (K,)             one bias per filter, or None for no bias
    out  (N, K, H2, W2)   H2 = (H + 2P - F)/S + 1, W2 = (W + 2P - F)/S + 1

Beyond the lecture (each option defaults to the lecture's case):
    F, S, P per axis      kernel_size (Fh, Fw), stride (Sh, Sw), padding (Ph, Pw): one number or a pair
    dilation d            the filter's taps sit d cells apart: it spans F_eff = d(F - 1) + 1 cells
    groups G              the D channels and K filters split into G groups; filter k sees only the
                          D/G channels of its group, so w has shape (K, D/G, Fh, Fw) (depthwise: G = D)
    rounding              "strict" (the lecture: (H + 2P - F_eff)/S must be whole), "floor" (PyTorch)
                          or, for pooling only, "ceil" (PyTorch's ceil_mode=True); see shapes.output_size
    conv_transpose2d      the transposed convolution: each input pixel paints its filter, scaled by
                          its value, onto an output S cells apart per step;
                          H_out = (H - 1)S - 2P + d(F - 1) + output_padding + 1, w (D, K/G, Fh, Fw)

Read these first: ``conv2d_naive`` slides each filter over the padded image and takes dot
products; ``conv2d_backward_naive`` sends each output's gradient back through the same window
(dw += dout * window, dx[window] += dout * w, db = sum of dout); ``pool2d_naive`` and
``pool2d_backward_naive`` do the same for pooling. ``cnn_core.fast`` has the same operations,
tuned; both rooms offer the contract the layers use,
``conv2d_forward(x, w, b, S, P, dilation, groups, rounding) -> (out, cache)``,
``conv2d_backward(dout, cache) -> (dx, dw, db)``, ``conv_transpose2d_forward(x, w, b, S, P,
output_padding, dilation, groups) -> (out, cache)``, ``conv_transpose2d_backward(dout, cache) ->
(dx, dw, db)``, ``pool2d_forward(x, F, S, mode, padding, ceil_mode, rounding) -> (out, cache)``,
``pool2d_backward(dout, cache) -> dx``, so a layer runs either (``Conv2D(..., kernels="naive")``).

The convolution is a cross-correlation (the filter is not flipped), exactly as in the
deep-learning frameworks. Inputs: arrays or nested lists; integer arrays (uint8 photos) are
converted to floating point first (to w's dtype, else float64), bools and objects are refused
(see ``cnn_core.inputs``). An empty batch (N = 0) gives empty outputs and zero weight gradients.
dout must have the shape of the forward output. inf and NaN propagate as in PyTorch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .inputs import array, as_float, check_shape, pair, whole
from .shapes import check_groups, check_rounding, output_size, transposed_output_size

POOL_MODES = ("max", "avg", "l2")


# ---------------------------------------------------------------- checks


class ConvGeometry(NamedTuple):
    """How a filter moves, per axis (height, width): stride S, padding P, dilation, and the groups."""

    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int


def _geometry(where: str, stride, padding, dilation=1, groups=1) -> ConvGeometry:
    return ConvGeometry(
        pair("stride S", stride, 1, where),
        pair("padding P", padding, 0, where),
        pair("dilation", dilation, 1, where),
        whole("groups", groups, 1, where),
    )


def _conv_inputs(where: str, x, w, b, stride, padding, dilation=1, groups=1, transposed=False):
    """Checked (x, w, b, geometry): 4-D numeric arrays of matching depth, integers converted to float.

    w is (K, D/G, Fh, Fw) for a convolution and (D, K/G, Fh, Fw) for a transposed one (PyTorch's layouts).
    """
    x = array(where, "x", x, "(N, D, H, W)", 4, hint="for a single image use x[None] or x.reshape(1, D, H, W)")
    layout = "(D, K/G, Fh, Fw)" if transposed else "(K, D, F, F)"
    w = array(where, "w", w, layout, 4, hint="one filter of depth D is w.reshape(1, D, F, F)")
    geo = _geometry(where, stride, padding, dilation, groups)
    groups = geo.groups
    k, d, fh, fw = w.shape
    if k == 0 or fh == 0 or fw == 0:
        raise ValueError(f"{where}: w has shape {w.shape}: need at least one filter (K >= 1) of size F >= 1")
    if transposed:  # w[d_in] holds the K/G filters input channel d_in paints with
        if x.shape[1] != k:
            raise ValueError(
                f"{where}: depth mismatch: w of shape {w.shape} = (D, K/G, Fh, Fw) expects x with D={k} channels "
                f"but x has D={x.shape[1]} (x.shape={x.shape}); a transposed convolution has one w[d] per input channel"
            )
        d_in, k = k, d * groups
    else:
        d_in = d * groups
        if x.shape[1] and groups > 1:
            check_groups(groups, x.shape[1], k, where)
        if x.shape[1] != d_in:
            if groups == 1:
                raise ValueError(
                    f"{where}: depth mismatch: the filters span D={d} channels but x has D={x.shape[1]} "
                    f"(x.shape={x.shape}, w.shape={w.shape}); filters always extend the full depth of the input"
                )
            raise ValueError(
                f"{where}: depth mismatch: with groups={groups} each filter spans D/groups={d} channels, so x must have "
                f"D = groups * w.shape[1] = {groups}*{d} = {d_in} channels, got D={x.shape[1]} "
                f"(x.shape={x.shape}, w.shape={w.shape})"
            )
    if x.shape[1] == 0:
        raise ValueError(f"{where}: x has depth D=0 (shape {x.shape}): need at least one channel")
    check_groups(groups, d_in, k, where)
    if b is not None:
        if np.ndim(b) == 0 and not isinstance(b, np.ndarray) and isinstance(b, (int, float, np.number)):
            raise TypeError(
                f"{where}: b must be an array of shape (K,)=({k},), one bias per filter, got the scalar {b!r}; "
                f"for the same bias on every filter use np.full({k}, {b!r}), for no bias b=None"
            )
        b = array(where, "b", b, f"(K,)=({k},)")
        check_shape(where, "b", b, (k,), "one bias per filter" if not transposed else "one bias per output channel")
    w = as_float(w)
    x = as_float(x, w)
    if b is not None:
        b = as_float(b, w)
    return x, w, b, geo


def _conv_sizes(where: str, x: np.ndarray, f, stride, padding, dilation=(1, 1), rounding: str = "strict") -> tuple[int, int]:
    """(H2, W2), or the output_size error with the axis named; f, stride, padding, dilation: int or pair."""
    sizes = []
    per_axis = zip(pair("F", f, 1), pair("stride S", stride, 1), pair("padding P", padding, 0), pair("dilation", dilation, 1))
    for (axis, n), (fa, sa, pa, da) in zip((("height H", x.shape[2]), ("width W", x.shape[3])), per_axis):
        try:
            sizes.append(output_size(n, fa, sa, pa, da, rounding))
        except ValueError as err:
            raise ValueError(f"{where}: x {axis}={n}: {err}") from None
    return sizes[0], sizes[1]


def _transposed_sizes(where: str, x: np.ndarray, w: np.ndarray, geo: ConvGeometry, output_padding) -> tuple[int, int]:
    """(H_out, W_out) of a transposed convolution, or transposed_output_size's error with the axis named."""
    op = pair("output_padding", output_padding, 0, where)
    sizes = []
    for a, (axis, n) in enumerate((("height H", x.shape[2]), ("width W", x.shape[3]))):
        try:
            sizes.append(transposed_output_size(n, w.shape[2 + a], geo.stride[a], geo.padding[a], op[a], geo.dilation[a]))
        except ValueError as err:
            raise ValueError(f"{where}: x {axis}={n}: {err}") from None
    return sizes[0], sizes[1]


def _conv_rounding(where: str, rounding) -> str:
    return check_rounding(rounding, where, ("strict", "floor"))


def _dout(where: str, dout, expected: tuple, what: str, like) -> np.ndarray:
    """dout checked against the forward output's shape, integers converted to like's float dtype."""
    dout = array(where, "dout", dout, str(tuple(expected)))
    check_shape(where, "dout", dout, expected, what)
    return as_float(dout, like)


class PoolGeometry(NamedTuple):
    """A pooling window per axis (height, width): size F, stride S, padding P; rounding; output size."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    rounding: str
    out_size: tuple[int, int]


def _pool_inputs(where: str, x, kernel_size, stride, mode, padding=0, ceil_mode=False, rounding="strict"):
    """Checked (x as float, PoolGeometry). ceil_mode=True is rounding="ceil" (PyTorch's name)."""
    x = array(where, "x", x, "(N, D, H, W)", 4, hint="for a single image use x[None] or x.reshape(1, D, H, W)")
    if not isinstance(mode, str) or mode not in POOL_MODES:
        raise ValueError(f"{where}: pooling mode must be one of {POOL_MODES}, got {mode!r}")
    f = pair("kernel_size F", kernel_size, 1, where)
    stride = f if stride is None else pair("stride S", stride, 1, where)
    padding = pair("padding P", padding, 0, where)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{where}: ceil_mode must be True or False, got {ceil_mode!r}")
    rounding = check_rounding(rounding, where)
    if ceil_mode:
        if rounding == "floor":
            raise ValueError(f"{where}: ceil_mode=True asks for rounding='ceil' but rounding='floor' was given: pass one of them")
        rounding = "ceil"
    for p, fa in zip(padding, f):
        if 2 * p > fa:
            raise ValueError(
                f"{where}: padding P={p} must be at most half the window F={fa} (PyTorch's rule: every window "
                f"must hold at least one input cell); use padding <= {fa // 2}"
            )
    h2, w2 = _conv_sizes(where, x, f, stride, padding, 1, rounding)
    return as_float(x), PoolGeometry(f, stride, padding, rounding, (h2, w2))


def pad(x: np.ndarray, padding: int | tuple[int, int]) -> np.ndarray:
    """Zero-pad the two spatial axes of an (N, D, H, W) array by P on each side (P or (Ph, Pw))."""
    x = array("pad", "x", x, "(N, D, H, W)", 4, hint="for one image use pad(x[None], P)[0]")
    ph, pw = pair("padding P", padding, 0, "pad")
    if ph == pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _taps(start: int, f: int, dilation: int) -> slice:
    """The cells a filter of F taps, dilation apart, reads from start on: start, start + d, ..."""
    return slice(start, start + dilation * (f - 1) + 1, dilation)


# ---------------------------------------------------------------- convolution, naive


def conv2d_naive(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    rounding: str = "strict",
) -> np.ndarray:
    """Slide each filter over the padded input and take dot products (loops, for teaching).

    out[n, k, r, c] = sum of w[k] * xp[n, channels of k's group, r*Sh + i*dh, c*Sw + j*dw] + b[k]
    over the taps (i, j): the filter's taps sit dilation cells apart; with groups G filter k sees
    only the D/G channels of its group (k // (K/G)).
    """
    where = "conv2d_naive"
    x, w, b, ((sh, sw), padding, (dh, dw), groups) = _conv_inputs(where, x, w, b, stride, padding, dilation, groups)
    n = x.shape[0]
    k, d_group, fh, fw = w.shape
    h2, w2 = _conv_sizes(where, x, (fh, fw), (sh, sw), padding, (dh, dw), _conv_rounding(where, rounding))
    b = np.zeros(k, dtype=w.dtype) if b is None else b
    xp = pad(x, padding)
    out = np.zeros((n, k, h2, w2), dtype=np.result_type(x, w))
    k_group = k // groups
    for i in range(n):  # each image
        for j in range(k):  # each filter -> one activation map
            channels = slice(j // k_group * d_group, (j // k_group + 1) * d_group)  # its group's channels
            for r in range(h2):  # each output row
                for c in range(w2):  # each output column
                    window = xp[i, channels, _taps(r * sh, fh, dh), _taps(c * sw, fw, dw)]
                    out[i, j, r, c] = np.sum(window * w[j]) + b[j]
    return out


def conv2d_backward_naive(
    dout: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    rounding: str = "strict",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of conv2d_naive, by the same loops: each output got
    sum(window * w[j]) + b[j], so it sends dout * w[j] back to its window and
    dout * window to w[j]."""
    where = "conv2d_backward_naive"
    x, w, _, ((sh, sw), padding, (dh, dw), groups) = _conv_inputs(where, x, w, None, stride, padding, dilation, groups)
    n, _, h, wd = x.shape
    k, d_group, fh, fw = w.shape
    h2, w2 = _conv_sizes(where, x, (fh, fw), (sh, sw), padding, (dh, dw), _conv_rounding(where, rounding))
    dout = _dout(
        where, dout, (n, k, h2, w2), "the output of conv2d_naive(x, w, b, stride, padding): (N, K, H2, W2)", np.result_type(x, w)
    )
    dtype = np.result_type(dout, x, w)
    xp = pad(x, padding).astype(dtype, copy=False)
    dxp = np.zeros_like(xp)
    dw_ = np.zeros(w.shape, dtype=dtype)
    db = np.zeros(k, dtype=dtype)
    k_group = k // groups
    for i in range(n):
        for j in range(k):
            channels = slice(j // k_group * d_group, (j // k_group + 1) * d_group)
            for r in range(h2):
                for c in range(w2):
                    rows, cols = _taps(r * sh, fh, dh), _taps(c * sw, fw, dw)
                    dxp[i, channels, rows, cols] += dout[i, j, r, c] * w[j]
                    dw_[j] += dout[i, j, r, c] * xp[i, channels, rows, cols]
                    db[j] += dout[i, j, r, c]
    ph, pw = padding
    dx = dxp[:, :, ph : ph + h, pw : pw + wd]
    return dx, dw_, db


# ---------------------------------------------------------------- transposed convolution, naive


def conv_transpose2d_naive(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> np.ndarray:
    """The transposed convolution (loops): each input pixel x[n, d, r, c] paints its filters w[d]
    (shape (K/G, Fh, Fw)), scaled by its value, onto the output at (r*Sh, c*Sw), taps dilation
    apart; where paintings overlap they add up. Then P rows and columns are cut from each side:

        H_out = (H - 1)S - 2P + dilation(F - 1) + output_padding + 1

    It is the transpose of conv2d with the same w, S, P: the input gradient of that convolution.
    """
    where = "conv_transpose2d_naive"
    x, w, b, ((sh, sw), (ph, pw), (dh, dw), groups) = _conv_inputs(where, x, w, b, stride, padding, dilation, groups, True)
    h_out, w_out = _transposed_sizes(where, x, w, ConvGeometry((sh, sw), (ph, pw), (dh, dw), groups), output_padding)
    n, d, h, wd = x.shape
    _, k_group, fh, fw = w.shape
    k, d_group = k_group * groups, d // groups
    outp = np.zeros((n, k, h_out + 2 * ph, w_out + 2 * pw), dtype=np.result_type(x, w))
    for i in range(n):  # each image
        for ch in range(d):  # each input channel paints onto the K/G outputs of its group
            outputs = slice(ch // d_group * k_group, (ch // d_group + 1) * k_group)
            for r in range(h):
                for c in range(wd):
                    outp[i, outputs, _taps(r * sh, fh, dh), _taps(c * sw, fw, dw)] += x[i, ch, r, c] * w[ch]
    out = outp[:, :, ph : ph + h_out, pw : pw + w_out]
    return out if b is None else out + b[:, None, None]


def conv_transpose2d_backward_naive(
    dout: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of conv_transpose2d_naive by the same loops: x[n, d, r, c] painted
    x * w[d] onto a window of the output, so it gets sum(window of dout * w[d]) back, w[d] gets
    x * window, and db sums dout."""
    where = "conv_transpose2d_backward_naive"
    x, w, _, ((sh, sw), (ph, pw), (dh, dw), groups) = _conv_inputs(where, x, w, None, stride, padding, dilation, groups, True)
    h_out, w_out = _transposed_sizes(where, x, w, ConvGeometry((sh, sw), (ph, pw), (dh, dw), groups), output_padding)
    n, d, h, wd = x.shape
    _, k_group, fh, fw = w.shape
    k, d_group = k_group * groups, d // groups
    dout = _dout(where, dout, (n, k, h_out, w_out), "the output of conv_transpose2d: (N, K, H_out, W_out)", np.result_type(x, w))
    dtype = np.result_type(dout, x, w)
    doutp = pad(dout, (ph, pw)).astype(dtype, copy=False)
    dx = np.zeros(x.shape, dtype=dtype)
    dw_ = np.zeros(w.shape, dtype=dtype)
    for i in range(n):
        for ch in range(d):
            outputs = slice(ch // d_group * k_group, (ch // d_group + 1) * k_group)
            for r in range(h):
                for c in range(wd):
                    window = doutp[i, outputs, _taps(r * sh, fh, dh), _taps(c * sw, fw, dw)]
                    dx[i, ch, r, c] = np.sum(window * w[ch])
                    dw_[ch] += x[i, ch, r, c] * window
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw_, db


# ---------------------------------------------------------------- pooling, naive


def _pool_window(window: np.ndarray, mode: str, count: int) -> float:
    """max, average (sum / count: count is F*F, or fewer cells at a ceil-mode edge) or L2 norm."""
    if mode == "max":
        return window.max()
    if mode == "avg":
        return window.sum() / count if window.size != count else window.mean()
    return np.sqrt(np.sum(window * window))


def _max_position(window: np.ndarray) -> tuple[int, int]:
    """Where max pooling sends the gradient: the first largest value; in a window
    holding NaN (whose max is NaN) the last NaN, as PyTorch does."""
    nans = np.flatnonzero(np.isnan(window))
    flat = nans[-1] if nans.size else np.argmax(window)
    return np.unravel_index(flat, window.shape)


def _pool_span(r: int, n: int, f: int, s: int, p: int) -> tuple[int, int, int]:
    """Window r along one axis of size n: (first, end) of its cells inside the input, and how many
    of its cells lie inside the padded input (the count PyTorch's average divides by)."""
    start = r * s - p
    end = min(start + f, n + p)
    return max(start, 0), min(end, n), end - start


def pool2d_naive(
    x: np.ndarray,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    mode: str = "max",
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    rounding: str = "strict",
) -> np.ndarray:
    """Slide an F x F window over each activation map (depth 1) and keep its max,
    average, or L2 norm sqrt(sum of squares). No parameters.

    With padding or rounding="ceil" a window may hang over the input: only its input cells count
    (a padded cell never wins a max and adds nothing to an L2 norm), and the average divides by the
    number of its cells inside the padded input (PyTorch's count_include_pad=True).
    """
    x, geo = _pool_inputs("pool2d_naive", x, kernel_size, stride, mode, padding, ceil_mode, rounding)
    (fh, fw), (sh, sw), (ph, pw), _, (h2, w2) = geo
    n, d, h, wd = x.shape
    out = np.zeros((n, d, h2, w2), dtype=x.dtype)
    for i in range(n):
        for ch in range(d):  # each activation map on its own
            for r in range(h2):
                r0, r1, count_h = _pool_span(r, h, fh, sh, ph)
                for c in range(w2):
                    c0, c1, count_w = _pool_span(c, wd, fw, sw, pw)
                    out[i, ch, r, c] = _pool_window(x[i, ch, r0:r1, c0:c1], mode, count_h * count_w)
    return out


def pool2d_backward_naive(
    dout: np.ndarray,
    x: np.ndarray,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    mode: str = "max",
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    rounding: str = "strict",
) -> np.ndarray:
    """Gradient of pool2d_naive: max sends dout to the (first) largest input of its
    window, avg spreads dout / F^2 over the window (dout / count at a padded edge),
    L2 sends dout * x / out (0 where out = 0)."""
    where = "pool2d_backward_naive"
    x, geo = _pool_inputs(where, x, kernel_size, stride, mode, padding, ceil_mode, rounding)
    (fh, fw), (sh, sw), (ph, pw), _, (h2, w2) = geo
    n, d, h, wd = x.shape
    shown_f, shown_s = _shown(geo.kernel_size), _shown(geo.stride)
    dout = _dout(
        where, dout, (n, d, h2, w2), f"the output of pool2d_naive(x, {shown_f}, {shown_s}, {mode!r}): (N, D, H2, W2)", x.dtype
    )
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    for i in range(n):
        for ch in range(d):
            for r in range(h2):
                r0, r1, count_h = _pool_span(r, h, fh, sh, ph)
                for c in range(w2):
                    c0, c1, count_w = _pool_span(c, wd, fw, sw, pw)
                    window = x[i, ch, r0:r1, c0:c1]
                    g = dout[i, ch, r, c]
                    if mode == "max":
                        a, bb = _max_position(window)
                        dx[i, ch, r0 + a, c0 + bb] += g
                    elif mode == "avg":
                        dx[i, ch, r0:r1, c0:c1] += g / (count_h * count_w)
                    else:
                        norm = _pool_window(window, "l2", 0)
                        if norm != 0:  # NaN windows pass NaN on, as in PyTorch
                            dx[i, ch, r0:r1, c0:c1] += g * window / norm
    return dx


def _shown(pair_: tuple[int, int]) -> int | tuple[int, int]:
    """A pair as the user would write it: one number when both axes agree."""
    return pair_[0] if pair_[0] == pair_[1] else pair_


# ---------------------------------------------------------------- the layers' contract


class ConvLoopsCache(NamedTuple):
    """What the naive conv2d_forward keeps for conv2d_backward."""

    x: np.ndarray
    w: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    rounding: str = "strict"


class ConvTransposeLoopsCache(NamedTuple):
    """What the naive conv_transpose2d_forward keeps for conv_transpose2d_backward."""

    x: np.ndarray
    w: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int


class PoolLoopsCache(NamedTuple):
    """What the naive pool2d_forward keeps for pool2d_backward."""

    x: np.ndarray
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    mode: str
    out: np.ndarray
    padding: tuple[int, int] = (0, 0)
    rounding: str = "strict"


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    rounding: str = "strict",
) -> tuple[np.ndarray, ConvLoopsCache]:
    """conv2d_naive with the layers' contract: (out, cache)."""
    x, w, b, geo = _conv_inputs("conv2d_forward", x, w, b, stride, padding, dilation, groups)
    rounding = _conv_rounding("conv2d_forward", rounding)
    out = conv2d_naive(x, w, b, *geo, rounding)
    return out, ConvLoopsCache(x, w, *geo, rounding)


def conv2d_backward(dout: np.ndarray, cache: ConvLoopsCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """conv2d_backward_naive with the layers' contract: (dx, dw, db)."""
    return conv2d_backward_naive(dout, *cache)


def conv_transpose2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> tuple[np.ndarray, ConvTransposeLoopsCache]:
    """conv_transpose2d_naive with the layers' contract: (out, cache)."""
    where = "conv_transpose2d_forward"
    x, w, b, geo = _conv_inputs(where, x, w, b, stride, padding, dilation, groups, True)
    op = pair("output_padding", output_padding, 0, where)
    out = conv_transpose2d_naive(x, w, b, geo.stride, geo.padding, op, geo.dilation, geo.groups)
    return out, ConvTransposeLoopsCache(x, w, geo.stride, geo.padding, op, geo.dilation, geo.groups)


def conv_transpose2d_backward(dout: np.ndarray, cache: ConvTransposeLoopsCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """conv_transpose2d_backward_naive with the layers' contract: (dx, dw, db)."""
    return conv_transpose2d_backward_naive(dout, *cache)


def pool2d_forward(
    x: np.ndarray,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    mode: str = "max",
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    rounding: str = "strict",
) -> tuple[np.ndarray, PoolLoopsCache]:
    """pool2d_naive with the layers' contract: (out, cache)."""
    x, geo = _pool_inputs("pool2d_forward", x, kernel_size, stride, mode, padding, ceil_mode, rounding)
    out = pool2d_naive(x, geo.kernel_size, geo.stride, mode, geo.padding, rounding=geo.rounding)
    return out, PoolLoopsCache(x, geo.kernel_size, geo.stride, mode, out, geo.padding, geo.rounding)


def pool2d_backward(dout: np.ndarray, cache: PoolLoopsCache) -> np.ndarray:
    """pool2d_backward_naive with the layers' contract: dx."""
    x, f, s, mode, _, p, rounding = cache
    return pool2d_backward_naive(dout, x, f, s, mode, p, rounding=rounding)
