"""Convolution in depth, drawn: the backward pass step by step, max-pool routing, the transposed
convolution with its input and output labelled, its matrix, per-channel partial sums, dilated
receptive fields, and the framework explorer (which rows a floor silently drops).

Every function takes arrays or the numbers of cnn_core.conv_in_depth / cnn_core.frameworks and
returns a figure (or an animation); nothing here computes what the chapter asserts.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..conv_in_depth import BackwardStep, FullConvolution, PartialSums, Route, Scatter
from ..frameworks import framework_output_size, keras_same_padding, span
from .explore import HTML, animate
from .sliding import INPUT_COLOR, OUT_COLOR, PAD_COLOR, WINDOW_COLOR, draw_grid

GRAD_COLOR, DROP_COLOR, EXTRA_COLOR, TAP_COLOR = "#e5f5e0", "#9e9e9e", "#ff7f0e", "#1f5fa8"
ROUTE_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")


def _box(ax: plt.Axes, rows: slice, cols: slice, color: str = WINDOW_COLOR, lw: float = 2.5) -> None:
    ax.add_patch(
        Rectangle((cols.start, rows.start), cols.stop - cols.start, rows.stop - rows.start, fill=False, edgecolor=color, lw=lw)
    )


def _size(a: np.ndarray) -> str:
    return f"{a.shape[0]}×{a.shape[1]}"


# ---------------------------------------------------------------- the backward pass, step by step


def _draw_backward(axes, x, w, dout, steps: Sequence[BackwardStep], k: int, padding: int) -> str:
    """Draw step k (0-based) of the backward pass with the sums so far; returns the step's sentence."""
    s = steps[k]
    f = w.shape[0]
    xp = np.pad(x, padding)
    draw_grid(axes[0], xp, title=f"input x {_size(x)}" + (f", padded P={padding}" if padding else ""), padding=padding)
    _box(axes[0], s.dx.rows, s.dx.cols)
    done = np.zeros(dout.shape, dtype=bool)
    done.flat[: k + 1] = True
    draw_grid(axes[1], dout, title=f"upstream gradient dout {_size(dout)}", color=GRAD_COLOR)
    _box(axes[1], slice(s.r, s.r + 1), slice(s.c, s.c + 1))
    dw = np.sum([t.dw for t in steps[: k + 1]], axis=0)
    draw_grid(axes[2], dw, title=f"dW {f}×{f} so far\n(+= g × window)", color=OUT_COLOR)
    dxp = np.zeros_like(xp)
    for t in steps[: k + 1]:
        dxp[t.dx.rows, t.dx.cols] += t.dx.added
    draw_grid(axes[3], dxp, title="dX so far\n(window += g × w)", padding=padding, color=GRAD_COLOR)
    _box(axes[3], s.dx.rows, s.dx.cols)
    db = sum(t.g for t in steps[: k + 1])
    return (
        f"step {k + 1}/{len(steps)}: output ({s.r}, {s.c}) got g = dout[{s.r}, {s.c}] = {s.g:g}:  "
        f"dW += {s.g:g} × window,  dX[window] += {s.g:g} × w,  db += {s.g:g} → db = {db:g}"
    )


def backward_step_figure(x, w, dout, steps: Sequence[BackwardStep], step: int, padding: int = 0) -> plt.Figure:
    """One step of the conv backward pass: the window (red) and its gradient g, dW and dX summed so far."""
    x, w, dout = (np.asarray(a, dtype=float) for a in (x, w, dout))
    fig, axes = plt.subplots(1, 4, figsize=(11, 3.2), gridspec_kw={"width_ratios": [1.2, 1, 0.8, 1.2]})
    fig.suptitle(_draw_backward(axes, x, w, dout, steps, step, padding), fontsize=9.5)
    fig.subplots_adjust(top=0.78, wspace=0.25)
    return fig


def backward_animation(x, w, dout, steps: Sequence[BackwardStep], padding: int = 0, interval: int = 900) -> HTML:
    """The backward pass as an animation: one frame per output position, row by row."""
    x, w, dout = (np.asarray(a, dtype=float) for a in (x, w, dout))
    alt = (
        f"Animation, {len(steps)} frames: the {_size(x)} input with the filter window in red, the upstream gradient "
        f"with its cell in red, dW and dX summed step by step"
    )
    return _stepped_animation(
        lambda axes, k: _draw_backward(axes, x, w, dout, steps, k, padding),
        len(steps),
        widths=[1.2, 1, 0.8, 1.2],
        size=(11, 3.2),
        wspace=0.25,
        interval=interval,
        alt=alt,
    )


