"""Figures for the semantic gap: the same cat under the lecture's challenges, and how far
its pixels move (``cnn_core.transforms``).

``render(kind, strength)`` with ``CONTROLS`` is the chapter's explorer: one variation of
the cat, a patch of its numbers, the map of changed values and the pixel distance
beside the distance to other pictures. The scene (cat, occluder, busy background,
the cat's mask) comes from ``scene()``.
"""

from __future__ import annotations

from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np

from .. import transforms as T
from ..data import cat as _cat, photo
from .pixels import number_grid

SAME_COLOR, OTHER_COLOR = "tab:orange", "tab:gray"


@lru_cache(maxsize=4)
def scene(step: int = 1) -> dict[str, np.ndarray]:
    """The cat (every ``step``-th pixel), what occludes it (the brick wall), the busy background
    (scikit-learn's photo of a Chinese temple and trees) and the cat's soft elliptical mask.

    Also the reference pictures, resized to the cat's size: "brick", "coffee" and "flat"
    (every pixel the cat's mean colour).
    """
    from sklearn.datasets import load_sample_image

    cat = _cat()[::step, ::step]
    h, w = cat.shape[:2]
    flat = np.broadcast_to(np.rint(cat.reshape(-1, 3).mean(0)), cat.shape).astype(np.uint8)
    return {
        "cat": cat,
        "occluder": T.resize_to(photo("brick"), cat.shape),
        "background": T.resize_to(load_sample_image("china.jpg"), cat.shape),
        "mask": T.ellipse_mask(cat.shape, (175 / step, 240 / step), (150 / step, 170 / step), 0.12),
        "brick": T.resize_to(photo("brick"), cat.shape),
        "coffee": T.resize_to(photo("coffee"), cat.shape),
        "flat": flat,
    }


def variation(kind: str, strength: float, step: int = 1) -> np.ndarray:
    """The scene's cat under ``T.vary(kind, strength)``."""
    s = scene(step)
    return T.vary(s["cat"], kind, strength, occluder=s["occluder"], background=s["background"], mask=s["mask"])


REFERENCES = {"flat": "flat image of the cat's mean colour", "brick": "a brick wall", "coffee": "a cup of coffee"}


def show_variations(original: np.ndarray, variants: dict[str, np.ndarray], ncols: int = 4, kind: str = "rms") -> "plt.Figure":
    """A grid of pictures, the original first, each titled with its pixel distance to the original."""
    items = [("original", original)] + list(variants.items())
    nrows = -(-len(items) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.6 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (name, img) in zip(axes.flat, items):
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=T.max_value(img))
        d = T.pixel_distance(original, img, kind)
        ax.set_title(name if name == "original" else f"{name}\n{kind} distance {d:.1f}", fontsize=9)
    fig.tight_layout()
    return fig


