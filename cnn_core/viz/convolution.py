"""Figures for the convolution-layer chapter: the 3-D volume, activation maps,
hand-made filters on real photos, cross-correlation vs convolution, and the
kernel explorer (``render`` + ``controls``, live ``kernel_playground``).

Every figure is computed with cnn_core (``apply_filter`` -> ``conv2d_forward``);
nothing here convolves on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle

from .. import data
from ..filters import KERNELS, apply_filter, convolve, flip, is_signed, kernel
from ..transforms import resize_to, to_unit
from .readability import COLUMN_WIDTH_IN, column_figure, readable
from .sliding import draw_grid

FILTER_COLORS = ("tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:pink")
EXPLORER_PHOTOS = ("chelsea", "camera", "brick")
EXPLORER_KERNELS = (
    "identity",
    "box blur",
    "Gaussian blur",
    "sharpen",
    "vertical edge (Sobel)",
    "horizontal edge (Sobel)",
    "Laplacian (outline)",
    "emboss",
)
#: The explorer's controls: every named kernel on every photo (8 x 3 = 24 pictures).
controls = {"kernel": list(EXPLORER_KERNELS), "photo": list(EXPLORER_PHOTOS)}


# ---------------------------------------------------------------- images


def thumbnail(img: np.ndarray, size: int = 32) -> np.ndarray:
    """Centre-crop to a square and resize to size x size (anti-aliased), float in [0, 1].

    thumbnail(data.cat()) is the lecture's "32x32x3 image": shape (32, 32, 3).
    """
    img = to_unit(img)
    h, w = img.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return resize_to(img[top : top + s, left : left + s], (size, size))


@lru_cache(maxsize=None)
def small_photo(name: str, max_side: int = 144, gray: bool = True) -> np.ndarray:
    """A bundled photo, float in [0, 1], grey (H, W) or colour (H, W, 3), shrunk
    (anti-aliased) so that its longer side is max_side pixels. Read-only (cached)."""
    img = to_unit(data.photo(name, gray=gray))
    scale = max_side / max(img.shape[:2])
    out = resize_to(img, (round(img.shape[0] * scale), round(img.shape[1] * scale)))
    out.setflags(write=False)
    return out


def _off(ax: plt.Axes) -> None:
    """Hide an axes' frame and ticks (no ticks at all: much faster to draw than axis("off") alone)."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.axis("off")


def show_map(ax: plt.Axes, m: np.ndarray, signed: bool, title: str) -> None:
    """An activation map in grey: signed maps centred on 0 (mid-grey = 0, white > 0,
    black < 0), others clipped to [0, 1] like the photo."""
    if signed:
        lim = float(np.percentile(np.abs(m), 99.5)) or 1.0
        ax.imshow(m, cmap="gray", vmin=-lim, vmax=lim)
    else:
        ax.imshow(m, cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    _off(ax)


def filter_rgb(w: np.ndarray) -> np.ndarray:
    """An (F, F, 3) filter as a picture: 0.5 + 0.5 * w / max|w| (grey = 0)."""
    m = float(np.abs(w).max()) or 1.0
    return np.clip(0.5 + 0.5 * w / m, 0, 1)


# ---------------------------------------------------------------- the 3-D volume


_OBLIQUE = np.array([0.55, 0.42])  # screen shift per unit of depth (cabinet projection)


def _box(ax, x0, y0, w, h, depth, color, lw=1.6, z=5, fill=None):
    """Outline of a w x h x depth box whose front face has its lower left corner at (x0, y0)."""
    dx, dy = depth * _OBLIQUE
    front = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]
    back = [(x + dx, y + dy) for x, y in front]
    if fill is not None:
        ax.add_patch(Polygon([front[3], front[2], back[2], back[3]], closed=True, facecolor=fill, zorder=z - 1))
        ax.add_patch(Polygon([front[1], front[2], back[2], back[1]], closed=True, facecolor=fill, zorder=z - 1))
    ax.add_patch(Polygon(front, closed=True, fill=False, edgecolor=color, lw=lw, zorder=z))
    ax.add_patch(Polygon(back, closed=True, fill=False, edgecolor=color, lw=lw, zorder=z, ls="--"))
    for (xf, yf), (xb, yb) in zip(front, back):
        ax.plot([xf, xb], [yf, yb], color=color, lw=lw, zorder=z)


