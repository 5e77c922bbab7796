"""Drawings for sparse connectivity and parameter sharing, all read off the layers' matrices.

* connection graphs in the style of Goodfellow et al., figures 9.2-9.5: which inputs
  touch an output, which outputs an input affects, the receptive-field cone of a deep
  unit, and which connections share a weight (conv vs fully connected);
* the convolution's weight matrix with every entry coloured by the filter weight it holds;
* receptive fields of a stack of layers drawn on a real photo (with an explorer);
* translation equivariance, an edge filter on the cat, parameter counts (with an explorer).

Nothing is drawn by hand: edges and cells come from cnn_core.connectivity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from ..connectivity import (
    conv1d_weight_index,
    conv_weight_index,
    dense_weight_index,
    equivariance_gap,
    layer_output_sizes,
    param_counts,
    reach,
    receptive_field_box,
    unit_at,
)
from ..data import cat, shift
from ..shapes import output_size, receptive_field
from .sliding import draw_grid

ON, OFF, EDGE_OFF = "#d62728", "white", "#c8c8c8"
TAP_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#d62728"]
LETTERS = "abcdefghijklmnopqrstuvwxy"


# ---------------------------------------------------------------- connection graphs (1-D)


def _conv_stack(n: int, layers: Sequence[tuple[int, int, int]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Connection matrices of a stack of 1-D (F, S, P) convolutions on n inputs, and the x
    position of every unit (an output sits above the centre of its window)."""
    matrices, xs = [], [np.arange(n, dtype=float)]
    for f, s, p in layers:
        index = conv1d_weight_index(len(xs[-1]), f, s, p)
        matrices.append(index >= 0)
        step = xs[-1][1] - xs[-1][0] if len(xs[-1]) > 1 else 1.0
        xs.append(xs[-1][0] + (np.arange(index.shape[0]) * s - p + (f - 1) / 2) * step)
    return matrices, xs


def draw_graph(
    ax: plt.Axes,
    matrices: Sequence[np.ndarray],
    *,
    xs: Sequence[np.ndarray] | None = None,
    on: Sequence[np.ndarray] | None = None,
    edge_colors: Sequence[np.ndarray] | None = None,
    edge_widths: Sequence[np.ndarray] | None = None,
    names: Sequence[str] = ("x", "s"),
    title: str = "",
) -> None:
    """A stack of connection matrices as a layered graph, input at the bottom.

    matrices[l] (n_{l+1}, n_l) is True where a unit of layer l feeds one of layer l+1;
    on (from reach) fills the highlighted units red and darkens the edges between them;
    edge_colors / edge_widths give every edge a colour / width instead (weight sharing).
    """
    sizes = [matrices[0].shape[1]] + [m.shape[0] for m in matrices]
    xs = xs if xs is not None else [np.arange(s) - (s - 1) / 2 for s in sizes]
    r = 0.24
    for l, m in enumerate(matrices):
        for o, i in zip(*np.nonzero(m)):
            lit = on is not None and on[l][i] and on[l + 1][o]
            color = edge_colors[l][o, i] if edge_colors is not None else (ON if lit else EDGE_OFF)
            width = edge_widths[l][o, i] if edge_widths is not None else (2.2 if lit else 1.0)
            ax.annotate(
                "",
                xy=(xs[l + 1][o], l + 1 - r),
                xytext=(xs[l][i], l + r),
                arrowprops=dict(arrowstyle="-|>", color=color, lw=width, shrinkA=0, shrinkB=0, mutation_scale=8),
                zorder=3 if lit or edge_widths is not None else 1,
            )
    for l, n in enumerate(sizes):
        for j in range(n):
            lit = on is not None and on[l][j]
            ax.add_patch(Circle((xs[l][j], l), r, facecolor=ON if lit else OFF, edgecolor="black", lw=1, zorder=4))
            ax.text(
                xs[l][j],
                l,
                f"${names[l % len(names)]}_{{{j + 1}}}$",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if lit else "black",
                zorder=5,
            )
    lo = min(x.min() for x in xs) - 0.5
    hi = max(x.max() for x in xs) + 0.5
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.5, len(sizes) - 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def plot_sparse_vs_dense(n: int = 5, kernel_size: int = 3, padding: int = 1, unit: int = 2) -> plt.Figure:
    """Goodfellow's figures 9.2 and 9.3 side by side, for a 1-D convolution (top) and a fully
    connected layer (bottom): left, the outputs input x_unit affects; right, the inputs
    output s_unit is affected by."""
    conv, xs = _conv_stack(n, [(kernel_size, 1, padding)])
    dense = [np.ones_like(conv[0])]
    fig, axes = plt.subplots(2, 2, figsize=(8, 4.8))
    for row, (mats, name, pos) in enumerate(
        [(conv, f"convolution, kernel width {kernel_size}", xs), (dense, "fully connected", None)]
    ):
        up = reach(mats, 0, unit)
        down = reach(mats, 1, unit)
        total = int(mats[0].sum())
        draw_graph(
            axes[row, 0],
            mats,
            xs=pos,
            on=up,
            title=f"{name} ({total} connections):\n$x_{{{unit + 1}}}$ affects {up[1].sum()} outputs",
        )
        draw_graph(
            axes[row, 1],
            mats,
            xs=pos,
            on=down,
            title=f"{name} ({total} connections):\n$s_{{{unit + 1}}}$ sees {down[0].sum()} inputs",
        )
    fig.tight_layout()
    return fig


