"""The residual block of ResNet (He et al. 2016): y = F(x) + shortcut(x).

The body F is a short stack of layers (conv-BN-ReLU-conv-BN); the shortcut carries x around it
unchanged (the *identity* shortcut), or, where the body changes the number of channels or the
size, through a 1 x 1 convolution with the body's stride (the *projection* shortcut, the paper's
W_s x). The two are added, so they must have the same shape. ResNet applies a ReLU after the
addition: ``Sequential([Residual(body), ReLU()])``.

Backward: the sum sends dy unchanged into both paths, and the input gradients of the two paths
add up, dx = dF/dx^T dy + dshortcut/dx^T dy (= ... + dy for the identity). That extra "+ dy" is
why gradients reach early layers of a deep ResNet undiminished.
"""

from __future__ import annotations

import numpy as np

from .layers import Conv2D, Layer, RngLike
from .model import Sequential


def _as_sequential(where: str, name: str, layers) -> Sequential:
    if isinstance(layers, Sequential):
        return layers
    if isinstance(layers, Layer):
        return Sequential([layers])
    if isinstance(layers, (list, tuple)):
        try:
            return Sequential(layers)
        except TypeError as err:
            raise TypeError(f"{where}: {name}: {err}") from None
    raise TypeError(
        f"{where}: {name} must be a Sequential, a layer or a list of layers, got {layers!r}; e.g. "
        f"Residual([Conv2D(16, 16, 3, padding=1), BatchNorm2D(16), ReLU(), Conv2D(16, 16, 3, padding=1), BatchNorm2D(16)])"
    )


def _strides_and_channels(body: Sequential) -> tuple[int, int, int | tuple[int, int]]:
    """(input channels, output channels, total stride) of a body, read from its conv layers."""
    convs = [layer for layer in body.layers if hasattr(layer, "in_channels") and hasattr(layer, "out_channels")]
    if not convs:
        raise ValueError(
            "Residual: shortcut='projection' reads the channels and the stride from the body's conv layers, "
            "but the body has none; pass the shortcut yourself, e.g. shortcut=Conv2D(D_in, D_out, 1, stride=S)"
        )
    sh = sw = 1
    for layer in body.layers:
        s = getattr(layer, "stride", 1)
        h, w = s if isinstance(s, (tuple, list)) else (s, s)
        sh, sw = sh * h, sw * w
    return convs[0].in_channels, convs[-1].out_channels, sh if sh == sw else (sh, sw)


class Residual(Layer):
    """y = body(x) + shortcut(x); shortcut None (identity), "projection" (1x1 conv) or layers.

    params/grads are flat dicts keyed "body.<i>.<name>" and "shortcut.<i>.<name>" (the arrays the
    layers hold), so SGD, Sequential and summary treat the block like any layer.
    """

    def __init__(self, body, shortcut=None, *, rng: RngLike = None) -> None:  # no Layer.__init__: params live in the layers
        self.body = _as_sequential("Residual", "body", body)
        if len(self.body.layers) == 0:
            raise ValueError("Residual: the body has no layers; y = x + x is not a residual block")
        if isinstance(shortcut, str):
            if shortcut != "projection":
                raise ValueError(
                    f"Residual: shortcut must be None (identity), 'projection' (a 1x1 conv) or layers, got {shortcut!r}"
                )
            d_in, d_out, stride = _strides_and_channels(self.body)
            dtype = next(iter(self.body.params.values()), np.zeros(0)).dtype
            shortcut = Conv2D(d_in, d_out, 1, stride=stride, rng=rng, dtype=dtype)
        self.shortcut = None if shortcut is None else _as_sequential("Residual", "shortcut", shortcut)
        self.cache = None

    @property
    def layers(self) -> list[Layer]:
        """The sub-networks: [body] or [body, shortcut]."""
        return [self.body] if self.shortcut is None else [self.body, self.shortcut]

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{name}.{k}": v for name, part in self._parts() for k, v in part.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{name}.{k}": v for name, part in self._parts() for k, v in part.grads.items()}

    def _parts(self):
        return [("body", self.body)] + ([] if self.shortcut is None else [("shortcut", self.shortcut)])

    def _mismatch(self, body_shape, skip_shape, batch: bool) -> ValueError:
        kind = "identity" if self.shortcut is None else "given"
        axes = "(N, D, H, W)" if batch else "(D, H, W)"
        return ValueError(
            f"Residual: the body gives shape {tuple(body_shape)} but the {kind} shortcut gives "
            f"{tuple(skip_shape)} {axes}; they are added, so they must match: use shortcut='projection' "
            f"(a 1x1 conv with the body's stride to the body's channels) or keep the channels and size in the body"
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        out = self.body.forward(x)
        skip = x if self.shortcut is None else self.shortcut.forward(x)
        if out.shape != skip.shape:
            raise self._mismatch(out.shape[1:], skip.shape[1:], batch=False)
        self.cache = skip.shape
        return out + skip

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape = self._saved()
        dy = self._upstream(dy, shape, None)
        skip = dy if self.shortcut is None else self.shortcut.backward(dy)
        return self.body.backward(dy) + skip  # not +=: a body's dx may be a view of dy

    def num_params(self) -> int:
        return sum(part.num_params() for part in self.layers)

    def output_shape(self, input_shape):
        out = self.body.output_shape(input_shape)
        skip = tuple(input_shape) if self.shortcut is None else self.shortcut.output_shape(input_shape)
        if tuple(out) != tuple(skip):
            raise self._mismatch(out, skip, batch=False)
        return tuple(out)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.body.layers)
        if self.shortcut is None:
            return f"Residual([{inner}])"
        skip = ", ".join(repr(layer) for layer in self.shortcut.layers)
        return f"Residual([{inner}], shortcut=[{skip}])"
