"""Pooling, drawn: the 4x4 slide example with its windows coloured, the three
operations side by side, the gradient of max pooling, real activation maps before
and after pooling, and what survives a small shift.

``render(mode, size, stride)`` and ``controls`` drive the chapter's explorers; they
pool the vertical-edge activation map of the cat (``example_map``).
"""

from __future__ import annotations

from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .. import data
from ..filters import apply_filter, kernel
from ..functional import POOL_MODES, pool2d_backward, pool2d_forward
from ..layers import AvgPool2D
from ..windows import crop_to_fit, shift_change, shift_invariance
from .explore import HTML
from .figure_data import data_table
from .readability import COLUMN_WIDTH_IN, column_figure, readable
from .sliding import draw_grid

#: One colour per window of a 2x2 grid of windows, as on CS231n's max-pooling slide.
WINDOW_COLORS = ("#f4a6a6", "#a6d4a6", "#f7e3a1", "#a9c8ef")
MODE_NAMES = {"max": "max pool", "avg": "average pool", "l2": "L2-norm pool"}

controls = {"mode": list(POOL_MODES), "size": [2, 3, 4], "stride": [1, 2, 3]}


def edge_maps(gray: np.ndarray) -> np.ndarray:
    """Two activation maps of a grey (H, W) image, ReLU(vertical Sobel) and ReLU(horizontal
    Sobel), as a (1, 2, H - 2, W - 2) batch ready for pooling. No padding: a zero border
    would look like a bright edge all along the image's left and top sides."""
    maps = [np.maximum(apply_filter(gray, kernel(f"{d} edge (Sobel)")), 0.0) for d in ("vertical", "horizontal")]
    return np.stack(maps)[None]


@lru_cache(maxsize=1)
def example_map(factor: int = 4) -> np.ndarray:
    """The explorer's input: the cat, shrunk by averaging factor x factor blocks
    (AvgPool2D, 300x451 -> 75x112 for factor 4), then its vertical-edge map (73x110), shape (1, 1, H, W)."""
    gray = crop_to_fit(data.cat(gray=True), factor, factor)
    small = AvgPool2D(factor)(gray[None, None])[0, 0]
    return edge_maps(small)[:, :1]


def _color_windows(ax: plt.Axes, h2: int, w2: int, f: int, stride: int) -> None:
    """Tint each pooling window of the input with its colour (non-overlapping windows)."""
    for r in range(h2):
        for c in range(w2):
            color = WINDOW_COLORS[(r % 2) * 2 + c % 2]
            ax.add_patch(
                Rectangle((c * stride, r * stride), f, f, facecolor=color, alpha=0.5, edgecolor="#333333", lw=2, zorder=2)
            )


def _two_decimals(v: float) -> str:
    return f"{round(float(v), 2):g}"


def _tint_cells(ax: plt.Axes, h: int, w: int) -> None:
    for r in range(h):
        for c in range(w):
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=WINDOW_COLORS[(r % 2) * 2 + c % 2], alpha=0.5, zorder=2))


def pool_example_figure(
    x: np.ndarray, kernel_size: int = 2, stride: int = 2, modes=POOL_MODES, figsize=(COLUMN_WIDTH_IN, 5.0)
) -> plt.Figure:
    """One depth slice x (H, W) with its windows coloured (top), and its pooled output for each
    mode (pool2d_forward) below, each output cell in the colour of its window."""
    x = np.asarray(x, dtype=float)
    fig = plt.figure(figsize=figsize, layout="constrained")
    grid = fig.add_gridspec(2, len(modes), height_ratios=[1.4, 1])
    axes = [fig.add_subplot(grid[0, :])] + [fig.add_subplot(grid[1, i]) for i in range(len(modes))]
    outs = {m: pool2d_forward(x[None, None], kernel_size, stride, m)[0][0, 0] for m in modes}
    h2, w2 = next(iter(outs.values())).shape
    draw_grid(axes[0], x, title=f"input {x.shape[0]}×{x.shape[1]} (one depth slice)", color="white")
    if stride >= kernel_size:
        _color_windows(axes[0], h2, w2, kernel_size, stride)
    for ax, m in zip(axes[1:], modes):
        out = outs[m]
        draw_grid(
            ax,
            out,
            fmt=_two_decimals,
            title=f"{MODE_NAMES[m]}\n{kernel_size}×{kernel_size}, stride {stride}\n→ {h2}×{w2}",
            color="white",
        )
        _tint_cells(ax, h2, w2)
    return readable(fig)