def plot_receptive_cone(n: int, stacks: dict[str, Sequence[tuple[int, int, int]]], unit: int | None = None) -> plt.Figure:
    """Goodfellow's figure 9.4: the inputs a unit of a deep layer is affected by, one panel per
    stack of 1-D (F, S, P) layers. The count at the bottom equals cnn_core.receptive_field."""
    fig, axes = plt.subplots(1, len(stacks), figsize=(4.1 * len(stacks), 2.9), squeeze=False)
    for ax, (label, layers) in zip(axes[0], stacks.items()):
        mats, xs = _conv_stack(n, layers)
        top = len(mats[-1]) // 2 if unit is None else unit
        on = reach(mats, len(mats), top)
        r = receptive_field([(f, s) for f, s, _ in layers])
        draw_graph(
            ax,
            mats,
            xs=xs,
            on=on,
            names=("x", "h", "g"),
            title=f"{label}\nthe top unit sees {on[0].sum()} inputs (receptive field {r})",
        )
    fig.tight_layout()
    return fig


def plot_weight_sharing(n: int = 5, kernel_size: int = 3, padding: int = 1) -> plt.Figure:
    """Goodfellow's figure 9.5: every edge coloured by the parameter it uses. Convolution (top):
    kernel_size colours repeat along the row, the central weight's edges drawn bold. Fully
    connected (bottom): every edge has a parameter of its own; one of them drawn bold."""
    index = conv1d_weight_index(n, kernel_size, 1, padding)
    xs = _conv_stack(n, [(kernel_size, 1, padding)])[1]
    centre = kernel_size // 2
    colors = np.empty(index.shape, dtype=object)
    colors[index >= 0] = [TAP_COLORS[t % len(TAP_COLORS)] for t in index[index >= 0]]
    widths = np.where(index == centre, 3.0, 1.2)
    dense = dense_weight_index(n, index.shape[0])
    cmap = plt.get_cmap("turbo")
    dcolors = np.array([[cmap(v / (dense.size - 1)) for v in row] for row in dense], dtype=object)
    dwidths = np.where(dense == dense[index.shape[0] // 2, n // 2], 3.0, 1.0)
    fig, axes = plt.subplots(2, 1, figsize=(6.4, 4.8))
    uses = int((index == centre).sum())
    draw_graph(
        axes[0],
        [index >= 0],
        xs=xs,
        edge_colors=[colors],
        edge_widths=[widths],
        title=f"convolution: {kernel_size} parameters shared by {(index >= 0).sum()} connections\n"
        f"(bold: the central weight, used {uses} times)",
    )
    axes[0].legend(
        handles=[
            Line2D([], [], color=TAP_COLORS[t], lw=3 if t == centre else 1.5, label=f"weight {LETTERS[t]}")
            for t in range(kernel_size)
        ],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        fontsize=8,
        frameon=False,
    )
    draw_graph(
        axes[1],
        [dense >= 0],
        edge_colors=[dcolors],
        edge_widths=[dwidths],
        title=f"fully connected: {dense.size} parameters, each used once (bold: one of them)",
    )
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- 2-D grids and the matrix


def plot_grid_connections(
    input_size: int = 7,
    kernel_size: int = 3,
    stride: int = 1,
    padding: int = 0,
    out_pos: tuple[int, int] = (1, 1),
    in_pos: tuple[int, int] = (3, 3),
) -> plt.Figure:
    """2-D version read off one row and one column of the conv matrix: the input pixels output
    out_pos sees (its receptive field), and the outputs input pixel in_pos affects."""
    index = conv_weight_index((1, 1, kernel_size, kernel_size), (1, input_size, input_size), stride, padding)
    n2 = output_size(input_size, kernel_size, stride, padding)
    row = index[out_pos[0] * n2 + out_pos[1]].reshape(input_size, input_size) >= 0
    col = index[:, in_pos[0] * input_size + in_pos[1]].reshape(n2, n2) >= 0
    out_mark = np.zeros((n2, n2), bool)
    out_mark[out_pos] = True
    in_mark = np.zeros((input_size, input_size), bool)
    in_mark[in_pos] = True
    fig, axes = plt.subplots(1, 4, figsize=(8.4, 2.7), gridspec_kw={"width_ratios": [input_size, n2] * 2})
    zero_n, zero_o = np.zeros((input_size,) * 2), np.zeros((n2, n2))
    size = f"{input_size}×{input_size}"
    draw_grid(
        axes[0],
        zero_n,
        filled=row,
        show_values=False,
        color="#9ecae1",
        title=f"input {size}: the {row.sum()} pixels\noutput {out_pos} sees",
    )
    draw_grid(
        axes[1],
        zero_o,
        filled=out_mark,
        show_values=False,
        color=ON,
        title=f"output {n2}×{n2}\n(F={kernel_size}, S={stride}, P={padding})",
    )
    draw_grid(axes[2], zero_n, filled=in_mark, show_values=False, color=ON, title=f"input {size}: pixel {in_pos}")
    draw_grid(
        axes[3],
        zero_o,
        filled=col,
        show_values=False,
        color="#9ecae1",
        title=f"output {n2}×{n2}: the {col.sum()}\nunits pixel {in_pos} affects",
    )
    fig.tight_layout()
    return fig


def plot_conv_matrix(
    input_size: int = 5, kernel_size: int = 3, stride: int = 1, padding: int = 0, dense: bool = False
) -> plt.Figure:
    """The filter (weights named a, b, c, ...) and the matrix M of its convolution over a
    1 x N x N input, each entry coloured and lettered by the filter weight it holds (white: 0,
    no connection). With dense=True, a fully connected matrix of the same shape below it,
    where every entry is a parameter of its own."""
    f = kernel_size
    if f * f > len(LETTERS):
        raise ValueError(f"the picture names at most {len(LETTERS)} weights (F <= 5), got F={f}")
    index = conv_weight_index((1, 1, f, f), (1, input_size, input_size), stride, padding)
    n_out, n_in = index.shape
    colors = [TAP_COLORS[t % len(TAP_COLORS)] for t in range(f * f)]
    cmap = ListedColormap(["white"] + colors)
    rows = 2 if dense else 1
    fig, axes = plt.subplots(
        rows,
        2,
        figsize=(8.5, 2.2 + 0.12 * n_out * rows + (1.2 if dense else 0)),
        gridspec_kw={"width_ratios": [1.2, max(n_in / 6, 3)]},
        squeeze=False,
    )
    ax = axes[0, 0]
    ax.imshow(np.arange(1, f * f + 1).reshape(f, f), cmap=cmap, vmin=0, vmax=f * f)
    for t in range(f * f):
        ax.text(t % f, t // f, LETTERS[t], ha="center", va="center", color="white", fontsize=12, weight="bold")
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(f"filter {f}×{f}\n({f * f} weights)", fontsize=10)
    ax = axes[0, 1]
    ax.imshow(index + 1, cmap=cmap, vmin=0, vmax=f * f, aspect="equal", interpolation="nearest")
    if n_in <= 25:  # letters while they stay readable (and cheap)
        for o, i in zip(*np.nonzero(index >= 0)):
            ax.text(i, o, LETTERS[index[o, i]], ha="center", va="center", color="white", fontsize=8)
    for c in range(0, n_in + 1, input_size):  # one block of columns per input row
        ax.axvline(c - 0.5, color="black", lw=0.6)
    n2 = output_size(input_size, f, stride, padding)
    for c in range(0, n_out + 1, n2):  # one block of rows per output row
        ax.axhline(c - 0.5, color="black", lw=0.6)
    # one tick per block: columns y*N .. y*N + N-1 are input row y, rows r*N2 .. are output row r
    ax.set_xticks(
        [y * input_size + (input_size - 1) / 2 for y in range(input_size)], [f"y={y}" for y in range(input_size)], fontsize=7
    )
    ax.set_yticks([r * n2 + (n2 - 1) / 2 for r in range(n2)], [f"r={r}" for r in range(n2)], fontsize=7)
    ax.set_xlabel(f"input pixels, row by row: {input_size}×{input_size} = {n_in} columns")
    ax.set_ylabel(f"outputs: {n2}×{n2} = {n_out} rows")
    nnz = int((index >= 0).sum())
    ax.set_title(
        f"convolution as a {n_out}×{n_in} matrix (S={stride}, P={padding}): "
        f"{nnz} nonzeros, {len(np.unique(index[index >= 0]))} distinct weights",
        fontsize=10,
    )
    if dense:
        axes[1, 0].axis("off")
        ax = axes[1, 1]
        number = dense_weight_index(n_in, n_out)
        # pale colours in a scrambled order (neighbours differ), and each entry numbered
        shade = np.random.default_rng(0).permutation(number.size).reshape(number.shape)
        ax.imshow(shade, cmap="Pastel1", aspect="equal", interpolation="nearest")
        if number.size <= 400:  # numbers while they stay readable
            for o, i in np.ndindex(number.shape):
                ax.text(i, o, str(number[o, i] + 1), ha="center", va="center", fontsize=5.5)
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_xlabel(f"input pixel: {n_in} columns")
        ax.set_ylabel(f"output: {n_out} rows")
        ax.set_title(
            f"fully connected {n_out}×{n_in} matrix: {n_out * n_in} entries, "
            f"{n_out * n_in} distinct weights (numbered 1 to {n_out * n_in})",
            fontsize=10,
        )
    fig.tight_layout()
    return fig


def plot_matrix_pattern(index: np.ndarray, input_shape: Sequence[int], zoom: tuple[int, int] = (56, 256)) -> plt.Figure:
    """Where the nonzeros of a big convolution matrix are (from conv_weight_index): the whole
    matrix, one block of columns per input channel, and its top-left corner zoomed in."""
    d, h, w = input_shape
    n_out, n_in = index.shape
    on = index >= 0
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.0), gridspec_kw={"width_ratios": [2.2, 1]})
    axes[0].imshow(on, cmap="Greys", aspect="auto", interpolation="antialiased")
    for ch in range(1, d):
        axes[0].axvline(ch * h * w - 0.5, color="#d62728", lw=1)
    for ch in range(d):
        axes[0].text(
            (ch + 0.5) * h * w, n_out * 0.97, f"input channel {ch}", ha="center", va="bottom", color="#d62728", fontsize=8
        )
    axes[0].set_xlabel(f"input: D·H·W = {d}·{h}·{w} = {n_in} columns")
    axes[0].set_ylabel(f"output: {n_out} rows")
    axes[0].set_title(f"{n_out}×{n_in} = {on.size:,} entries, {int(on.sum()):,} nonzero ({100 * on.mean():.1f}%)", fontsize=10)
    zr, zc = zoom
    axes[1].imshow(on[:zr, :zc], cmap="Greys", aspect="auto", interpolation="nearest")
    axes[1].set_xlabel(f"first {zc} input columns (channel 0, rows 0-{(zc - 1) // w})")
    axes[1].set_ylabel(f"first {zr} outputs")
    axes[1].set_title("top-left corner: one stripe per filter row", fontsize=10)
    fig.tight_layout()
    return fig


MATRIX_CONTROLS = {"input_size": [4, 5, 6], "stride": [1, 2], "padding": [0, 1]}


def render_conv_matrix(input_size: int, stride: int, padding: int) -> plt.Figure:
    """Explorer view: the matrix of a 3x3 filter over an N x N input."""
    return plot_conv_matrix(input_size, 3, stride, padding)


def describe_conv_matrix(input_size: int, stride: int, padding: int) -> str:
    try:
        n2 = output_size(input_size, 3, stride, padding)
    except ValueError:
        return f"{input_size}×{input_size} input, 3×3 filter, stride {stride}, padding {padding}: does not fit"
    return (
        f"Matrix of a 3×3 filter over a {input_size}×{input_size} input, stride {stride}, padding {padding}: "
        f"{n2 * n2} rows (outputs) × {input_size**2} columns (input pixels), entries coloured by filter weight"
    )


# ---------------------------------------------------------------- receptive fields on a photo


def draw_receptive_field(
    ax: plt.Axes, image: np.ndarray, layers: Sequence[Sequence[int]], pixel: tuple[int, int], title: str = "", zoom: bool = False
) -> tuple[int, int, int]:
    """The photo with the receptive field of the unit looking at `pixel` after each layer of the
    stack (nested squares, one colour per depth; outside the final one dimmed). zoom=True
    crops to the final square. Returns the final (top, left, size)."""
    h, w = image.shape[:2]
    boxes = []
    for depth in range(1, len(layers) + 1):
        sub = layers[:depth]
        boxes.append(receptive_field_box(sub, unit_at(sub, (h, w), pixel)))
    top, left, size = boxes[-1]
    rgb = np.asarray(image, dtype=float) / (255.0 if np.asarray(image).dtype == np.uint8 else 1.0)
    rgb = np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb
    dim = np.full((h, w, 1), 0.45)  # outside the final square: dimmed
    dim[max(top, 0) : max(top + size, 0), max(left, 0) : max(left + size, 0)] = 1.0
    ax.imshow(rgb * dim, interpolation="nearest" if zoom else "antialiased")
    colors = plt.get_cmap("autumn")(np.linspace(0, 0.85, len(boxes)))
    for depth, ((t, l, s), col) in enumerate(zip(boxes, colors), start=1):
        ax.add_patch(
            Rectangle((l - 0.5, t - 0.5), s, s, fill=False, edgecolor=col, lw=1.6, label=f"after layer {depth}: {s}×{s}")
        )
    if zoom:
        pad_ = max(size // 4, 3)
        ax.set_xlim(max(left - pad_, 0) - 0.5, min(left + size + pad_, w) - 0.5)
        ax.set_ylim(min(top + size + pad_, h) - 0.5, max(top - pad_, 0) - 0.5)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    return boxes[-1]


def plot_receptive_fields(image: np.ndarray, stacks: dict[str, Sequence[Sequence[int]]], pixel: tuple[int, int]) -> plt.Figure:
    """One panel per stack of (F, S[, P]) layers: the receptive fields after every layer of
    the unit that looks at `pixel`, with a zoomed view below."""
    fig, axes = plt.subplots(
        2, len(stacks), figsize=(4.0 * len(stacks), 6.4), squeeze=False, gridspec_kw={"height_ratios": [1, 1]}
    )
    h, w = image.shape[:2]
    for j, (label, layers) in enumerate(stacks.items()):
        r = receptive_field([tuple(l)[:2] for l in layers])
        draw_receptive_field(axes[0, j], image, layers, pixel, title=f"{label}\ninput {h}×{w}, receptive field {r}×{r}")
        draw_receptive_field(axes[1, j], image, layers, pixel, title="zoomed in", zoom=True)
        axes[1, j].legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=8.5, frameon=False, ncol=2)
    fig.tight_layout()
    return fig


CAT_CROP = (slice(21, 278), slice(33, 418))  # 257 x 385: odd sizes fit stride-2 "same" convs 6 times
CAT_EYE = (100, 128)  # the rim of the cat's left eye, in crop coordinates
RF_CONTROLS = {"depth": [1, 2, 3, 4, 5], "kernel_size": [3, 5, 7], "stride": [1, 2]}


def _rf_layers(depth: int, kernel_size: int, stride: int) -> list[tuple[int, int, int]]:
    return [(kernel_size, stride, (kernel_size - 1) // 2)] * depth


def render_receptive_field(depth: int, kernel_size: int, stride: int) -> plt.Figure:
    """Explorer view: `depth` conv layers, each F x F with stride S and padding (F-1)/2, on the
    cat; the receptive field of the unit looking at its eye, whole image and zoomed."""
    image = cat(gray=True)[CAT_CROP]
    layers = _rf_layers(depth, kernel_size, stride)
    h, w = image.shape[:2]
    out_h, out_w = layer_output_sizes(layers, (h, w))[-1]
    r = receptive_field([(f, s) for f, s, _ in layers])
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.9), gridspec_kw={"width_ratios": [1.5, 1]})
    fig.subplots_adjust(left=0.01, right=0.74, bottom=0.02, top=0.84, wspace=0.05)
    draw_receptive_field(axes[0], image, layers, CAT_EYE, title=f"input {h}×{w} (the unit looks at the eye)")
    draw_receptive_field(axes[1], image, layers, CAT_EYE, title="zoomed in", zoom=True)
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9.5, frameon=False)
    f = kernel_size
    fig.suptitle(
        f"{depth} × conv {f}×{f}, stride {stride}, pad {(f - 1) // 2} → output {out_h}×{out_w}: receptive field {r}×{r}",
        fontsize=12,
    )
    return fig


