"""Bad input to any public function or layer is refused with a message that names the argument,
says what came (the value, or the shape/dtype of an array) and the expected form or the fix.

Each row: (call, exception type, argument, value, expected form). The test checks that the call
raises that exception and that all three texts appear in the message. Plus: inputs that used to
give silently wrong results (uint8 overflow, truncated integer pooling, wrong-shaped upstream
gradients) now give the right numbers or an error.
"""

import numpy as np
import pytest

import cnn_core as cc
from cnn_core import depth, interpret
from cnn_core import functional as fn
from cnn_core.export import to_json

rng = np.random.default_rng(0)
X4 = rng.standard_normal((2, 3, 7, 7))
W = rng.standard_normal((4, 3, 3, 3))
B = rng.standard_normal(4)
OUT, CACHE = fn.conv2d_forward(X4, W, B, 1, 1)  # (2, 4, 7, 7)
XP = rng.standard_normal((2, 3, 8, 8))
POUT, PCACHE = fn.pool2d_forward(XP, 2)  # (2, 3, 4, 4)
DOUT = np.ones((2, 4, 7, 7))
Z = np.zeros
T, V = TypeError, ValueError


def net():
    return cc.Sequential([cc.Flatten(), cc.Linear(12, 3, rng=0)])


def net4():
    """A tiny classifier of 4x4 images into 3 classes."""
    return cc.Sequential([cc.Flatten(), cc.Linear(16, 3, rng=0)])


def after_forward(layer, x):
    layer.forward(x)
    return layer


CASES = []


def case(name, call, exc, arg, value, form):
    CASES.append(pytest.param(call, exc, arg, value, form, id=name))


# ------------------------------------------------ convolution kernels: x, w, b, stride, padding
for f_name in ["conv2d_naive", "conv2d_forward"]:
    f = getattr(fn, f_name)
    case(f"{f_name}-x-3d", lambda f=f: f(Z((3, 7, 7)), W, B), V, "x", "(3, 7, 7)", "x[None]")
    case(f"{f_name}-x-ragged", lambda f=f: f([[1, 2], [3]], W, B), V, "x", "[[1, 2], [3]]", "(N, D, H, W)")
    case(f"{f_name}-x-bool", lambda f=f: f(Z((2, 3, 7, 7), bool), W, B), T, "x", "dtype bool", "astype(np.float64)")
    case(
        f"{f_name}-x-object",
        lambda f=f: f(Z((2, 3, 7, 7), object), W, B),
        T,
        "x",
        "dtype object",
        "np.asarray(x, dtype=np.float64)",
    )
    case(f"{f_name}-x-complex", lambda f=f: f(Z((2, 3, 7, 7), complex), W, B), T, "x", "complex128", "np.float64")
    case(f"{f_name}-x-string", lambda f=f: f("cat.png", W, B), T, "x", "'cat.png'", "(N, D, H, W)")
    case(f"{f_name}-x-none", lambda f=f: f(None, W, B), T, "x", "None", "(N, D, H, W)")
    case(
        f"{f_name}-x-depth-0", lambda f=f: f(Z((2, 0, 7, 7)), Z((4, 0, 3, 3)), B), V, "x", "(2, 0, 7, 7)", "at least one channel"
    )
    case(f"{f_name}-w-2d", lambda f=f: f(X4, Z((3, 3)), B), V, "w", "(3, 3)", "(K, D, F, F)")
    case(f"{f_name}-w-too-wide", lambda f=f: f(X4, Z((4, 3, 3, 9)), B), V, "width W", "F=9", "P >= 1")
    case(
        f"{f_name}-groups-not-dividing-D",
        lambda f=f: f(X4, Z((4, 1, 3, 3)), B, 1, 0, 1, 2),
        V,
        "groups=2",
        "in_channels D=3",
        "[1]",
    )
    case(f"{f_name}-groups-not-dividing-K", lambda f=f: f(X4, Z((4, 1, 3, 3)), B, 1, 0, 1, 3), V, "groups=3", "K=4", "[1]")
    case(f"{f_name}-groups-0", lambda f=f: f(X4, W, B, 1, 0, 1, 0), V, "groups", "got 0", ">= 1")
    case(f"{f_name}-dilation-0", lambda f=f: f(X4, W, B, 1, 0, 0), V, "dilation", "got 0", ">= 1")
    case(f"{f_name}-dilation-float", lambda f=f: f(X4, W, B, 1, 0, 1.5), T, "dilation", "1.5", "whole number")
    case(f"{f_name}-dilation-too-large", lambda f=f: f(X4, W, B, 1, 0, 4), V, "F_eff", "4*(3 - 1) + 1 = 9", "P >= 1")
    case(f"{f_name}-dilation-does-not-fit", lambda f=f: f(X4, W, B, 3, 0, 2), V, "F_eff", "(7 + 2*0 - 5) / 3 + 1 = 1.67", "fits")
    case(f"{f_name}-stride-triple", lambda f=f: f(X4, W, B, (1, 1, 1)), V, "stride S", "(1, 1, 1)", "pair (height, width)")
    case(f"{f_name}-padding-pair-negative", lambda f=f: f(X4, W, B, 1, (1, -1)), V, "padding P (width)", "-1", ">= 0")
    case(f"{f_name}-rounding-ceil", lambda f=f: f(X4, W, B, 3, 0, 1, 1, "ceil"), V, "rounding", "'ceil'", "'floor'")
    case(f"{f_name}-rounding-typo", lambda f=f: f(X4, W, B, 3, 0, 1, 1, "flor"), V, "rounding", "'flor'", "'strict'")
    case(f"{f_name}-w-no-filters", lambda f=f: f(X4, Z((0, 3, 3, 3)), B), V, "w", "(0, 3, 3, 3)", "K >= 1")
    case(f"{f_name}-w-bool", lambda f=f: f(X4, W > 0, B), T, "w", "dtype bool", "astype(np.float64)")
    case(f"{f_name}-depth-mismatch", lambda f=f: f(Z((2, 1, 7, 7)), W, B), V, "x", "D=1", "D=3")
    case(f"{f_name}-b-scalar", lambda f=f: f(X4, W, 0.0), T, "b", "0.0", "np.full(4, 0.0)")
    case(f"{f_name}-b-int-scalar", lambda f=f: f(X4, W, 1), T, "b", "scalar 1", "(K,)=(4,)")
    case(f"{f_name}-b-short", lambda f=f: f(X4, W, Z(3)), V, "b", "(3,)", "(4,)")
    case(f"{f_name}-b-column", lambda f=f: f(X4, W, Z((4, 1))), V, "b", "(4, 1)", "(4,)")
    case(f"{f_name}-b-object", lambda f=f: f(X4, W, Z(4, object)), T, "b", "dtype object", "np.float64")
    case(f"{f_name}-stride-0", lambda f=f: f(X4, W, B, 0), V, "stride S", "got 0", ">= 1")
    case(f"{f_name}-stride-true", lambda f=f: f(X4, W, B, True), T, "stride S", "True", "whole number")
    case(f"{f_name}-stride-float", lambda f=f: f(X4, W, B, 1.5), T, "stride S", "1.5", "whole number")
    case(f"{f_name}-stride-str", lambda f=f: f(X4, W, B, "2"), T, "stride S", "'2'", "whole number")
    case(f"{f_name}-padding-negative", lambda f=f: f(X4, W, B, 1, -1), V, "padding P", "-1", ">= 0")
    case(f"{f_name}-padding-float", lambda f=f: f(X4, W, B, 1, 0.5), T, "padding P", "0.5", "whole number")
    case(f"{f_name}-stride-does-not-fit", lambda f=f: f(X4, W, B, 3), V, "height H", "(7 + 2*0 - 3) / 3 + 1 = 2.33", "Try:")
    case(f"{f_name}-filter-too-large", lambda f=f: f(X4, Z((4, 3, 9, 9)), B), V, "F=9", "N + 2P = 7", "P >= 1")