def pool_backward_figure(
    x: np.ndarray, dout: np.ndarray, kernel_size: int = 2, stride: int = 2, figsize=(COLUMN_WIDTH_IN, 6.4)
) -> plt.Figure:
    """Max pooling forward and backward on one slice: the input with each window's max outlined,
    the output, the upstream gradient dL/dout, and dL/dx (pool2d_backward): each window's
    gradient goes to its max only, every other input gets 0."""
    x = np.asarray(x, dtype=float)
    out, cache = pool2d_forward(x[None, None], kernel_size, stride, "max")
    dx = pool2d_backward(np.asarray(dout, dtype=float)[None, None], cache)[0, 0]
    h2, w2 = out.shape[2:]
    fig, (top, bottom) = column_figure(2, 2, height=figsize[1], gridspec_kw={"width_ratios": [4, 2.5]})
    axes = [top[0], top[1], bottom[1], bottom[0]]  # forward on top, backward below: dL/dx under x
    draw_grid(axes[0], x, title=f"input x {x.shape[0]}×{x.shape[1]}\n(max of each window\noutlined)", color="white")
    draw_grid(
        axes[1], out[0, 0], title=f"max pool {kernel_size}×{kernel_size},\nstride {stride}:\noutput {h2}×{w2}", color="white"
    )
    draw_grid(axes[2], np.asarray(dout, dtype=float), title=f"upstream\ngradient\ndL/d(output) {h2}×{w2}", color="white")
    draw_grid(axes[3], dx, title=f"dL/dx {x.shape[0]}×{x.shape[1]}\n(only the maxima\nget gradient)", color="white")
    if stride >= kernel_size:
        _color_windows(axes[0], h2, w2, kernel_size, stride)
        _color_windows(axes[3], h2, w2, kernel_size, stride)
    for ax in axes[1:3]:
        _tint_cells(ax, h2, w2)
    for r, c in zip(*np.nonzero(dx)):
        for ax in (axes[0], axes[3]):
            ax.add_patch(Rectangle((c + 0.08, r + 0.08), 0.84, 0.84, fill=False, edgecolor="#d62728", lw=2.2))
    return readable(fig)


def _bright(x: np.ndarray) -> float:
    """Upper end of the grey scale: the 99.5th percentile, so thin edges are visible."""
    return float(np.percentile(x, 99.5)) or 1.0


