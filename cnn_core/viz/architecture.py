"""Figures for chapter 9 (putting it together): summary tables, shape profiles, parameter counts.

``plot_summary`` draws ``Sequential.summary_table`` itself (the same text) with a bar of
each layer's parameters beside its row; ``render_builder`` is the explorer of the lecture's
pattern Input -> [[Conv -> ReLU]*N -> Pool?]*M -> [FC -> ReLU]*Q -> FC.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..architectures import typical_architecture
from ..model import Sequential

#: Controls of the static (pre-rendered) builder: 3 * 6 * 2 = 36 states (M = 6 does not fit), input 1 x 32 x 32.
BUILDER_CONTROLS: dict[str, list] = {"N": [1, 2, 3], "M": [1, 2, 3, 4, 5, 6], "Q": [0, 2]}
#: Controls of the live builder (needs a kernel): also the first block's filters and the input size.
BUILDER_LIVE_CONTROLS: dict[str, list] = {
    "N": [1, 2, 3, 4, 5],
    "M": list(range(1, 9)),
    "Q": [0, 1, 2],
    "filters": [4, 8, 16, 32, 64],
    "input_size": [8, 28, 32, 64, 224],
}


def plot_summary(model: Sequential, input_shape: Sequence[int], title: str = "", hide_relu: bool = False) -> plt.Figure:
    """The text of model.summary_table(input_shape), one row per layer, with a bar of the
    layer's parameter count (log scale) on the same row. hide_relu leaves out the ReLU rows
    (same shape as the row above, no parameters) to keep big tables short."""
    lines = model.summary_table(input_shape).splitlines()
    params = [0, 0] + [n for _, _, n in model.trace(input_shape)] + [0]  # header, input, layers, total
    keep = [i for i, line in enumerate(lines) if not (hide_relu and line.startswith("ReLU()"))]
    lines, params = [lines[i] for i in keep], np.array([params[i] for i in keep])
    rows = len(lines)
    text_w, bar_w, row_h = 0.066 * max(len(line) for line in lines), 2.0, 0.19  # inches (7.5 pt monospace)
    fig_w, fig_h = text_w + bar_w + 0.3, row_h * rows + 0.75
    fig = plt.figure(figsize=(fig_w, fig_h))
    box = [0.5 / fig_h, row_h * rows / fig_h]  # bottom, height
    ax_text = fig.add_axes((0.1 / fig_w, box[0], text_w / fig_w, box[1]))
    ax_bar = fig.add_axes(((0.1 + text_w) / fig_w, box[0], bar_w / fig_w, box[1]), sharey=ax_text)
    for i, line in enumerate(lines):
        ax_text.text(0, i, line, family="monospace", fontsize=7.5, va="center", weight="bold" if i in (0, rows - 1) else "normal")
    ax_text.set_xlim(0, 1)
    ax_text.axis("off")
    note = "\nReLU rows left out (same shape as the row above, 0 params)" if hide_relu else ""
    ax_text.set_title((title or f"Sequential.summary({tuple(input_shape)})") + note, fontsize=9, loc="left")
    ys = np.flatnonzero(params)
    ax_bar.barh(ys, params[ys], color="tab:blue", height=0.7)
    ax_bar.set_xscale("log")
    top = max(10.0, params.max() * 2)
    ticks = [t for t in (10, 1e3, 1e5, 1e7, 1e9) if t <= top]
    ax_bar.set_xticks(ticks, [f"{t:,.0f}" if t < 1e5 else f"{t / 1e6:g}M" for t in ticks], fontsize=7)
    ax_bar.minorticks_off()  # plain tick labels: cheap to draw
    ax_bar.set_xlim(1, top)
    ax_bar.set_ylim(rows - 0.5, -0.5)
    ax_bar.set_title("parameters per layer (log scale)", fontsize=8)
    ax_bar.tick_params(axis="y", left=False, labelleft=False)
    ax_bar.grid(axis="x", alpha=0.3)
    return fig


def _builder(N: int, M: int, Q: int, filters: int, input_size: int) -> Sequential:
    return typical_architecture(N, M, Q, input_shape=(1, input_size, input_size), filters=filters, weights=False)


def render_builder(N: int = 2, M: int = 2, Q: int = 1, filters: int = 8, input_size: int = 32) -> plt.Figure:
    """Explorer: the summary of Input -> [[Conv 3x3 -> ReLU]*N -> MaxPool 2x2]*M -> [FC 64 -> ReLU]*Q -> FC 10
    on a 1 x input_size x input_size image, filters doubling from block to block.
    Raises the builder's ValueError when the combination does not fit."""
    net = _builder(N, M, Q, filters, input_size)
    return plot_summary(
        net,
        (1, input_size, input_size),
        f"N={N}, M={M}, Q={Q}, {filters} filters in block 1, input 1x{input_size}x{input_size}",
        hide_relu=True,
    )


