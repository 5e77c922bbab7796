"""The lecture's formulas: output size, parameter counts, receptive field.

Lecture notation: an input of spatial size N (or W1 x H1), a filter of size F,
stride S, zero padding P on each side, K filters, input depth D1.

    output size = (N + 2P - F) / S + 1          (must be a whole number)
    conv params = (F * F * D1 + 1) * K          (+1 is the bias of each filter)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_whole_number(name: str, value: int, minimum: int) -> int:
    """Return value as an int, or raise if it is not a whole number >= minimum.

    Bools are refused too (``stride=True`` is a mistake, not a stride of 1).
    """
    from .inputs import whole

    return whole(name, value, minimum)


def output_size(n: int, f: int, stride: int = 1, padding: int = 0) -> int:
    """Spatial output size of a convolution or pooling window: (N + 2P - F) / S + 1.

    Raises ValueError when the filter does not fit: when it is larger than the
    padded input, or when (N + 2P - F) is not a multiple of S (the lecture's
    "7x7 input, 3x3 filter, stride 3: doesn't fit!").
    """
    n = check_whole_number("input size N", n, 1)
    f = check_whole_number("filter size F", f, 1)
    stride = check_whole_number("stride S", stride, 1)
    padding = check_whole_number("padding P", padding, 0)
    span = n + 2 * padding - f
    if span < 0:
        raise ValueError(
            f"filter F={f} is larger than the padded input N + 2P = {n} + 2*{padding} = "
            f"{n + 2 * padding}: use a filter of size <= {n + 2 * padding} or pad with "
            f"P >= {-(-(f - n) // 2)}"
        )
    if span % stride:
        raise ValueError(
            f"filter does not fit: (N + 2P - F) / S + 1 = ({n} + 2*{padding} - {f}) / {stride} + 1 "
            f"= {span / stride + 1:.2f} is not a whole number. {_fix_hint(n, f, stride, padding)}"
        )
    return span // stride + 1


def _fix_hint(n: int, f: int, stride: int, padding: int) -> str:
    """Suggest the nearest stride and padding that make the filter fit."""
    span = n + 2 * padding - f
    strides = [s for s in range(stride - 1, 0, -1) if span % s == 0]
    hints = [f"stride S={strides[0]} fits" if strides else ""]
    for p in range(padding + 1, padding + stride + 1):
        if (n + 2 * p - f) % stride == 0:
            hints.append(f"padding P={p} fits with stride {stride}")
            break
    return "Try: " + " or ".join(h for h in hints if h) + "."


def conv_output_shape(
    input_shape: Sequence[int], out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0
) -> tuple[int, int, int]:
    """(D1, H1, W1) -> (D2, H2, W2) with D2 = K and H2, W2 from output_size."""
    try:
        d, h, w = input_shape
    except (TypeError, ValueError):
        raise ValueError(f"input_shape must be (D1, H1, W1), one sample without the batch axis, got {input_shape!r}") from None
    check_whole_number("input depth D1", d, 1)
    out_channels = check_whole_number("out_channels K", out_channels, 1)
    sizes = []
    for axis, n in (("height H1", h), ("width W1", w)):
        try:
            sizes.append(output_size(n, kernel_size, stride, padding))
        except ValueError as err:
            raise ValueError(f"{axis}={n}: {err}") from None
    return (out_channels, *sizes)


def conv_num_params(kernel_size: int, in_channels: int, out_channels: int, bias: bool = True) -> int:
    """(F * F * D1 + 1) * K: each of the K filters spans the full input depth, plus one bias."""
    f = check_whole_number("kernel_size F", kernel_size, 1)
    d = check_whole_number("in_channels D1", in_channels, 1)
    k = check_whole_number("out_channels K", out_channels, 1)
    return (f * f * d + int(_flag("bias", bias))) * k


def linear_num_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """A fully connected layer: one weight per (input, output) pair, plus a bias per output."""
    n_in = check_whole_number("in_features", in_features, 1)
    n_out = check_whole_number("out_features", out_features, 1)
    return (n_in + int(_flag("bias", bias))) * n_out


def _flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def same_padding(f: int) -> int:
    """The padding (F - 1) / 2 that keeps the size at stride 1 (F=3 -> 1, F=5 -> 2, F=7 -> 3)."""
    f = check_whole_number("filter size F", f, 1)
    if f % 2 == 0:
        raise ValueError(f"(F - 1) / 2 = {(f - 1) / 2} is not whole for an even filter F={f}: use an odd F")
    return (f - 1) // 2


def receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """Size of the input region that one output of a stack of (F, S) layers sees.

    r_0 = 1, r_l = r_{l-1} + (F_l - 1) * (product of the strides before layer l).
    """
    r, jump = 1, 1
    for i, layer in enumerate(layers):
        try:
            f, s = layer
        except (TypeError, ValueError):
            raise ValueError(
                f"layers[{i}] must be a pair (F, S) (filter size, stride), got {layer!r}; e.g. receptive_field([(3, 1), (2, 2)])"
            ) from None
        f = check_whole_number(f"filter size F of layers[{i}]", f, 1)
        s = check_whole_number(f"stride S of layers[{i}]", s, 1)
        r += (f - 1) * jump
        jump *= s
    return r
