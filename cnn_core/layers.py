"""Layers: state (parameters, gradients, what backward needs) around the kernels.

Every layer has ``forward(x) -> y``, ``backward(dy) -> dx`` (which fills
``grads``), dicts ``params`` and ``grads`` (keys "W", "b" where there are
parameters), and ``output_shape(input_shape)`` for one sample, without a batch
axis, so a network's shapes can be traced without running it.
"""

from __future__ import annotations

import math

import numpy as np

from . import fast, naive
from .inputs import array, as_float, check_shape, describe, pair, whole
from .shapes import check_groups, check_rounding, conv_output_shape, output_size, transposed_output_size

RngLike = int | np.random.Generator | None
_ROOMS = {"fast": fast, "naive": naive}


def kernel_room(kernels: str, where: str):
    """The module whose kernels a layer runs: cnn_core.fast (im2col) or cnn_core.naive (the loops)."""
    if kernels not in _ROOMS:
        raise ValueError(
            f"{where}: kernels must be 'fast' (im2col, the default) or 'naive' (the lecture's loops, slow), got {kernels!r}"
        )
    return _ROOMS[kernels]


def as_rng(rng: RngLike) -> np.random.Generator:
    """A numpy Generator from a seed, a Generator, or None (fresh entropy)."""
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng) if rng is None else rng
    whole("rng", rng, 0, example="rng=0 (a seed), rng=np.random.default_rng(0) or rng=None")
    return np.random.default_rng(rng)


def float_dtype(dtype, where: str = "") -> np.dtype:
    """dtype as a numpy floating-point dtype, or a TypeError that says which ones work."""
    prefix = f"{where}: " if where else ""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f":
        raise TypeError(f"{prefix}dtype must be a floating-point type such as np.float32 or np.float64, got {describe(dtype)}")
    return dt


