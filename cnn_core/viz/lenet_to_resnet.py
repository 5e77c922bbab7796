"""Figures for chapter 12 (from LeNet to ResNet): plain vs residual training, gradient norms per
layer, the batch-norm learning-rate sweep, per-layer costs of ResNets, receptive fields, and where
a trained network looks (saliency, occlusion, class-activation maps) with its explorer.

Arrays and numbers in, figures out: the chapter trains and measures (cnn_core.depth,
cnn_core.interpret, cnn_core.costs); nothing here trains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from cnn_core.viz.explore import HTML
from cnn_core.viz.figure_data import data_table
from cnn_core.viz.readability import column_figure, readable

History = dict[str, list[float]]
METHODS = ("saliency", "occlusion", "CAM")
METHOD_NOTES = {
    "saliency": "|d score / d pixel|",
    "occlusion": "drop of p(class) when a patch is covered",
    "CAM": "class-activation map (GAP head)",
}


def _colors() -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _wrap(text: str, width: int = 48) -> str:
    """A title broken into lines that fit the column at the book's smallest font."""
    return "\n".join(textwrap.wrap(text, width))


def plot_depth_runs(runs: Mapping[str, Sequence[History]], title: str = "") -> plt.Figure:
    """Training loss and validation accuracy per epoch for each network (one colour), every seed a
    thin line and the mean over seeds a thick one."""
    fig, (ax_loss, ax_acc) = column_figure(2, 1, height=7.2)
    for (name, histories), color in zip(runs.items(), _colors()):
        epochs = histories[0]["epoch"]
        for ax, key in ((ax_loss, "loss"), (ax_acc, "val_accuracy")):
            curves = np.array([h[key] for h in histories])
            for curve in curves:
                ax.plot(epochs, curve, color=color, lw=0.8, alpha=0.45)
            ax.plot(epochs, curves.mean(axis=0), color=color, lw=2.2, marker="o", ms=3, label=f"{name} (mean of {len(curves)})")
    ax_loss.set_yscale("log")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="training loss (cross-entropy, log scale)")
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy", ylim=(0, 1))
    ax_acc.axhline(0.1, color="grey", ls=":", lw=1)
    ax_acc.text(epochs[-1], 0.11, "guessing", ha="right", va="bottom", color="grey")
    ax_loss.legend()
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(_wrap(title))
    return readable(fig)