def describe_builder(N: int = 2, M: int = 2, Q: int = 1, filters: int = 8, input_size: int = 32) -> str:
    """Caption and alt text of render_builder: the pattern, the output of the conv part, the total."""
    head = f"Input 1x{input_size}x{input_size} -> [[Conv -> ReLU]*{N} -> Pool]*{M} -> [FC -> ReLU]*{Q} -> FC: "
    try:
        net = _builder(N, M, Q, filters, input_size)
    except ValueError:
        return head + "does not fit (see the message)."
    rows = net.trace((1, input_size, input_size))
    flat = next(shape for name, shape, _ in rows if name == "Flatten()")
    conv_out = rows[[name for name, _, _ in rows].index("Flatten()") - 1][1]
    return (
        head + f"{len(net.layers)} layers; the conv part ends in a {conv_out} volume (D, H, W) = "
        f"{flat[0]:,} numbers; {net.num_params():,} parameters in total."
    )


def plot_shape_profiles(nets: dict[str, tuple[Sequential, Sequence[int]]]) -> plt.Figure:
    """Spatial size H and depth D of the output of every conv, ReLU and pool layer, one line per
    net: the volumes get smaller in space and deeper as the nets go on. Lines get thinner and change
    style from net to net, so that nets with the same sizes (AlexNet, ZF Net) stay visible."""
    fig, (ax_h, ax_d) = plt.subplots(1, 2, figsize=(10, 3.6))
    styles = ("-", "--", "-.", ":")
    for i, (name, (net, input_shape)) in enumerate(nets.items()):
        shapes = [tuple(input_shape)] + [s for _, s, _ in net.trace(input_shape) if len(s) == 3]
        steps = np.arange(len(shapes))
        look = dict(marker="o", ms=3, label=name, ls=styles[i % len(styles)], lw=max(3.2 - 0.5 * i, 1.5))
        ax_h.plot(steps, [s[1] for s in shapes], **look)
        ax_d.plot(steps, [s[0] for s in shapes], **look)
    for ax, what in ((ax_h, "spatial size H (= W)"), (ax_d, "depth D (number of activation maps)")):
        ax.set_yscale("log", base=2)
        low, high = ax.get_ylim()
        ticks = [2**k for k in range(12) if low <= 2**k <= high]
        ax.set_yticks(ticks, [str(t) for t in ticks])  # 4, 8, ..., 256 rather than 2^k
        ax.minorticks_off()
        ax.set_xlabel("layer (input = 0; conv, ReLU and pool layers)")
        ax.set_ylabel(what)
        ax.set_title(what + " along the net", fontsize=10)
        ax.grid(alpha=0.3)
    ax_h.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_param_split(split: dict[str, tuple[int, int]]) -> plt.Figure:
    """Share of each net's parameters in conv layers vs fully connected layers (from conv_fc_split())."""
    names = list(split)
    fig, ax = plt.subplots(figsize=(8.5, 2.9))
    for i, name in enumerate(names):
        conv, fc = split[name]
        total = conv + fc
        ax.barh(i, conv / total, color="tab:blue", label="conv layers" if i == 0 else None)
        ax.barh(i, fc / total, left=conv / total, color="tab:orange", label="fully connected layers" if i == 0 else None)
        ax.text(0.01, i, f"conv {conv:,}", va="center", fontsize=8)
        ax.text(0.99, i, f"FC {fc:,}", va="center", ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of all parameters")
    ax.set_title("Where the parameters are: conv layers vs fully connected layers", fontsize=10)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.1), ncol=2)
    return fig