def he_normal(shape: tuple[int, ...], fan_in: int, rng: RngLike = None, dtype=np.float64) -> np.ndarray:
    """He/Kaiming initialisation for ReLU nets: N(0, 2 / fan_in)."""
    return (as_rng(rng).standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(float_dtype(dtype))


class Layer:
    """Base class: a layer without parameters passes shapes through unchanged."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.cache = None  # what forward keeps for backward

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    @property
    def _room(self):
        """The module whose kernels the layer runs (``kernels``: "fast" or "naive"), looked up rather
        than stored, so a layer holds only arrays and numbers and copies like one."""
        return kernel_room(getattr(self, "kernels", "fast"), type(self).__name__)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(input_shape)

    def num_params(self) -> int:
        return sum(p.size for p in self.params.values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _saved(self):
        """What forward kept, or an error that says forward has not run."""
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: run forward(x) first")
        return self.cache

    def _input(self, x, like=None) -> np.ndarray:
        """x as a float array (integers converted, see cnn_core.inputs), or an error naming the layer."""
        return as_float(array(f"{type(self).__name__}.forward", "x", x), like)

    def _upstream(self, dy, shape: tuple, like) -> np.ndarray:
        """dy checked against the shape forward returned, as a float array."""
        where = f"{type(self).__name__}.backward"
        dy = array(where, "dy", dy, str(tuple(shape)))
        check_shape(where, "dy", dy, shape, "the shape of the output of the last forward")
        return as_float(dy, like)


def _check_input(layer: str, x: np.ndarray, ndim: int, axis: int, expected: int, meaning: str) -> None:
    """Raise a ValueError that says what shape was expected and what came."""
    layout = "(N, D, H, W)" if ndim == 4 else "(N, features)"
    if x.ndim != ndim:
        hint = " (add a Flatten() before it)" if ndim == 2 and x.ndim > 2 else ""
        raise ValueError(f"{layer} expects a {ndim}-D input {layout}, got shape {x.shape}{hint}")
    if x.shape[axis] != expected:
        raise ValueError(
            f"{layer} expects {meaning}={expected} (axis {axis} of {layout}), got {x.shape[axis]} in input of shape {x.shape}"
        )


def _sample_shape(layer: str, input_shape, ndim: int | None = 3) -> tuple[int, ...]:
    """input_shape (one sample, no batch axis) as a tuple of whole numbers, or a clear error."""
    layout = "(D, H, W)" if ndim == 3 else "(features,) or (D, H, W)"
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise TypeError(
            f"{layer}.output_shape: input_shape must be a tuple {layout} for one sample "
            f"(no batch axis), got {describe(input_shape)}"
        ) from None
    if ndim is not None and len(shape) != ndim:
        raise ValueError(
            f"{layer}.output_shape: input_shape must be {layout} for one sample (no batch axis), "
            f"got {shape}" + ("; drop the batch axis: x.shape[1:]" if len(shape) == ndim + 1 else "")
        )
    return tuple(whole(f"input_shape[{i}]", n, 1, f"{layer}.output_shape") for i, n in enumerate(shape))


def _shown(value: tuple[int, int]) -> int | tuple[int, int]:
    """A (height, width) pair as the user would write it: one number when both axes agree."""
    return value[0] if value[0] == value[1] else value


class Conv2D(Layer):
    """K filters of size F x F x D, stride S, zero padding P.

    Input (N, D, H1, W1) -> output (N, K, H2, W2), H2 = (H1 + 2P - F)/S + 1.
    params["W"]: (K, D, F, F), params["b"]: (K,); (F*F*D + 1)*K parameters.

    Beyond the lecture: kernel_size, stride, padding and dilation may be pairs (height, width);
    dilation d spaces the filter's taps d apart (F_eff = d(F - 1) + 1); groups G splits the
    channels so that each filter sees D/G of them (W: (K, D/G, Fh, Fw); depthwise: G = D);
    rounding="floor" accepts sizes that do not fit (PyTorch's rule) instead of raising.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        *,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        rounding: str = "strict",
        rng: RngLike = None,
        dtype=np.float64,
        kernels: str = "fast",
    ) -> None:
        super().__init__()
        ex = "Conv2D(3, 8, kernel_size=3, stride=1, padding=1)"
        self.kernels = kernels
        kernel_room(kernels, "Conv2D")  # refuse an unknown room now, not at the first forward
        self.in_channels = whole("in_channels (input depth D)", in_channels, 1, "Conv2D", ex)
        self.out_channels = whole("out_channels (number of filters K)", out_channels, 1, "Conv2D", ex)
        fh, fw = pair("kernel_size (filter size F)", kernel_size, 1, "Conv2D", ex)
        self.kernel_size = _shown((fh, fw))
        self.stride = _shown(pair("stride S", stride, 1, "Conv2D", ex))
        self.padding = _shown(pair("padding P", padding, 0, "Conv2D", ex))
        self.dilation = _shown(pair("dilation", dilation, 1, "Conv2D", "Conv2D(3, 8, 3, dilation=2)"))
        self.groups = check_groups(groups, self.in_channels, self.out_channels, "Conv2D")
        self.rounding = check_rounding(rounding, "Conv2D", ("strict", "floor"))
        dtype = float_dtype(dtype, "Conv2D")
        fan_in = self.in_channels // self.groups * fh * fw
        self.params["W"] = he_normal((self.out_channels, self.in_channels // self.groups, fh, fw), fan_in, rng, dtype)
        self.params["b"] = np.zeros(self.out_channels, dtype=dtype)

    def _options(self) -> tuple:
        """(stride, padding, dilation, groups, rounding) as the kernels take them."""
        return (
            self.stride,
            self.padding,
            getattr(self, "dilation", 1),
            getattr(self, "groups", 1),
            getattr(self, "rounding", "strict"),
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = array("Conv2D.forward", "x", x)
        _check_input("Conv2D", x, 4, 1, self.in_channels, "input depth D")
        out, self.cache = self._room.conv2d_forward(x, self.params["W"], self.params["b"], *self._options())
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cache = self._saved()
        stride, padding, dilation, _, rounding = self._options()
        h2, w2 = naive._conv_sizes("Conv2D.backward", cache.x, self.kernel_size, stride, padding, dilation, rounding)
        dy = self._upstream(dy, (len(cache.x), self.out_channels, h2, w2), cache.x)
        dx, self.grads["W"], self.grads["b"] = self._room.conv2d_backward(dy, cache)
        return dx

    def output_shape(self, input_shape):
        input_shape = _sample_shape("Conv2D", input_shape)
        if input_shape[0] != self.in_channels:
            raise ValueError(f"Conv2D expects input depth D={self.in_channels}, got shape {tuple(input_shape)}")
        stride, padding, dilation, _, rounding = self._options()
        return conv_output_shape(input_shape, self.out_channels, self.kernel_size, stride, padding, dilation, rounding)

    def __repr__(self) -> str:
        _, _, dilation, groups, rounding = self._options()
        extras = [f"dilation={dilation}"] if dilation != 1 else []
        extras += [f"groups={groups}"] if groups != 1 else []
        extras += [f"rounding={rounding!r}"] if rounding != "strict" else []
        extras += [f"kernels={self.kernels!r}"] if getattr(self, "kernels", "fast") != "fast" else []
        return (
            f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}" + "".join(", " + e for e in extras) + ")"
        )


class ConvTranspose2D(Layer):
    """The transposed convolution ("deconvolution", learned upsampling): each input pixel paints
    its filters, scaled by its value, onto the output, S cells apart.

    Input (N, D, H1, W1) -> output (N, K, H2, W2), H2 = (H1 - 1)S - 2P + dilation(F - 1) + output_padding + 1.
    params["W"]: (D, K/G, Fh, Fw) (PyTorch's ConvTranspose2d layout), params["b"]: (K,).
    It is the backward pass of Conv2D(K, D, F, S, P) run forward: it maps that layer's output
    size back to its input size (output_padding picks among the S sizes that all map to H1).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        *,
        output_padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        rng: RngLike = None,
        dtype=np.float64,
        kernels: str = "fast",
    ) -> None:
        super().__init__()
        name, ex = "ConvTranspose2D", "ConvTranspose2D(8, 3, kernel_size=4, stride=2, padding=1)"
        self.kernels = kernels
        kernel_room(kernels, name)  # refuse an unknown room now, not at the first forward
        self.in_channels = whole("in_channels (input depth D)", in_channels, 1, name, ex)
        self.out_channels = whole("out_channels (number of output maps K)", out_channels, 1, name, ex)
        fh, fw = pair("kernel_size (filter size F)", kernel_size, 1, name, ex)
        self.kernel_size = _shown((fh, fw))
        self.stride = _shown(pair("stride S", stride, 1, name, ex))
        self.padding = _shown(pair("padding P", padding, 0, name, ex))
        self.output_padding = _shown(pair("output_padding", output_padding, 0, name, ex))
        self.dilation = _shown(pair("dilation", dilation, 1, name, ex))
        self.groups = check_groups(groups, self.in_channels, self.out_channels, name)
        for a, (op, s, d) in enumerate(zip(*(pair("", v, 0) for v in (self.output_padding, self.stride, self.dilation)))):
            if op >= s and op >= d:
                raise ValueError(
                    f"{name}: output_padding={self.output_padding} must be smaller than the stride S={self.stride} or "
                    f"the dilation={self.dilation} on each axis (PyTorch's rule); got {op} on the "
                    f"{('height', 'width')[a]} axis; use output_padding <= {max(s, d) - 1} there"
                )
        dtype = float_dtype(dtype, name)
        k_group = self.out_channels // self.groups
        self.params["W"] = he_normal((self.in_channels, k_group, fh, fw), k_group * fh * fw, rng, dtype)
        self.params["b"] = np.zeros(self.out_channels, dtype=dtype)

    def _options(self) -> tuple:
        return (self.stride, self.padding, self.output_padding, self.dilation, self.groups)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = array("ConvTranspose2D.forward", "x", x)
        _check_input("ConvTranspose2D", x, 4, 1, self.in_channels, "input depth D")
        out, self.cache = self._room.conv_transpose2d_forward(x, self.params["W"], self.params["b"], *self._options())
        self._out_shape = out.shape
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cache = self._saved()
        dy = self._upstream(dy, self._out_shape, cache.x)
        dx, self.grads["W"], self.grads["b"] = self._room.conv_transpose2d_backward(dy, cache)
        return dx

    def output_shape(self, input_shape):
        d, h, w = _sample_shape("ConvTranspose2D", input_shape)
        if d != self.in_channels:
            raise ValueError(f"ConvTranspose2D expects input depth D={self.in_channels}, got shape {(d, h, w)}")
        per_axis = zip(*(pair("", v, 0) for v in (self.kernel_size, *self._options()[:4])))
        sizes = [transposed_output_size(n, f, s, p, op, dil) for n, (f, s, p, op, dil) in zip((h, w), per_axis)]
        return (self.out_channels, *sizes)

    def __repr__(self) -> str:
        extras = [f"output_padding={self.output_padding}"] if self.output_padding != 0 else []
        extras += [f"dilation={self.dilation}"] if self.dilation != 1 else []
        extras += [f"groups={self.groups}"] if self.groups != 1 else []
        extras += [f"kernels={self.kernels!r}"] if self.kernels != "fast" else []
        return (
            f"ConvTranspose2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}" + "".join(", " + e for e in extras) + ")"
        )


class _Pool2D(Layer):
    mode = "max"

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        *,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        rounding: str = "strict",
        kernels: str = "fast",
    ) -> None:
        super().__init__()
        name, ex = type(self).__name__, f"{type(self).__name__}(2) or {type(self).__name__}(3, stride=2)"
        self.kernels = kernels
        kernel_room(kernels, name)  # refuse an unknown room now, not at the first forward
        self.kernel_size = _shown(pair("kernel_size (window size F)", kernel_size, 1, name, ex))
        self.stride = self.kernel_size if stride is None else _shown(pair("stride S", stride, 1, name, ex))
        self.padding = _shown(pair("padding P", padding, 0, name, ex))
        if not isinstance(ceil_mode, (bool, np.bool_)):
            raise TypeError(f"{name}: ceil_mode must be True or False, got {ceil_mode!r}")
        rounding = check_rounding(rounding, name)
        if ceil_mode and rounding == "floor":
            raise ValueError(f"{name}: ceil_mode=True asks for rounding='ceil' but rounding='floor' was given: pass one of them")
        self.rounding = "ceil" if ceil_mode else rounding
        for p, f in zip(pair("", self.padding, 0), pair("", self.kernel_size, 1)):
            if 2 * p > f:
                raise ValueError(
                    f"{name}: padding P={p} must be at most half the window F={f} (PyTorch's rule: every window "
                    f"must hold at least one input cell); use padding <= {f // 2}"
                )

    def _options(self) -> tuple:
        return (getattr(self, "padding", 0), False, getattr(self, "rounding", "strict"))

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        _check_input(type(self).__name__, x, 4, 1, x.shape[1] if x.ndim == 4 else 0, "depth D")
        out, self.cache = self._room.pool2d_forward(x, self.kernel_size, self.stride, self.mode, *self._options())
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cache = self._saved()
        return self._room.pool2d_backward(self._upstream(dy, cache.out.shape, cache.out.dtype), cache)

    def output_shape(self, input_shape):
        d, h, w = _sample_shape(type(self).__name__, input_shape)
        padding, _, rounding = self._options()
        per_axis = zip(pair("", self.kernel_size, 1), pair("", self.stride, 1), pair("", padding, 0))
        return (d, *(output_size(n, f, s, p, 1, rounding) for n, (f, s, p) in zip((h, w), per_axis)))

    def __repr__(self) -> str:
        padding, _, rounding = self._options()
        extras = [f"padding={padding}"] if padding != 0 else []
        extras += ["ceil_mode=True"] if rounding == "ceil" else [f"rounding={rounding!r}"] if rounding != "strict" else []
        return (
            f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride}"
            + "".join(", " + e for e in extras)
            + ")"
        )


class MaxPool2D(_Pool2D):
    """Keep the largest value of each F x F window of each activation map."""

    mode = "max"


class AvgPool2D(_Pool2D):
    """Keep the average of each F x F window of each activation map."""

    mode = "avg"


class L2Pool2D(_Pool2D):
    """Keep the L2 norm sqrt(sum x^2) of each F x F window of each activation map."""

    mode = "l2"


class ReLU(Layer):
    """max(0, x), elementwise; its derivative is 1 where x > 0, else 0."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        self.cache = ~(x <= 0)  # as in PyTorch, a NaN passes its gradient through
        return np.maximum(x, 0)  # ReLU(-inf) = 0, ReLU(NaN) = NaN

    def backward(self, dy: np.ndarray) -> np.ndarray:
        mask = self._saved()
        dy = self._upstream(dy, mask.shape, None)
        return np.where(mask, dy, dy.dtype.type(0))  # not dy * mask: inf * 0 would be NaN


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)), written as (1 + tanh(a/2)) / 2: the same number, no overflow for large |a|."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