def describe_receptive_field(depth: int, kernel_size: int, stride: int) -> str:
    r = receptive_field([(kernel_size, stride)] * depth)
    f = kernel_size
    return (
        f"{depth} layer{'s' if depth > 1 else ''} of {f}×{f} convolutions, stride {stride}, padding {(f - 1) // 2}: "
        f"one output unit sees a {r}×{r} square of the cat photo (257×385)"
    )


# ---------------------------------------------------------------- filters, equivariance, counts


def plot_filter_response(image: np.ndarray, kernel: np.ndarray, response: np.ndarray, name: str = "edge filter") -> plt.Figure:
    """Input photo, the filter (numbers shown; (F, F) or (F, F, D) as in cnn_core.filters, the
    first channel drawn), and |response| (bright = the filter fires)."""
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.9), gridspec_kw={"width_ratios": [3, 1.1, 3]})
    axes[0].imshow(image, cmap="gray" if image.ndim == 2 else None)
    axes[0].set_title(f"input {image.shape[0]}×{image.shape[1]}" + (f"×{image.shape[2]}" if image.ndim == 3 else ""), fontsize=10)
    k2 = kernel if kernel.ndim == 2 else kernel[..., 0]
    draw_grid(
        axes[1],
        k2,
        show_values=True,
        color="#f7d4d4",
        title=f"{name}\n{k2.shape[0]}×{k2.shape[1]}" + (f"×{kernel.shape[2]}" if kernel.ndim == 3 else ""),
    )
    # scaled to the 99th percentile: with the strongest edge as white, nearly all of the map was black
    top = float(np.percentile(np.abs(response), 99)) or None
    axes[2].imshow(np.abs(response), cmap="magma", vmin=0, vmax=top)
    axes[2].set_title(f"|output| {response.shape[0]}×{response.shape[1]}:\none filter, every location", fontsize=10)
    for ax in (axes[0], axes[2]):
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_conv_vs_matrix(image: np.ndarray, out_conv: np.ndarray, out_matrix: np.ndarray) -> plt.Figure:
    """An input picture, the output of the convolution layer, the output of its matrix M @ x + b,
    and their difference (all labelled with sizes)."""
    fig, axes = plt.subplots(1, 4, figsize=(8.6, 2.6))
    axes[0].imshow(image)
    axes[0].set_title(f"input {image.shape[0]}×{image.shape[1]}×{image.shape[2]}", fontsize=10)
    lim = np.abs(out_conv).max()
    diff = out_matrix - out_conv
    panels = [
        (out_conv, "Conv2D layer output"),
        (out_matrix, "M @ x + b (fully connected)"),
        (diff, f"difference: max {np.abs(diff).max():.1g}"),
    ]
    for ax, (img, title) in zip(axes[1:], panels):
        ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"{title}\n{img.shape[0]}×{img.shape[1]}", fontsize=10)
    for ax in axes:
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_equivariance(
    image: np.ndarray, layers: dict[str, Callable[[np.ndarray], np.ndarray]], dy: int, dx: int, margin: int
) -> plt.Figure:
    """Per layer (one row): layer(x), layer(shift(x)), shift(layer(x)) and their difference,
    with the border strip of width `margin` outlined; the title gives the largest |difference|
    inside it."""
    fig, axes = plt.subplots(len(layers), 4, figsize=(9.5, 2.1 * len(layers)), squeeze=False)
    for row, (name, layer) in enumerate(layers.items()):
        gap, inner = equivariance_gap(layer, image, dy, dx, margin)
        a, b, c = layer(image), layer(shift(image, dy, dx)), shift(layer(image), dy, dx)
        lim = np.percentile(np.abs(a), 99)  # saturate the strongest 1%: edges stay visible
        titles = [f"{name}(x)", f"{name}(shift(x))", f"shift({name}(x))", f"difference: max {inner:.2g} inside"]
        for ax, img, t in zip(axes[row], [a, b, c, gap], titles):
            ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(t, fontsize=10)
            ax.set_xticks([]), ax.set_yticks([])
        hh, ww = gap.shape
        axes[row, 3].add_patch(
            Rectangle(
                (margin - 0.5, margin - 0.5), ww - 2 * margin, hh - 2 * margin, fill=False, edgecolor="black", lw=1, ls="--"
            )
        )
    fig.suptitle(
        f"shift = {dy} px down, {dx} px right; outputs {a.shape[0]}×{a.shape[1]}; dashed: {margin} px from the border",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def _short_number(v: float, _pos=None) -> str:
    """1, 10, 100, 1k, 10k, ..., 1M, 1G, 1T: tick labels for a log axis of counts."""
    for div, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:g}{unit}"
    return f"{v:g}"