W1 = W[:, :1]
case(
    "conv2d_backward_naive-dout-shape",
    lambda: fn.conv2d_backward_naive(Z((2, 4, 5, 5)), X4, W, 1, 1),
    V,
    "dout",
    "(2, 4, 5, 5)",
    "(2, 4, 7, 7)",
)
case(
    "conv2d_backward_naive-dout-3d",
    lambda: fn.conv2d_backward_naive(Z((4, 7, 7)), X4, W, 1, 1),
    V,
    "dout",
    "(4, 7, 7)",
    "(2, 4, 7, 7)",
)
case(
    "conv2d_backward_naive-dout-bool",
    lambda: fn.conv2d_backward_naive(DOUT > 0, X4, W, 1, 1),
    T,
    "dout",
    "dtype bool",
    "astype(np.float64)",
)
case("conv2d_backward_naive-x-3d", lambda: fn.conv2d_backward_naive(DOUT, X4[0], W, 1, 1), V, "x", "(3, 7, 7)", "(N, D, H, W)")
case("conv2d_backward_naive-depth", lambda: fn.conv2d_backward_naive(DOUT, X4, W1, 1, 1), V, "x", "D=3", "D=1")
case(
    "conv2d_backward_naive-stride-bool",
    lambda: fn.conv2d_backward_naive(DOUT, X4, W, False, 1),
    T,
    "stride S",
    "False",
    "whole number",
)
case("conv2d_backward-dout-shape", lambda: fn.conv2d_backward(Z((2, 4, 5, 5)), CACHE), V, "dout", "(2, 4, 5, 5)", "(2, 4, 7, 7)")
case(
    "conv2d_backward-dout-transposed",
    lambda: fn.conv2d_backward(Z((4, 2, 7, 7)), CACHE),
    V,
    "dout",
    "(4, 2, 7, 7)",
    "(2, 4, 7, 7)",
)
case("conv2d_backward-dout-flat", lambda: fn.conv2d_backward(Z(2 * 4 * 49), CACHE), V, "dout", "(392,)", "(2, 4, 7, 7)")
case("conv2d_backward-dout-bool", lambda: fn.conv2d_backward(DOUT > 0, CACHE), T, "dout", "dtype bool", "astype")
case(
    "conv2d_backward-dout-object",
    lambda: fn.conv2d_backward(Z((2, 4, 7, 7), object), CACHE),
    T,
    "dout",
    "dtype object",
    "np.float64",
)
case("conv2d_backward-cache-pool", lambda: fn.conv2d_backward(DOUT, PCACHE), T, "cache", "PoolCache", "conv2d_forward")
case("conv2d_backward-cache-tuple", lambda: fn.conv2d_backward(DOUT, (X4, W, 1, 1)), T, "cache", "tuple", "conv2d_forward")

# ------------------------------------------------ pooling kernels
for f_name in ["pool2d_naive", "pool2d_forward"]:
    f = getattr(fn, f_name)
    case(f"{f_name}-x-3d", lambda f=f: f(Z((3, 8, 8)), 2), V, "x", "(3, 8, 8)", "x[None]")
    case(f"{f_name}-x-bool", lambda f=f: f(XP > 0, 2), T, "x", "dtype bool", "astype(np.float64)")
    case(f"{f_name}-x-object", lambda f=f: f(Z((1, 1, 4, 4), object), 2), T, "x", "dtype object", "np.float64")
    case(f"{f_name}-x-ragged", lambda f=f: f([[[[1, 2]], [[3]]]], 2), V, "x", "list", "(N, D, H, W)")
    case(f"{f_name}-kernel-0", lambda f=f: f(XP, 0), V, "kernel_size F", "got 0", ">= 1")
    case(f"{f_name}-kernel-float", lambda f=f: f(XP, 2.5), T, "kernel_size F", "2.5", "whole number")
    case(f"{f_name}-kernel-bool", lambda f=f: f(XP, True), T, "kernel_size F", "True", "whole number")
    case(f"{f_name}-stride-0", lambda f=f: f(XP, 2, 0), V, "stride S", "got 0", ">= 1")
    case(f"{f_name}-stride-negative", lambda f=f: f(XP, 2, -2), V, "stride S", "got -2", ">= 1")
    case(f"{f_name}-mode-median", lambda f=f: f(XP, 2, 2, "median"), V, "mode", "'median'", "('max', 'avg', 'l2')")
    case(f"{f_name}-mode-none", lambda f=f: f(XP, 2, 2, None), V, "mode", "None", "('max', 'avg', 'l2')")
    case(f"{f_name}-does-not-fit", lambda f=f: f(Z((1, 1, 5, 5)), 2), V, "height H", "(5 + 2*0 - 2) / 2 + 1 = 2.50", "Try:")
    case(f"{f_name}-window-too-large", lambda f=f: f(XP, 9), V, "F=9", "N + 2P = 8", "P >= 1")

case(
    "pool2d_backward_naive-dout-shape",
    lambda: fn.pool2d_backward_naive(Z((2, 3, 3, 3)), XP, 2),
    V,
    "dout",
    "(2, 3, 3, 3)",
    "(2, 3, 4, 4)",
)
case("pool2d_backward_naive-dout-bool", lambda: fn.pool2d_backward_naive(POUT > 0, XP, 2), T, "dout", "dtype bool", "astype")
case("pool2d_backward_naive-x-3d", lambda: fn.pool2d_backward_naive(POUT, XP[0], 2), V, "x", "(3, 8, 8)", "(N, D, H, W)")
case(
    "pool2d_backward_naive-mode",
    lambda: fn.pool2d_backward_naive(POUT, XP, 2, 2, "mean"),
    V,
    "mode",
    "'mean'",
    "('max', 'avg', 'l2')",
)
case("pool2d_backward-dout-shape", lambda: fn.pool2d_backward(Z((2, 3, 8, 8)), PCACHE), V, "dout", "(2, 3, 8, 8)", "(2, 3, 4, 4)")
case(
    "pool2d_backward-dout-object",
    lambda: fn.pool2d_backward(Z((2, 3, 4, 4), object), PCACHE),
    T,
    "dout",
    "dtype object",
    "np.float64",
)
case("pool2d_backward-cache-conv", lambda: fn.pool2d_backward(POUT, CACHE), T, "cache", "ConvCache", "pool2d_forward")
case("pool2d_backward-cache-none", lambda: fn.pool2d_backward(POUT, None), T, "cache", "NoneType", "pool2d_forward")
case("pad-x-3d", lambda: fn.pad(Z((3, 4, 4)), 1), V, "x", "(3, 4, 4)", "pad(x[None], P)[0]")
case("pad-negative", lambda: fn.pad(XP, -1), V, "padding P", "-1", ">= 0")
case("pad-float", lambda: fn.pad(XP, 1.5), T, "padding P", "1.5", "whole number")

