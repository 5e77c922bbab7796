"""What a network costs: parameters, multiply-adds, activation memory, receptive fields, layer by layer.

What is counted (for one image):

* **multiply-adds** (MACs) of the convolution and fully connected layers only: a conv layer does
  one multiply-add per weight per output position, H2 * W2 * K * F * F * D / groups (the bias add
  is not counted); a fully connected layer in * out. Batch norm, ReLU, pooling and the residual
  additions (a few operations per activation, together about 1% of a ResNet's multiply-adds) are
  left out, as in the ResNet paper's Table 1 and torchvision's tables, whose "FLOPs" are these
  multiply-adds (1 multiply-add = 2 floating-point operations elsewhere).
* **activations**: the numbers in each layer's output (every one is kept for backward during
  training; the residual sums count as outputs too, the input image does not), and
  ``activation_memory`` in bytes (4 per number in float32).
* **receptive field** r of one output value, along the longest path (through a residual block's
  body, never shorter than its shortcut): r_l = r_(l-1) + (F_l - 1) * j_(l-1), jump
  j_l = j_(l-1) * S_l (``shapes.receptive_field``). After a global pool, a Flatten or a fully
  connected layer every output sees the whole input: r is None there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from .global_pool import GlobalAvgPool2D
from .inputs import whole
from .layers import Conv2D, Flatten, Layer, Linear
from .shapes import conv_output_shape


class LayerCost(NamedTuple):
    """One row of a cost table (one image)."""

    name: str  # dotted path, e.g. "layer2.0.conv1" (the layers' names, else their indices)
    layer: str  # what the layer is (its repr, or "+ (residual sum)")
    output_shape: tuple[int, ...]
    params: int
    multiply_adds: int
    activations: int  # numbers in the output
    receptive_field: int | None  # None: sees the whole input
    jump: int  # distance in input pixels between neighbouring outputs


def conv_multiply_adds(
    input_shape: Sequence[int], out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0, groups: int = 1
) -> int:
    """H2 * W2 * K * F * F * D / groups: one multiply-add per weight per output position (bias not counted)."""
    d = input_shape[0] if isinstance(input_shape, Sequence) and len(input_shape) == 3 else None
    k, h2, w2 = conv_output_shape(input_shape, out_channels, kernel_size, stride, padding)
    groups = whole("groups", groups, 1, "conv_multiply_adds")
    if d % groups or k % groups:
        raise ValueError(
            f"conv_multiply_adds: groups={groups} must divide the input depth D={d} and out_channels K={k}; "
            f"e.g. groups=1 (every filter sees all D maps)"
        )
    return h2 * w2 * k * kernel_size * kernel_size * (d // groups)


def linear_multiply_adds(in_features: int, out_features: int) -> int:
    """in * out: one multiply-add per weight (bias not counted)."""
    return whole("in_features", in_features, 1, "linear_multiply_adds") * whole(
        "out_features", out_features, 1, "linear_multiply_adds"
    )


def _leaf_multiply_adds(layer: Layer, output_shape: tuple[int, ...]) -> int:
    if isinstance(layer, Conv2D):  # W has K * (D/groups) * F * F numbers, each used at every output position
        return math.prod(output_shape[1:]) * layer.params["W"].size
    if isinstance(layer, Linear):
        return layer.params["W"].size
    return 0


def _window(layer: Layer, input_shape: tuple[int, ...]) -> tuple[int, int] | None:
    """(F, S) of a layer for the receptive field; (1, 1) for point-wise layers; None for global ones."""
    if isinstance(layer, (GlobalAvgPool2D, Flatten, Linear)):
        return None
    f, s = getattr(layer, "kernel_size", 1), getattr(layer, "stride", 1)
    return int(f), int(s)


def _child_name(layer: Layer, default: str) -> str:
    name = getattr(layer, "name", None)
    return default if name is None else name


def _join(prefix: str, name: str) -> str:
    return ".".join(part for part in (prefix, name) if part)


def _walk(
    layer: Layer, shape: tuple[int, ...], name: str, rf: int | None, jump: int
) -> tuple[list[LayerCost], tuple, int | None, int]:
    """Rows of every leaf layer inside ``layer`` in the order they run, and the output (shape, rf, jump)."""
    from .residual import Residual  # residual imports model, which this module must not need at import

    if isinstance(layer, Residual):
        rows, out, rf_body, jump_body = _walk(layer.body, shape, name, rf, jump)
        if layer.shortcut is None:
            skip, rf_skip = shape, rf
        else:
            more, skip, rf_skip, _ = _walk(layer.shortcut, shape, _join(name, _child_name(layer.shortcut, "shortcut")), rf, jump)
            rows += more
        out = layer.output_shape(shape)  # raises the clear mismatch error
        rf_out = None if rf_body is None or rf_skip is None else max(rf_body, rf_skip)
        rows.append(LayerCost(_join(name, "add"), "+ (residual sum)", out, 0, 0, math.prod(out), rf_out, jump_body))
        return rows, out, rf_out, jump_body
    if hasattr(layer, "layers"):
        rows = []
        for i, child in enumerate(layer.layers):
            more, shape, rf, jump = _walk(child, shape, _join(name, _child_name(child, str(i))), rf, jump)
            rows += more
        return rows, shape, rf, jump
    out = tuple(layer.output_shape(shape))
    window = _window(layer, shape)
    if window is None or rf is None:
        rf = None
    else:
        rf, jump = rf + (window[0] - 1) * jump, jump * window[1]
    row = LayerCost(name, repr(layer), out, layer.num_params(), _leaf_multiply_adds(layer, out), math.prod(out), rf, jump)
    return [row], out, rf, jump


def layer_costs(model: Layer, input_shape: Sequence[int]) -> list[LayerCost]:
    """One row per layer that runs (inside Sequentials and residual blocks too, plus each residual sum)."""
    rows, _, _, _ = _walk(model, tuple(input_shape), "", 1, 1)
    return rows


def cost_table(model: Layer, input_shape: Sequence[int], depth: int = 1) -> list[LayerCost]:
    """layer_costs summed into groups by the first ``depth`` parts of their names (depth=1: the model's
    own layers, e.g. ResNet's conv1, bn1, relu, maxpool, layer1..layer4, avgpool, fc). A group's output
    shape, receptive field and jump are those of its last row."""
    depth = whole("depth", depth, 1, "cost_table")
    groups: dict[str, list[LayerCost]] = {}
    for row in layer_costs(model, input_shape):
        groups.setdefault(".".join(row.name.split(".")[:depth]), []).append(row)
    table = []
    for key, rows in groups.items():
        last = rows[-1]
        what = last.layer if len(rows) == 1 else f"{len(rows)} layers"
        table.append(
            LayerCost(
                key,
                what,
                last.output_shape,
                sum(r.params for r in rows),
                sum(r.multiply_adds for r in rows),
                sum(r.activations for r in rows),
                last.receptive_field,
                last.jump,
            )
        )
    return table


def multiply_adds(model: Layer, input_shape: Sequence[int]) -> int:
    """Multiply-adds of all conv and fully connected layers of the model for one image of input_shape."""
    return sum(row.multiply_adds for row in layer_costs(model, input_shape))


def activation_memory(model: Layer, input_shape: Sequence[int], bytes_per_value: int = 4) -> int:
    """Bytes of all layer outputs for one image (what training keeps for backward); 4 bytes = float32."""
    bytes_per_value = whole("bytes_per_value", bytes_per_value, 1, "activation_memory")
    return bytes_per_value * sum(row.activations for row in layer_costs(model, input_shape))


def receptive_fields(model: Layer, input_shape: Sequence[int]) -> list[tuple[str, int | None, int]]:
    """(name, receptive field, jump) after every layer, along the longest path; None = the whole input."""
    return [(row.name, row.receptive_field, row.jump) for row in layer_costs(model, input_shape)]


def format_cost_table(rows: Sequence[LayerCost]) -> str:
    """A text table of cost rows with a total line (multiply-adds in millions)."""
    width = max([len(r.name) for r in rows] + [5])
    lines = [f"{'layer':<{width}}  {'output':<16}{'params':>12}{'MACs (M)':>11}{'activations':>13}{'RF':>6}"]
    for r in rows:
        rf = "all" if r.receptive_field is None else str(r.receptive_field)
        numbers = f"{r.params:>12,}{r.multiply_adds / 1e6:>11.1f}{r.activations:>13,}{rf:>6}"
        lines.append(f"{r.name:<{width}}  {str(r.output_shape):<16}{numbers}")
    total = (sum(r.params for r in rows), sum(r.multiply_adds for r in rows), sum(r.activations for r in rows))
    lines.append(f"{'total':<{width}}  {'':<16}{total[0]:>12,}{total[1] / 1e6:>11.1f}{total[2]:>13,}")
    return "\n".join(lines)
