"""Figures for fully connected nets: the review of backprop (chapter 1) and why a fully
connected layer does not fit images (chapter 3).

Explorers: ``TrainingExplorer(history, ...)`` with ``TRAINING_CONTROLS`` (learning rate, hidden width,
batch size -> training curves on the digits) and ``render_params`` with ``PARAM_CONTROLS``
(image size, layer width -> parameters and memory of one fully connected layer).
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np

from ..shapes import conv_num_params, linear_num_params
from .explore import HTML
from .figure_data import data_table
from .pixels import CHANNEL_CMAPS, CHANNELS
from .readability import column_figure, readable

# --- chapter 1: backprop and SGD ---------------------------------------------------------------


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of each run of ``window`` consecutive values (len(values) - window + 1 of them)."""
    values = np.asarray(values, dtype=np.float64)
    if not 1 <= window <= len(values):
        raise ValueError(f"window must be between 1 and {len(values)}, got {window}")
    c = np.concatenate([[0.0], np.cumsum(values)])
    return (c[window:] - c[:-window]) / window


def plot_backprop(errors: np.ndarray, checkpoints: list[int], accuracy: list[float], window: int = 100) -> "plt.Figure":
    """Top: E_n of every SGD step and its moving average; bottom: test accuracy at the checkpoints."""
    fig, (ax1, ax2) = column_figure(2, 1, height=7.0)
    steps = np.arange(1, len(errors) + 1)
    ax1.plot(steps, errors, ".", ms=2, color="tab:blue", alpha=0.25, label="$E_n$ of the picked sample")
    ax1.plot(steps[window - 1 :], moving_average(errors, window), color="tab:red", label=f"mean of the last {window}")
    ax1.set_yscale("log")
    ax1.set_xlabel("SGD step (one sample each)")
    ax1.set_ylabel("squared error $E_n$")
    ax1.set_title("training: error of each\nrandomly picked sample")
    ax1.legend()
    ax2.plot(checkpoints, accuracy, "o-", color="tab:green")
    ax2.set_ylim(0.4, 1.02)
    ax2.set_xlabel("SGD step")
    ax2.set_ylabel("test accuracy")
    ax2.set_title("held-out digits classified correctly")
    return readable(fig)


def backprop_table(errors: np.ndarray, checkpoints: list[int], accuracy: list[float], window: int = 100) -> HTML:
    """The numbers of plot_backprop: at each checkpoint, the mean E_n of the steps since the last one
    and the test accuracy."""
    errors = np.asarray(errors, dtype=np.float64)
    rows = [[checkpoints[0], "—", accuracy[0]]]
    rows += [[c, float(errors[p:c].mean()), a] for p, c, a in zip(checkpoints, checkpoints[1:], accuracy[1:])]
    return data_table(
        "mean squared error of the steps since the last checkpoint, and test accuracy",
        ["SGD step", "mean E_n", "test accuracy"],
        rows,
    )


def plot_timings(batch_sizes: list[int], loop_seconds: list[float], matrix_seconds: list[float]) -> "plt.Figure":
    """Time to compute a minibatch gradient: a Python loop over samples vs the matrix form."""
    fig, ax = column_figure(height=4.4)
    ax.loglog(batch_sizes, np.array(loop_seconds) * 1e3, "o-", label="loop: forward + backward per sample")
    ax.loglog(batch_sizes, np.array(matrix_seconds) * 1e3, "s-", label="matrix form: one product per layer")
    for b, t1, t2 in zip(batch_sizes, loop_seconds, matrix_seconds):
        ax.annotate(f"{t1 / t2:.0f}x", (b, np.sqrt(t1 * t2) * 1e3), ha="center")
    ax.set_xlabel("minibatch size B")
    ax.set_ylabel("milliseconds per gradient")
    ax.set_title("Same gradient, different speed\n(numbers: speed-up)")
    ax.legend()
    return readable(fig)


def timings_table(batch_sizes: list[int], loop_seconds: list[float], matrix_seconds: list[float]) -> HTML:
    """The numbers of plot_timings, one row per minibatch size."""
    rows = [[b, t1 * 1e3, t2 * 1e3, f"{t1 / t2:.0f}x"] for b, t1, t2 in zip(batch_sizes, loop_seconds, matrix_seconds)]
    return data_table(
        "milliseconds per gradient on this computer", ["minibatch size B", "loop (ms)", "matrix form (ms)", "speed-up"], rows
    )


TRAINING_CONTROLS = {"learning_rate": [0.01, 0.1, 1.0], "hidden_width": [4, 32, 128]}
BATCH_SIZES = (4, 32, 256)