def volume_figure(image: np.ndarray, filters: np.ndarray, position: tuple[int, int] = (10, 12), bias: float = 0.0) -> plt.Figure:
    """The lecture's picture, computed: an H x W x 3 image kept as a 3-D volume (its
    R, G, B planes one behind the other), K filters F x F x 3 spanning its full depth,
    and the K activation maps (H-F+1) x (W-F+1) they give, stacked into a volume.

    image: (H, W, 3) in [0, 1]; filters: (F, F, 3) or (K, F, F, 3). The first filter's
    window is drawn at output ``position`` (row, col), and its value
    out[r, c] = sum(w * image[r:r+F, c:c+F, :]) + b is written out.
    """
    bank = filters[None] if filters.ndim == 3 else filters
    k, f, _, d = bank.shape
    h, w = image.shape[:2]
    maps = apply_filter(image, bank, bias=bias)  # (H2, W2, K)
    h2, w2 = maps.shape[:2]
    r, c = position
    gap = 5.0  # drawn depth per channel
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 3.6))
    # the photo, then the same numbers as a volume of d planes (back plane drawn first)
    ax.imshow(image, extent=(0, w, 0, h), interpolation="nearest")
    ax.text(w / 2, -2, f"the image\n{w}×{h}×{d}", ha="center", va="top")
    ax.text(w + 4, h / 2, "=", fontsize=20, ha="center", va="center")
    x_in = w + 8
    for ch in reversed(range(d)):
        ox, oy = x_in + ch * gap * _OBLIQUE[0], ch * gap * _OBLIQUE[1]
        plane = np.zeros_like(image)
        plane[..., ch] = image[..., ch]
        ax.imshow(plane, extent=(ox, ox + w, oy, oy + h), zorder=1 + d - ch, interpolation="nearest")
        ax.add_patch(Rectangle((ox, oy), w, h, fill=False, edgecolor="#444444", lw=0.8, zorder=1 + d - ch))
        ax.text(ox - 0.3, oy + h + 0.4, "RGB"[ch] if d == 3 else str(ch), ha="right", color="#444444", zorder=10)
    _box(ax, x_in, 0, w, h, (d - 1) * gap, "#444444", lw=0.8, z=1)
    ax.text(x_in + w / 2, -2, f"input volume\n{w}×{h}×{d}\n(width × height\n× depth)", ha="center", va="top")
    # the window of filter 0 at (r, c): spans every channel
    _box(ax, x_in + c, h - r - f, f, f, (d - 1) * gap, FILTER_COLORS[0], lw=2.2, z=20)
    # output volume: K activation maps
    x_out, map_gap, oy0 = x_in + w + (d - 1) * gap * _OBLIQUE[0] + 14, min(8.0, 18.0 / k), (h - h2) / 2
    for j in reversed(range(k)):
        ox, oy = x_out + j * map_gap * _OBLIQUE[0], oy0 + j * map_gap * _OBLIQUE[1]
        m = maps[..., j]
        lim = float(np.abs(m).max()) or 1.0
        ax.imshow(
            m, cmap="gray", vmin=-lim, vmax=lim, extent=(ox, ox + w2, oy, oy + h2), zorder=2 + k - j, interpolation="nearest"
        )
        ax.add_patch(
            Rectangle((ox, oy), w2, h2, fill=False, edgecolor=FILTER_COLORS[j % len(FILTER_COLORS)], lw=2, zorder=2 + k - j)
        )
    cell = (x_out + c, oy0 + h2 - r - 1)
    ax.add_patch(Rectangle(cell, 1, 1, facecolor=FILTER_COLORS[0], edgecolor="white", lw=0.8, zorder=30))
    ax.add_patch(
        FancyArrowPatch(
            (x_in + c + f, h - r - f / 2),
            (cell[0], cell[1] + 0.5),
            arrowstyle="-|>",
            mutation_scale=14,
            color=FILTER_COLORS[0],
            lw=1.5,
            zorder=31,
            connectionstyle="arc3,rad=-0.25",
        )
    )
    what = "activation\nmap" if k == 1 else f"{k} activation\nmaps, stacked"
    ax.text(x_out + w2 / 2, -2, f"{what}\n{w2}×{h2}×{k}", ha="center", va="top")
    # the filters themselves, drawn 1.6x larger, above
    s, fy = 1.6, h + 7
    for j in range(k):
        fx = x_in + j * (s * f + 7)
        ax.imshow(filter_rgb(bank[j]), extent=(fx, fx + s * f, fy, fy + s * f), interpolation="nearest", zorder=3)
        _box(ax, fx, fy, s * f, s * f, (d - 1) * gap * 0.5, FILTER_COLORS[j % len(FILTER_COLORS)], lw=1.4, z=4)
    label = f"filter\n{f}×{f}×{d}" if k == 1 else f"{k} filters,\neach {f}×{f}×{d}"
    ax.text(x_in - 2, fy + s * f / 2, label, ha="right", va="center")
    value = float(np.sum(bank[0] * image[r : r + f, c : c + f, :]) + bias)
    which = "" if k == 1 else " of filter 1 (blue)"
    ax.set_title(
        f"one number at ({r}, {c}){which}: $w^T x + b$ = {value:.3f},\na {f}·{f}·{d} = {f * f * d}-dimensional dot product + bias"
    )
    ax.set_xlim(-1, x_out + w2 + (k - 1) * map_gap * _OBLIQUE[0] + 2)
    ax.set_ylim(-7, fy + s * f + (d - 1) * gap * 0.5 * _OBLIQUE[1] + 1)
    ax.set_aspect("equal")
    _off(ax)
    return readable(fig)