def _stepped_animation(draw, frames: int, *, widths: list[float], size, wspace: float, interval: int, alt: str) -> HTML:
    """One row of panels (relative widths), redrawn by draw(axes, k) -> title for each frame k."""
    fig, axes = plt.subplots(1, len(widths), figsize=size, gridspec_kw={"width_ratios": widths})
    title = fig.suptitle("", fontsize=9.5)
    fig.subplots_adjust(top=0.78, wspace=wspace)

    def update(k: int):
        title.set_text(draw(axes, k))

    update(0)
    return animate(fig, update, frames, interval=interval, alt=alt)


def full_convolution_figure(dout, w, full: FullConvolution, stride: int, padding: int) -> plt.Figure:
    """dX as a convolution: dout with S - 1 zeros between entries and F - 1 around, the flipped filter,
    and the result (the red box: the unpadded dX)."""
    f = w.shape[0]
    fig, axes = plt.subplots(1, 4, figsize=(11, 3.2), gridspec_kw={"width_ratios": [0.8, 1.4, 0.7, 1.2]})
    draw_grid(axes[0], np.asarray(dout, float), title=f"dout {_size(dout)}", color=GRAD_COLOR)
    inner = (full.grid != 0) if stride > 1 else None
    draw_grid(
        axes[1],
        full.grid,
        title=f"dout, {stride - 1} zero(s) between entries,\n{f - 1} zeros around: {_size(full.grid)}",
        padding=f - 1,
        color=GRAD_COLOR if inner is None else "white",
    )
    if inner is not None:
        for r, c in zip(*np.nonzero(inner)):
            axes[1].add_patch(Rectangle((c, r), 1, 1, facecolor=GRAD_COLOR, edgecolor="#555555", lw=0.8, zorder=0.5))
    draw_grid(axes[2], full.flipped, title=f"w flipped\n(180°) {f}×{f}", color=OUT_COLOR)
    draw_grid(axes[3], full.dx_padded, title=f"correlation: {_size(full.dx_padded)}\nred: dX {_size(full.dx)}", color=GRAD_COLOR)
    h, wd = full.dx_padded.shape
    _box(axes[3], slice(padding, h - padding), slice(padding, wd - padding))
    fig.subplots_adjust(wspace=0.25)
    return fig


# ---------------------------------------------------------------- max pooling


def maxpool_routing_figure(x, dout, routes: Sequence[Route], dx, f: int, stride: int) -> plt.Figure:
    """Max pooling's backward pass: each window (coloured frame) sends its gradient to its winner only."""
    x, dout, dx = (np.asarray(a, dtype=float) for a in (x, dout, dx))
    fig, axes = plt.subplots(1, 3, figsize=(9.5, 3.4), gridspec_kw={"width_ratios": [1.2, 0.8, 1.2]})
    draw_grid(axes[0], x, title=f"input x {_size(x)}, windows {f}×{f}, stride {stride}\n(bold: the max of each window)")
    draw_grid(axes[1], dout, title=f"dout {_size(dout)}", color=GRAD_COLOR)
    draw_grid(axes[2], dx, title="dX: each g lands on its winner,\n0 elsewhere", color=GRAD_COLOR)
    for i, route in enumerate(routes):
        color = ROUTE_COLORS[i % len(ROUTE_COLORS)]
        inset = 0.08 * (i % 3)
        rows, cols = slice(route.r * stride, route.r * stride + f), slice(route.c * stride, route.c * stride + f)
        axes[0].add_patch(
            Rectangle((cols.start + inset, rows.start + inset), f - 2 * inset, f - 2 * inset, fill=False, edgecolor=color, lw=2)
        )
        y, xx = route.winner
        for ax in (axes[0], axes[2]):
            ax.add_patch(Rectangle((xx + 0.1, y + 0.1), 0.8, 0.8, fill=False, edgecolor=color, lw=2.2))
        axes[1].add_patch(Rectangle((route.c + 0.1, route.r + 0.1), 0.8, 0.8, fill=False, edgecolor=color, lw=2.2))
    for t in axes[0].texts:  # the winners in bold
        r, c = int(t.get_position()[1]), int(t.get_position()[0])
        if any(route.winner == (r, c) for route in routes):
            t.set_fontweight("bold")
    fig.subplots_adjust(wspace=0.25, top=0.8)
    return fig