# ------------------------------------------------ transposed convolution kernels: w is (D, K/G, F, F)
WT = rng.standard_normal((3, 4, 3, 3))
TOUT, TCACHE = fn.conv_transpose2d_forward(X4, WT, B, 2, 1, 1)  # (2, 4, 14, 14)
for f_name in ["conv_transpose2d_naive", "conv_transpose2d_forward"]:
    f = getattr(fn, f_name)
    case(f"{f_name}-x-3d", lambda f=f: f(Z((3, 7, 7)), WT, B), V, "x", "(3, 7, 7)", "x[None]")
    case(f"{f_name}-depth-mismatch", lambda f=f: f(X4, Z((4, 3, 3, 3)), B), V, "x", "D=4", "D=3")
    case(f"{f_name}-b-short", lambda f=f: f(X4, WT, Z(3)), V, "b", "(3,)", "(4,)")
    case(f"{f_name}-groups", lambda f=f: f(X4, WT, Z(8), 1, 0, 0, 1, 2), V, "groups=2", "D=3", "[1]")
    case(f"{f_name}-output-padding-ge-stride", lambda f=f: f(X4, WT, B, 2, 0, 2), V, "output_padding=2", "S=2", "<= 1")
    case(f"{f_name}-output-padding-stride-1", lambda f=f: f(X4, WT, B, 1, 0, 1), V, "output_padding=1", "dilation=1", "<= 0")
    case(f"{f_name}-output-padding-negative", lambda f=f: f(X4, WT, B, 2, 0, -1), V, "output_padding", "-1", ">= 0")
    case(f"{f_name}-padding-too-large", lambda f=f: f(X4, WT, B, 1, 5), V, "padding", "= -1 is < 1", "P <= 4")
    case(f"{f_name}-dilation-0", lambda f=f: f(X4, WT, B, 1, 0, 0, 0), V, "dilation", "got 0", ">= 1")
case(
    "conv_transpose2d_backward-dout-shape",
    lambda: fn.conv_transpose2d_backward(Z((2, 4, 13, 13)), TCACHE),
    V,
    "dout",
    "(2, 4, 13, 13)",
    "(2, 4, 14, 14)",
)
case(
    "conv_transpose2d_backward-cache-conv", lambda: fn.conv_transpose2d_backward(TOUT, CACHE), T, "cache", "ConvCache", "forward"
)
case(
    "conv_transpose2d_backward_naive-dout",
    lambda: fn.conv_transpose2d_backward_naive(Z((2, 4, 7, 7)), X4, WT, 2, 1, 1),
    V,
    "dout",
    "(2, 4, 7, 7)",
    "(2, 4, 14, 14)",
)

# ------------------------------------------------ pooling: padding and rounding
for f_name in ["pool2d_naive", "pool2d_forward"]:
    f = getattr(fn, f_name)
    case(f"{f_name}-padding-over-half", lambda f=f: f(XP, 3, 2, "max", 2), V, "padding P=2", "F=3", "padding <= 1")
    case(f"{f_name}-padding-negative", lambda f=f: f(XP, 3, 2, "max", -1), V, "padding P", "-1", ">= 0")
    case(f"{f_name}-ceil-mode-int", lambda f=f: f(XP, 3, 2, "max", 0, 1), T, "ceil_mode", "1", "True or False")
    case(f"{f_name}-ceil-and-floor", lambda f=f: f(XP, 3, 2, "max", 0, True, "floor"), V, "ceil_mode=True", "'floor'", "one of")
    case(f"{f_name}-rounding-typo", lambda f=f: f(XP, 3, 2, "max", 0, False, "round"), V, "rounding", "'round'", "'ceil'")
    case(f"{f_name}-kernel-triple", lambda f=f: f(XP, (2, 2, 2)), V, "kernel_size F", "(2, 2, 2)", "pair (height, width)")
    case(
        f"{f_name}-strict-with-padding", lambda f=f: f(XP, 3, 2, "max", 1), V, "height H", "(8 + 2*1 - 3) / 2 + 1 = 4.50", "Try:"
    )

# ------------------------------------------------ the page engine (export.to_json) refuses what it cannot compute
for bad_layer, text in [
    (cc.Conv2D(1, 2, 3, dilation=2), "dilation=2"),
    (cc.Conv2D(2, 2, 3, groups=2), "groups=2"),
    (cc.Conv2D(1, 2, (3, 1)), "kernel_size=(3, 1)"),
    (cc.MaxPool2D(3, 2, padding=1), "padding=1"),
    (cc.MaxPool2D(3, 2, ceil_mode=True), "rounding='ceil'"),
]:
    case(
        f"to_json-{bad_layer!r}",
        lambda bad_layer=bad_layer: to_json(cc.Sequential([bad_layer])),
        V,
        text,
        "page engine",
        "to_json",
    )

# ------------------------------------------------ layer constructors
conv_args = dict(in_channels=3, out_channels=8, kernel_size=3)
for arg, bad, exc, value, form in [
    ("in_channels", 0, V, "got 0", ">= 1"),
    ("in_channels", 2.5, T, "2.5", "whole number"),
    ("in_channels", True, T, "True", "whole number"),
    ("out_channels", 0, V, "got 0", ">= 1"),
    ("out_channels", "8", T, "'8'", "whole number"),
    ("kernel_size", 0, V, "got 0", ">= 1"),
    ("kernel_size", 2.5, T, "2.5", "whole number"),
    ("kernel_size", None, T, "None", "whole number"),
    ("stride", 0, V, "got 0", ">= 1"),
    ("stride", True, T, "True", "whole number"),
    ("padding", -1, V, "got -1", ">= 0"),
    ("padding", 1.0, T, "1.0", "whole number"),
    ("dtype", np.int32, T, "int32", "np.float32 or np.float64"),
    ("dtype", "flaot32", T, "'flaot32'", "np.float32"),
    ("rng", -1, V, "got -1", "rng=0"),
    ("rng", 1.5, T, "1.5", "np.random.default_rng(0)"),
]:
    case(f"Conv2D-{arg}-{bad!r}", lambda arg=arg, bad=bad: cc.Conv2D(**{**conv_args, arg: bad}), exc, arg, value, form)
