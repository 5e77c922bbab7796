"""The lecture's formulas: output size, parameter counts, receptive field.

Lecture notation: an input of spatial size N (or W1 x H1), a filter of size F,
stride S, zero padding P on each side, K filters, input depth D1.

    output size = (N + 2P - F) / S + 1          (must be a whole number)
    conv params = (F * F * D1 + 1) * K          (+1 is the bias of each filter)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .inputs import pair, whole


def check_whole_number(name: str, value: int, minimum: int) -> int:
    """Return value as an int, or raise if it is not a whole number >= minimum.

    Bools are refused too (``stride=True`` is a mistake, not a stride of 1).
    """
    from .inputs import whole

    return whole(name, value, minimum)


ROUNDINGS = ("strict", "floor", "ceil")


def check_rounding(value, where: str = "", allowed: tuple[str, ...] = ROUNDINGS) -> str:
    """rounding as one of allowed, or a ValueError that lists them."""
    if not isinstance(value, str) or value not in allowed:
        prefix = f"{where}: " if where else ""
        meanings = {
            "strict": "the lecture's rule, (N + 2P - F)/S must be whole",
            "floor": "drop the cells the last window cannot reach, as PyTorch's default",
            "ceil": "one more, partial window at the far edge, as PyTorch's ceil_mode=True",
        }
        listed = "; ".join(f"{r!r} ({meanings[r]})" for r in allowed)
        raise ValueError(f"{prefix}rounding must be one of {listed}, got {value!r}")
    return value


def output_size(n: int, f: int, stride: int = 1, padding: int = 0, dilation: int = 1, rounding: str = "strict") -> int:
    """Spatial output size of a convolution or pooling window: (N + 2P - F) / S + 1.

    A dilated filter (dilation d: taps d cells apart) spans F_eff = d(F - 1) + 1 cells, and
    F_eff takes the place of F. rounding says what happens when (N + 2P - F_eff) is not a
    multiple of S:

    * "strict" (the default, the lecture's rule) raises a ValueError: the filter does not
      fit (the lecture's "7x7 input, 3x3 filter, stride 3: doesn't fit!");
    * "floor" drops the cells the last window cannot reach: floor((N + 2P - F_eff)/S) + 1,
      as PyTorch's convolution and pooling do;
    * "ceil" adds one more, partial window: ceil((N + 2P - F_eff)/S) + 1, as PyTorch's
      ceil_mode=True, minus that window again if it would start beyond the input and its
      left padding (it must start at a position < N + P).

    A filter larger than the padded input always raises.
    """
    n = check_whole_number("input size N", n, 1)
    f = check_whole_number("filter size F", f, 1)
    stride = check_whole_number("stride S", stride, 1)
    padding = check_whole_number("padding P", padding, 0)
    dilation = check_whole_number("dilation", dilation, 1)
    rounding = check_rounding(rounding)
    f_eff = dilation * (f - 1) + 1
    dilated = "" if dilation == 1 else f"dilated filter F_eff = dilation*(F - 1) + 1 = {dilation}*({f} - 1) + 1 = {f_eff}: "
    span = n + 2 * padding - f_eff
    if span < 0:
        name = "filter F" if dilation == 1 else "F_eff"
        raise ValueError(
            f"{dilated}{name}={f_eff} is larger than the padded input N + 2P = {n} + 2*{padding} = "
            f"{n + 2 * padding}: use a filter of size <= {n + 2 * padding} or pad with "
            f"P >= {-(-(f_eff - n) // 2)}"
        )
    if span % stride == 0 or rounding == "floor":
        return span // stride + 1
    if rounding == "ceil":
        size = -(-span // stride) + 1
        return size - 1 if (size - 1) * stride >= n + padding else size
    raise ValueError(
        f"{dilated}filter does not fit: (N + 2P - F) / S + 1 = ({n} + 2*{padding} - {f_eff}) / {stride} + 1 "
        f"= {span / stride + 1:.2f} is not a whole number. {_fix_hint(n, f_eff, stride, padding)}"
    )


def transposed_output_size(n: int, f: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1) -> int:
    """Spatial output size of a transposed convolution: (N - 1)S - 2P + dilation(F - 1) + output_padding + 1.

    It inverts output_size: a convolution with the same F, S, P, dilation maps the result
    back to N (rounding down, PyTorch's rule). output_padding (0 <= output_padding < S or
    < dilation, PyTorch's rule) picks one of the S sizes that all convolve down to N.
    """
    n = check_whole_number("input size N", n, 1)
    f = check_whole_number("filter size F", f, 1)
    stride = check_whole_number("stride S", stride, 1)
    padding = check_whole_number("padding P", padding, 0)
    output_padding = check_whole_number("output_padding", output_padding, 0)
    dilation = check_whole_number("dilation", dilation, 1)
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(
            f"output_padding={output_padding} must be smaller than the stride S={stride} or the dilation={dilation} "
            f"(PyTorch's rule: it only picks among the sizes that convolve back to N); use output_padding <= "
            f"{max(stride, dilation) - 1}"
        )
    size = (n - 1) * stride - 2 * padding + dilation * (f - 1) + output_padding + 1
    if size < 1:
        raise ValueError(
            f"transposed output size (N - 1)S - 2P + dilation(F - 1) + output_padding + 1 = "
            f"({n} - 1)*{stride} - 2*{padding} + {dilation}*({f} - 1) + {output_padding} + 1 = {size} is < 1: "
            f"use a smaller padding P <= {((n - 1) * stride + dilation * (f - 1) + output_padding) // 2}"
        )
    return size


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
    input_shape: Sequence[int],
    out_channels: int,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    rounding: str = "strict",
) -> tuple[int, int, int]:
    """(D1, H1, W1) -> (D2, H2, W2) with D2 = K and H2, W2 from output_size.

    kernel_size, stride, padding and dilation are one number for both axes or a pair (height, width).
    """
    try:
        d, h, w = input_shape
    except (TypeError, ValueError):
        raise ValueError(f"input_shape must be (D1, H1, W1), one sample without the batch axis, got {input_shape!r}") from None
    check_whole_number("input depth D1", d, 1)
    out_channels = check_whole_number("out_channels K", out_channels, 1)
    per_axis = zip(
        pair("kernel_size F", kernel_size, 1),
        pair("stride S", stride, 1),
        pair("padding P", padding, 0),
        pair("dilation", dilation, 1),
    )
    sizes = []
    for (axis, n), (f, s, p, dil) in zip((("height H1", h), ("width W1", w)), per_axis):
        try:
            sizes.append(output_size(n, f, s, p, dil, rounding))
        except ValueError as err:
            raise ValueError(f"{axis}={n}: {err}") from None
    return (out_channels, *sizes)


def conv_num_params(
    kernel_size: int | tuple[int, int], in_channels: int, out_channels: int, bias: bool = True, groups: int = 1
) -> int:
    """(F * F * D1 + 1) * K: each of the K filters spans the full input depth, plus one bias.

    Non-square filters (Fh, Fw): (Fh * Fw * D1 + 1) * K. With groups G the channels split into
    G groups and each filter spans only its group's D1/G channels: (Fh * Fw * D1/G + 1) * K
    (depthwise convolution: G = D1, one Fh x Fw filter per channel).
    """
    fh, fw = pair("kernel_size F", kernel_size, 1)
    d = check_whole_number("in_channels D1", in_channels, 1)
    k = check_whole_number("out_channels K", out_channels, 1)
    groups = check_groups(groups, d, k)
    return (fh * fw * (d // groups) + int(_flag("bias", bias))) * k


def check_groups(groups: int, in_channels: int, out_channels: int, where: str = "") -> int:
    """groups as an int that divides both in_channels and out_channels, or a ValueError with the fix."""
    prefix = f"{where}: " if where else ""
    groups = whole("groups", groups, 1, where)
    for name, channels in (("in_channels D", in_channels), ("out_channels K", out_channels)):
        if channels % groups:
            divisors = [g for g in range(1, min(in_channels, out_channels) + 1) if in_channels % g == 0 and out_channels % g == 0]
            raise ValueError(
                f"{prefix}groups={groups} must divide {name}={channels} (each group takes {name.split()[0]}/groups "
                f"channels): {channels} / {groups} = {channels / groups:.2f}; groups that divide both "
                f"D={in_channels} and K={out_channels}: {divisors}"
            )
    return groups


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
