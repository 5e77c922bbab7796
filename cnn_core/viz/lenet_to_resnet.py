"""Figures for chapter 12 (from LeNet to ResNet): plain vs residual training, gradient norms per
layer, the batch-norm learning-rate sweep, per-layer costs of ResNets, receptive fields, and where
a trained network looks (saliency, occlusion, class-activation maps) with its explorer.

Arrays and numbers in, figures out: the chapter trains and measures (cnn_core.depth,
cnn_core.interpret, cnn_core.costs); nothing here trains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

History = dict[str, list[float]]
METHODS = ("saliency", "occlusion", "CAM")
METHOD_NOTES = {
    "saliency": "|d score / d pixel|",
    "occlusion": "drop of p(class) when a patch is covered",
    "CAM": "class-activation map (GAP head)",
}


def _colors() -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


def plot_depth_runs(runs: Mapping[str, Sequence[History]], title: str = "") -> plt.Figure:
    """Training loss and validation accuracy per epoch for each network (one colour), every seed a
    thin line and the mean over seeds a thick one."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2))
    for (name, histories), color in zip(runs.items(), _colors()):
        epochs = histories[0]["epoch"]
        for ax, key in ((ax_loss, "loss"), (ax_acc, "val_accuracy")):
            curves = np.array([h[key] for h in histories])
            for curve in curves:
                ax.plot(epochs, curve, color=color, lw=0.8, alpha=0.45)
            ax.plot(
                epochs, curves.mean(axis=0), color=color, lw=2.2, marker="o", ms=3, label=f"{name} (mean of {len(curves)} seeds)"
            )
    ax_loss.set_yscale("log")
    ax_loss.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="training loss (log scale)")
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy", ylim=(0, 1))
    ax_acc.axhline(0.1, color="grey", ls=":", lw=1)
    ax_acc.text(epochs[-1], 0.11, "guessing", ha="right", va="bottom", fontsize=7, color="grey")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_gradient_norms(curves: Mapping[str, tuple[Sequence[int], Sequence[Sequence[float]]]], title: str = "") -> plt.Figure:
    """The error signal ||dE/dx_l|| that reaches each layer, against the number of convolution
    layers below it (input side left), log scale. ``curves[name] = (depths, [norms of seed 0,
    norms of seed 1, ...])`` (cnn_core.depth.signal_gradient_norms); one colour per network,
    one line per seed."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for (name, (depths, per_seed)), color in zip(curves.items(), _colors()):
        for s, norms in enumerate(per_seed):
            ax.plot(depths, norms, color=color, marker="o", ms=3, lw=1, label=name if s == 0 else None)
    ax.set_yscale("log")
    ax.set(
        xlabel="convolution layers below (0 = the input image)",
        ylabel="||dE/dx|| (log scale)",
        title=title or "error signal reaching each layer",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_lr_sweep(accuracy: Mapping[str, Mapping[float, Sequence[float]]], title: str = "") -> plt.Figure:
    """Validation accuracy after training against the learning rate (log scale), one line per
    network: the mean over seeds, with each seed as a dot."""
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for (name, by_lr), color in zip(accuracy.items(), _colors()):
        lrs = sorted(by_lr)
        ax.plot(lrs, [np.mean(by_lr[lr]) for lr in lrs], color=color, marker="o", lw=2, label=name)
        for lr in lrs:
            ax.scatter([lr] * len(by_lr[lr]), by_lr[lr], color=color, s=10, alpha=0.5)
    ax.set_xscale("log")
    ax.axhline(0.1, color="grey", ls=":", lw=1)
    ax.set(xlabel="learning rate (log scale)", ylabel="validation accuracy", ylim=(0, 1), title=title or "learning rate sweep")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_layer_costs(
    names: Sequence[str], multiply_adds: Sequence[int], activations: Sequence[int], title: str = ""
) -> plt.Figure:
    """Per layer (in order): multiply-adds for one image (top) and the size of its output, the
    activations kept for backward (bottom), both in millions."""
    x = np.arange(len(names))
    fig, (ax_mac, ax_act) = plt.subplots(2, 1, figsize=(10, 4.6), sharex=True)
    ax_mac.bar(x, np.asarray(multiply_adds) / 1e6, color=_colors()[0])
    ax_act.bar(x, np.asarray(activations) / 1e6, color=_colors()[1])
    ax_mac.set(ylabel="multiply-adds (M)", title=title or "cost per layer, one image")
    ax_act.set(ylabel="output numbers (M)")
    ax_act.set_xticks(x, names, rotation=90, fontsize=6)
    for ax in (ax_mac, ax_act):
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def plot_receptive_fields(fields: Mapping[str, Sequence[int]], image_size: int = 224, title: str = "") -> plt.Figure:
    """Receptive field (pixels on a side) after each layer, one line per network, with the input size."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for (name, rf), color in zip(fields.items(), _colors()):
        ax.plot(np.arange(1, len(rf) + 1), rf, color=color, marker="o", ms=3, label=name)
    ax.axhline(image_size, color="grey", ls=":", lw=1)
    ax.text(1, image_size, f"input {image_size} x {image_size}", va="bottom", fontsize=7, color="grey")
    ax.set(
        xlabel="layer (convolutions and pools, in order)",
        ylabel="receptive field (pixels)",
        title=title or "receptive field layer by layer",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _overlay(ax: plt.Axes, image: np.ndarray, heat: np.ndarray | None, missing: str) -> None:
    """A heat map over the faded digit (stretched over it if its size differs), or ``missing``
    written in the panel where a method does not apply (heat is None)."""
    if heat is None:
        ax.text(0.5, 0.5, missing, ha="center", va="center", fontsize=8, transform=ax.transAxes)
        return
    h, w = image.shape
    ax.imshow(image, cmap="gray_r", alpha=0.35, extent=(0, w, h, 0))
    smooth = "bilinear" if heat.shape != image.shape else "nearest"
    ax.imshow(heat, cmap="inferno", alpha=0.75, extent=(0, w, h, 0), interpolation=smooth)


def plot_attributions(image: np.ndarray, maps: Mapping[str, np.ndarray | None], title: str = "") -> plt.Figure:
    """The digit, then one heat map per method over it (maps of another size are stretched over
    the image); a method with None (CAM of an MLP) gets an empty panel saying why."""
    image = np.asarray(image).reshape(np.asarray(image).shape[-2:])
    fig, axes = plt.subplots(1, len(maps) + 1, figsize=(2.3 * (len(maps) + 1), 2.6))
    axes[0].imshow(image, cmap="gray_r")
    axes[0].set_title("the digit", fontsize=9)
    h, w = image.shape
    for ax, (method, heat) in zip(axes[1:], maps.items()):
        _overlay(ax, image, heat, "no GAP head:\nno CAM")
        ax.set_title(f"{method}\n{METHOD_NOTES.get(method, '')}", fontsize=7)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


class AttributionExplorer:
    """render(digit, method, model) for explorer(): one digit, the chosen model's map by the chosen
    method, next to the same map of the other model.

    ``maps[model][method][i]`` is the precomputed (H, W) map of image i (None where a method does
    not apply: CAM of an MLP); ``predictions[model][i]`` its predicted class.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: Sequence[int],
        maps: Mapping[str, Mapping[str, Sequence[np.ndarray | None]]],
        predictions: Mapping[str, Sequence[int]],
    ) -> None:
        self.images, self.labels, self.maps, self.predictions = images, list(labels), maps, predictions
        self.models = list(maps)

    def __call__(self, digit: int = 0, method: str = "saliency", model: str = "CNN") -> plt.Figure:
        if model not in self.maps:
            raise ValueError(f"model must be one of {self.models}, got {model!r}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        panels = {m: self.maps[m][method][digit] for m in [model] + [m for m in self.models if m != model]}
        fig, axes = plt.subplots(1, len(panels) + 1, figsize=(2.6 * (len(panels) + 1), 2.9))
        image = np.asarray(self.images[digit]).reshape(np.asarray(self.images[digit]).shape[-2:])
        h, w = image.shape
        axes[0].imshow(image, cmap="gray_r")
        axes[0].set_title(f"label {self.labels[digit]}", fontsize=9)
        for ax, (name, heat) in zip(axes[1:], panels.items()):
            _overlay(ax, image, heat, f"{name}: no global average\npooling, so no CAM")
            ax.set_title(
                f"{name} ({method}), says {self.predictions[name][digit]}",
                fontsize=8,
                fontweight="bold" if name == model else "normal",
            )
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.suptitle(f"{method}: {METHOD_NOTES[method]}", fontsize=9)
        fig.tight_layout()
        return fig

    def describe(self, digit: int = 0, method: str = "saliency", model: str = "CNN") -> str:
        heat = self.maps[model][method][digit]
        said = self.predictions[model][digit]
        if heat is None:
            return f"The {model} has no global average pooling head, so it has no class-activation map."
        rows, cols = np.unravel_index(np.argmax(heat), heat.shape)
        return (
            f"Digit {digit} (label {self.labels[digit]}): the {model} says {said}; its {method} map is "
            f"largest at row {rows}, column {cols} of a {heat.shape[0]} x {heat.shape[1]} map."
        )


def resnet_cost_markdown(rows: Mapping[str, Mapping[str, int]], published: Mapping[str, Sequence]) -> str:
    """A markdown table: per network, computed parameters, multiply-adds (G) and activation memory
    (MiB at 4 bytes a value) next to the published figures. ``rows[name]`` has params, macs and
    memory (bytes); ``published[name]`` a list of (params or None, multiply_adds, source) for the
    network's base name (the text before " (")."""
    lines = [
        "| network | parameters | published | multiply-adds | published | activations, one image |",
        "| --- | ---: | --- | ---: | --- | ---: |",
    ]
    for name, row in rows.items():
        refs = published.get(name.split(" (")[0], [])
        v1 = "v1" in name
        chosen = [r for r in refs if ("torchvision" not in r.source) == v1] if "ResNet-50" in name else refs
        who = [("paper" if "torchvision" not in r.source else "torchvision") for r in chosen]
        pub_params = ", ".join(f"{r.params:,} ({w})" for r, w in zip(chosen, who) if r.params) or "—"
        pub_macs = ", ".join(f"{r.multiply_adds / 1e9:g} G ({w})" for r, w in zip(chosen, who))
        lines.append(
            f"| {name} | {row['params']:,} | {pub_params} | {row['macs'] / 1e9:.3f} G | {pub_macs} | "
            f"{row['memory'] / 2**20:.1f} MiB |"
        )
    return "\n".join(lines)