for arg, bad, exc, value, form in [
    ("groups", 2, V, "groups=2", "in_channels D=3"),
    ("groups", 0, V, "groups", ">= 1"),
    ("dilation", 0, V, "dilation", ">= 1"),
    ("dilation", (1, 2, 3), V, "dilation", "pair (height, width)"),
    ("rounding", "ceil", V, "rounding", "'floor'"),
    ("kernel_size", (3, 0), V, "(width)", ">= 1"),
]:
    case(f"Conv2D-{arg}-{bad!r}", lambda arg=arg, bad=bad: cc.Conv2D(**{**conv_args, arg: bad}), exc, arg, value, form)
for arg, bad, exc, value, form in [
    ("groups", 2, V, "groups=2", "in_channels D=3"),
    ("output_padding", 1, V, "output_padding=1", "S=1"),
    ("output_padding", -1, V, "output_padding", ">= 0"),
    ("dilation", 0, V, "dilation", ">= 1"),
    ("stride", (2,), V, "stride S", "pair (height, width)"),
]:
    case(
        f"ConvTranspose2D-{arg}-{bad!r}",
        lambda arg=arg, bad=bad: cc.ConvTranspose2D(**{**conv_args, arg: bad}),
        exc,
        arg,
        value,
        form,
    )
for arg, bad, exc, value, form in [
    ("padding", 2, V, "padding P=2", "padding <= 1"),
    ("ceil_mode", "yes", T, "ceil_mode", "True or False"),
    ("rounding", "up", V, "rounding", "'ceil'"),
]:
    case(f"MaxPool2D-{arg}-{bad!r}", lambda arg=arg, bad=bad: cc.MaxPool2D(3, **{arg: bad}), exc, arg, value, form)
case("ConvTranspose2D.forward-depth", lambda: cc.ConvTranspose2D(1, 4, 3).forward(X4), V, "input depth D", "got 3", "D=1")
for cls in [cc.MaxPool2D, cc.AvgPool2D, cc.L2Pool2D]:
    for kwargs, exc, arg, value, form in [
        ({"kernel_size": 0}, V, "kernel_size", "got 0", ">= 1"),
        ({"kernel_size": 2.5}, T, "kernel_size", "2.5", "whole"),
        ({"kernel_size": 2, "stride": 0}, V, "stride S", "got 0", ">= 1"),
        ({"kernel_size": 2, "stride": True}, T, "stride S", "True", "whole number"),
    ]:
        case(f"{cls.__name__}-{kwargs}", lambda cls=cls, kwargs=kwargs: cls(**kwargs), exc, arg, value, form)
case("Linear-in-0", lambda: cc.Linear(0, 10), V, "in_features", "got 0", ">= 1")
case("Linear-out-0", lambda: cc.Linear(64, 0), V, "out_features", "got 0", ">= 1")
case("Linear-in-float", lambda: cc.Linear(6.4, 10), T, "in_features", "6.4", "whole number")
case("Linear-dtype-int", lambda: cc.Linear(64, 10, dtype=int), T, "dtype", "int", "np.float32 or np.float64")
case("Linear-rng-str", lambda: cc.Linear(64, 10, rng="seed"), T, "rng", "'seed'", "np.random.default_rng(0)")

# ------------------------------------------------ layer forward / backward / output_shape
case("Conv2D.forward-3d", lambda: cc.Conv2D(3, 4, 3).forward(X4[0]), V, "4-D input", "(3, 7, 7)", "(N, D, H, W)")
case("Conv2D.forward-depth", lambda: cc.Conv2D(1, 4, 3).forward(X4), V, "input depth D", "got 3", "D=1")
case("Conv2D.forward-bool", lambda: cc.Conv2D(3, 4, 3).forward(X4 > 0), T, "x", "dtype bool", "astype(np.float64)")
case("Conv2D.forward-object", lambda: cc.Conv2D(3, 4, 3).forward(X4.astype(object)), T, "x", "dtype object", "np.float64")
case("Conv2D.forward-ragged", lambda: cc.Conv2D(3, 4, 3).forward([[1], [2, 3]]), V, "x", "[[1], [2, 3]]", "array")
case("MaxPool2D.forward-3d", lambda: cc.MaxPool2D(2).forward(XP[0]), V, "4-D input", "(3, 8, 8)", "(N, D, H, W)")
case("MaxPool2D.forward-bool", lambda: cc.MaxPool2D(2).forward(XP > 0), T, "x", "dtype bool", "astype")
case("MaxPool2D.forward-does-not-fit", lambda: cc.MaxPool2D(3).forward(XP), V, "height H", "= 2.67", "Try:")
case("ReLU.forward-bool", lambda: cc.ReLU().forward(XP > 0), T, "x", "dtype bool", "astype(np.float64)")
case("ReLU.forward-object", lambda: cc.ReLU().forward(np.array([1, None])), T, "x", "dtype object", "np.float64")
case("Sigmoid.forward-string", lambda: cc.Sigmoid().forward(np.array(["1"])), T, "x", "<U1", "np.float64")
case("Flatten.forward-1d", lambda: cc.Flatten().forward(Z(12)), V, "x", "(12,)", "x[None]")
case("Linear.forward-features", lambda: cc.Linear(10, 2).forward(Z((1, 12))), V, "in_features=10", "got 12", "(N, features)")
case("Linear.forward-4d", lambda: cc.Linear(12, 2).forward(Z((1, 3, 2, 2))), V, "2-D input", "(1, 3, 2, 2)", "Flatten()")
case("Linear.forward-bool", lambda: cc.Linear(2, 2).forward(Z((1, 2), bool)), T, "x", "dtype bool", "astype")
case(
    "Conv2D.backward-dy",
    lambda: after_forward(cc.Conv2D(3, 4, 3), X4).backward(Z((2, 4, 7, 7))),
    V,
    "dy",
    "(2, 4, 7, 7)",
    "(2, 4, 5, 5)",
)
case(
    "MaxPool2D.backward-dy",
    lambda: after_forward(cc.MaxPool2D(2), XP).backward(Z((2, 3, 8, 8))),
    V,
    "dy",
    "(2, 3, 8, 8)",
    "(2, 3, 4, 4)",
)
case(
    "AvgPool2D.backward-dy",
    lambda: after_forward(cc.AvgPool2D(2), XP).backward(Z((3, 4, 4))),
    V,
    "dy",
    "(3, 4, 4)",
    "(2, 3, 4, 4)",
)
case("ReLU.backward-dy", lambda: after_forward(cc.ReLU(), XP).backward(Z((2, 3, 8))), V, "dy", "(2, 3, 8)", "(2, 3, 8, 8)")
case("Sigmoid.backward-dy", lambda: after_forward(cc.Sigmoid(), Z((4, 6))).backward(Z((6, 4))), V, "dy", "(6, 4)", "(4, 6)")
case("Flatten.backward-dy", lambda: after_forward(cc.Flatten(), XP).backward(Z((2, 100))), V, "dy", "(2, 100)", "(2, 192)")
case("Linear.backward-dy", lambda: after_forward(cc.Linear(4, 3), Z((5, 4))).backward(Z((5, 4))), V, "dy", "(5, 4)", "(5, 3)")
case(
    "Linear.backward-bool",
    lambda: after_forward(cc.Linear(4, 3), Z((5, 4))).backward(Z((5, 3), bool)),
    T,
    "dy",
    "dtype bool",
    "astype",
)
case(
    "Conv2D.output_shape-batch",
    lambda: cc.Conv2D(3, 4, 3).output_shape((1, 3, 32, 32)),
    V,
    "input_shape",
    "(1, 3, 32, 32)",
    "drop the batch axis",
)
case("MaxPool2D.output_shape-1d", lambda: cc.MaxPool2D(2).output_shape((3,)), V, "input_shape", "(3,)", "(D, H, W)")
case("Linear.output_shape-3d", lambda: cc.Linear(12, 2).output_shape((3, 2, 2)), V, "12 input features", "(3, 2, 2)", "Flatten()")
case("Sequential-one-layer", lambda: cc.Sequential(cc.ReLU()), T, "list of layers", "ReLU()", "Sequential([")
case("Sequential-function", lambda: cc.Sequential([cc.ReLU(), np.tanh]), T, "layer 1", "tanh", "cnn_core layer")
case("Sequential-class", lambda: cc.Sequential([cc.ReLU]), T, "layer 0", "ReLU", "ReLU()")

