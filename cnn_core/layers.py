"""Layers: state (parameters, gradients, what backward needs) around the kernels.

Every layer has ``forward(x) -> y``, ``backward(dy) -> dx`` (which fills
``grads``), dicts ``params`` and ``grads`` (keys "W", "b" where there are
parameters), and ``output_shape(input_shape)`` for one sample, without a batch
axis, so a network's shapes can be traced without running it.
"""
from __future__ import annotations

import numpy as np

from . import functional as fn
from .shapes import conv_output_shape, output_size

RngLike = int | np.random.Generator | None


def as_rng(rng: RngLike) -> np.random.Generator:
    """A numpy Generator from a seed, a Generator, or None (fresh entropy)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def he_normal(shape: tuple[int, ...], fan_in: int, rng: RngLike = None, dtype=np.float64) -> np.ndarray:
    """He/Kaiming initialisation for ReLU nets: N(0, 2 / fan_in)."""
    return (as_rng(rng).standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


class Layer:
    """Base class: a layer without parameters passes shapes through unchanged."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.cache = None  # what forward keeps for backward

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

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


def _check_input(layer: str, x: np.ndarray, ndim: int, axis: int, expected: int, meaning: str) -> None:
    """Raise a ValueError that says what shape was expected and what came."""
    layout = "(N, D, H, W)" if ndim == 4 else "(N, features)"
    if x.ndim != ndim:
        hint = " (add a Flatten() before it)" if ndim == 2 and x.ndim > 2 else ""
        raise ValueError(f"{layer} expects a {ndim}-D input {layout}, got shape {x.shape}{hint}")
    if x.shape[axis] != expected:
        raise ValueError(
            f"{layer} expects {meaning}={expected} (axis {axis} of {layout}), got {x.shape[axis]} "
            f"in input of shape {x.shape}"
        )


class Conv2D(Layer):
    """K filters of size F x F x D, stride S, zero padding P.

    Input (N, D, H1, W1) -> output (N, K, H2, W2), H2 = (H1 + 2P - F)/S + 1.
    params["W"]: (K, D, F, F), params["b"]: (K,); (F*F*D + 1)*K parameters.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, *, rng: RngLike = None, dtype=np.float64) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        fan_in = in_channels * kernel_size * kernel_size
        self.params["W"] = he_normal((out_channels, in_channels, kernel_size, kernel_size), fan_in, rng, dtype)
        self.params["b"] = np.zeros(out_channels, dtype=dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_input("Conv2D", x, 4, 1, self.in_channels, "input depth D")
        out, self.cache = fn.conv2d_forward(x, self.params["W"], self.params["b"], self.stride, self.padding)
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dx, self.grads["W"], self.grads["b"] = fn.conv2d_backward(dy, self._saved())
        return dx

    def output_shape(self, input_shape):
        if input_shape[0] != self.in_channels:
            raise ValueError(f"Conv2D expects input depth D={self.in_channels}, got shape {tuple(input_shape)}")
        return conv_output_shape(input_shape, self.out_channels, self.kernel_size, self.stride, self.padding)

    def __repr__(self) -> str:
        return (f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class _Pool2D(Layer):
    mode = "max"

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self.cache = fn.pool2d_forward(x, self.kernel_size, self.stride, self.mode)
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return fn.pool2d_backward(dy, self._saved())

    def output_shape(self, input_shape):
        d, h, w = input_shape
        f, s = self.kernel_size, self.stride
        return (d, output_size(h, f, s), output_size(w, f, s))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


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
        self.cache = x > 0
        return x * self.cache

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self._saved()


class Sigmoid(Layer):
    """1 / (1 + exp(-x)); its derivative is s(1 - s)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.cache = 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for large |x|
        return self.cache

    def backward(self, dy: np.ndarray) -> np.ndarray:
        s = self._saved()
        return dy * s * (1.0 - s)


class Flatten(Layer):
    """(N, D, H, W) -> (N, D*H*W): the lecture's "stretch 32x32x3 to 3072 x 1"."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(self._saved())

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Linear(Layer):
    """Fully connected: y = x W^T + b, x (N, in) -> y (N, out); params["W"]: (out, in)."""

    def __init__(self, in_features: int, out_features: int, *, rng: RngLike = None, dtype=np.float64) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.params["W"] = he_normal((out_features, in_features), in_features, rng, dtype)
        self.params["b"] = np.zeros(out_features, dtype=dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_input("Linear", x, 2, 1, self.in_features, "in_features")
        self.cache = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x = self._saved()
        self.grads["W"] = dy.T @ x
        self.grads["b"] = dy.sum(axis=0)
        return dy @ self.params["W"]

    def output_shape(self, input_shape):
        if tuple(input_shape) != (self.in_features,):
            raise ValueError(
                f"Linear expects {self.in_features} input features, got shape {tuple(input_shape)}"
                + (" (add a Flatten() before it)" if len(input_shape) > 1 else "")
            )
        return (self.out_features,)

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"