# ---------------------------------------------------------------- the transposed convolution


def _draw_transposed(axes, x, w, steps: Sequence[Scatter], k: int, stride: int, padding: int) -> str:
    f = w.shape[0]
    big = (np.array(x.shape) - 1) * stride + f
    draw_grid(axes[0], x, title=f"INPUT x {_size(x)}\n(the small grid)")
    draw_grid(axes[1], w, title=f"filter w {f}×{f}, stride {stride}", color=OUT_COLOR)
    grid = np.zeros(big)
    for s in steps[: k + 1]:
        grid[s.rows, s.cols] += s.added
    s = steps[k]
    out_h, out_w = big[0] - 2 * padding, big[1] - 2 * padding
    draw_grid(
        axes[2],
        grid,
        title=f"OUTPUT y {out_h}×{out_w}" + (f" (cut {padding} from each side)" if padding else "") + "\n(the big grid)",
        padding=padding,
        color=GRAD_COLOR,
    )
    _box(axes[2], s.rows, s.cols)
    _box(axes[0], slice(s.r, s.r + 1), slice(s.c, s.c + 1))
    return (
        f"input pixel ({s.r}, {s.c}) = {s.g:g} adds {s.g:g} × w to the output at rows {s.rows.start}–{s.rows.stop - 1}, "
        f"columns {s.cols.start}–{s.cols.stop - 1} ({k + 1}/{len(steps)}); overlaps add up"
    )


def transposed_figure(x, w, steps: Sequence[Scatter], stride: int, padding: int = 0, step: int | None = None) -> plt.Figure:
    """The transposed convolution with numbers: input (small), filter, output (big) after `step`
    (default: all) of the scatters x[i, j] * w."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), gridspec_kw={"width_ratios": [0.7, 0.8, 1.6]})
    k = len(steps) - 1 if step is None else step
    fig.suptitle(_draw_transposed(axes, x, w, steps, k, stride, padding), fontsize=9.5)
    fig.subplots_adjust(top=0.78, wspace=0.2)
    return fig


def transposed_animation(x, w, steps: Sequence[Scatter], stride: int, padding: int = 0, interval: int = 1100) -> HTML:
    """The transposed convolution, one input pixel per frame, input and output labelled."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    alt = (
        f"Animation, {len(steps)} frames: the INPUT x {_size(x)} (left), the filter, and the OUTPUT (right, bigger); "
        f"each frame adds one input pixel times the filter into the output"
    )
    return _stepped_animation(
        lambda axes, k: _draw_transposed(axes, x, w, steps, k, stride, padding),
        len(steps),
        widths=[0.7, 0.8, 1.6],
        size=(10, 3.6),
        wspace=0.2,
        interval=interval,
        alt=alt,
    )