def activation_maps_figure(image: np.ndarray, filters: dict[str, np.ndarray]) -> plt.Figure:
    """Top row: each F x F x D filter (as colours, grey = 0); bottom row: its activation
    map on ``image`` (mid-grey = 0). One map per filter."""
    names = list(filters)
    per_row = 3
    bands = -(-len(names) // per_row)
    fig, axes = column_figure(
        2 * bands, per_row, height=4.4 * bands, squeeze=False, gridspec_kw={"height_ratios": [1, 1.3] * bands}
    )
    for j, name in enumerate(names):
        w = filters[name]
        m = apply_filter(image, w)
        band, col = divmod(j, per_row)
        top, bottom = axes[2 * band, col], axes[2 * band + 1, col]
        top.imshow(filter_rgb(w), interpolation="nearest")
        top.set_title(f"filter {j + 1}:\n{name}\n{'×'.join(map(str, w.shape))}", color=FILTER_COLORS[j % len(FILTER_COLORS)])
        _off(top)
        show_map(bottom, m, is_signed(w), f"map {j + 1}: {m.shape[0]}×{m.shape[1]}")
    for ax in axes.ravel()[2 * len(names) :]:
        _off(ax)
    for j in range(len(names), bands * per_row):
        band, col = divmod(j, per_row)
        _off(axes[2 * band, col])
        _off(axes[2 * band + 1, col])
    return readable(fig)


# ---------------------------------------------------------------- hand-made filters on a photo


def filter_figure(img: np.ndarray, w: np.ndarray, name: str = "your kernel", photo_title: str = "photo") -> plt.Figure:
    """Input photo | kernel (numbers) | its activation map, computed with apply_filter."""
    m = apply_filter(img, w)
    fig, axes = plt.subplot_mosaic(
        [["input", "filter"], ["output", "."]],
        figsize=(COLUMN_WIDTH_IN, 4.6),
        layout="constrained",
        gridspec_kw={"width_ratios": [1.5, 1]},
    )
    axes["input"].imshow(img, cmap="gray", vmin=0, vmax=1)
    axes["input"].set_title(f"input: {photo_title}\n{img.shape[0]}×{img.shape[1]}")
    _off(axes["input"])
    draw_grid(axes["filter"], np.round(w, 2), color="#f7d4d4", title=f"filter {w.shape[0]}×{w.shape[1]}:\n{name}")
    _off(axes["filter"])
    signed = is_signed(w)
    show_map(axes["output"], m, signed, f"output {m.shape[0]}×{m.shape[1]}" + ("\n(grey = 0)" if signed else ""))
    return readable(fig)


def render(kernel: str, photo: str) -> plt.Figure:
    """The explorer's picture: named kernel on the grey, shrunk photo."""
    return filter_figure(small_photo(photo), KERNELS[kernel], kernel, photo)


def describe(kernel: str, photo: str) -> str:
    """Caption / alt text of render(kernel, photo)."""
    w = KERNELS[kernel]
    img = small_photo(photo)
    f = w.shape[0]
    sign = (
        "the weights sum to 0, so flat regions give 0 (mid-grey) and edges give white or black"
        if is_signed(w)
        else f"the weights sum to {w.sum():g}"
    )
    return (
        f"The {f}×{f} {kernel} filter slid over the grey {photo} photo ({img.shape[0]}×{img.shape[1]}) "
        f"gives a {img.shape[0] - f + 1}×{img.shape[1] - f + 1} activation map; {sign}."
    )


def filters_grid_figure(img: np.ndarray, names: Sequence[str], ncols: int = 2) -> plt.Figure:
    """The photo and the activation map of each named kernel, in a grid."""
    n = len(names) + 1
    nrows = -(-n // ncols)
    fig, axes = column_figure(nrows, ncols, height=2.2 * nrows, squeeze=False)
    axes = axes.ravel()
    axes[0].imshow(img, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title(f"input {img.shape[0]}×{img.shape[1]}")
    _off(axes[0])
    for ax, name in zip(axes[1:], names):
        w = KERNELS[name]
        out = apply_filter(img, w)
        show_map(ax, out, is_signed(w), f"{name}\n{w.shape[0]}×{w.shape[1]} filter → {out.shape[0]}×{out.shape[1]}")
    for ax in axes[n:]:
        _off(ax)
    return readable(fig)


def depth_modes_figure(img: np.ndarray, w: np.ndarray) -> plt.Figure:
    """A colour photo, the 2-D kernel w applied to each channel separately (a colour
    result, D maps), and the F x F x D filter w/D on every channel (one map).

    The second is what a convolution layer does: its filters span the full depth.
    """
    img = to_unit(img)
    d = img.shape[2]
    per_channel = apply_filter(img, w)  # (H2, W2, D)
    full = apply_filter(img, np.repeat(w[:, :, None], d, axis=2) / d)  # (H2, W2)
    fig, axes = column_figure(2, 2, height=4.6)
    axes = axes.ravel()
    _off(axes[3])
    axes[0].imshow(img)
    axes[0].set_title(f"input {img.shape[0]}×{img.shape[1]}×{d}")
    _off(axes[0])
    shown = np.clip(0.5 + per_channel / (2 * np.abs(per_channel).max()), 0, 1) if is_signed(w) else np.clip(per_channel, 0, 1)
    axes[1].imshow(shown)
    axes[1].set_title(f"per channel: {w.shape[0]}×{w.shape[1]}\non R, G, B → {'×'.join(map(str, per_channel.shape))}")
    _off(axes[1])
    show_map(
        axes[2], full, is_signed(w), f"full depth: one {w.shape[0]}×{w.shape[1]}×{d}\nfilter → {full.shape[0]}×{full.shape[1]}×1"
    )
    return readable(fig)


def edges_figure(img: np.ndarray, name: str = "Sobel") -> plt.Figure:
    """Why filtering is useful: a grey photo, its vertical- and horizontal-edge maps,
    and the edge strength sqrt(v^2 + h^2) (dark = strong edge), in a 2 x 2 grid."""
    v = apply_filter(img, KERNELS[f"vertical edge ({name})"])
    hz = apply_filter(img, KERNELS[f"horizontal edge ({name})"])
    strength = np.hypot(v, hz)
    fig, axes = column_figure(2, 2, height=4.6)
    axes = axes.ravel()
    axes[0].imshow(img, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title(f"input {img.shape[0]}×{img.shape[1]}")
    _off(axes[0])
    show_map(axes[1], v, True, f"vertical edges ({name})\n{v.shape[0]}×{v.shape[1]}")
    show_map(axes[2], hz, True, f"horizontal edges ({name})\n{hz.shape[0]}×{hz.shape[1]}")
    axes[3].imshow(strength, cmap="gray_r", vmin=0, vmax=float(np.percentile(strength, 99)))
    axes[3].set_title("edge strength √(v² + h²)")
    _off(axes[3])
    return readable(fig)


# ---------------------------------------------------------------- convolution vs cross-correlation


def _text_grid(ax: plt.Axes, texts: Sequence[Sequence[str]], title: str, color: str, fontsize: int = 10) -> None:
    """A grid of labelled squares holding text (symbols rather than numbers)."""
    rows, cols = len(texts), len(texts[0])
    for r, row in enumerate(texts):
        for c, t in enumerate(row):
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=color, edgecolor="#555555", lw=0.8))
            ax.text(c + 0.5, r + 0.5, t, ha="center", va="center", fontsize=fontsize)
    ax.set_xlim(-0.05, cols + 0.05)
    ax.set_ylim(rows + 0.05, -0.05)
    ax.set_aspect("equal")
    _off(ax)
    ax.set_title(title, fontsize=10)


def symbolic_conv_figure(h: int = 3, w: int = 4, f: int = 2) -> plt.Figure:
    """2-D convolution in symbols (after Goodfellow et al., Fig. 9.1): input letters,
    kernel letters, and each output as the sum of products of its window."""
    letters = "abcdefghijklmnopqrstuv"
    kletters = "wxyzpqrs"
    if h * w > len(letters) or f * f > len(kletters) or f > min(h, w):
        raise ValueError(f"symbolic picture supports h*w <= {len(letters)}, F*F <= {len(kletters)}, F <= min(h, w)")
    x = [[letters[r * w + c] for c in range(w)] for r in range(h)]
    k = [[kletters[i * f + j] for j in range(f)] for i in range(f)]
    h2, w2 = h - f + 1, w - f + 1
    out = [["+".join(f"{x[r + i][c + j]}{k[i][j]}" for i in range(f) for j in range(f)) for c in range(w2)] for r in range(h2)]
    fig, axes = plt.subplot_mosaic(
        [["input", "filter"], ["output", "output"]],
        figsize=(COLUMN_WIDTH_IN, 4.4),
        layout="constrained",
        gridspec_kw={"width_ratios": [w, f + 1]},
    )
    _text_grid(axes["input"], x, f"input {h}×{w}", "#dbe9f6", 13)
    _text_grid(axes["filter"], k, f"filter {f}×{f}", "#f7d4d4", 13)
    _text_grid(axes["output"], out, f"output {h2}×{w2}", "#fde0c5", 11)
    axes["output"].set_xlim(-0.05, w2 + 0.05)
    axes["output"].set_aspect(1 / 2.2)
    axes["input"].add_patch(Rectangle((0, 0), f, f, fill=False, edgecolor="#d62728", lw=2.5))
    axes["output"].add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor="#d62728", lw=2.5))
    return readable(fig)