def distance_bars(
    distances: dict[str, float], same: set[str], xlabel: str = "RMS pixel distance to the cat (0..255 units)"
) -> "plt.Figure":
    """Horizontal bars, smallest distance on top, orange for pictures that still show the object
    (names in ``same``), grey for other pictures."""
    names = sorted(distances, key=distances.get)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(names) + 1.2))
    colors = [SAME_COLOR if n in same else OTHER_COLOR for n in names]
    ax.barh(range(len(names)), [distances[n] for n in names], color=colors)
    ax.set_yticks(range(len(names)), names, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.bar_label(ax.containers[0], fmt="%.1f", fontsize=8, padding=2)
    ax.set_title("Pixel distance does not track meaning\n(orange: still the cat, grey: not a cat)", fontsize=10)
    ax.set_xlim(0, max(distances.values()) * 1.15)
    fig.tight_layout()
    return fig


CONTROLS = {"kind": list(T.VARIATIONS), "strength": [0.0, 0.25, 0.5, 0.75, 1.0]}
# the pre-rendered twin for the online book: fewer states keep the page light (zoom and shadow
# are in the chapter's static figures)
STATIC_CONTROLS = {
    "kind": [k for k in T.VARIATIONS if k not in ("viewpoint: zoom", "illumination: shadow")],
    "strength": [0.0, 0.5, 1.0],
}
PATCH = (60, 80, 5)  # top, left, size of the patch whose numbers are shown, in the half-size cat


def describe(kind: str, strength: float) -> str:
    """Caption and alt text of one explorer state."""
    d = T.pixel_distance(scene(2)["cat"], variation(kind, strength, 2), "rms")
    return (
        f"{kind} at strength {strength:g} ({T.VARIATIONS[kind]}): RMS pixel distance to the cat {d:.1f}, "
        f"to the flat image {T.pixel_distance(scene(2)['cat'], scene(2)['flat'], 'rms'):.1f}"
    )


def render(kind: str, strength: float) -> "plt.Figure":
    """One variation of the (half-size, 150 x 226) cat: the picture, a 5x5 patch of its R values
    coloured by how much they changed, the map of |difference|, and the distances."""
    s = scene(2)
    cat, img = s["cat"], variation(kind, strength, 2)
    top, left, size = PATCH
    fig, axes = plt.subplots(1, 4, figsize=(11.5, 2.6), gridspec_kw={"width_ratios": [1.5, 1, 1.5, 1.4]})
    fig.subplots_adjust(left=0.01, right=0.97, bottom=0.1, top=0.84, wspace=0.35)
    axes[0].imshow(img)
    axes[0].add_patch(plt.Rectangle((left - 0.5, top - 0.5), size, size, fill=False, edgecolor="cyan", lw=2))
    axes[0].set_title(f"input: {kind}, s = {strength:g}", fontsize=9)
    axes[0].axis("off")
    change = img[top : top + size, left : left + size, 0].astype(float) - cat[top : top + size, left : left + size, 0]
    number_grid(
        axes[1],
        img[top : top + size, left : left + size, 0],
        colors=change,
        cmap="coolwarm",
        vmin=-120,
        vmax=120,
        fontsize=7,
        title="R values in the cyan box\n(colour = change)",
    )
    axes[1].set_xticks([])
    axes[1].set_yticks([])
    diff = np.abs(img.astype(float) - cat).mean(axis=2)
    axes[2].imshow(diff, cmap="magma", vmin=0, vmax=160)
    axes[2].set_title(f"|input - cat|: {100 * T.changed_fraction(img, cat):.0f}% of the values changed", fontsize=9)
    axes[2].axis("off")
    dists = {"this input": T.pixel_distance(cat, img, "rms")}
    dists.update(
        {
            label: T.pixel_distance(cat, s[key], "rms")
            for key, label in (("flat", "flat colour"), ("brick", "brick wall"), ("coffee", "coffee cup"))
        }
    )
    ax = axes[3]
    ax.barh(range(4), list(dists.values()), color=[SAME_COLOR] + [OTHER_COLOR] * 3)
    ax.set_yticks(range(4), list(dists), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.bar_label(ax.containers[0], fmt="%.0f", fontsize=8, padding=2)
    ax.set_title("RMS pixel distance to the cat", fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    return fig


def show_same_class(images: np.ndarray, label: int | str, distances: np.ndarray | None = None) -> "plt.Figure":
    """A row of gray images of one class (intraclass variation), each titled with its distance
    to the first one if ``distances`` is given."""
    n = len(images)
    fig, axes = plt.subplots(1, n, figsize=(1.3 * n, 1.8))
    for i, (ax, img) in enumerate(zip(np.atleast_1d(axes), images)):
        ax.imshow(img, cmap="gray_r", vmin=0, vmax=T.max_value(img))
        ax.set_xticks([])
        ax.set_yticks([])
        title = f"'{label}' #{i + 1}" if distances is None else f"'{label}', d={distances[i]:.2f}"
        ax.set_title(title, fontsize=8)
    fig.suptitle(f"{n} real handwritten '{label}'s: one class, many pixel patterns", fontsize=10)
    fig.tight_layout()
    return fig


def show_triplet(
    anchor: np.ndarray, same: np.ndarray, other: np.ndarray, labels: tuple, d_same: float, d_other: float
) -> "plt.Figure":
    """An image, the farthest image of its class and the nearest image of another class, with L2 distances."""
    fig, axes = plt.subplots(1, 3, figsize=(6.6, 2.6))
    titles = [
        f"anchor: a '{labels[0]}'",
        f"same class '{labels[1]}'\nL2 distance {d_same:.2f}",
        f"other class '{labels[2]}'\nL2 distance {d_other:.2f}",
    ]
    for ax, img, title in zip(axes, (anchor, same, other), titles):
        ax.imshow(img, cmap="gray_r", vmin=0, vmax=T.max_value(img))
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_shift_accuracy(shifts: list[str], accuracy: list[float], chance: float = 0.1) -> "plt.Figure":
    """Accuracy of a pixel-distance (nearest-neighbour) classifier on test digits moved by a few pixels."""
    fig, ax = plt.subplots(figsize=(6.5, 3))
    bars = ax.bar(shifts, accuracy, color=[SAME_COLOR] + ["tab:red"] * (len(shifts) - 1))
    ax.bar_label(bars, labels=[f"{a:.0%}" for a in accuracy], fontsize=9)
    ax.axhline(chance, color="k", ls="--", lw=1, label="chance (10 classes)")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("test accuracy")
    ax.set_xlabel("test digits moved by (down, right) pixels")
    ax.set_title("1-nearest-neighbour in pixel space on 8x8 digits", fontsize=10)
    fig.tight_layout()
    return fig