# ------------------------------------------------ losses
L4 = np.zeros((2, 4))
case("softmax-1d", lambda: cc.softmax(np.zeros(4)), V, "logits", "(4,)", "logits[None]")
case("softmax-object", lambda: cc.softmax(L4.astype(object)), T, "logits", "dtype object", "np.float64")
case("softmax-bool", lambda: cc.softmax(L4 > 0), T, "logits", "dtype bool", "astype")
case("softmax-no-classes", lambda: cc.softmax(np.zeros((2, 0))), V, "logits", "(2, 0)", "C >= 1")
case("cross_entropy-labels-shape", lambda: cc.softmax_cross_entropy(L4, np.array([0, 1, 2])), V, "labels", "(3,)", "(N,)=(2,)")
case(
    "cross_entropy-labels-float",
    lambda: cc.softmax_cross_entropy(L4, np.array([0.0, 1.0])),
    V,
    "labels",
    "[0. 1.]",
    "integers in [0, 4)",
)
case(
    "cross_entropy-labels-range",
    lambda: cc.softmax_cross_entropy(L4, np.array([0, 4])),
    V,
    "labels",
    "[0 4]",
    "integers in [0, 4)",
)
case(
    "cross_entropy-labels-negative",
    lambda: cc.softmax_cross_entropy(L4, np.array([-1, 0])),
    V,
    "labels",
    "[-1  0]",
    "integers in [0, 4)",
)
case("cross_entropy-logits-1d", lambda: cc.softmax_cross_entropy(np.zeros(4), np.array([0])), V, "logits", "(4,)", "(N, C)")
case(
    "cross_entropy-empty",
    lambda: cc.softmax_cross_entropy(np.zeros((0, 4)), np.zeros(0, int)),
    V,
    "logits",
    "(0, 4)",
    "at least one example",
)
case("cross_entropy-logits-bool", lambda: cc.softmax_cross_entropy(L4 > 0, np.array([0, 1])), T, "logits", "dtype bool", "astype")
case("mse-shape", lambda: cc.mse_loss(np.zeros((2, 3)), np.zeros((2, 2))), V, "pred and target", "(2, 3)", "same shape")
case("mse-bool", lambda: cc.mse_loss(np.zeros(2, bool), np.zeros(2)), T, "pred", "dtype bool", "astype")
case("mse-empty", lambda: cc.mse_loss(np.zeros((0, 3)), np.zeros((0, 3))), V, "pred", "(0, 3)", "0 examples")

# ------------------------------------------------ training
XD, YD = rng.standard_normal((8, 1, 2, 6)), rng.integers(0, 3, 8)
for kwargs, exc, arg, value, form in [
    ({"batch_size": 0}, V, "batch_size", "got 0", ">= 1"),
    ({"batch_size": 2.5}, T, "batch_size", "2.5", "whole"),
    ({"epochs": -1}, V, "epochs", "got -1", ">= 0"),
    ({"epochs": 1.5}, T, "epochs", "1.5", "whole number"),
    ({"lr": 0}, V, "lr", "lr=0.0", "lr > 0"),
    ({"lr": -0.1}, V, "lr", "lr=-0.1", "lr > 0"),
    ({"lr": "fast"}, T, "lr", "'fast'", "real number"),
    ({"lr": float("nan")}, V, "lr", "lr=nan", "lr > 0"),
    ({"momentum": 1.0}, V, "momentum", "momentum=1.0", "momentum < 1"),
    ({"momentum": -0.5}, V, "momentum", "momentum=-0.5", "momentum >= 0"),
    ({"loss": "hinge"}, V, "loss", "'hinge'", "['cross_entropy', 'mse']"),
    ({"lr_decay": 0}, V, "lr_decay", "lr_decay=0.0", "lr_decay > 0"),
    ({"validation": XD}, T, "validation", "(8, 1, 2, 6)", "(X_val, y_val)"),
    ({"validation": (XD, YD[:5])}, V, "validation X and validation y", "8 and 5", "same number of examples"),
    ({"seed": -1}, V, "seed", "got -1", ">= 0"),
    ({"progress": "yes"}, T, "progress", "'yes'", "True or False"),
]:
    case(
        f"fit-{kwargs}",
        lambda kwargs=kwargs: (
            cc.fit(net(), XD, YD, progress=False, **kwargs) if "progress" not in kwargs else cc.fit(net(), XD, YD, **kwargs)
        ),
        exc,
        arg,
        value,
        form,
    )
case("fit-empty", lambda: cc.fit(net(), XD[:0], YD[:0], progress=False), V, "X", "(0, 1, 2, 6)", "at least one")
case("fit-length", lambda: cc.fit(net(), XD, YD[:5], progress=False), V, "X and y", "8 and 5", "same number of examples")
case("fit-x-bool", lambda: cc.fit(net(), XD > 0, YD, progress=False), T, "X", "dtype bool", "astype")
case("fit-model", lambda: cc.fit(np.tanh, XD, YD, progress=False), T, "model", "tanh", "cnn_core layer")
case("SGD-model", lambda: cc.SGD("net"), T, "model", "'net'", "cnn_core layer")
case("SGD-lr-true", lambda: cc.SGD(net(), lr=True), T, "lr", "True", "real number")
case("evaluate-empty", lambda: cc.evaluate(net(), XD[:0], YD[:0]), V, "X", "(0, 1, 2, 6)", "at least one")
case("evaluate-batch-0", lambda: cc.evaluate(net(), XD, YD, batch_size=0), V, "batch_size", "got 0", ">= 1")
case("evaluate-length", lambda: cc.evaluate(net(), XD, YD[:3]), V, "X and y", "8 and 3", "same number")
case("evaluate-model", lambda: cc.evaluate(None, XD, YD), T, "model", "None", "cnn_core layer")
case("predict-batch-0", lambda: cc.predict(net(), XD, batch_size=0), V, "batch_size", "got 0", ">= 1")
case("predict-scalar", lambda: cc.predict(net(), 3.0), V, "X", "3.0", "first axis of examples")
case("predict-model", lambda: cc.predict(print, XD), T, "model", "print", "cnn_core layer")

