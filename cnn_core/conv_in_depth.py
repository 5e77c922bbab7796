"""Convolution in depth, as numbers: the backward pass one output position at a time, the
transposed convolution as the transpose of the convolution's matrix, dilation, 1x1 and
depthwise-separable convolutions, and one output number as a sum of per-channel partial sums.

Single-channel step-throughs take 2-D arrays: x (H, W), w (F, F), dout (H2, W2), with
H2 = (H + 2P - F)/S + 1. Each output out[r, c] = sum(window(r, c) * w) + b, so its gradient g = dout[r, c]

    sends g * window(r, c) into dW,     g * w into dX's window(r, c),     g into db.

dX is therefore the "full" convolution of dout (with S - 1 zeros between its entries) with the
flipped filter, and the same scatter, x[i, j] * w added into the output, is the transposed
convolution: the transpose M^T of the convolution's matrix M (cnn_core.connectivity.conv_matrix).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .connectivity import conv_matrix
from .naive import _max_position, conv2d_naive
from .shapes import check_whole_number, output_size, transposed_output_size


def _grid(name: str, a, ndim: int = 2) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim != ndim:
        shape = "(H, W)" if ndim == 2 else "(D, H, W)"
        raise ValueError(f"{name} must be a {ndim}-D array {shape}, got shape {a.shape}")
    return a


def _filter(w) -> np.ndarray:
    w = _grid("w", w)
    if w.shape[0] != w.shape[1]:
        raise ValueError(f"w must be a square F x F filter, got shape {w.shape}")
    return w


def correlate(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Valid cross-correlation of a 2-D grid with a 2-D filter at stride 1 (what a conv layer computes)."""
    return np.einsum("rcij,ij->rc", sliding_window_view(a, w.shape), w)


# ---------------------------------------------------------------- the backward pass, step by step


class Scatter(NamedTuple):
    """One value g at (r, c) scattered through the filter: g * w added at rows/cols of the padded grid."""

    r: int
    c: int
    g: float
    rows: slice
    cols: slice
    added: np.ndarray  # g * w, the F x F block added at [rows, cols]


def scatter_steps(values, w, stride: int = 1, padding: int = 0) -> list[Scatter]:
    """values (H2, W2) -> one Scatter per entry: values[r, c] * w lands on the padded grid's window
    starting at (r S, c S). Summed, it is the backward pass's dX (values = dout) and the transposed
    convolution (values = its input)."""
    values, w = _grid("values", values), _filter(w)
    stride = check_whole_number("stride S", stride, 1)
    f = w.shape[0]
    steps = []
    for r, c in np.ndindex(values.shape):
        rows, cols = slice(r * stride, r * stride + f), slice(c * stride, c * stride + f)
        steps.append(Scatter(r, c, float(values[r, c]), rows, cols, values[r, c] * w))
    return steps


def scatter_sum(steps: Sequence[Scatter], padded_shape: tuple[int, int]) -> np.ndarray:
    """Add every step's block into a zero grid of the padded shape."""
    grid = np.zeros(padded_shape)
    for s in steps:
        grid[s.rows, s.cols] += s.added
    return grid


class BackwardStep(NamedTuple):
    """What output position (r, c) contributes to the three gradients."""

    r: int
    c: int
    g: float  # dout[r, c]
    window: np.ndarray  # the padded input under the filter
    dw: np.ndarray  # g * window
    dx: Scatter  # g * w into the padded dX


def backward_steps(x, w, dout, stride: int = 1, padding: int = 0) -> list[BackwardStep]:
    """The conv backward pass as one step per output position (row by row), for a 2-D input x,
    filter w and upstream gradient dout of the forward output's shape."""
    x, w, dout = _grid("x", x), _filter(w), _grid("dout", dout)
    f = w.shape[0]
    h2, w2 = (output_size(n, f, stride, padding) for n in x.shape)
    if dout.shape != (h2, w2):
        raise ValueError(f"dout must have the forward output's shape (H2, W2) = {(h2, w2)}, got {dout.shape}")
    xp = np.pad(x, padding)
    return [BackwardStep(s.r, s.c, s.g, xp[s.rows, s.cols], s.g * xp[s.rows, s.cols], s) for s in scatter_steps(dout, w, stride)]


