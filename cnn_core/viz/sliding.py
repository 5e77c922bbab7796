"""The sliding window, drawn: input (with its zero padding), filter, output.

Used by the convolution chapter (stride 1, numbers visible) and the stride and
padding chapter (any N, F, S, P). Every panel says what it is and its size.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..functional import conv2d_naive, pad
from ..shapes import output_size
from .explore import HTML, animate
from .readability import COLUMN_WIDTH_IN, MIN_FONT_PT, readable

INPUT_COLOR, PAD_COLOR, WINDOW_COLOR, OUT_COLOR = "#dbe9f6", "#eeeeee", "#d62728", "#fde0c5"


def draw_grid(
    ax: plt.Axes,
    values: np.ndarray,
    *,
    title: str,
    padding: int = 0,
    show_values: bool = True,
    window: tuple[int, int, int] | None = None,
    filled: np.ndarray | None = None,
    color: str = INPUT_COLOR,
    fmt: Callable[[float], str] | None = None,
) -> None:
    """Draw a 2-D array as labelled squares.

    padding: width of the zero ring (drawn grey); window: (row, col, size) of a red
    square; filled: boolean mask of cells to colour (others stay blank, e.g. an
    output not yet computed); fmt: how to write a value (default: whole numbers as
    such, others with one decimal).
    """
    h, w = values.shape
    ax.clear()
    for r in range(h):
        for c in range(w):
            is_pad = r < padding or c < padding or r >= h - padding or c >= w - padding
            on = filled is None or filled[r, c]
            face = PAD_COLOR if is_pad else (color if on else "white")
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=face, edgecolor="#555555", lw=0.8))
            if show_values and on:
                v = values[r, c]
                text = fmt(v) if fmt else f"{v:g}" if float(v).is_integer() else f"{v:.1f}"
                ax.text(
                    c + 0.5,
                    r + 0.5,
                    text,
                    ha="center",
                    va="center",
                    fontsize=9 if max(h, w) <= 9 else 7,
                    color="#777777" if is_pad else "black",
                )
    if window is not None:
        r, c, size = window
        ax.add_patch(Rectangle((c, r), size, size, fill=False, edgecolor=WINDOW_COLOR, lw=2.5))
    ax.set_xlim(-0.1, w + 0.1)
    ax.set_ylim(h + 0.1, -0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_xticks([])  # no tick labels to measure on every redraw of an animation
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)


def conv_step_figure(
    x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0, step: int = 0, bias: float = 0.0, show_values: bool = True
) -> plt.Figure:
    """One step of a 2-D convolution: the window at output position `step` (row-major),
    the filter, and the output filled up to that step, with the dot product written out.

    Raises ValueError (from output_size) when the filter does not fit.
    """
    fig, axes = _conv_panels(x, w, stride, padding)
    update = _conv_stepper(fig, axes, x, w, stride, padding, bias, show_values)
    update(step)
    return fig


def _conv_panels(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> tuple[plt.Figure, list[plt.Axes]]:
    """A column-wide figure: the (padded) input on the left, the filter above the output on the right.
    Fixed margins (no layout engine): the panels stay put while an animation plays."""
    f = w.shape[0]
    n_in = x.shape[1] + 2 * padding
    n_out = max(output_size(x.shape[1], f, stride, padding), 3)
    fig = plt.figure(figsize=(COLUMN_WIDTH_IN, 4.4))
    grid = fig.add_gridspec(
        2,
        2,
        width_ratios=[n_in, n_out],
        height_ratios=[max(f, 3), n_out],
        left=0.02,
        right=0.98,
        bottom=0.02,
        top=0.84,
        wspace=0.15,
        hspace=0.35,
    )
    return fig, [fig.add_subplot(grid[:, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, 1])]


def _conv_stepper(fig, axes, x, w, stride, padding, bias, show_values):
    """Return update(step) that redraws the three panels for that output position."""
    n_h, n_w = x.shape
    f = w.shape[0]
    h2, w2 = output_size(n_h, f, stride, padding), output_size(n_w, f, stride, padding)
    out = conv2d_naive(x[None, None].astype(float), w[None, None].astype(float), np.array([bias]), stride, padding)[0, 0]
    xp = pad(x[None, None], padding)[0, 0]

    drawn: dict[str, list] = {}  # the artists that change from step to step, once drawn

    def update(step: int):
        r, c = divmod(step, w2)
        done = np.arange(h2 * w2).reshape(h2, w2) <= step
        if not drawn:  # the first call draws the three panels; later calls only move and fill
            pad_note = f", padded by P={padding}" if padding else ""
            draw_grid(
                axes[0], xp, padding=padding, show_values=show_values, window=(0, 0, f), title=f"input {n_h}×{n_w}{pad_note}"
            )
            draw_grid(axes[1], w, show_values=True, color="#f7d4d4", title=f"filter {f}×{f}")
            draw_grid(
                axes[2],
                out,
                show_values=show_values,
                color=OUT_COLOR,
                window=(0, 0, 1),
                title=f"output {h2}×{w2}\n(stride {stride})",
            )
            readable(fig)
            drawn["windows"] = [axes[0].patches[-1], axes[2].patches[-1]]
            drawn["cells"] = list(axes[2].patches[: h2 * w2])  # row-major, as draw_grid adds them
            drawn["texts"] = list(axes[2].texts)  # one per cell when values are shown
        drawn["windows"][0].set_xy((c * stride, r * stride))
        drawn["windows"][1].set_xy((c, r))
        for cell, text, on in zip(drawn["cells"], drawn["texts"] or [None] * done.size, done.ravel()):
            cell.set_facecolor(OUT_COLOR if on else "white")  # outputs not computed yet stay blank
            if text is not None:
                text.set_visible(bool(on))
        fig.suptitle(f"output[{r}, {c}] = sum(window ∘ filter){' + b' if bias else ''} = {out[r, c]:g}", fontsize=MIN_FONT_PT)
        return []

    update.frames = h2 * w2
    return update


def conv_animation(
    x: np.ndarray,
    w: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    bias: float = 0.0,
    show_values: bool = True,
    interval: int = 700,
) -> HTML:
    """The filter sliding over the input, one output per frame (play / step / speed controls)."""
    fig, axes = _conv_panels(x, w, stride, padding)
    update = _conv_stepper(fig, axes, x, w, stride, padding, bias, show_values)
    f, (n_h, n_w) = w.shape[0], x.shape
    h2, w2 = output_size(n_h, f, stride, padding), output_size(n_w, f, stride, padding)
    alt = (
        f"A {f}×{f} filter slides over a {n_h}×{n_w} input"
        + (f" padded by {padding}" if padding else "")
        + f" with stride {stride}: each of the {update.frames} frames outlines one window in red, writes the sum of"
        f" its products with the filter into the next cell of the {h2}×{w2} output, and gives that sum in the title."
    )
    return animate(fig, update, update.frames, interval, alt=alt)