# ------------------------------------------------ gradient checking
case("rel_error-shapes", lambda: cc.rel_error(np.zeros(3), np.zeros(4)), V, "arrays of shapes", "(3,)", "(4,)")
case("rel_error-object", lambda: cc.rel_error(np.zeros(3, object), np.zeros(3)), T, "a", "dtype object", "np.float64")
case(
    "numerical_gradient-int",
    lambda: cc.numerical_gradient(lambda: 0.0, np.arange(3)),
    T,
    "x",
    "dtype int64",
    "x.astype(np.float64)",
)
case("numerical_gradient-f", lambda: cc.numerical_gradient(3.0, np.zeros(3)), T, "f", "3.0", "function of no arguments")
case("numerical_gradient-list", lambda: cc.numerical_gradient(lambda: 0.0, [1.0, 2.0]), T, "x", "list", "numpy array")
case("numerical_gradient-h", lambda: cc.numerical_gradient(lambda: 0.0, np.zeros(3), h=0), V, "h", "h=0.0", "h > 0")
case("check_layer-x-bool", lambda: cc.check_layer(cc.ReLU(), XP > 0), T, "x", "dtype bool", "astype")
case("check_layer-layer", lambda: cc.check_layer(np.tanh, XP), T, "layer", "ufunc", "forward, backward")
case("check_layer-h", lambda: cc.check_layer(cc.ReLU(), XP, h=-1e-5), V, "h", "h=-1e-05", "h > 0")

# ------------------------------------------------ formulas
case("output_size-stride-bool", lambda: cc.output_size(7, 3, True), T, "stride S", "True", "whole number")
case("output_size-n-float", lambda: cc.output_size(7.0, 3), T, "input size N", "7.0", "whole number")
case("output_size-padding", lambda: cc.output_size(7, 3, 1, -1), V, "padding P", "got -1", ">= 0")
case("output_size-filter-0", lambda: cc.output_size(7, 0), V, "filter size F", "got 0", ">= 1")
case("conv_output_shape-2", lambda: cc.conv_output_shape((3, 32), 4, 3), V, "input_shape", "(3, 32)", "(D1, H1, W1)")
case("conv_output_shape-k-0", lambda: cc.conv_output_shape((3, 32, 32), 0, 3), V, "out_channels K", "got 0", ">= 1")
case("conv_num_params-bias", lambda: cc.conv_num_params(3, 3, 8, bias="yes"), T, "bias", "'yes'", "True or False")
case("conv_num_params-0", lambda: cc.conv_num_params(0, 3, 8), V, "kernel_size F", "got 0", ">= 1")
case("linear_num_params-0", lambda: cc.linear_num_params(0, 5), V, "in_features", "got 0", ">= 1")
case("same_padding-even", lambda: cc.same_padding(4), V, "even filter", "F=4", "odd F")
case("same_padding-float", lambda: cc.same_padding(3.0), T, "filter size F", "3.0", "whole number")
case("receptive_field-pair", lambda: cc.receptive_field([(3,)]), V, "layers[0]", "(3,)", "(F, S)")
case("receptive_field-stride-0", lambda: cc.receptive_field([(3, 1), (2, 0)]), V, "stride S of layers[1]", "got 0", ">= 1")

# ------------------------------------------------ frameworks and the chapter's step-throughs
from cnn_core import conv_in_depth as cid  # noqa: E402
from cnn_core.frameworks import dropped_positions, framework_output_size, keras_same_padding  # noqa: E402

case("framework-name", lambda: framework_output_size("tensorflow", 7, 3), V, "framework", "'tensorflow'", "'keras'")
case("framework-layer", lambda: framework_output_size("pytorch", 7, 3, layer="dense"), V, "layer", "'dense'", "'pool'")
case("framework-keras-int-padding", lambda: framework_output_size("keras", 7, 3, 1, 1), V, "padding", "(1)", "ZeroPadding2D")
case("framework-keras-full", lambda: framework_output_size("keras", 7, 3, 1, "full"), V, "padding", "'full'", "'same'")
case(
    "framework-ceil-conv",
    lambda: framework_output_size("pytorch", 7, 3, 2, ceil_mode=True),
    V,
    "ceil_mode",
    "True",
    "layer='pool'",
)
case(
    "framework-output-padding-conv",
    lambda: framework_output_size("pytorch", 7, 3, 2, output_padding=1),
    V,
    "output_padding",
    "layer='conv'",
    "layer='transposed'",
)
case(
    "framework-same-strided",
    lambda: framework_output_size("pytorch", 7, 3, 2, "same"),
    V,
    "padding='same'",
    "stride=2",
    "int padding",
)
case(
    "framework-output-padding-big",
    lambda: framework_output_size("pytorch", 3, 3, 2, layer="transposed", output_padding=2),
    V,
    "output padding",
    "output_padding=2",
    "smaller than either stride or dilation",
)
case(
    "framework-pool-pad", lambda: framework_output_size("pytorch", 7, 3, 1, 2, layer="pool"), V, "pad", "pad=2", "half of kernel"
)
case("framework-n-0", lambda: framework_output_size("pytorch", 0, 3), V, "input size N", "got 0", ">= 1")
case("framework-dilation-0", lambda: framework_output_size("pytorch", 7, 3, dilation=0), V, "dilation d", "got 0", ">= 1")
case("keras_same_padding-stride", lambda: keras_same_padding(7, 3, 0), V, "stride S", "got 0", ">= 1")
case("dropped_positions-padding", lambda: dropped_positions(7, 3, 1, -1), V, "padding P", "got -1", ">= 0")
case("backward_steps-dout", lambda: cid.backward_steps(Z((4, 4)), Z((2, 2)), Z((2, 2))), V, "dout", "(2, 2)", "(3, 3)")
case("backward_steps-x-3d", lambda: cid.backward_steps(Z((1, 4, 4)), Z((2, 2)), Z((3, 3))), V, "x", "(1, 4, 4)", "(H, W)")
case("backward_steps-w", lambda: cid.backward_steps(Z((4, 4)), Z((2, 3)), Z((3, 2))), V, "w", "(2, 3)", "square F x F")
case("maxpool_routes-dout", lambda: cid.maxpool_routes(Z((4, 4)), 2, 2, Z((3, 3))), V, "dout", "(3, 3)", "(2, 2)")
case("partial_sums-depth", lambda: cid.partial_sums(Z((3, 4, 4)), Z((2, 2, 2))), V, "depth", "D=3", "spans 2")
case("partial_sums-position", lambda: cid.partial_sums(Z((1, 4, 4)), Z((1, 2, 2)), r=5), V, "position", "(5, 0)", "3 x 3 output")
case("dilated_rf-pair", lambda: cid.dilated_receptive_field([(3, 1)]), V, "layers[0]", "(3, 1)", "(F, S, d)")
case("tap_counts-dilation-0", lambda: cid.tap_counts([(3, 1, 0)]), V, "dilation d of layers[0]", "got 0", ">= 1")
case("pointwise-w", lambda: cid.pointwise_as_linear(Z((3, 4, 4)), Z((2, 3, 3, 3))), V, "w", "(2, 3, 3, 3)", "(K, D, 1, 1)")
case(
    "separable-w_depth",
    lambda: cid.depthwise_separable(Z((1, 3, 4, 4)), Z((3, 3, 3, 3)), Z((2, 3, 1, 1))),
    V,
    "w_depth",
    "(3, 3, 3, 3)",
    "(D, 1, F, F)",
)
case("separable_params-k-0", lambda: cid.separable_params(3, 64, 0), V, "out_channels K", "got 0", ">= 1")

