"""Stride and padding, drawn: the padded input, every position of the filter along a
row and a column, and the output size (N + 2P - F)/S + 1 -- or, when the stride does
not fit, the position that would hang off the edge, in red, with cnn_core's message.

``render(n, f, stride, padding)`` and ``controls`` drive the chapter's explorers.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.patches import Rectangle

from ..shapes import output_size
from ..windows import hanging_start, leftover, stack_sizes, window_starts
from .explore import HTML, animate
from .sliding import INPUT_COLOR, OUT_COLOR, PAD_COLOR

FILTER_COLOR, HANG_COLOR = "#1f5fa8", "#d62728"
BAR, GAP = 0.36, 0.12  # thickness of one position bar, and the space between bars

controls = {"n": [6, 7], "f": [3, 5], "stride": [1, 2, 3], "padding": [0, 1, 2]}


def fit_message(h: int, w: int, f: int, stride: int, padding: int) -> str:
    """'' when the filter fits both axes, else output_size's ValueError message (first failing axis)."""
    for n in (h, w):
        try:
            output_size(n, f, stride, padding)
        except ValueError as err:
            return str(err)
    return ""


def _axis_positions(n: int, f: int, stride: int, padding: int) -> tuple[list[int], int | None]:
    starts = window_starts(n, f, stride, padding) if n + 2 * padding >= f else []
    return starts, hanging_start(n, f, stride, padding)


def _bars(ax: plt.Axes, starts: list[int], hang: int | None, f: int, origin: float, horizontal: bool) -> None:
    """One bar per window position, stacked away from the grid from `origin`; the hanging one red."""
    items = [(s, False) for s in starts] + ([(hang, True)] if hang is not None else [])
    for i, (s, bad) in enumerate(items):
        off = origin + i * (BAR + GAP)
        color = HANG_COLOR if bad else FILTER_COLOR
        style = dict(facecolor=color, alpha=0.35 if bad else 0.75, edgecolor=color, lw=1.2, linestyle="--" if bad else "-")
        xy, size = ((s, off), (f, BAR)) if horizontal else ((-off - BAR, s), (BAR, f))
        ax.add_patch(Rectangle(xy, *size, **style))
        label = "✗" if bad else str(i)
        cx, cy = (s + f / 2, off + BAR / 2) if horizontal else (-off - BAR / 2, s + f / 2)
        ax.text(
            cx, cy, label, ha="center", va="center", fontsize=6.5, color="white" if not bad else HANG_COLOR, fontweight="bold"
        )


def _cells(ax: plt.Axes, h: int, w: int, *, padding: int = 0, color: str = INPUT_COLOR, title: str = ""):
    """An h x w grid of squares (cell (r, c) spans [c, c+1] x [r, r+1]), the outer `padding`
    rings grey with a 0 in each cell. One image, one line collection and one marker
    collection, so that the explorer's 54 states render quickly."""
    face = np.empty((h, w, 3))
    face[:] = to_rgb(PAD_COLOR)
    face[padding : h - padding, padding : w - padding] = to_rgb(color)
    image = ax.imshow(face, extent=(0, w, h, 0), interpolation="nearest", zorder=0)
    lines = [[(0, r), (w, r)] for r in range(h + 1)] + [[(c, 0), (c, h)] for c in range(w + 1)]
    ax.add_collection(LineCollection(lines, colors="#555555", linewidths=0.8, zorder=1))
    if padding:
        rr, cc = np.mgrid[:h, :w]
        ring = (rr < padding) | (cc < padding) | (rr >= h - padding) | (cc >= w - padding)
        ax.scatter(cc[ring] + 0.5, rr[ring] + 0.5, marker="$0$", s=28, c="#888888", linewidths=0, zorder=2)
    ax.set_xlim(-0.1, w + 0.1)
    ax.set_ylim(h + 0.1, -0.1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])  # no tick machinery: the figure renders faster
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return image


def _formula(h: int, w: int, f: int, stride: int, padding: int) -> str:
    """The output-size formula with the numbers filled in, per axis when H != W."""

    def one(n: int) -> str:
        verdict = _value(n, f, stride, padding)
        if "." in verdict:
            verdict += " — not a whole number"
        return f"({n} + 2·{padding} − {f})/{stride} + 1 = {verdict}"

    if h == w:
        return "(N + 2P − F)/S + 1 = " + one(w)
    return f"H2 = {one(h)}\nW2 = {one(w)}"