class TrainingExplorer:
    """render(learning_rate, hidden_width) -> training loss and test accuracy per epoch of the digits
    MLP 64 -> width -> ReLU -> 10 with plain SGD, one line per batch size in BATCH_SIZES.

    ``history(learning_rate, hidden_width, batch_size)`` gives fit's history of one run, e.g.
    cnn_core.mlp.digits_mlp_history (cached, so the chapter's text and this explorer share runs);
    ``n_train`` and ``n_test`` are the sizes of the digits' split, for the labels.
    """

    def __init__(self, history: Callable[[float, int, int], dict[str, list[float]]], n_train: int, n_test: int) -> None:
        self.history, self.n_train, self.n_test = history, n_train, n_test

    def __call__(self, learning_rate: float, hidden_width: int) -> "plt.Figure":
        fig, (ax1, ax2) = column_figure(2, 1, height=6.6)
        for b, style in zip(BATCH_SIZES, ("o-", "s-", "^-")):
            h = self.history(learning_rate, hidden_width, b)
            label = f"batch {b} ({-(-self.n_train // b)} updates/epoch)"
            ax1.plot(h["epoch"], np.minimum(np.nan_to_num(h["loss"], nan=9.0), 2.55), style, label=label)
            ax2.plot(h["epoch"], h["val_accuracy"], style, label=label)
        ax1.set_ylim(0, 2.6)
        ax1.set_title(f"training loss (cross-entropy),\nlr {learning_rate:g}, width {hidden_width}")
        ax2.set_ylim(0, 1.02)
        ax2.set_title(f"accuracy on the {self.n_test:,} test digits")
        ax2.set_xlabel(f"epoch (one pass over the\n{self.n_train:,} training digits)")
        ax2.legend(loc="lower right")
        return readable(fig)

    def describe(self, learning_rate: float, hidden_width: int) -> str:
        """Caption and alt text of one explorer state."""
        parts = []
        for b in BATCH_SIZES:
            h = self.history(learning_rate, hidden_width, b)
            parts.append(f"batch {b}: {h['val_accuracy'][-1]:.0%}")
        return (
            f"learning rate {learning_rate:g}, {hidden_width} hidden neurons; test accuracy after "
            f"{len(h['epoch'])} epochs: " + ", ".join(parts)
        )


# --- chapter 3: fully connected layers on images -----------------------------------------------


def fc_cost(height: int, width: int, depth: int, neurons: int, bias: bool = True, bytes_per_value: int = 4) -> tuple[int, float]:
    """(parameters, megabytes) of one fully connected layer on an H x W x D image:
    (H W D + 1) x neurons numbers, 4 bytes each in float32, 1 MB = 10^6 bytes."""
    n = linear_num_params(height * width * depth, neurons, bias=bias)
    return n, n * bytes_per_value / 1e6