def correlation_vs_convolution_figure(x: np.ndarray, w: np.ndarray) -> plt.Figure:
    """Input | filter w | flipped filter | cross-correlation with w (what CNNs compute) |
    true convolution with w (= cross-correlation with the flipped filter). Numbers shown."""
    corr = apply_filter(x, w)
    conv = convolve(x, w)
    fig, axes = plt.subplot_mosaic(
        [["input", "w", "flipped"], ["input", "corr", "conv"]], figsize=(COLUMN_WIDTH_IN, 4.8), layout="constrained"
    )
    draw_grid(axes["input"], x, title=f"input {x.shape[0]}×{x.shape[1]}")
    draw_grid(axes["w"], w, color="#f7d4d4", title=f"filter w {w.shape[0]}×{w.shape[1]}")
    draw_grid(axes["flipped"], flip(w), color="#e8d4f7", title="w flipped\n(rotated 180°)")
    draw_grid(axes["corr"], corr, color="#fde0c5", title='cross-correlation\n(CNN "convolution")')
    draw_grid(axes["conv"], conv, color="#d9f2d0", title="true convolution\n(= correlation\nwith flipped w)")
    return readable(fig)


# ---------------------------------------------------------------- live kernel editor


def kernel_playground(photos: Sequence[str] = EXPLORER_PHOTOS, start: str = "vertical edge (Sobel)"):
    """ipywidgets: pick a named kernel (fills a 3x3 grid of numbers), edit any number,
    pick a photo, and see the activation map (needs a running kernel)."""
    import ipywidgets as wd
    from IPython.display import display

    preset = wd.Dropdown(options=list(KERNELS), value=start, description="kernel")
    photo = wd.Dropdown(options=list(photos), value=photos[0], description="photo")
    cells = [wd.FloatText(value=0.0, step=0.1, layout=wd.Layout(width="5.5em")) for _ in range(9)]
    grid = wd.GridBox(cells, layout=wd.Layout(grid_template_columns="repeat(3, 6em)"))
    out = wd.Output()
    state = {"loading": False}

    def current() -> np.ndarray:
        return np.array([c.value for c in cells], dtype=float).reshape(3, 3)

    def redraw(*_):
        if state["loading"]:
            return
        with out:
            out.clear_output(wait=True)
            w = current()
            name = preset.value if np.allclose(w, KERNELS[preset.value]) else "edited"
            fig = filter_figure(small_photo(photo.value), w, name, photo.value)
            display(fig)
            plt.close(fig)

    def load(*_):
        state["loading"] = True
        for cell, v in zip(cells, kernel(preset.value).ravel()):
            cell.value = round(float(v), 4)
        state["loading"] = False
        redraw()

    preset.observe(load, names="value")
    photo.observe(redraw, names="value")
    for cell in cells:
        cell.observe(redraw, names="value")
    load()
    ui = wd.VBox([wd.HBox([preset, photo]), wd.HTML("edit the filter's numbers:"), grid, out])
    ui.current_kernel = current
    return ui
