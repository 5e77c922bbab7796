"""Where the sliding windows go, and what pooling keeps when the input moves.

Along one axis of size N, zero padded by P on each side, a window of size F
moved by stride S starts at 0, S, 2S, ... as long as it ends inside the padded
input: start + F <= N + 2P. When (N + 2P - F) is a multiple of S the last window
ends exactly on the edge and there are (N + 2P - F)/S + 1 positions
(``cnn_core.output_size``). Otherwise (N + 2P - F) mod S cells at the far edge
are never reached, and the next window would hang off the edge: the lecture's
"7x7 input, 3x3 filter, stride 3: doesn't fit!".
"""

from __future__ import annotations

import numpy as np

from .data import shift
from .functional import pool2d_forward
from .shapes import check_whole_number, output_size


def window_starts(n: int, f: int, stride: int = 1, padding: int = 0) -> list[int]:
    """Start of every window position that fits along one axis, in padded coordinates:
    0, S, 2S, ..., up to N + 2P - F. Raises output_size's ValueError when F > N + 2P."""
    n, f = check_whole_number("input size N", n, 1), check_whole_number("filter size F", f, 1)
    stride, padding = check_whole_number("stride S", stride, 1), check_whole_number("padding P", padding, 0)
    span = n + 2 * padding - f
    if span < 0:
        output_size(n, f, stride, padding)  # raises the explanatory ValueError
    return list(range(0, span + 1, stride))


def leftover(n: int, f: int, stride: int = 1, padding: int = 0) -> int:
    """Cells at the far edge of the padded axis that no window reaches: (N + 2P - F) mod S.
    0 exactly when the stride fits; for F > N + 2P, all N + 2P cells."""
    span = n + 2 * padding - f
    return n + 2 * padding if span < 0 else span % stride


def hanging_start(n: int, f: int, stride: int = 1, padding: int = 0) -> int | None:
    """Start of the window that would hang off the edge when the stride does not fit
    (one stride after the last window that fits; 0 if F > N + 2P), or None when it fits."""
    if not leftover(n, f, stride, padding):
        return None
    starts = window_starts(n, f, stride, padding) if n + 2 * padding >= f else []
    return starts[-1] + stride if starts else 0


def coverage(n: int, f: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """How many window positions cover each of the N input cells along one axis (padding not
    counted). For a 2-D input the count of a pixel is the product of its row and column counts:
    np.outer(coverage(H, ...), coverage(W, ...)). Without padding the border is seen less:
    N=32, F=5, P=0 gives 1 at the edge and 5 in the middle."""
    counts = np.zeros(n + 2 * padding, dtype=int)
    for s in window_starts(n, f, stride, padding):
        counts[s : s + f] += 1
    return counts[padding : padding + n]


def crop_to_fit(x: np.ndarray, f: int, stride: int) -> np.ndarray:
    """Crop the last two axes of x (top-left kept) to the largest sizes a window of size F
    with stride S fits exactly: F + S * floor((H - F) / S). Deep-learning libraries do the
    same implicitly (they floor the output size); cnn_core asks for it explicitly."""
    h, w = x.shape[-2:]
    if f > min(h, w):
        output_size(min(h, w), f, stride)  # raises: the window is larger than the input
    return x[..., : f + stride * ((h - f) // stride), : f + stride * ((w - f) // stride)]


def fraction_unchanged(
    a: np.ndarray,
    b: np.ndarray,
    *,
    active_only: bool = True,
    mask: np.ndarray | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> float:
    """Fraction of the entries of a and b (same shape) that are equal (up to rounding).

    active_only: ignore entries that are 0 in both (after a ReLU most of a map is 0, and a
    0 that stays 0 says nothing about invariance). mask: only compare where mask is True.
    """
    keep = np.ones(a.shape, dtype=bool) if mask is None else np.broadcast_to(mask, a.shape)
    if active_only:
        keep = keep & ((a != 0) | (b != 0))
    if not keep.any():
        raise ValueError("nothing to compare: every entry is masked out or zero in both arrays")
    return float(np.isclose(a, b, rtol=rtol, atol=atol)[keep].mean())


def _pooled_pair(maps: np.ndarray, kernel_size: int, stride: int | None, mode: str, dy: int, dx: int):
    """pool(maps), pool(shift(maps)) and the mask of outputs whose window misses the zero fill."""
    stride = kernel_size if stride is None else stride
    x = crop_to_fit(np.asarray(maps, dtype=float), kernel_size, stride)
    border = 1.0 - shift(np.ones_like(x[:1, :1]), dy, dx)  # 1 where the shift filled zeros
    touches, _ = pool2d_forward(border, kernel_size, stride, "max")
    a, _ = pool2d_forward(x, kernel_size, stride, mode)
    b, _ = pool2d_forward(shift(x, dy, dx), kernel_size, stride, mode)
    return a, b, touches == 0


def shift_invariance(
    maps: np.ndarray,
    kernel_size: int = 1,
    stride: int | None = None,
    mode: str = "max",
    dy: int = 0,
    dx: int = 1,
    active_only: bool = True,
) -> float:
    """Fraction of pooled outputs unchanged when the activation maps move by (dy, dx) pixels.

    maps: (B, D, H, W), cropped to fit the window (crop_to_fit). The maps are moved with
    ``cnn_core.data.shift`` (zero fill) and both versions pooled with pool2d_forward;
    an output counts only if its window does not touch the zero-filled border, so the
    comparison is between the same content seen through windows at the same place.
    kernel_size=1 (and stride 1) measures the unpooled maps themselves.
    """
    a, b, mask = _pooled_pair(maps, kernel_size, stride, mode, dy, dx)
    return fraction_unchanged(a, b, active_only=active_only, mask=mask)


def shift_change(
    maps: np.ndarray, kernel_size: int = 1, stride: int | None = None, mode: str = "max", dy: int = 0, dx: int = 1
) -> float:
    """How much the pooled outputs change when the maps move by (dy, dx), relative to their size:
    sum |pool(shift(x)) - pool(x)| / sum |pool(x)| over the same outputs as shift_invariance.
    0 means nothing changed; an unrelated map of the same statistics gives about 1."""
    a, b, mask = _pooled_pair(maps, kernel_size, stride, mode, dy, dx)
    mask = np.broadcast_to(mask, a.shape)
    return float(np.abs(b - a)[mask].sum() / np.abs(a)[mask].sum())


def stack_sizes(n: int, f: int, depth: int, stride: int = 1, padding: int = 0) -> list[int]:
    """Spatial size after 0, 1, ..., depth identical conv layers: [N, (N + 2P - F)/S + 1, ...],
    by output_size; stops early at the first layer whose filter no longer fits.
    E.g. 32x32 input, 5x5 filters, no padding: [32, 28, 24, ...]; with P = 2: [32, 32, 32, ...]."""
    sizes = [n]
    for _ in range(depth):
        try:
            sizes.append(output_size(sizes[-1], f, stride, padding))
        except ValueError:
            break
    return sizes