def matrix_figure(m, small: tuple[int, int], big: tuple[int, int], row: int = 1) -> plt.Figure:
    """The convolution's matrix M (big grid -> small grid) with its numbers, one row per window. Read
    by rows it is the convolution; read by columns (M^T) the transposed convolution: row `row`,
    reshaped to the big grid (right), is where input pixel `row` of the transposed convolution lands."""
    m = np.asarray(m, float)
    fig, (ax, ax_r) = plt.subplots(
        1,
        2,
        figsize=(12, 1.6 + 0.32 * m.shape[0]),
        gridspec_kw={"width_ratios": [m.shape[1], 1.3 * big[1]]},
    )
    shade = np.where(m != 0, 0.35, 0.0)
    shade[row] += 0.25
    ax.imshow(shade, cmap="Blues", vmin=0, vmax=1.2, aspect="equal", interpolation="nearest")
    for r, c in zip(*np.nonzero(m)):
        ax.text(c, r, f"{m[r, c]:g}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(m.shape[1]), [f"{c // big[1]},{c % big[1]}" for c in range(m.shape[1])], fontsize=6, rotation=90)
    ax.set_yticks(range(m.shape[0]), [f"{r // small[1]},{r % small[1]}" for r in range(m.shape[0])], fontsize=7)
    ax.set_xlabel(f"big grid {big[0]}×{big[1]}, flattened (row,col): the convolution's input = the transposed one's output")
    ax.set_ylabel(f"small grid {small[0]}×{small[1]}\n(row,col)")
    ax.set_title(
        f"M, {m.shape[0]}×{m.shape[1]}: convolution = M @ big.ravel();  transposed convolution = Mᵀ @ x.ravel()", fontsize=10
    )
    draw_grid(
        ax_r,
        m[row].reshape(big),
        title=f"row {row} of M on the {big[0]}×{big[1]} grid:\nwhere x[{row // small[1]}, {row % small[1]}] lands",
        color=GRAD_COLOR,
    )
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- one output number, channel by channel


def partial_sums_figure(ps: PartialSums, w, channel_names: Sequence[str] = ("red", "green", "blue")) -> plt.Figure:
    """One row per input channel: the window, the filter slice, and their dot product; then + bias = the output."""
    w = np.asarray(w, float)
    d = len(ps.per_channel)
    fig, axes = plt.subplots(d, 3, figsize=(7.2, 2.0 * d + 0.4), gridspec_kw={"width_ratios": [1, 1, 1.3]})
    axes = np.atleast_2d(axes)
    for ch in range(d):
        name = channel_names[ch] if ch < len(channel_names) else f"channel {ch}"
        draw_grid(axes[ch, 0], ps.window[ch], title=f"{name}: window", fmt=lambda v: f"{v:.0f}")
        draw_grid(axes[ch, 1], w[ch], title=f"{name}: filter w[{ch}]", color=OUT_COLOR)
        ax = axes[ch, 2]
        ax.axis("off")
        ax.text(0.05, 0.5, f"Σ window · w[{ch}]\n= {ps.per_channel[ch]:g}", fontsize=11, va="center")
    sums = " + ".join(f"{v:g}" for v in ps.per_channel)
    fig.suptitle(f"output = {sums} + bias {ps.bias:g} = {ps.total:g}", fontsize=11)
    fig.subplots_adjust(top=0.9, hspace=0.45)
    return fig


# ---------------------------------------------------------------- dilation


def dilation_figure(image, stacks: dict[str, np.ndarray], center: tuple[int, int]) -> plt.Figure:
    """For each stack, the tap counts (cnn_core.conv_in_depth.tap_counts) laid over the image around
    `center`: which pixels one output of the stack reads (coloured) and which it never sees."""
    image = np.asarray(image)
    n = len(stacks)
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.7))
    axes = np.atleast_1d(axes)
    big = max(c.shape[0] for c in stacks.values())
    r0, c0 = center[0] - big // 2 - 2, center[1] - big // 2 - 2
    crop = image[r0 : r0 + big + 4, c0 : c0 + big + 4]
    for ax, (name, counts) in zip(axes, stacks.items()):
        ax.imshow(crop, cmap="gray" if crop.ndim == 2 else None, extent=(-0.5, crop.shape[1] - 0.5, crop.shape[0] - 0.5, -0.5))
        off = (crop.shape[0] - counts.shape[0]) // 2
        seen = np.ma.masked_equal(counts, 0)
        ax.imshow(
            seen,
            cmap="autumn_r",
            alpha=0.6,
            extent=(off - 0.5, off + counts.shape[1] - 0.5, off + counts.shape[0] - 0.5, off - 0.5),
            interpolation="nearest",
        )
        ax.add_patch(Rectangle((off - 0.5, off - 0.5), counts.shape[1], counts.shape[0], fill=False, edgecolor=TAP_COLOR, lw=1.5))
        ax.set_xlim(-0.5, crop.shape[1] - 0.5)
        ax.set_ylim(crop.shape[0] - 0.5, -0.5)
        unseen = int((counts == 0).sum())
        ax.set_title(f"{name}\nreceptive field {counts.shape[0]}×{counts.shape[1]}, {unseen} pixels never read", fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def images_figure(panels: dict[str, np.ndarray], cmap: str = "gray") -> plt.Figure:
    """Pictures side by side with titles (RGB arrays in colour, 2-D ones in cmap)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 2.9))
    for ax, (title, img) in zip(np.atleast_1d(axes), panels.items()):
        img = np.asarray(img)
        ax.imshow(np.clip(img, 0, 1) if img.ndim == 3 else img, cmap=None if img.ndim == 3 else cmap)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- one formula, every framework

FRAMEWORK_VIEWS = ("lecture", "PyTorch Conv2d (floor)", "PyTorch MaxPool2d ceil_mode", "Keras 'same'")

framework_controls = {
    "n": list(range(5, 13)),
    "f": [1, 2, 3, 4, 5],
    "stride": [1, 2, 3, 4],
    "padding": [0, 1, 2],
    "dilation": [1, 2, 3],
    "framework": list(FRAMEWORK_VIEWS),
}
framework_book_controls = {  # pre-rendered in the book: 64 pictures
    "n": [7, 8],
    "f": [3],
    "stride": [2, 3],
    "padding": [0, 1],
    "dilation": [1, 2],
    "framework": list(FRAMEWORK_VIEWS),
}


def _view(
    framework: str, n: int, f: int, stride: int, padding: int, dilation: int
) -> tuple[int, int, list[int], list[int], int | None]:
    """(left pad, right pad, window starts in the padded row, extra starts, output size) for a view. Extra:
    PyTorch ceil_mode's partial window, or the lecture's window that hangs off the edge (output None:
    doesn't fit). Raises the framework's ValueError where it refuses."""
    fd = span(f, dilation)
    if framework == "Keras 'same'":
        _, left, right = keras_same_padding(n, f, stride, dilation)
        out = framework_output_size("keras", n, f, stride, "same", dilation)
        return left, right, [i * stride for i in range(out)], [], out
    full = max((n + 2 * padding - fd) // stride + 1, 0)
    if framework == "lecture":
        try:
            out = framework_output_size("lecture", n, f, stride, padding, dilation)
        except ValueError:
            return padding, padding, [i * stride for i in range(full)], [full * stride], None
        return padding, padding, [i * stride for i in range(out)], [], out
    ceil = framework == "PyTorch MaxPool2d ceil_mode"
    out = framework_output_size("pytorch", n, f, stride, padding, dilation, layer="pool" if ceil else "conv", ceil_mode=ceil)
    return padding, padding, [i * stride for i in range(full)], [i * stride for i in range(full, out)], out


def _unread(n: int, f: int, dilation: int, left: int, starts: list[int]) -> list[int]:
    """Input rows 0..N-1 that no tap of the windows starting at `starts` (padded coordinates) reads."""
    read = {s + dilation * j - left for s in starts for j in range(f)}
    return [i for i in range(n) if i not in read]


def _size_text(view: str, n: int, f: int, stride: int, padding: int, dilation: int) -> str:
    try:
        out = _view(view, n, f, stride, padding, dilation)[4]
    except ValueError as err:
        return textwrap.shorten("refused: " + str(err).split(";")[0].split(". ")[0], 64, placeholder=" …")
    return "doesn't fit" if out is None else str(out)


def framework_render(
    n: int = 8, f: int = 3, stride: int = 2, padding: int = 0, dilation: int = 1, framework: str = "PyTorch Conv2d (floor)"
) -> plt.Figure:
    """One row of the input as a framework sees it: the padding it adds, every window (taps as dots),
    the rows it never reads greyed out, a partial window (ceil_mode) in orange or the lecture's
    hanging window in red. Below: every framework's output size for the same numbers."""
    left, right, starts, extra, out = _view(framework, n, f, stride, padding, dilation)
    width = left + n + right
    fd = span(f, dilation)
    dropped = _unread(n, f, dilation, left, starts + (extra if out is not None else []))
    rows = len(starts) + len(extra)
    right_end = max([width] + [s + fd for s in starts + extra])
    fig, (ax, ax_t) = plt.subplots(
        2,
        1,
        figsize=(max(7.0, 0.45 * right_end + 1.0), 1.9 + 0.16 * rows + 1.1),
        gridspec_kw={"height_ratios": [1.3 + 0.3 * rows, 1.1]},
    )
    for i in range(width):
        inside = left <= i < left + n
        face = PAD_COLOR if not inside else (DROP_COLOR if (i - left) in dropped else INPUT_COLOR)
        hatch = "//" if face == DROP_COLOR else None
        ax.add_patch(Rectangle((i, 0), 1, 1, facecolor=face, edgecolor="#555555", lw=0.8, hatch=hatch))
        label, color = (str(i - left), "black") if inside else ("0", "#777777")
        ax.text(i + 0.5, 0.5, label, ha="center", va="center", fontsize=8, color=color)
    for k, s in enumerate(starts + extra):
        y = 1.3 + 0.45 * k
        partial = k >= len(starts)
        color = (EXTRA_COLOR if out is not None else WINDOW_COLOR) if partial else TAP_COLOR
        style = "--" if partial else "-"
        ax.add_patch(Rectangle((s, y), fd, 0.3, facecolor=color, alpha=0.3, edgecolor=color, lw=1, linestyle=style))
        ax.plot([s + dilation * j + 0.5 for j in range(f)], [y + 0.15] * f, "o", color=color, ms=4)
        ax.text(s - 0.15, y + 0.15, "✗" if out is None and partial else str(k), ha="right", va="center", fontsize=7, color=color)
    ax.set_xlim(-0.8, right_end + 0.3)
    ax.set_ylim(1.4 + 0.45 * rows, -0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    lost = f"input rows {dropped} are never read (grey)" if dropped else "every input row is read"
    pads = f"pads {left} left + {right} right" if left != right else f"pads {left} each side"
    result = "doesn't fit (red: the window off the edge)" if out is None else f"output {out}"
    ax.set_title(
        f"{framework}: N = {n}, {pads}, F = {f} (spans {fd}), S = {stride}\n→ {result}; {lost}", fontsize=9.5, loc="left"
    )
    lines = [
        ("▶ " if view == framework else "  ") + f"{view:<28} {_size_text(view, n, f, stride, padding, dilation)}"
        for view in FRAMEWORK_VIEWS
    ]
    ax_t.axis("off")
    ax_t.text(0, 1, "\n".join(lines), family="monospace", fontsize=8.5, va="top")
    fig.tight_layout()
    return fig


def framework_describe(
    n: int = 8, f: int = 3, stride: int = 2, padding: int = 0, dilation: int = 1, framework: str = "PyTorch Conv2d (floor)"
) -> str:
    """Caption / alt text: the framework's answer and the rows it never reads."""
    head = f"N = {n}, F = {f}, S = {stride}, P = {padding}, dilation {dilation}, {framework}: "
    try:
        left, _, starts, extra, out = _view(framework, n, f, stride, padding, dilation)
    except ValueError as err:
        return head + "refused: " + str(err)
    if out is None:
        return head + f"({n} + 2·{padding} − {span(f, dilation)})/{stride} + 1 is not a whole number: doesn't fit."
    dropped = _unread(n, f, dilation, left, starts + extra)
    return head + f"output {out}" + (f"; input rows {dropped} are never read." if dropped else "; every input row is read.")


def patch_figure(image, r: int, c: int, size: int, zoom: int = 40) -> plt.Figure:
    """Where a size x size patch sits: the photo with a red box, and a crop of `zoom` pixels around it."""
    image = np.asarray(image)
    fig, (ax, ax_z) = plt.subplots(1, 2, figsize=(7.5, 2.9), gridspec_kw={"width_ratios": [1.5, 1]})
    ax.imshow(image)
    ax.add_patch(Rectangle((c - zoom / 2, r - zoom / 2), zoom, zoom, fill=False, edgecolor=WINDOW_COLOR, lw=1.5))
    ax.set_title(f"photo {image.shape[0]}×{image.shape[1]}", fontsize=9)
    r0, c0 = max(r - zoom // 2, 0), max(c - zoom // 2, 0)
    ax_z.imshow(image[r0 : r0 + zoom, c0 : c0 + zoom], extent=(c0 - 0.5, c0 + zoom - 0.5, r0 + zoom - 0.5, r0 - 0.5))
    ax_z.add_patch(Rectangle((c - 0.5, r - 0.5), size, size, fill=False, edgecolor=WINDOW_COLOR, lw=2))
    ax_z.set_title(f"zoom: the {size}×{size} window at row {r}, column {c}", fontsize=9)
    for a in (ax, ax_z):
        a.set_xticks([]), a.set_yticks([])
    fig.tight_layout()
    return fig


def framework_table_html(rows: Sequence[dict]) -> HTML:
    """cnn_core.frameworks.framework_table as an HTML table (a notebook's text/markdown output is
    rendered as CommonMark in the book, without tables); it scrolls sideways on a phone, so the
    scrolling box is focusable and named (a keyboard reader can scroll it too)."""
    head = "".join(f"<th>{h}</th>" for h in ("framework", "call", "formula", "output", "note"))
    body = []
    for r in rows:
        out = "—" if r["output"] is None else str(r["output"])
        cells = [html.escape(r["framework"]), f"<code>{html.escape(r['call'])}</code>", html.escape(r["formula"]), out]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + f"<td>{html.escape(r['note'])}</td></tr>")
    return HTML(
        '<div class="cnn-framework-table" style="overflow-x:auto;max-width:100%" tabindex="0" role="region" '
        'aria-label="output size in each framework (scrolls sideways)">'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