def backward_totals(x, w, dout, stride: int = 1, padding: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """(dx, dw, db) summed from backward_steps: dW = sum of g * window, dX = the scattered g * w
    with the padding cut off, db = sum of dout."""
    x, w = _grid("x", x), _filter(w)
    steps = backward_steps(x, w, dout, stride, padding)
    h, wd = x.shape
    dxp = scatter_sum([s.dx for s in steps], (h + 2 * padding, wd + 2 * padding))
    dw = np.sum([s.dw for s in steps], axis=0)
    return dxp[padding : padding + h, padding : padding + wd], dw, float(np.sum(dout))


def upsample(a, stride: int) -> np.ndarray:
    """Put S - 1 zeros between neighbouring entries: (H2, W2) -> ((H2 - 1) S + 1, (W2 - 1) S + 1)."""
    a = _grid("a", a)
    stride = check_whole_number("stride S", stride, 1)
    out = np.zeros(((a.shape[0] - 1) * stride + 1, (a.shape[1] - 1) * stride + 1))
    out[::stride, ::stride] = a
    return out


class FullConvolution(NamedTuple):
    """dX as a convolution: the upsampled dout padded by F - 1, correlated with the flipped filter."""

    grid: np.ndarray  # upsample(dout, S) with F - 1 zeros on every side
    flipped: np.ndarray  # w turned by 180 degrees
    dx_padded: np.ndarray  # correlate(grid, flipped): the gradient of the padded input
    dx: np.ndarray  # dx_padded without the padding P


def full_convolution_dx(dout, w, stride: int = 1, padding: int = 0) -> FullConvolution:
    """The backward pass's dX computed as a 'full' convolution: each dx[y, x] gathers
    dout[r, c] * w[y - rS, x - cS] over the windows that cover it, which is a correlation of the
    upsampled, (F - 1)-padded dout with the filter flipped."""
    w = _filter(w)
    f = w.shape[0]
    grid = np.pad(upsample(dout, stride), f - 1)
    flipped = w[::-1, ::-1]
    dxp = correlate(grid, flipped)
    h, wd = dxp.shape
    return FullConvolution(grid, flipped, dxp, dxp[padding : h - padding, padding : wd - padding])


class Route(NamedTuple):
    """Max pooling's backward pass for one window: its gradient g goes to the winner only."""

    r: int
    c: int
    g: float
    winner: tuple[int, int]  # (row, column) in the input


def maxpool_routes(x, f: int, stride: int | None = None, dout=None) -> tuple[list[Route], np.ndarray]:
    """(routes, dx) of 2x2-style max pooling on a 2-D x: each window's dout goes to its first largest
    input (as cnn_core's and PyTorch's pooling do); dx adds up where windows overlap. dout defaults to ones."""
    x = _grid("x", x)
    f = check_whole_number("kernel_size F", f, 1)
    stride = f if stride is None else check_whole_number("stride S", stride, 1)
    h2, w2 = (output_size(n, f, stride) for n in x.shape)
    dout = np.ones((h2, w2)) if dout is None else _grid("dout", dout)
    if dout.shape != (h2, w2):
        raise ValueError(f"dout must have the pooled shape (H2, W2) = {(h2, w2)}, got {dout.shape}")
    routes, dx = [], np.zeros_like(x)
    for r, c in np.ndindex(h2, w2):
        a, b = _max_position(x[r * stride : r * stride + f, c * stride : c * stride + f])
        winner = (r * stride + int(a), c * stride + int(b))
        routes.append(Route(r, c, float(dout[r, c]), winner))
        dx[winner] += dout[r, c]
    return routes, dx


# ---------------------------------------------------------------- the transposed convolution


def transposed_by_matrix(x, w, stride: int = 1, padding: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(M, y): M is the matrix of the convolution (F, S, P) from the big grid to x's size, and the
    transposed convolution of x is y = M^T x, reshaped to the big grid of transposed_output_size."""
    x, w = _grid("x", x), _filter(w)
    f = w.shape[0]
    big = tuple(transposed_output_size(n, f, stride, padding) for n in x.shape)
    m, _ = conv_matrix(w[None, None], (1, *big), stride, padding)
    if m.shape[0] != x.size:
        raise ValueError(f"a {big} grid convolved with F={f}, S={stride}, P={padding} does not give x's {x.shape}")
    return m, (m.T @ x.ravel()).reshape(big)


def transposed_by_scatter(x, w, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The same transposed convolution drawn as a scatter: every input pixel x[i, j] adds x[i, j] * w
    at (i S, j S) of a padded grid, whose border P is cut off."""
    x, w = _grid("x", x), _filter(w)
    f = w.shape[0]
    big = [(n - 1) * stride + f for n in x.shape]
    grid = scatter_sum(scatter_steps(x, w, stride), tuple(big))
    return grid[padding : big[0] - padding, padding : big[1] - padding]


# ---------------------------------------------------------------- one output number, channel by channel


class PartialSums(NamedTuple):
    window: np.ndarray  # (D, F, F), the input under the filter
    per_channel: np.ndarray  # (D,), sum(window[d] * w[d])
    bias: float
    total: float  # per_channel.sum() + bias = the output number


def partial_sums(x, w, b: float = 0.0, r: int = 0, c: int = 0, stride: int = 1, padding: int = 0) -> PartialSums:
    """One output number out[r, c] of one filter w (D, F, F) on x (D, H, W), split by input channel."""
    x, w = _grid("x", x, 3), _grid("w", w, 3)
    if x.shape[0] != w.shape[0]:
        raise ValueError(f"depth mismatch: x has D={x.shape[0]} channels, the filter w {w.shape} spans {w.shape[0]}")
    f = w.shape[1]
    h2, w2 = (output_size(n, f, stride, padding) for n in x.shape[1:])
    if not (0 <= r < h2 and 0 <= c < w2):
        raise ValueError(f"position (r, c) = ({r}, {c}) is outside the {h2} x {w2} output")
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    window = xp[:, r * stride : r * stride + f, c * stride : c * stride + f]
    per_channel = np.einsum("dij,dij->d", window, w)
    return PartialSums(window, per_channel, float(b), float(per_channel.sum() + b))


# ---------------------------------------------------------------- dilation, 1x1 and separable convolutions


def dilate_kernel(w, dilation: int) -> np.ndarray:
    """The F x F filter with d - 1 zeros between its taps: a (d(F-1)+1) x (d(F-1)+1) filter."""
    return upsample(_filter(w), check_whole_number("dilation d", dilation, 1))


def _layers3(layers: Sequence[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Checked (F, S, d) triples."""
    out = []
    for i, layer in enumerate(layers):
        try:
            f, s, d = layer
        except (TypeError, ValueError):
            raise ValueError(
                f"layers[{i}] must be a triple (F, S, d) (filter size, stride, dilation), got {layer!r}; "
                f"e.g. [(3, 1, 1), (3, 1, 2)]"
            ) from None
        out.append(
            (
                check_whole_number(f"filter size F of layers[{i}]", f, 1),
                check_whole_number(f"stride S of layers[{i}]", s, 1),
                check_whole_number(f"dilation d of layers[{i}]", d, 1),
            )
        )
    return out


def dilated_receptive_field(layers: Sequence[tuple[int, int, int]]) -> int:
    """Receptive field of stacked (F, S, d) layers: r_l = r_(l-1) + d_l (F_l - 1) * (product of earlier strides)."""
    r, jump = 1, 1
    for f, s, d in _layers3(layers):
        r += d * (f - 1) * jump
        jump *= s
    return r


def tap_counts(layers: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """(R, R) counts, R = the receptive field: through how many paths of taps one output of a stack of
    (F, S, d) layers reads each input pixel. Zeros inside the square are pixels it never sees
    (the 'gridding' of repeated dilation 2)."""
    counts, jump = np.ones((1, 1)), 1
    for f, s, d in _layers3(layers):
        taps = dilate_kernel(np.ones((f, f)), d * jump)
        k = taps.shape[0]
        counts = correlate(np.pad(counts, k - 1), taps)  # full convolution (taps is symmetric)
        jump *= s
    return counts


def pointwise_as_linear(x, w, b=None) -> np.ndarray:
    """A 1x1 convolution as a fully connected layer applied at every pixel: x (D, H, W), w (K, D, 1, 1)
    -> (K, H, W) = (pixels (H*W, D) @ W^T (D, K) + b), reshaped."""
    x, w = _grid("x", x, 3), np.asarray(w, dtype=float)
    if w.ndim != 4 or w.shape[2:] != (1, 1) or w.shape[1] != x.shape[0]:
        raise ValueError(f"w must have shape (K, D, 1, 1) with D = {x.shape[0]}, got {w.shape}")
    d, h, wd = x.shape
    pixels = x.reshape(d, h * wd).T  # one row per pixel, one column per channel
    out = pixels @ w[:, :, 0, 0].T + (0 if b is None else np.asarray(b, dtype=float))
    return out.T.reshape(w.shape[0], h, wd)


def depthwise_separable(x, w_depth, w_point, b_depth=None, b_point=None, padding: int = 0) -> np.ndarray:
    """x (N, D, H, W) -> a depthwise F x F convolution (w_depth (D, 1, F, F): one filter per channel,
    each seeing only its own channel) -> a pointwise 1x1 convolution (w_point (K, D, 1, 1))."""
    x = np.asarray(x, dtype=float)
    d = x.shape[1]
    if np.shape(w_depth)[:2] != (d, 1):
        raise ValueError(f"w_depth must have shape (D, 1, F, F) with D = {d} (one filter per channel), got {np.shape(w_depth)}")
    b_depth = np.zeros(d) if b_depth is None else np.asarray(b_depth, dtype=float)
    per_channel = [conv2d_naive(x[:, [k]], np.asarray(w_depth)[[k]], b_depth[[k]], 1, padding) for k in range(d)]
    return conv2d_naive(np.concatenate(per_channel, axis=1), w_point, b_point)


class SeparableCount(NamedTuple):
    standard: int  # (F F D + 1) K
    depthwise: int  # (F F + 1) D
    pointwise: int  # (D + 1) K
    separable: int  # depthwise + pointwise
    ratio: float  # separable / standard, about 1/K + 1/F^2


def separable_params(f: int, d_in: int, k: int, bias: bool = True) -> SeparableCount:
    """Parameters of a standard F x F conv layer D -> K against its depthwise-separable replacement."""
    f, d_in, k = (
        check_whole_number(name, v, 1) for name, v in (("filter size F", f), ("in_channels D", d_in), ("out_channels K", k))
    )
    one = int(bool(bias))
    standard = (f * f * d_in + one) * k
    depthwise, pointwise = (f * f + one) * d_in, (d_in + one) * k
    return SeparableCount(standard, depthwise, pointwise, depthwise + pointwise, (depthwise + pointwise) / standard)
