"""What the computer sees: an image as a grid of numbers 0..255, and its channels.

``number_grid`` draws a small matrix as coloured cells with the numbers written
in; ``show_pixels`` puts a patch's numbers beside the picture (the lecture's
"an image is just a big grid of numbers between [0, 255]"), ``show_channels``
splits a colour picture into its R, G and B grids (H x W x 3).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.patches import Rectangle

CHANNELS = ("R", "G", "B")
# black (0) to the full channel colour (255): a cell is as bright as the pixel is in that channel
CHANNEL_CMAPS = tuple(
    LinearSegmentedColormap.from_list(f"black_{c}", ["black", col]) for c, col in zip(CHANNELS, ("red", "lime", "blue"))
)


def number_grid(
    ax: "plt.Axes",
    values: np.ndarray,
    *,
    cmap="gray",
    vmin: float = 0,
    vmax: float = 255,
    fmt: str = "{:.0f}",
    fontsize: float = 7,
    colors: np.ndarray | None = None,
    title: str = "",
) -> "plt.Axes":
    """Draw a 2-D array as cells coloured by value (or by ``colors``, same shape) with each number written in.

    Text is white on dark cells and black on light ones. Row and column indices label the axes.
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"number_grid draws a 2-D array, got shape {values.shape}")
    shade = values if colors is None else np.asarray(colors)
    im = ax.imshow(shade, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    norm, cm = im.norm, im.get_cmap()
    for (r, c), v in np.ndenumerate(values):
        rgb = cm(norm(shade[r, c]))[:3]
        light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 0.5
        ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=fontsize, color="black" if light else "white")
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.tick_params(labelsize=max(fontsize - 1, 5), length=0)
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    return ax


def _box(ax: "plt.Axes", top: int, left: int, h: int, w: int, color: str = "red") -> None:
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor=color, linewidth=2.5))


def _patch(img: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    if not (0 <= top and top + size <= h and 0 <= left and left + size <= w):
        raise ValueError(f"a {size}x{size} patch at (top={top}, left={left}) does not fit in the {h}x{w} image")
    return img[top : top + size, left : left + size]


def show_pixels(
    img: np.ndarray, top: int, left: int, size: int = 10, channel: int | None = 0, name: str = "image"
) -> "plt.Figure":
    """The picture with a box, the boxed patch enlarged, and the patch's numbers.

    img: (H, W) or (H, W, 3) uint8. For a colour image the numbers are those of one
    ``channel`` (0 = R, 1 = G, 2 = B); every pixel holds three such numbers.
    """
    img = np.asarray(img)
    patch = _patch(img, top, left, size)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1.5, 1, 1.35]})
    axes[0].imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
    _box(axes[0], top, left, size, size)
    shape = " x ".join(map(str, img.shape))
    axes[0].set_title(f"what we see: {name}, array of shape {shape}", fontsize=10)
    axes[1].imshow(patch, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    axes[1].set_title(f"the {size}x{size} patch in the box, enlarged", fontsize=10)
    axes[1].set_xticks([])
    axes[1].set_yticks([])
    if img.ndim == 3:
        values, label = patch[..., channel], f"{CHANNELS[channel]} channel"
        cmap = CHANNEL_CMAPS[channel]
    else:
        values, label, cmap = patch, "gray values", "gray"
    number_grid(axes[2], values, cmap=cmap, fontsize=7 if size <= 10 else 5, title=f"what the computer sees: {label}, 0..255")
    axes[2].set_xticklabels(range(left, left + size))
    axes[2].set_yticklabels(range(top, top + size))
    axes[2].set_xlabel("column")
    axes[2].set_ylabel("row")
    fig.tight_layout()
    return fig


def show_channels(img: np.ndarray, top: int, left: int, size: int = 5) -> "plt.Figure":
    """A colour image as three grids of numbers: the picture and its R, G, B channels (top),
    the same small patch in each channel as numbers (bottom). A pixel is one number per channel."""
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"show_channels needs a colour image (H, W, 3), got shape {img.shape}")
    patch = _patch(img, top, left, size)
    fig, axes = plt.subplots(2, 4, figsize=(14, 6.4), gridspec_kw={"height_ratios": [1, 1.1]})
    h, w = img.shape[:2]
    axes[0, 0].imshow(img)
    _box(axes[0, 0], top, left, size, size)
    axes[0, 0].set_title(f"colour image, {h} x {w} x 3", fontsize=10)
    axes[1, 0].imshow(patch, interpolation="nearest")
    axes[1, 0].set_title(f"the {size}x{size} patch in the box", fontsize=10)
    for c in range(3):
        axes[0, c + 1].imshow(img[..., c], cmap="gray", vmin=0, vmax=255)
        _box(axes[0, c + 1], top, left, size, size, color="orange")
        axes[0, c + 1].set_title(f"channel {c} ({CHANNELS[c]}), {h} x {w}, values 0..255", fontsize=10)
        number_grid(axes[1, c + 1], patch[..., c], cmap=CHANNEL_CMAPS[c], fontsize=8, title=f"{CHANNELS[c]} numbers of the patch")
        axes[1, c + 1].set_xticklabels(range(left, left + size))
        axes[1, c + 1].set_yticklabels(range(top, top + size))
    for ax in (axes[0, 0], axes[1, 0]):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