def grid_figure(h: int, w: int, f: int, stride: int = 1, padding: int = 0, *, figsize=(8.2, 4.4)) -> plt.Figure:
    """The (H + 2P) x (W + 2P) padded input with the first F x F window, one bar per filter
    position along a row (below) and a column (left), and the H2 x W2 output, where
    H2 = (H + 2P - F)/S + 1. When S does not fit, the window one stride past the last one
    that fits is drawn hanging off the edge in red, and output_size's message is shown."""
    hp, wp = h + 2 * padding, w + 2 * padding
    rows, hang_r = _axis_positions(h, f, stride, padding)
    cols, hang_c = _axis_positions(w, f, stride, padding)
    message = fit_message(h, w, f, stride, padding)
    out_h = len(rows) if not leftover(h, f, stride, padding) else None
    out_w = len(cols) if not leftover(w, f, stride, padding) else None

    fig, (ax, ax_out) = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [3, 1.4]})
    hw = "" if h == w else " (H×W)"
    pad_note = f", zero-padded by P={padding} → {hp}×{wp}" if padding else ""
    _cells(ax, hp, wp, padding=padding, title=f"input {h}×{w}{hw}{pad_note}\nfilter {f}×{f} (blue), stride {stride}")
    ax.add_patch(Rectangle((0, 0), f, f, fill=False, edgecolor=FILTER_COLOR, lw=2.5))
    for hang, horizontal in ((hang_c, True), (hang_r, False)):
        if hang is not None:
            xy = (hang, 0) if horizontal else (0, hang)
            ax.add_patch(Rectangle(xy, f, f, facecolor=HANG_COLOR, alpha=0.15, edgecolor=HANG_COLOR, lw=2.5, linestyle="--"))
    far_x = max(wp, (hang_c or 0) + f)
    far_y = max(hp, (hang_r or 0) + f)
    _bars(ax, cols, hang_c, f, far_y + 0.35, horizontal=True)
    _bars(ax, rows, hang_r, f, 0.35, horizontal=False)
    below = far_y + 0.35 + (len(cols) + (hang_c is not None)) * (BAR + GAP)
    left = -0.35 - (len(rows) + (hang_r is not None)) * (BAR + GAP)
    ax.text(wp / 2, below + 0.15, f"{len(cols)} positions along a row", ha="center", va="top", fontsize=8, color=FILTER_COLOR)
    ax.text(
        left - 0.15,
        hp / 2,
        f"{len(rows)} positions along a column",
        ha="right",
        va="center",
        fontsize=8,
        color=FILTER_COLOR,
        rotation=90,
    )
    ax.set_xlim(left - 1.1, far_x + 0.2)
    ax.set_ylim(below + 1.0, -0.2)

    if message:
        ax_out.set_xticks([])
        ax_out.set_yticks([])
        ax_out.axis("off")
        ax_out.set_title("output: doesn't fit!", fontsize=10, color=HANG_COLOR)
        ax_out.text(
            0.0,
            0.95,
            "\n".join(textwrap.wrap(message, 30)),
            transform=ax_out.transAxes,
            va="top",
            ha="left",
            fontsize=8.5,
            color=HANG_COLOR,
            family="monospace",
        )
        fig.suptitle(_formula(h, w, f, stride, padding), fontsize=10, color=HANG_COLOR)
    else:
        _cells(ax_out, out_h, out_w, color=OUT_COLOR, title=f"output {out_h}×{out_w}{hw}")
        ax_out.set_xlim(-0.1, max(out_w, 3) + 0.1)
        ax_out.set_ylim(max(out_h, 3) + 0.1, -0.1)
        fig.suptitle(_formula(h, w, f, stride, padding), fontsize=10)
    fig.subplots_adjust(top=0.80, wspace=0.15)
    return fig


def render(n: int = 7, f: int = 3, stride: int = 1, padding: int = 0) -> plt.Figure:
    """The explorer's picture for an N x N input (see grid_figure)."""
    return grid_figure(n, n, f, stride, padding)


def _value(n: int, f: int, stride: int, padding: int) -> str:
    """(N + 2P - F)/S + 1 written out: whole numbers as such, others with two decimals."""
    value = (n + 2 * padding - f) / stride + 1
    return f"{value:g}" if value.is_integer() else f"{value:.2f}"


def describe(n: int = 7, f: int = 3, stride: int = 1, padding: int = 0) -> str:
    """Caption / alt text: the sizes, the formula with the numbers, and the verdict."""
    head = (
        f"{n}×{n} input, {f}×{f} filter, stride {stride}, padding {padding}: "
        f"({n} + 2·{padding} − {f})/{stride} + 1 = {_value(n, f, stride, padding)}"
    )
    if leftover(n, f, stride, padding):
        return head + f" → doesn't fit ({leftover(n, f, stride, padding)} column(s) at the edge never reached)."
    size = output_size(n, f, stride, padding)
    return head + f" → output {size}×{size}."