def _show(ax: plt.Axes, img: np.ndarray, title: str, vmax: float | None = None) -> None:
    ax.imshow(img, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


def pool_maps_figure(
    maps: np.ndarray,
    kernel_size: int = 2,
    stride: int | None = None,
    modes=POOL_MODES,
    names=("vertical edges", "horizontal edges"),
    figsize=(COLUMN_WIDTH_IN, 4.6),
) -> plt.Figure:
    """Each activation map of maps (1, D, H, W) (one row each) and its pooled versions, one column
    per mode, all drawn at the same display size so the coarser grid shows. Each map is pooled on
    its own: pooling never mixes depth slices."""
    stride = kernel_size if stride is None else stride
    x = crop_to_fit(np.asarray(maps, dtype=float), kernel_size, stride)
    depth = x.shape[1]
    fig, axes = plt.subplots(depth, len(modes) + 1, figsize=figsize, squeeze=False, layout="constrained")
    pooled = {m: pool2d_forward(x, kernel_size, stride, m)[0] for m in modes}
    for d in range(depth):
        name = names[d] if d < len(names) else f"map {d}"
        vmax = _bright(x[0, d])
        _show(axes[d, 0], x[0, d], f"input:\n{name}\n{x.shape[2]}×{x.shape[3]}", vmax)
        for ax, m in zip(axes[d, 1:], modes):
            out = pooled[m][0, d]
            _show(
                ax,
                out,
                f"{MODE_NAMES[m].replace(' pool', '')}\n{kernel_size}×{kernel_size}/{stride}\n{out.shape[0]}×{out.shape[1]}",
                vmax,
            )
    return readable(fig)


def render(mode: str = "max", size: int = 2, stride: int = 2) -> plt.Figure:
    """The explorer's picture: example_map() and its pooled version side by side, with sizes."""
    x = crop_to_fit(example_map(), size, stride)
    out = pool2d_forward(x, size, stride, mode)[0][0, 0]
    fig, axes = column_figure(1, 2, height=2.9)
    vmax = _bright(x[0, 0])
    _show(axes[0], x[0, 0], f"input: cat's\nvertical edges\n{x.shape[2]}×{x.shape[3]}", vmax)
    _show(axes[1], out, f"output: {MODE_NAMES[mode]}\n{size}×{size}, stride {stride}\n{out.shape[0]}×{out.shape[1]}", vmax)
    return readable(fig)


def describe(mode: str = "max", size: int = 2, stride: int = 2) -> str:
    """Caption / alt text: the operation and the sizes in and out."""
    x = crop_to_fit(example_map(), size, stride)
    h, w = x.shape[2:]
    h2, w2 = (h - size) // stride + 1, (w - size) // stride + 1
    return (
        f"{MODE_NAMES[mode]}, {size}×{size} window, stride {stride}: the cat's vertical-edge map "
        f"{h}×{w} → {h2}×{w2} ((N − F)/S + 1 per axis), {h * w / (h2 * w2):.1f}× fewer numbers."
    )


def invariance_figure(
    maps: np.ndarray,
    shifts=range(5),
    settings=((1, 1, "max"), (2, 2, "max"), (2, 2, "avg"), (2, 2, "l2"), (3, 3, "max"), (4, 4, "max")),
    figsize=(COLUMN_WIDTH_IN, 8.0),
) -> plt.Figure:
    """What survives a shift of the maps by 0, 1, 2, ... pixels to the right, for each
    (size, stride, mode) in settings ((1, 1, 'max') = no pooling): left, the fraction of
    (active) outputs exactly unchanged (shift_invariance); right, the relative change
    sum|after - before| / sum|before| (shift_change)."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=figsize, layout="constrained")
    shifts = list(shifts)
    for f, s, m in settings:
        label = "no pooling" if f == 1 else f"{m} {f}×{f}/{s}"
        style = dict(marker="o", ls="-" if m == "max" else "--", lw=2.2 if f == 1 else 1.4, color="black" if f == 1 else None)
        ax1.plot(shifts, [shift_invariance(maps, f, s, m, 0, dx) for dx in shifts], label=label, **style)
        ax2.plot(shifts, [shift_change(maps, f, s, m, 0, dx) for dx in shifts], label=label, **style)
    ax1.set_title("fraction of outputs unchanged")
    ax2.set_title("relative change of the outputs")
    for ax in (ax1, ax2):
        ax.set_xlabel("shift of the input (pixels to the right)")
        ax.set_xticks(shifts)
        ax.grid(alpha=0.3)
    ax1.set_ylim(-0.03, 1.03)
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return readable(fig)


def invariance_table(
    maps: np.ndarray,
    shifts=range(5),
    settings=((1, 1, "max"), (2, 2, "max"), (2, 2, "avg"), (2, 2, "l2"), (3, 3, "max"), (4, 4, "max")),
) -> HTML:
    """The numbers of invariance_figure: per setting and shift, the fraction unchanged and the relative change."""
    shifts = list(shifts)
    rows = []
    for f, s, m in settings:
        label = "no pooling" if f == 1 else f"{m} {f}×{f}/{s}"
        rows.append(
            [
                label,
                *(f"{shift_invariance(maps, f, s, m, 0, dx):.2f} / {shift_change(maps, f, s, m, 0, dx):.2f}" for dx in shifts),
            ]
        )
    return data_table(
        "fraction of outputs unchanged / relative change, per shift of the input (pixels)",
        ["pooling", *(f"shift {dx}" for dx in shifts)],
        rows,
    )
