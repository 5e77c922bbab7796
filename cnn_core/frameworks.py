"""One output-size formula, every framework: what the lecture, PyTorch, Keras/TensorFlow and
the d2l book answer for the same input size N, filter size F, stride S, padding P, dilation d.

Every one of them counts window positions. With the dilated filter's span F' = d(F - 1) + 1:

    lecture      (N + 2P - F')/S + 1, and it must be a whole number (else: doesn't fit)
    PyTorch      floor((N + 2P - F')/S) + 1                        nn.Conv2d, nn.MaxPool2d
                 ceil((N + 2P - F')/S) + 1, minus 1 if that last
                 window would start in the right padding           nn.MaxPool2d(ceil_mode=True)
                 padding="same": N (stride 1 only)                 nn.Conv2d(padding="same")
                 (N - 1)S - 2P + F' + output_padding               nn.ConvTranspose2d
    Keras / TF   "valid": floor((N - F')/S) + 1                    layers.Conv2D / MaxPooling2D
                 "same":  ceil(N/S), padding total
                          max((ceil(N/S) - 1)S + F' - N, 0), left = total // 2, right = the rest
                 transposed: "valid" NS + max(F' - S, 0), "same" NS  layers.Conv2DTranspose
    d2l          floor((n - k + p + s)/s) with p the TOTAL padding  (Dive into Deep Learning, 7.3)
                 of both sides (p = 2P)

Floor and the lecture agree whenever the lecture's number is whole; where it is not, the
frameworks silently drop the last (N + 2P - F') mod S rows of the padded input
(``dropped_positions``), and ceil_mode / "same" add a window that hangs over the edge.
"""

from __future__ import annotations

from .shapes import check_whole_number, output_size

FRAMEWORKS = ("lecture", "pytorch", "keras", "d2l")
LAYERS = ("conv", "pool", "transposed")


def span(f: int, dilation: int = 1) -> int:
    """The pixels a dilated filter covers, F' = d(F - 1) + 1 (a 3x3 filter at d = 2 spans 5x5)."""
    f = check_whole_number("filter size F", f, 1)
    dilation = check_whole_number("dilation d", dilation, 1)
    return dilation * (f - 1) + 1