# ------------------------------------------------ where a network looks (interpret), depth experiments (depth)
IMG = Z((1, 4, 4))
case("occlusion-patch-0", lambda: interpret.occlusion(net4(), IMG, 0, patch=0), V, "patch", "got 0", "patch=3")
case("occlusion-patch-big", lambda: interpret.occlusion(net4(), IMG, 0, patch=5), V, "patch=5", "(4 x 4)", "patch <= 4")
case("occlusion-stride-float", lambda: interpret.occlusion(net4(), IMG, 0, stride=1.5), T, "stride", "1.5", "stride=1")
case("saliency-x-batch", lambda: interpret.saliency(net4(), IMG[None], 0), V, "x", "(1, 1, 4, 4)", "pass x[0]")
case("saliency-x-str", lambda: interpret.saliency(net4(), "x.png", 0), T, "x", "'x.png'", "(D, H, W)")
case("saliency-label-big", lambda: interpret.saliency(net4(), IMG, 3), V, "label", "got 3", "0..2")
case("saliency-label-negative", lambda: interpret.saliency(net4(), IMG, -1), V, "label", "got -1", ">= 0")
case(
    "class_activation_map-mlp",
    lambda: interpret.class_activation_map(net4(), IMG, 0),
    V,
    "model",
    "[Flatten(), Linear(16, 3)]",
    "GAP head",
)
case("deep_cnn-blocks", lambda: depth.deep_cnn(-1, residual=True), V, "blocks", "got -1", "deep_cnn(8, residual=True)")
case("deep_cnn-width", lambda: depth.deep_cnn(2, residual=True, width=2.5), T, "width", "2.5", "width=8")


# ------------------------------------------------ batch norm, dropout, global pooling, residual blocks, costs
X2 = rng.standard_normal((2, 2, 4, 4))
for kwargs, exc, arg, value, form in [
    ({"num_features": 0}, V, "num_features", "got 0", ">= 1"),
    ({"num_features": 2.0}, T, "num_features", "2.0", "whole number"),
    ({"num_features": 4, "eps": 0}, V, "eps", "eps=0.0", "eps > 0"),
    ({"num_features": 4, "eps": -1e-5}, V, "eps", "eps=-1e-05", "eps > 0"),
    ({"num_features": 4, "momentum": 1.5}, V, "momentum", "momentum=1.5", "momentum <= 1"),
    ({"num_features": 4, "momentum": -0.1}, V, "momentum", "momentum=-0.1", "momentum >= 0"),
    ({"num_features": 4, "momentum": None}, T, "momentum", "None", "real number"),
    ({"num_features": 4, "kernels": "loops"}, V, "kernels", "'loops'", "'naive'"),
    ({"num_features": 4, "dtype": int}, T, "dtype", "int", "np.float32 or np.float64"),
]:
    case(f"BatchNorm2D-{kwargs}", lambda kwargs=kwargs: cc.BatchNorm2D(**kwargs), exc, arg, value, form)
case("BatchNorm2D.forward-channels", lambda: cc.BatchNorm2D(3).forward(X2), V, "num_features D=3", "got 2", "BatchNorm2D(2)")
case("BatchNorm2D.forward-3d", lambda: cc.BatchNorm2D(2).forward(X2[0]), V, "4-D input", "(2, 4, 4)", "(N, D, H, W)")
case("BatchNorm2D.forward-bool", lambda: cc.BatchNorm2D(2).forward(X2 > 0), T, "x", "dtype bool", "astype")
case("BatchNorm2D.forward-one-value", lambda: cc.BatchNorm2D(2).forward(Z((1, 2, 1, 1))), V, "M = N*H*W", "= 1", "N >= 2")
case(
    "BatchNorm2D.backward-dy",
    lambda: after_forward(cc.BatchNorm2D(2), X2).backward(Z((2, 2, 4))),
    V,
    "dy",
    "(2, 2, 4)",
    "(2, 2, 4, 4)",
)
case(
    "BatchNorm2D.output_shape-channels", lambda: cc.BatchNorm2D(3).output_shape((2, 4, 4)), V, "num_features D=3", "(2, 4, 4)", ""
)
case("batchnorm2d_forward-gamma", lambda: cc.normalization.batchnorm2d_forward(X2, Z(3), Z(2)), V, "gamma", "(3,)", "(2,)")
case("batchnorm2d_forward-eps", lambda: cc.normalization.batchnorm2d_forward(X2, Z(2), Z(2), 0), V, "eps", "eps=0.0", "eps > 0")
case(
    "batchnorm2d_backward-cache",
    lambda: cc.normalization.batchnorm2d_backward(X2, CACHE),
    T,
    "cache",
    "ConvCache",
    "batchnorm2d_forward",
)
for p, exc, value, form in [
    (1.0, V, "p=1.0", "p < 1.0"),
    (-0.1, V, "p=-0.1", "p >= 0"),
    ("0.5", T, "'0.5'", "real number"),
    (float("nan"), V, "p=nan", "p >= 0"),
]:
    case(f"Dropout-p-{p!r}", lambda p=p: cc.Dropout(p), exc, "p", value, form)