def shrinking_figure(n: int = 32, f: int = 5, depth: int = 8, figsize=(6.4, 3.4)) -> plt.Figure:
    """Spatial size against the number of stacked F x F conv layers (stride 1), without padding
    (N, N - F + 1, ...: 32 -> 28 -> 24 for F = 5) and with the size-preserving P = (F - 1)/2."""
    fig, ax = plt.subplots(figsize=figsize)
    same = (f - 1) // 2
    for p, style, label in ((0, "o-", "no padding (P = 0)"), (same, "s--", f"zero padding P = {same}")):
        sizes = stack_sizes(n, f, depth, 1, p)
        ax.plot(range(len(sizes)), sizes, style, label=label)
        for i, s in enumerate(sizes):
            if p == 0 or i == depth:
                ax.annotate(str(s), (i, s), textcoords="offset points", xytext=(0, 7 if p else -13), ha="center", fontsize=8)
    ax.set_xlabel(f"number of {f}×{f} conv layers (stride 1)")
    ax.set_ylabel("spatial size (height = width)")
    ax.set_title(f"A {n}×{n} input through {f}×{f} filters")
    ax.set_xticks(range(depth + 1))
    ax.set_ylim(0, n + 5)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return fig


def maps_volume_figure(image: np.ndarray, maps: np.ndarray, title: str = "", rows: int = 2, figsize=(9, 3.6)) -> plt.Figure:
    """An input image (H, W, 3) in [0, 1], large on the left, beside the K activation maps
    (K, H2, W2) a conv layer made of it, in `rows` rows, each map on its own grey scale and
    every panel titled with its size (lecture order, W x H x D)."""
    k = maps.shape[0]
    cols = -(-k // rows)
    fig = plt.figure(figsize=figsize)
    grid = fig.add_gridspec(rows, cols + rows, wspace=0.15, hspace=0.35)
    ax_in = fig.add_subplot(grid[:, :rows])
    ax_in.imshow(np.clip(image, 0, 1))
    ax_in.set_title(f"input {image.shape[1]}×{image.shape[0]}×{image.shape[2]}", fontsize=9)
    axes = [ax_in]
    for i in range(k):
        ax = fig.add_subplot(grid[i // cols, rows + i % cols])
        ax.imshow(maps[i], cmap="gray")
        ax.set_title(f"map {i + 1}: {maps.shape[2]}×{maps.shape[1]}", fontsize=8)
        axes.append(ax)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def slide_animation(n: int = 7, f: int = 3, strides=(1, 2), padding: int = 0, *, interval: int = 500, dpi: int = 70) -> HTML:
    """The filter sliding over an N x N input, one panel pair (input, output) per stride, side by
    side and in step: at frame k every stride shows its k-th position (row by row) and the output
    cells filled so far; a stride with fewer positions waits at its last one. Artists are moved,
    not redrawn, so the animation renders quickly. Raises ValueError for a stride that does not fit."""
    sizes = [output_size(n, f, s, padding) for s in strides]
    npad = n + 2 * padding
    ratios = [r for size in sizes for r in (npad, max(size, 3))]
    fig, axes = plt.subplots(
        1,
        2 * len(strides),
        figsize=(2.6 * len(strides) + 1.6 * sum(ratios) / npad, 3.0),
        dpi=dpi,
        gridspec_kw={"width_ratios": ratios},
    )
    panels = []
    for i, (s, size) in enumerate(zip(strides, sizes)):
        ax_in, ax_out = axes[2 * i], axes[2 * i + 1]
        _cells(ax_in, npad, npad, padding=padding)
        window = Rectangle((0, 0), f, f, facecolor=FILTER_COLOR, alpha=0.25, edgecolor=FILTER_COLOR, lw=2.5)
        ax_in.add_patch(window)
        image = _cells(ax_out, size, size, color=OUT_COLOR, title=f"output {size}×{size}")
        cell = Rectangle((0, 0), 1, 1, fill=False, edgecolor=FILTER_COLOR, lw=2.5)
        ax_out.add_patch(cell)
        ax_out.set_xlim(-0.1, max(size, 3) + 0.1)
        ax_out.set_ylim(max(size, 3) + 0.1, -0.1)
        panels.append((s, size, ax_in, window, image, cell))
    pad_note = f", P={padding}" if padding else ""
    fig.suptitle(f"{n}×{n} input{pad_note}, {f}×{f} filter (blue), one step per frame", fontsize=10)
    fig.subplots_adjust(top=0.74, bottom=0.02, left=0.02, right=0.98, wspace=0.15)
    white, filled = np.array(to_rgb("white")), np.array(to_rgb(OUT_COLOR))

    def update(frame: int):
        for s, size, ax_in, window, image, cell in panels:
            k = min(frame, size * size - 1)
            r, c = divmod(k, size)
            window.set_xy((c * s, r * s))
            cell.set_xy((c, r))
            face = np.where((np.arange(size * size) <= k)[:, None], filled, white).reshape(size, size, 3)
            image.set_data(face)
            ax_in.set_title(f"stride {s}: position {k + 1} of {size * size}\nwindow at row {r * s}, col {c * s}", fontsize=10)
        return []

    update(0)
    return animate(fig, update, max(size * size for size in sizes), interval)