def keras_same_padding(n: int, f: int, stride: int = 1, dilation: int = 1) -> tuple[int, int, int]:
    """TensorFlow's 'same' padding (total, left, right): the output is ceil(N/S) and

    total = max((ceil(N/S) - 1) S + F' - N, 0), left = total // 2, right = total - left
    (the extra pixel of an odd total goes to the right/bottom; PyTorch's 'same' does the same).
    """
    n = check_whole_number("input size N", n, 1)
    stride = check_whole_number("stride S", stride, 1)
    out = -(-n // stride)
    total = max((out - 1) * stride + span(f, dilation) - n, 0)
    return total, total // 2, total - total // 2


def _padding(framework: str, padding, allowed: tuple[str, ...]) -> int | str:
    if isinstance(padding, str):
        if padding not in allowed:
            raise ValueError(f"padding={padding!r} is not a padding {framework} knows; use an int or one of {allowed}")
        return padding
    return check_whole_number("padding P", padding, 0)


def framework_output_size(
    framework: str,
    n: int,
    f: int,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
    *,
    layer: str = "conv",
    ceil_mode: bool = False,
    output_padding: int | None = None,
) -> int:
    """The output size framework X gives for input size N (one axis).

    framework: "lecture", "pytorch", "keras" or "d2l". layer: "conv", "pool" (pooling: PyTorch's
    ceil_mode and its rule P <= F/2) or "transposed" (a transposed convolution, input N -> output).
    padding: P zeros on each side (an int), or "same"/"valid" (PyTorch, Keras; Keras knows only
    these two); for "d2l" the TOTAL padding p of both sides, as the book counts it.
    output_padding: PyTorch's / Keras's extra rows on one side of a transposed convolution's
    output (None: the framework's default). Raises ValueError with the framework's own rule
    where a setting is refused (PyTorch: padding='same' with stride > 1).
    """
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {LAYERS}, got {layer!r}")
    n = check_whole_number("input size N", n, 1)
    f = check_whole_number("filter size F", f, 1)
    stride = check_whole_number("stride S", stride, 1)
    fd = span(f, dilation)
    if ceil_mode and not (framework == "pytorch" and layer == "pool"):
        raise ValueError(
            f"ceil_mode=True is an option of PyTorch's pooling layers (nn.MaxPool2d, nn.AvgPool2d) only; "
            f"{framework} {layer} always rounds down. Use framework='pytorch', layer='pool'"
        )
    if output_padding is not None and layer != "transposed":
        raise ValueError(f"output_padding belongs to transposed convolutions (layer='transposed'), got layer={layer!r}")
    if framework == "lecture":
        return _lecture(n, f, fd, stride, _padding("the lecture", padding, ()), dilation, layer)
    if framework == "d2l":
        p = _padding("d2l", padding, ())
        if layer == "transposed":
            return (n - 1) * stride - p + fd  # d2l 14.10: (n - 1)s + k - p_total
        if n + p < fd:
            raise ValueError(f"kernel k'={fd} is larger than the padded input n + p = {n} + {p} = {n + p}")
        return (n - fd + p + stride) // stride
    if framework == "keras":
        return _keras(n, fd, stride, _padding("Keras", padding, ("valid", "same")), dilation, layer, output_padding)
    return _pytorch(n, f, fd, stride, _padding("PyTorch", padding, ("valid", "same")), dilation, layer, ceil_mode, output_padding)


def _lecture(n: int, f: int, fd: int, stride: int, padding: int, dilation: int, layer: str) -> int:
    if layer == "transposed":  # the size whose convolution gives back n: (N - 1) S - 2P + F'
        out = (n - 1) * stride - 2 * padding + fd
        if out < 1:
            raise ValueError(f"(N - 1)S - 2P + F' = ({n} - 1)*{stride} - 2*{padding} + {fd} = {out} < 1: use less padding")
        return out
    if dilation == 1:
        return output_size(n, f, stride, padding)
    try:
        return output_size(n, fd, stride, padding)
    except ValueError as err:
        raise ValueError(f"with dilation {dilation} the {f}x{f} filter spans F' = {fd}: {err}") from None


def _keras(n: int, fd: int, stride: int, padding, dilation: int, layer: str, output_padding: int | None) -> int:
    if not isinstance(padding, str):
        raise ValueError(
            f"Keras takes padding='valid' or 'same', not a number ({padding}); for P zeros on each side "
            f"put layers.ZeroPadding2D({padding}) before the layer (input {n} -> {n + 2 * padding}) and use 'valid'"
        )
    if stride > 1 and dilation > 1 and layer != "pool":
        raise ValueError(
            f"Keras refuses strides > 1 together with dilation_rate > 1 (got strides={stride}, dilation_rate={dilation})"
        )
    if layer == "transposed":  # keras.utils.conv_utils.deconv_output_length
        if output_padding is None:
            return n * stride + max(fd - stride, 0) if padding == "valid" else n * stride
        if not 0 <= output_padding < stride:
            raise ValueError(f"Keras: output_padding={output_padding} must be smaller than the stride {stride}")
        pad = fd // 2 if padding == "same" else 0
        return (n - 1) * stride + fd - 2 * pad + output_padding
    if padding == "same":
        return -(-n // stride)
    if n < fd:
        raise ValueError(f"Keras 'valid': the filter spans {fd} > input size {n}, the output would be empty; use padding='same'")
    return (n - fd) // stride + 1


def _pytorch(
    n: int, f: int, fd: int, stride: int, padding, dilation: int, layer: str, ceil_mode: bool, output_padding: int | None
) -> int:
    if padding == "valid":
        padding = 0
    if layer == "transposed":
        if isinstance(padding, str):
            raise ValueError("PyTorch: ConvTranspose2d takes an int padding; padding='same' is only for Conv2d (stride 1)")
        op = 0 if output_padding is None else check_whole_number("output_padding", output_padding, 0)
        if op >= stride and op >= dilation:
            raise ValueError(
                f"PyTorch: output padding must be smaller than either stride or dilation, but got "
                f"output_padding={op}, stride={stride}, dilation={dilation}"
            )
        return (n - 1) * stride - 2 * padding + fd + op
    if padding == "same":
        if layer == "pool":
            raise ValueError("PyTorch: pooling layers take an int padding; padding='same' is only for Conv2d")
        if stride > 1:
            raise ValueError(
                f"PyTorch: padding='same' is not supported for strided convolutions (stride={stride}); "
                f"use an int padding instead, e.g. padding={(fd - 1) // 2}"
            )
        return n
    if layer == "pool" and padding > f // 2:
        raise ValueError(
            f"PyTorch: pad should be smaller than or equal to half of kernel size, but got pad={padding}, kernel_size={f}"
        )
    extent = n + 2 * padding - fd
    if extent < 0:
        raise ValueError(f"PyTorch: kernel size {fd} can't be greater than the padded input size {n + 2 * padding}")
    if not ceil_mode:
        return extent // stride + 1
    out = -(-extent // stride) + 1
    if (out - 1) * stride >= n + padding:  # the last window must start inside the input or the left padding
        out -= 1
    return out


def dropped_positions(n: int, f: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> list[int]:
    """Input rows (or columns) 0..N-1 that no tap of any window reads when the frameworks round down.

    Windows start at 0, S, 2S, ... in the padded input (floor((N + 2P - F')/S) + 1 of them) and read
    the taps start + d*j, j = 0..F-1. What is left: the (N + 2P - F') mod S rows past the last window
    (the lecture's "doesn't fit"), and with S > F' or d > 1 also rows between taps that no window hits.
    """
    n = check_whole_number("input size N", n, 1)
    stride = check_whole_number("stride S", stride, 1)
    padding = check_whole_number("padding P", padding, 0)
    fd = span(f, dilation)
    if n + 2 * padding < fd:
        return list(range(n))
    read = set()
    for start in range(0, (n + 2 * padding - fd) // stride * stride + 1, stride):
        read.update(start + dilation * j - padding for j in range(f))
    return [i for i in range(n) if i not in read]


def framework_table(n: int, f: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> list[dict]:
    """One row per framework setting for the lecture's N, F, S, P (and dilation d): the call, the
    formula with the numbers, and the output size (None where the setting is refused, with why).
    The last row goes back with nn.ConvTranspose2d from Conv2d's output to N: its output_padding is
    the (N + 2P - F') mod S rows the floor dropped.

    Keys: "framework", "call", "formula", "output" (int or None), "note".
    """
    n = check_whole_number("input size N", n, 1)
    fd = span(f, dilation)
    s, p, d = stride, padding, dilation
    fs = f"{fd}" if d == 1 else f"{d}·({f}−1)+1"
    dil = "" if d == 1 else f", dilation={d}"
    total, left, right = keras_same_padding(n, f, s, d)
    rows = [
        ("lecture", "lecture", f"F={f}, S={s}, P={p}", f"({n} + 2·{p} − {fs})/{s} + 1 = {(n + 2 * p - fd) / s + 1:.4g}", {}),
        (
            "PyTorch",
            "pytorch",
            f"nn.Conv2d(…, {f}, stride={s}, padding={p}{dil})",
            f"⌊({n} + 2·{p} − {fs})/{s}⌋ + 1",
            dict(padding=p),
        ),
        (
            "PyTorch",
            "pytorch",
            f"nn.MaxPool2d({f}, stride={s}, padding={p}{dil}, ceil_mode=True)",
            f"⌈({n} + 2·{p} − {fs})/{s}⌉ + 1, −1 if the last window starts in the right padding",
            dict(padding=p, layer="pool", ceil_mode=True),
        ),
        ("PyTorch", "pytorch", f"nn.Conv2d(…, {f}, stride={s}, padding='same'{dil})", "N (stride 1 only)", dict(padding="same")),
        (
            "Keras / TF",
            "keras",
            f"Conv2D(…, {f}, strides={s}, padding='valid'{dil.replace('dilation', 'dilation_rate')})"
            + (f" after ZeroPadding2D({p})" if p else ""),
            f"⌊({n + 2 * p} − {fs})/{s}⌋ + 1",
            dict(padding="valid", n=n + 2 * p),
        ),
        (
            "Keras / TF",
            "keras",
            f"Conv2D(…, {f}, strides={s}, padding='same'{dil.replace('dilation', 'dilation_rate')})",
            f"⌈{n}/{s}⌉, pads {total} = {left} left + {right} right",
            dict(padding="same"),
        ),
        ("d2l", "d2l", f"p = {2 * p} (total), s = {s}", f"⌊({n} − {fs} + {2 * p} + {s})/{s}⌋", dict(padding=2 * p)),
    ]
    table = []
    for name, fw, call, formula, kwargs in rows:
        size_n = kwargs.pop("n", n)
        try:
            out, note = framework_output_size(fw, size_n, f, s, dilation=d, **({"padding": p} | kwargs)), ""
        except ValueError as err:
            out, note = None, str(err)
        table.append({"framework": name, "call": call, "formula": formula, "output": out, "note": note})
    dropped = dropped_positions(n, f, s, p, d)
    if dropped and table[1]["output"] is not None:
        table[1]["note"] = f"input rows {dropped} never read"
    floor = table[1]["output"]  # back from Conv2d's output: output_padding restores the rows the floor lost
    a = (n + 2 * p - fd) % s if floor is not None else 0
    row = {
        "framework": "PyTorch",
        "call": f"nn.ConvTranspose2d(…, {f}, stride={s}, padding={p}{dil}, output_padding={a})",
        "formula": f"({floor} − 1)·{s} − 2·{p} + {fs} + {a}, back from Conv2d's {floor}",
        "output": None,
        "note": "",
    }
    if floor is None:
        row["note"] = "no Conv2d output to go back from"
    else:
        row["output"] = framework_output_size("pytorch", floor, f, s, p, d, layer="transposed", output_padding=a)
    table.append(row)
    return table