def show_stretch(img: np.ndarray) -> "plt.Figure":
    """A small colour image (H, W, 3) uint8, its three channels, and the H*W*3 column the
    fully connected layer reads (drawn lying down), channel by channel as in cnn_core's Flatten of NCHW."""
    img = np.asarray(img)
    h, w, d = img.shape
    fig = plt.figure(figsize=(12, 5.2))
    grid = fig.add_gridspec(2, 4, height_ratios=[3, 1.1])
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(img, interpolation="nearest")
    ax.set_title(f"input image {h} x {w} x {d}", fontsize=10)
    for c in range(d):
        ax = fig.add_subplot(grid[0, c + 1])
        ax.imshow(img[..., c], cmap=CHANNEL_CMAPS[c], vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(f"channel {CHANNELS[c]}: {h} x {w} = {h * w} numbers", fontsize=10)
    column = img.transpose(2, 0, 1).reshape(-1)  # (D, H, W) flattened: all of R, then G, then B
    ax = fig.add_subplot(grid[1, :])
    ax.imshow(column[None, :], aspect="auto", cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    for c in range(1, d):
        ax.axvline(c * h * w - 0.5, color="yellow", lw=1.5)
    ax.set_yticks([])
    ax.set_xticks([c * h * w for c in range(d)] + [h * w * d - 1])
    ax.set_xlabel("index in the input vector x (R block, G block, B block)")
    ax.set_title(f"stretched to a {h * w * d} x 1 vector x (drawn lying down; gray = value 0..255)", fontsize=10)
    fig.tight_layout()
    return fig


PARAM_CONTROLS = {"image_side": [32, 64, 128, 200, 512], "neurons": [1, 100, 784, 4096]}
_SIDES = np.array([8, 16, 32, 64, 128, 200, 512, 1024])


def describe_params(image_side: int, neurons: int) -> str:
    """Caption and alt text of one parameter explorer state."""
    n, mb = fc_cost(image_side, image_side, 3, neurons)
    conv = conv_num_params(5, 3, neurons)
    return (
        f"{image_side} x {image_side} x 3 image = {3 * image_side**2:,} inputs, fully connected to {neurons:,} "
        f"neurons: {n:,} parameters, {mb:,.2f} MB in float32; {neurons:,} 5x5x3 convolution filters: "
        f"{conv:,} parameters at any image size"
    )


def _log_axis(axis, ticks: list[float], labels: list[str]) -> None:
    """Fixed ticks with plain-text labels and no minor ticks on a log axis (fast to draw, no mathtext)."""
    from matplotlib.ticker import NullLocator

    axis.set_ticks(ticks, labels)
    axis.set_minor_locator(NullLocator())


def render_params(image_side: int, neurons: int) -> "plt.Figure":
    """Parameters of one fully connected layer (H = W = side, D = 3) as the image grows, for a
    given number of neurons, beside a conv layer with as many 5x5x3 filters; memory in MB."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1.6, 1]})
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.9, wspace=0.3)
    fc = np.array([fc_cost(s, s, 3, neurons)[0] for s in _SIDES], dtype=float)
    conv = conv_num_params(5, 3, neurons)
    ax1.loglog(_SIDES, fc, "o-", color="tab:red", label=f"fully connected, {neurons:,} neurons")
    ax1.loglog(_SIDES, np.full(len(_SIDES), conv), "s--", color="tab:blue", label=f"conv, {neurons:,} filters 5x5x3")
    n, mb = fc_cost(image_side, image_side, 3, neurons)
    ax1.plot([image_side], [n], "*", ms=16, color="black", zorder=5)
    ax1.annotate(f"{n:,} params", (image_side, n), textcoords="offset points", xytext=(-10, 10), ha="right", fontsize=9)
    ax1.set_xlim(6, 1400)
    ax1.set_ylim(10, 1e11)
    _log_axis(ax1.xaxis, list(_SIDES), [str(s) for s in _SIDES])
    _log_axis(ax1.yaxis, [10, 1e3, 1e5, 1e7, 1e9, 1e11], ["10", "1k", "100k", "10M", "1B", "100B"])
    ax1.set_xlabel("image side (the image is side x side x 3)")
    ax1.set_ylabel("parameters (M = million, B = billion)", fontsize=8)
    ax1.set_title("parameters grow with the image for FC, not for conv", fontsize=10)
    ax1.legend(fontsize=8, loc="upper left")
    conv_mb = conv * 4 / 1e6
    bars = ax2.bar(["fully connected", "conv 5x5x3"], [mb, conv_mb], color=["tab:red", "tab:blue"])
    ax2.set_yscale("log")
    ax2.set_ylim(1e-5, 1e5)
    _log_axis(ax2.yaxis, [1e-5, 1e-3, 1e-1, 10, 1e3, 1e5], ["0.00001", "0.001", "0.1", "10", "1,000", "100,000"])
    ax2.bar_label(bars, labels=[f"{mb:,.3g} MB", f"{conv_mb:.3g} MB"], fontsize=9)
    ax2.set_ylabel("MB in float32 (4 bytes each)", fontsize=8)
    ax2.set_title(f"memory at {image_side} x {image_side} x 3", fontsize=10)
    return fig


def show_permuted(pairs: list[tuple[str, np.ndarray, np.ndarray]]) -> "plt.Figure":
    """Columns of (title, image, the same image with its pixels permuted): top row as we see
    them, bottom row after the fixed permutation."""
    fig, axes = plt.subplots(2, len(pairs), figsize=(2.3 * len(pairs), 4.6), squeeze=False)
    for j, (title, img, perm_img) in enumerate(pairs):
        for i, (im, what) in enumerate(((img, title), (perm_img, "pixels permuted"))):
            ax = axes[i, j]
            gray = im.ndim == 2
            ax.imshow(im, cmap="gray_r" if gray else None, vmin=0, vmax=1 if gray else 255, interpolation="nearest")
            ax.set_title(what, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_histories(histories: dict[str, dict[str, list[float]]]) -> "plt.Figure":
    """Test accuracy per epoch of several training runs, one line each."""
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    styles = ["o-", "x--", "s:", "d-."]
    for (label, h), style in zip(histories.items(), styles):
        ax.plot(h["epoch"], h["val_accuracy"], style, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.5, 1.0)
    ax.set_title("a fully connected net on digits: real vs shuffled pixels", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def show_hidden_weights(
    rows: dict[str, np.ndarray],
    shape: tuple[int, int] = (8, 8),
    n: int = 8,
    title: str = "hidden-layer weights as 8x8 pictures (red +, blue -)",
) -> "plt.Figure":
    """The weights W[k, :] of the first n hidden neurons drawn as images of ``shape``, one row per model.

    Each panel is scaled to its own largest |weight| (white = 0); an all-zero row (e.g. the
    change of a neuron that training never updated) is drawn white and titled "all 0".
    """
    fig, axes = plt.subplots(len(rows), n, figsize=(1.25 * n, 1.5 * len(rows)), squeeze=False)
    for i, (label, W) in enumerate(rows.items()):
        for k in range(n):
            ax = axes[i, k]
            v = float(np.abs(W[k]).max())
            ax.imshow(W[k].reshape(shape), cmap="RdBu_r", vmin=-(v or 1.0), vmax=v or 1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"neuron {k}" + ("" if v else ": all 0"), fontsize=7)
        axes[i, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_local_filter(panels: list[tuple[str, np.ndarray]]) -> "plt.Figure":
    """A row of gray images with titles (a local filter on the picture and on its permuted pixels)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(2.7 * len(panels), 3))
    for ax, (title, im) in zip(axes, panels):
        ax.imshow(im, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