def plot_gradient_norms(curves: Mapping[str, tuple[Sequence[int], Sequence[Sequence[float]]]], title: str = "") -> plt.Figure:
    """The error signal ||dE/dx_l|| that reaches each layer, against the number of convolution
    layers below it (input side left), log scale. ``curves[name] = (depths, [norms of seed 0,
    norms of seed 1, ...])`` (cnn_core.depth.signal_gradient_norms); one colour per network,
    one line per seed."""
    fig, ax = column_figure(height=4.2)
    for (name, (depths, per_seed)), color in zip(curves.items(), _colors()):
        for s, norms in enumerate(per_seed):
            ax.plot(depths, norms, color=color, marker="o", ms=3, lw=1, label=name if s == 0 else None)
    ax.set_yscale("log")
    ax.set(
        xlabel="convolution layers below (0 = the input image)",
        ylabel="||dE/dx|| (log scale)",
        title=_wrap(title or "error signal reaching each layer"),
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return readable(fig)


def plot_lr_sweep(accuracy: Mapping[str, Mapping[float, Sequence[float]]], title: str = "") -> plt.Figure:
    """Validation accuracy after training against the learning rate (log scale), one line per
    network: the mean over seeds, with each seed as a dot."""
    fig, ax = column_figure(height=4.2)
    for (name, by_lr), color in zip(accuracy.items(), _colors()):
        lrs = sorted(by_lr)
        ax.plot(lrs, [np.mean(by_lr[lr]) for lr in lrs], color=color, marker="o", lw=2, label=name)
        for lr in lrs:
            ax.scatter([lr] * len(by_lr[lr]), by_lr[lr], color=color, s=10, alpha=0.5)
    ax.set_xscale("log")
    ax.axhline(0.1, color="grey", ls=":", lw=1)
    ax.set(
        xlabel="learning rate (log scale)", ylabel="validation accuracy", ylim=(0, 1), title=_wrap(title or "learning rate sweep")
    )
    ax.grid(alpha=0.3)
    ax.legend()
    return readable(fig)


def plot_layer_costs(
    names: Sequence[str], multiply_adds: Sequence[int], activations: Sequence[int], title: str = ""
) -> plt.Figure:
    """Per layer (in order): multiply-adds for one image (top) and the size of its output, the
    activations kept for backward (bottom), both in millions."""
    x = np.arange(len(names))
    fig, (ax_mac, ax_act) = column_figure(2, 1, height=7.0, sharex=True)
    ax_mac.bar(x, np.asarray(multiply_adds) / 1e6, color=_colors()[0])
    ax_act.bar(x, np.asarray(activations) / 1e6, color=_colors()[1])
    ax_mac.set(ylabel="multiply-adds (M)", title=_wrap(title or "cost per layer, one image"))
    ax_act.set(ylabel="output numbers (M)")
    ax_act.set_xticks(x, names, rotation=90)
    for ax in (ax_mac, ax_act):
        ax.grid(alpha=0.3, axis="y")
    return readable(fig)


def plot_receptive_fields(fields: Mapping[str, Sequence[int]], image_size: int = 224, title: str = "") -> plt.Figure:
    """Receptive field (pixels on a side) after each layer, one line per network, with the input size."""
    fig, ax = column_figure(height=4.2)
    for (name, rf), color in zip(fields.items(), _colors()):
        ax.plot(np.arange(1, len(rf) + 1), rf, color=color, marker="o", ms=3, label=name)
    ax.axhline(image_size, color="grey", ls=":", lw=1)
    ax.text(1, image_size, f"input {image_size} x {image_size}", va="bottom", color="grey")
    ax.set(
        xlabel="layer (convolutions and pools, in order)",
        ylabel="receptive field (pixels)",
        title=_wrap(title or "receptive field layer by layer"),
    )
    ax.grid(alpha=0.3)
    ax.legend()
    return readable(fig)


def _seeds(values: Sequence[float]) -> str:
    """Mean and range over seeds, as one table cell."""
    return f"{np.mean(values):.3g} ({np.min(values):.3g} to {np.max(values):.3g})"


def depth_runs_table(runs: Mapping[str, Sequence[History]]) -> HTML:
    """The numbers of plot_depth_runs: per network and epoch, loss and accuracy over the seeds."""
    rows = []
    for name, histories in runs.items():
        for e, epoch in enumerate(histories[0]["epoch"]):
            rows.append([name, epoch, *(_seeds([h[key][e] for h in histories]) for key in ("loss", "val_accuracy"))])
    n = len(next(iter(runs.values())))
    return data_table(
        f"training loss and validation accuracy per epoch, mean of {n} seeds (lowest to highest)",
        ["network", "epoch", "training loss", "validation accuracy"],
        rows,
    )


def gradient_norms_table(curves: Mapping[str, tuple[Sequence[int], Sequence[Sequence[float]]]]) -> HTML:
    """The numbers of plot_gradient_norms: ||dE/dx|| per depth and network, mean and range over seeds."""
    depths = sorted({d for ds, _ in curves.values() for d in ds})
    rows = []
    for d in depths:
        row: list[object] = [d]
        for ds, per_seed in curves.values():
            i = list(ds).index(d) if d in ds else None
            row.append("—" if i is None else _seeds([norms[i] for norms in per_seed]))
        rows.append(row)
    return data_table(
        "error signal ||dE/dx|| reaching each layer, mean over seeds (lowest to highest)",
        ["convolution layers below", *curves],
        rows,
    )


def lr_sweep_table(accuracy: Mapping[str, Mapping[float, Sequence[float]]]) -> HTML:
    """The numbers of plot_lr_sweep: validation accuracy per learning rate and network."""
    lrs = sorted({lr for by_lr in accuracy.values() for lr in by_lr})
    rows = [[f"{lr:g}", *(_seeds(by_lr[lr]) if lr in by_lr else "—" for by_lr in accuracy.values())] for lr in lrs]
    return data_table(
        "validation accuracy after training, mean over seeds (lowest to highest)", ["learning rate", *accuracy], rows
    )


def receptive_fields_table(fields: Mapping[str, Sequence[int]]) -> HTML:
    """The numbers of plot_receptive_fields: receptive field (pixels) after each layer, per network."""
    longest = max(len(rf) for rf in fields.values())
    rows = [[i + 1, *(rf[i] if i < len(rf) else "—" for rf in fields.values())] for i in range(longest)]
    return data_table("receptive field in pixels after each layer", ["layer", *fields], rows)


def layer_costs_table(names: Sequence[str], multiply_adds: Sequence[int], activations: Sequence[int]) -> HTML:
    """The numbers of plot_layer_costs, one row per layer."""
    rows = [[n, int(m), int(a)] for n, m, a in zip(names, multiply_adds, activations)]
    return data_table("multiply-adds and output numbers per layer, one image", ["layer", "multiply-adds", "output numbers"], rows)


def _overlay(ax: plt.Axes, image: np.ndarray, heat: np.ndarray | None, missing: str) -> None:
    """A heat map over the faded digit (stretched over it if its size differs), or ``missing``
    written in the panel where a method does not apply (heat is None)."""
    if heat is None:
        ax.text(0.5, 0.5, missing, ha="center", va="center", transform=ax.transAxes)
        return
    h, w = image.shape
    ax.imshow(image, cmap="gray_r", alpha=0.35, extent=(0, w, h, 0))
    smooth = "bilinear" if heat.shape != image.shape else "nearest"
    ax.imshow(heat, cmap="inferno", alpha=0.75, extent=(0, w, h, 0), interpolation=smooth)


def plot_attributions(image: np.ndarray, maps: Mapping[str, np.ndarray | None], title: str = "") -> plt.Figure:
    """The digit, then one heat map per method over it (maps of another size are stretched over
    the image), three panels a row; a method with None (CAM of an MLP) gets an empty panel
    saying why. What each method measures is in the chapter's text, not in the panels."""
    image = np.asarray(image).reshape(np.asarray(image).shape[-2:])
    rows = -(-(len(maps) + 1) // 3)
    fig, axes = column_figure(rows, 3, height=2.35 * rows + (0.5 if title else 0), squeeze=False)
    axes = axes.ravel()
    axes[0].imshow(image, cmap="gray_r")
    axes[0].set_title("the digit")
    for ax, (method, heat) in zip(axes[1:], maps.items()):
        _overlay(ax, image, heat, "no GAP head:\nno CAM")
        ax.set_title(_wrap(method, 14))
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(maps) + 1 :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(_wrap(title))
    return readable(fig)


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
        fig, axes = column_figure(1, len(panels) + 1, height=3.3)
        image = np.asarray(self.images[digit]).reshape(np.asarray(self.images[digit]).shape[-2:])
        axes[0].imshow(image, cmap="gray_r")
        axes[0].set_title(f"label {self.labels[digit]}")
        for ax, (name, heat) in zip(axes[1:], panels.items()):
            _overlay(ax, image, heat, f"{name}:\nno global\naverage\npooling,\nso no CAM")
            ax.set_title(
                f"{name} says {self.predictions[name][digit]}",
                fontweight="bold" if name == model else "normal",
            )
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.suptitle(_wrap(f"{method}: {METHOD_NOTES[method]}"))
        return readable(fig)

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