PARAM_CONTROLS = {"image_size": [32, 64, 224], "depth": [3, 64], "kernel_size": [3, 5], "filters": [1, 10]}


def render_param_counts(image_size: int, depth: int, kernel_size: int, filters: int) -> plt.Figure:
    """Explorer view: weights (no biases) of a fully connected, a locally connected and a
    convolution layer from the same N x N x D input to the same output, log scale."""
    counts = param_counts(image_size, depth, kernel_size, filters)
    n2 = output_size(image_size, kernel_size)
    fig, ax = plt.subplots(figsize=(7.4, 2.4))
    names = list(counts)[::-1]
    vals = [counts[n] for n in names]
    ax.barh(names, vals, color=["#2ca02c", "#ff7f0e", "#1f77b4"])
    ax.set_xscale("log")
    ax.set_xlim(1, 10 ** (np.log10(max(vals)) + 1.2))
    ax.xaxis.set_major_locator(LogLocator(base=10, numticks=12))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(_short_number))  # plain text: no mathtext, faster
    top = np.log10(ax.get_xlim()[1])
    for y, v in enumerate(vals):
        inside = np.log10(v) > 0.55 * top  # long bar: write the number inside it
        ax.text(
            v / 1.3 if inside else v * 1.3,
            y,
            f"{v:,}",
            va="center",
            ha="right" if inside else "left",
            fontsize=9,
            color="white" if inside else "black",
            weight="bold" if inside else "normal",
        )
    ax.set_xlabel("number of weights (log scale, biases ignored)")
    ax.set_title(
        f"input {image_size}×{image_size}×{depth} → output {n2}×{n2}×{filters} "
        f"({filters} filter{'s' if filters > 1 else ''} {kernel_size}×{kernel_size}×{depth}, "
        f"stride 1, no padding)",
        fontsize=10,
    )
    fig.subplots_adjust(left=0.2, right=0.97, bottom=0.22, top=0.86)
    return fig


def describe_param_counts(image_size: int, depth: int, kernel_size: int, filters: int) -> str:
    c = param_counts(image_size, depth, kernel_size, filters)
    return (
        f"{image_size}×{image_size}×{depth} input, {filters} filter(s) {kernel_size}×{kernel_size}: "
        f"fully connected {c['fully connected']:,}, locally connected {c['locally connected']:,}, "
        f"convolution {c['convolution']:,} weights "
        f"({c['fully connected'] / c['convolution']:,.0f} times fewer)"
    )
