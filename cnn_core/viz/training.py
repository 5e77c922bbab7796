"""Figures for chapter 10 (training a CNN): learning curves, confusion matrix, learned
filters, activation maps, misclassified examples, accuracy under shifted inputs, and
two explorers (learning rate -> learning curves; digit -> activation maps).

Arrays in, figures out: the numbers come from cnn_core.evaluation (and fit's histories);
nothing here trains or evaluates a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..data import SHIFTS, shift

History = dict[str, list[float]]
Maps = list[tuple[str, np.ndarray]]


def plot_learning_curves(histories: History | dict[str, History], title: str = "", val_label: str = "validation") -> plt.Figure:
    """Loss and accuracy per epoch from fit's history: training (running mean over the epoch's
    minibatches, dashed) and the ``validation=`` data of fit (after the epoch, solid, labelled
    ``val_label``); one colour per run."""
    if "epoch" in histories:
        histories = {"": histories}
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2))
    for (name, h), color in zip(histories.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        label = f"{name} " if name else ""
        for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            ax.plot(h["epoch"], h[key], ls="--", color=color, label=f"{label}train")
            if f"val_{key}" in h:
                ax.plot(h["epoch"], h[f"val_{key}"], marker="o", ms=3, color=color, label=f"{label}{val_label}")
    ax_loss.set_yscale("log")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss (log scale)")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(C: np.ndarray, title: str = "confusion matrix") -> plt.Figure:
    """A confusion matrix (cnn_core.evaluation.confusion_matrix) with its counts written in the
    cells; the diagonal is what is right."""
    C = np.asarray(C)
    n_classes = len(C)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.imshow(C, cmap="Blues")
    for i in range(n_classes):
        for j in range(n_classes):
            if C[i, j]:
                ax.text(j, i, C[i, j], ha="center", va="center", fontsize=7, color="white" if C[i, j] > C.max() / 2 else "black")
    ax.set(
        xticks=range(n_classes),
        yticks=range(n_classes),
        xlabel="predicted digit",
        ylabel="true digit",
        title=f"{title}: {np.trace(C)}/{C.sum()} right",
    )
    return fig


def plot_filters(W: np.ndarray, title: str = "learned filters") -> plt.Figure:
    """Filters W of shape (K, D, F, F) on one symmetric colour scale (red > 0, blue < 0), tiled in
    one picture: a row of K filters when D = 1, else one row per filter, one column per input map."""
    K, D, F = W.shape[:3]
    tiles = W.reshape(K * D, F, F)  # filter k's D slices side by side
    rows, cols = (1, K) if D == 1 else (K, D)
    size = 0.75 if D == 1 else 0.42
    fig, ax = plt.subplots(figsize=(cols * size + 1.4, rows * size + 0.9))
    vmax = float(np.abs(W).max())
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="white")
    im = ax.imshow(_mosaic(tiles, cols), cmap=cmap, vmin=-vmax, vmax=vmax)
    centres = [c * (F + 1) + (F - 1) / 2 for c in range(cols)]
    ax.set_xticks(centres, [f"filter {k}" for k in range(K)] if D == 1 else [f"in {d}" for d in range(D)], fontsize=7)
    ax.set_yticks(
        [r * (F + 1) + (F - 1) / 2 for r in range(rows)], [] if D == 1 else [f"filter {k}" for k in range(K)], fontsize=7
    )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if D > 1:
        ax.set_xlabel("input map d (the filter's slice W[k, d])", fontsize=8)
    ax.set_title(f"{title}: W of shape {W.shape} (K, D, F, F)", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)
    return fig


def _mosaic(maps: np.ndarray, cols: int) -> np.ndarray:
    """Tile (D, H, W) maps into a grid with a NaN gap of one pixel between them."""
    D, H, W = maps.shape
    rows = -(-D // cols)
    out = np.full((rows * (H + 1) - 1, cols * (W + 1) - 1), np.nan)
    for d in range(D):
        r, c = divmod(d, cols)
        out[r * (H + 1) : r * (H + 1) + H, c * (W + 1) : c * (W + 1) + W] = maps[d]
    return out


def plot_activation_maps(
    image: np.ndarray, shown: Maps, probs: np.ndarray, label: int | None = None, cols: int = 8
) -> plt.Figure:
    """The input image (D, H, W), the activation maps of each layer in ``shown`` (each map a tile,
    ``cols`` per row) and the class probabilities: cnn_core.evaluation.activation_maps(model, image)
    gives (shown, probs)."""
    fig = plt.figure(figsize=(9, 1.7 + 1.45 * len(shown)))
    grid = fig.add_gridspec(1 + len(shown), 2, width_ratios=[1, 2.2], hspace=0.75)
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(image[0], cmap="gray_r")
    ax.set_title(f"input {image.shape} (D, H, W)" + (f", label {label}" if label is not None else ""), fontsize=9)
    ax.axis("off")
    ax = fig.add_subplot(grid[0, 1])
    ax.bar(range(len(probs)), probs, color=["tab:orange" if k == probs.argmax() else "tab:gray" for k in range(len(probs))])
    ax.set(xticks=range(len(probs)), ylim=(0, 1), xlabel="class", ylabel="probability")
    ax.set_title(f"output: softmax of the scores, predicted {probs.argmax()}", fontsize=9)
    for row, (name, maps) in enumerate(shown, start=1):
        ax = fig.add_subplot(grid[row, :])
        ax.imshow(_mosaic(maps, cols), cmap=plt.get_cmap("viridis").with_extremes(bad="white"))
        ax.set_title(f"layer {name}: {maps.shape[0]} activation maps of {maps.shape[1]}x{maps.shape[2]}", fontsize=9, loc="left")
        ax.axis("off")
    return fig


def plot_digits(images: np.ndarray, titles: Sequence[str], title: str = "", cols: int = 8) -> plt.Figure:
    """Images (n, 1, H, W) in a grid, each with its title (dark = ink)."""
    rows = max(1, -(-len(images) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.3 + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, text in zip(axes.flat, images, titles):
        ax.imshow(image[0], cmap="gray_r")
        ax.set_title(text, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_misclassified(
    X: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, max_n: int = 16, probs: np.ndarray | None = None
) -> plt.Figure:
    """The first max_n test images the model gets wrong, titled "true -> predicted" (and the
    model's probability of its prediction when probs is given)."""
    wrong = np.flatnonzero(y_true != y_pred)
    shown = wrong[:max_n]
    titles = [f"{y_true[i]} -> {y_pred[i]}" + (f" ({probs[i, y_pred[i]]:.2f})" if probs is not None else "") for i in shown]
    return plot_digits(
        X[shown],
        titles,
        f"{len(wrong)} misclassified test digits (true -> predicted"
        + (", probability" if probs is not None else "")
        + f"), the first {len(shown)}",
    )


def shift_markdown(summaries: dict[str, dict[str, float]]) -> str:
    """A markdown table of cnn_core.evaluation.shift_summary for each model, one column per model."""
    rows = list(next(iter(summaries.values())))
    lines = ["| test digits | " + " | ".join(summaries) + " |", "| --- |" + " ---: |" * len(summaries)]
    lines += [f"| {row} | " + " | ".join(f"{s[row]:.3f}" for s in summaries.values()) + " |" for row in rows]
    return "\n".join(lines)


def plot_shift_robustness(grids: dict[str, np.ndarray], image: np.ndarray, shifts: Sequence[int] = SHIFTS) -> plt.Figure:
    """Top: one digit moved right by each shift. Bottom: test accuracy of each model for every
    (down, right) shift, written in the cells."""
    n = len(grids)
    fig = plt.figure(figsize=(3.4 * n + 0.6, 5.2))
    top = fig.add_gridspec(2, 1, height_ratios=[1, 3.2], hspace=0.35)
    strip = top[0].subgridspec(1, len(shifts))
    for j, s in enumerate(shifts):
        ax = fig.add_subplot(strip[0, j])
        ax.imshow(shift(image, 0, s)[0], cmap="gray_r")
        ax.set_title(f"right {s:+d}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    maps = top[1].subgridspec(1, n, wspace=0.35)
    for k, (name, acc) in enumerate(grids.items()):
        ax = fig.add_subplot(maps[0, k])
        ax.imshow(acc, cmap="RdYlGn", vmin=0, vmax=1)
        for i in range(len(shifts)):
            for j in range(len(shifts)):
                ax.text(j, i, f"{acc[i, j]:.2f}", ha="center", va="center", fontsize=8)
        ax.set(
            xticks=range(len(shifts)),
            yticks=range(len(shifts)),
            xticklabels=shifts,
            yticklabels=shifts,
            xlabel="shift right (pixels)",
            ylabel="shift down (pixels)",
        )
        ax.set_title(f"{name}: test accuracy", fontsize=9)
    return fig


class LearningRateExplorer:
    """render(lr, lr_decay) -> the learning curves of ``history(lr, lr_decay)``, e.g.
    cnn_core.evaluation.LearningRateRuns(...).history (which trains each setting once)."""

    def __init__(self, history: Callable[[float, float], History], momentum: float = 0.9) -> None:
        self.history, self.momentum = history, momentum

    def __call__(self, lr: float = 0.05, lr_decay: float = 1.0) -> plt.Figure:
        fig = plot_learning_curves(self.history(lr, lr_decay))
        fig.suptitle(f"SGD lr={lr:g}, momentum {self.momentum:g}, lr x {lr_decay:g} after each epoch", fontsize=10)
        fig.tight_layout()
        return fig

    def describe(self, lr: float = 0.05, lr_decay: float = 1.0) -> str:
        acc = self.history(lr, lr_decay)["val_accuracy"]
        last = acc[len(acc) // 2 :]
        return (
            f"lr={lr:g}, lr_decay={lr_decay:g}: over the last {len(last)} epochs the validation accuracy "
            f"ranges from {min(last):.3f} to {max(last):.3f}; after epoch {len(acc)}: {acc[-1]:.3f}."
        )


def activation_explorer(
    maps_of: Callable[[np.ndarray], tuple[Maps, np.ndarray]], X: np.ndarray, y: np.ndarray
) -> Callable[..., plt.Figure]:
    """render(digit, example) -> plot_activation_maps of the example-th image of that digit in X,
    with ``maps_of(image) -> (shown, probs)``, e.g. functools.partial(evaluation.activation_maps, model)."""

    def render(digit: int = 0, example: int = 1) -> plt.Figure:
        i = np.flatnonzero(y == digit)[example - 1]
        return plot_activation_maps(X[i], *maps_of(X[i]), label=int(y[i]))

    return render


__all__ = [
    "plot_learning_curves",
    "plot_confusion_matrix",
    "plot_filters",
    "plot_activation_maps",
    "plot_digits",
    "plot_misclassified",
    "shift_markdown",
    "plot_shift_robustness",
    "LearningRateExplorer",
    "activation_explorer",
]