case("Dropout-rng", lambda: cc.Dropout(0.5, rng="seed"), T, "rng", "'seed'", "np.random.default_rng(0)")
case("Dropout.forward-bool", lambda: cc.Dropout(0.5).forward(X2 > 0), T, "x", "dtype bool", "astype")
case("Dropout.backward-dy", lambda: after_forward(cc.Dropout(0.5), X2).backward(Z(3)), V, "dy", "(3,)", "(2, 2, 4, 4)")
case(
    "dropout_forward-keep-shape",
    lambda: cc.regularization.dropout_forward(X2, 0.5, np.ones(3, bool)),
    V,
    "keep",
    "(3,)",
    "(2, 2, 4, 4)",
)
case(
    "dropout_forward-keep-float",
    lambda: cc.regularization.dropout_forward(X2, 0.5, np.ones(X2.shape)),
    T,
    "keep",
    "float64",
    "boolean",
)
case("GlobalAvgPool2D.forward-3d", lambda: cc.GlobalAvgPool2D().forward(X2[0]), V, "4-D input", "(2, 4, 4)", "x[None]")
case(
    "GlobalAvgPool2D.backward-dy",
    lambda: after_forward(cc.GlobalAvgPool2D(), X2).backward(Z((2, 3))),
    V,
    "dy",
    "(2, 3)",
    "(2, 2)",
)
case(
    "Residual-mismatch",
    lambda: cc.Residual([cc.Conv2D(2, 4, 3, padding=1)]).forward(X2),
    V,
    "body gives shape (4, 4, 4)",
    "identity shortcut gives (2, 4, 4)",
    "shortcut='projection'",
)
case(
    "Residual-mismatch-output_shape",
    lambda: cc.Residual([cc.Conv2D(2, 2, 3)]).output_shape((2, 4, 4)),
    V,
    "body gives shape (2, 2, 2)",
    "(2, 4, 4)",
    "shortcut='projection'",
)
case("Residual-shortcut-str", lambda: cc.Residual([cc.ReLU()], shortcut="identity"), V, "shortcut", "'identity'", "'projection'")
case("Residual-body-function", lambda: cc.Residual(np.tanh), T, "body", "tanh", "Residual([Conv2D")
case("Residual-body-empty", lambda: cc.Residual([]), V, "body", "no layers", "residual block")
case(
    "Residual-projection-no-conv",
    lambda: cc.Residual([cc.ReLU()], shortcut="projection"),
    V,
    "shortcut='projection'",
    "has none",
    "Conv2D(D_in, D_out, 1",
)
case("SGD-weight_decay", lambda: cc.SGD(net(), weight_decay=-0.1), V, "weight_decay", "weight_decay=-0.1", "weight_decay >= 0")
case(
    "fit-weight_decay",
    lambda: cc.fit(net(), XD, YD, weight_decay="1e-4", progress=False),
    T,
    "weight_decay",
    "'1e-4'",
    "real number",
)
case("set_training-str", lambda: cc.set_training(net(), "eval"), T, "training", "'eval'", "True or False")
case(
    "conv_multiply_adds-groups", lambda: cc.costs.conv_multiply_adds((3, 8, 8), 4, 3, groups=2), V, "groups=2", "D=3", "groups=1"
)
case("conv_multiply_adds-shape", lambda: cc.costs.conv_multiply_adds((3, 8), 4, 3), V, "input_shape", "(3, 8)", "(D1, H1, W1)")
case("linear_multiply_adds-0", lambda: cc.costs.linear_multiply_adds(0, 4), V, "in_features", "got 0", ">= 1")
case("cost_table-depth", lambda: cc.costs.cost_table(net(), (12,), depth=0), V, "depth", "got 0", ">= 1")


def test_the_table_is_large():
    assert len(CASES) >= 150, len(CASES)


@pytest.mark.parametrize("call, exc, arg, value, form", CASES)
def test_bad_input_is_refused_with_a_message_that_teaches(call, exc, arg, value, form):
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    msg = str(info.value)
    assert info.type is exc or issubclass(info.type, exc), (info.type, msg)
    missing = [text for text in (arg, value, form) if text not in msg]
    assert not missing, f"message lacks {missing}: {msg}"


# ------------------------------------------------ what used to be silently wrong is right now


def test_uint8_images_do_not_overflow_in_convolution():
    # 200 * 2 * 9 = 3600 does not fit in uint8 (it used to come out as 3600 % 256 = 16)
    x = np.full((1, 1, 3, 3), 200, dtype=np.uint8)
    w = np.full((1, 1, 3, 3), 2, dtype=np.uint8)
    for out in (fn.conv2d_forward(x, w, None)[0], fn.conv2d_naive(x, w, None)):
        assert out.dtype == np.float64 and out[0, 0, 0, 0] == 3600
    conv = cc.Conv2D(1, 1, 3, dtype=np.float32)
    conv.params["W"][...] = 2
    out = conv.forward(x)
    assert out.dtype == np.float32 and out[0, 0, 0, 0] == 3600  # the layer's dtype, not float64


@pytest.mark.parametrize("f", [fn.pool2d_naive, lambda *a: fn.pool2d_forward(*a)[0]])
def test_integer_pooling_is_not_truncated(f):
    x = np.array([[1, 2], [4, 4]], dtype=np.int64).reshape(1, 1, 2, 2)
    assert f(x, 2, 2, "avg")[0, 0, 0, 0] == 2.75
    np.testing.assert_allclose(f(x, 2, 2, "l2")[0, 0, 0, 0], np.sqrt(37))
    assert f(x, 2, 2, "max")[0, 0, 0, 0] == 4.0


def test_integer_upstream_gradient_and_lists_give_the_float_answer():
    x = [[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]  # a nested list of ints
    w = [[[[1, 0], [0, -1]]]]
    out, cache = fn.conv2d_forward(x, w, [0.5])
    np.testing.assert_array_equal(out[0, 0], [[-3.5, -3.5], [-3.5, -3.5]])
    dx, dw, db = fn.conv2d_backward(np.ones((1, 1, 2, 2), dtype=np.int32), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1, 1, 0], [1, 0, -1], [0, -1, -1]])
    np.testing.assert_array_equal(dw[0, 0], [[12, 16], [24, 28]])
    assert db[0] == 4 and dx.dtype == np.float64


def test_empty_batches_are_handled():
    x = np.zeros((0, 3, 7, 7))
    for out in (fn.conv2d_forward(x, W, B, 1, 1)[0], fn.conv2d_naive(x, W, B, 1, 1)):
        assert out.shape == (0, 4, 7, 7)
    out, cache = fn.conv2d_forward(x, W, B, 1, 1)
    dx, dw, db = fn.conv2d_backward(out, cache)
    assert dx.shape == x.shape and not dw.any() and not db.any()
    p, pc = fn.pool2d_forward(np.zeros((0, 2, 4, 4)), 2)
    assert p.shape == (0, 2, 2, 2) and fn.pool2d_backward(p, pc).shape == (0, 2, 4, 4)
    assert cc.predict(net(), np.zeros((0, 12))).shape == (0,)


def test_errors_inside_a_sequential_name_the_layer():
    model = cc.Sequential([cc.Conv2D(1, 2, 3), cc.ReLU(), cc.Flatten(), cc.Linear(10, 2)])
    with pytest.raises(ValueError) as info:
        model.forward(np.zeros((1, 1, 5, 5)))  # Flatten gives 2*3*3 = 18, not 10
    assert "Linear expects in_features=10" in str(info.value)
    assert "layer 3: Linear(10, 2)" in "\n".join(info.value.__notes__)