class Sigmoid(Layer):
    """1 / (1 + exp(-x)); its derivative is s(1 - s)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.cache = sigmoid(self._input(x))
        return self.cache

    def backward(self, dy: np.ndarray) -> np.ndarray:
        s = self._saved()
        dy = self._upstream(dy, s.shape, s)
        return dy * s * (1.0 - s)


class Flatten(Layer):
    """(N, D, H, W) -> (N, D*H*W): the lecture's "stretch 32x32x3 to 3072 x 1"."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        if x.ndim < 2:
            raise ValueError(
                f"Flatten.forward: x must have a batch axis and at least one more, (N, ...), "
                f"got {x.ndim}-D shape {x.shape}; for one sample use x[None]"
            )
        self.cache = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))  # (not -1: N may be 0)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape = self._saved()
        dy = self._upstream(dy, (shape[0], math.prod(shape[1:])), None)
        return dy.reshape(shape)

    def output_shape(self, input_shape):
        return (math.prod(_sample_shape("Flatten", input_shape, ndim=None)),)


class Linear(Layer):
    """Fully connected: y = x W^T + b, x (N, in) -> y (N, out); params["W"]: (out, in)."""

    def __init__(self, in_features: int, out_features: int, *, rng: RngLike = None, dtype=np.float64) -> None:
        super().__init__()
        ex = "Linear(64, 10)"
        in_features = self.in_features = whole("in_features", in_features, 1, "Linear", ex)
        out_features = self.out_features = whole("out_features", out_features, 1, "Linear", ex)
        dtype = float_dtype(dtype, "Linear")
        self.params["W"] = he_normal((out_features, in_features), in_features, rng, dtype)
        self.params["b"] = np.zeros(out_features, dtype=dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x, self.params["W"])
        _check_input("Linear", x, 2, 1, self.in_features, "in_features")
        self.cache = x
        return fast.matmul(x, self.params["W"].T) + self.params["b"]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x = self._saved()
        dy = self._upstream(dy, (len(x), self.out_features), x)
        self.grads["W"] = fast.matmul(dy.T, x)
        self.grads["b"] = dy.sum(axis=0)
        return fast.matmul(dy, self.params["W"])

    def output_shape(self, input_shape):
        input_shape = _sample_shape("Linear", input_shape, ndim=None)
        if tuple(input_shape) != (self.in_features,):
            raise ValueError(
                f"Linear expects {self.in_features} input features, got shape {tuple(input_shape)}"
                + (" (add a Flatten() before it)" if len(input_shape) > 1 else "")
            )
        return (self.out_features,)

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"