def param_count_markdown(
    rows: Sequence[tuple[str, int, int | None, str]], sources: dict, multiply_adds: dict[str, int | str] | None = None
) -> str:
    """A markdown table of param_count_comparison() with the published words and source; with
    ``multiply_adds`` ({net: multiply-adds for one image, or a text}), a column of them (G or M)."""
    macs_head, macs_rule = (" multiply-adds, one image |", " ---: |") if multiply_adds is not None else ("", "")
    lines = [
        f"| net | counted by cnn_core | published | ratio |{macs_head} what we counted | source |",
        f"| --- | ---: | --- | ---: |{macs_rule} --- | --- |",
    ]
    for name, counted, published, what in rows:
        ratio = f"{counted / published:.3f}" if published else "—"
        src = sources[name]
        macs = ""
        if multiply_adds is not None:
            n = multiply_adds.get(name, "—")
            macs = f" {n} |" if isinstance(n, str) else f" {n / 1e9:.2f} G |" if n >= 1e8 else f" {n / 1e6:.2f} M |"
        lines.append(f"| {name} | {counted:,} | {src.quote} | {ratio} |{macs} {what} | {src.source} |")
    return "\n".join(lines)


def plot_params_vs_compute(params: dict[str, tuple[int, int]], multiply_adds: dict[str, tuple[int, int]]) -> plt.Figure:
    """For each net, the share of the fully connected layers in its parameters and in its
    multiply-adds (both given as (conv, FC) pairs): FC layers hold the parameters, conv layers do
    the computing."""
    names = list(multiply_adds)
    fig, ax = plt.subplots(figsize=(8.5, 0.5 + 0.75 * len(names)))
    y = np.arange(len(names))
    for offset, (what, split, color) in zip(
        (-0.2, 0.2), (("parameters", params, "tab:orange"), ("multiply-adds", multiply_adds, "tab:red"))
    ):
        shares = [split[n][1] / sum(split[n]) for n in names]
        ax.barh(y + offset, shares, height=0.38, color=color, label=f"FC share of the {what}")
        for yi, share in zip(y + offset, shares):
            ax.text(share + 0.01, yi, f"{share:.1%}", va="center", fontsize=8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("share of the fully connected layers (the rest: convolution layers)")
    ax.set_title("FC layers hold the parameters; conv layers do the computing", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def googlenet_markdown(with_bias: Sequence[tuple], without_bias: Sequence[tuple]) -> str:
    """A markdown table of googlenet_param_table(bias=True) beside bias=False, with the paper's
    params column and our weights (no biases) divided by 1,024, the unit the column seems to use."""
    lines = [
        "| layer | output depth | parameters | weights only (no biases) | weights / 1,024 | Table 1's params |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (name, depth, n, paper), (_, _, w, _) in zip(with_bias, without_bias):
        paper_text = f"{paper:g}K" if paper is not None else "—"
        lines.append(f"| {name} | {depth:,} | {n:,} | {w:,} | {w / 1024:.1f}K | {paper_text} |")
    total, weights = sum(r[2] for r in with_bias), sum(r[2] for r in without_bias)
    paper_total = sum(r[3] for r in with_bias if r[3] is not None)
    lines.append(f"| **total** | | **{total:,}** | {weights:,} | {weights / 1024:.1f}K | {paper_total:g}K |")
    return "\n".join(lines)
