"""Dropout (Srivastava et al. 2014): in training, zero each activation with probability p.

Inverted dropout, as PyTorch: each value is kept with probability 1 - p and the kept ones are
scaled by 1 / (1 - p), so the expected output equals the input and evaluation needs no change:

    training:    y = x * keep / (1 - p),   keep ~ Bernoulli(1 - p), one draw per value
    evaluation:  y = x                     (``training = False``: model.eval(), evaluate, predict)

Backward uses the same mask: dx = dy * keep / (1 - p). The mask comes from the layer's own
seeded generator (``rng``), so the same seed gives the same masks; PyTorch's generator differs,
so a comparison with PyTorch passes PyTorch's mask to ``dropout_forward``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .inputs import array, as_float, check_shape, positive_number
from .layers import Layer, RngLike, as_rng


class DropoutCache(NamedTuple):
    scale: np.ndarray  # keep / (1 - p): 0 where dropped, 1/(1-p) where kept


def dropout_forward(x: np.ndarray, p: float, keep: np.ndarray) -> tuple[np.ndarray, DropoutCache]:
    """y = x * keep / (1 - p) for a given boolean mask ``keep`` (True = kept) of x's shape."""
    x = as_float(array("dropout_forward", "x", x))
    p = _probability("dropout_forward", p)
    keep = np.asarray(keep)
    if keep.dtype != bool:
        raise TypeError(f"dropout_forward: keep must be a boolean mask (True = kept), got dtype {keep.dtype}")
    check_shape("dropout_forward", "keep", keep, x.shape, "the shape of x")
    scale = keep * x.dtype.type(1.0 / (1.0 - p))
    return x * scale, DropoutCache(scale)


def dropout_backward(dout: np.ndarray, cache: DropoutCache) -> np.ndarray:
    """dx = dout * keep / (1 - p)."""
    dout = as_float(array("dropout_backward", "dout", dout), cache.scale)
    check_shape("dropout_backward", "dout", dout, cache.scale.shape, "the shape of the forward output")
    return dout * cache.scale


def _probability(where: str, p) -> float:
    return positive_number(where, "p", p, inclusive=True, maximum=1.0)


class Dropout(Layer):
    """Inverted dropout with drop probability p in [0, 1); identity in evaluation mode."""

    def __init__(self, p: float = 0.5, *, rng: RngLike = None) -> None:
        super().__init__()
        self.p = _probability("Dropout", p)
        self.rng = as_rng(rng)
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        if not self.training or self.p == 0.0:
            self.cache = DropoutCache(np.ones(x.shape, dtype=x.dtype))
            return x
        keep = self.rng.random(x.shape) >= self.p
        out, self.cache = dropout_forward(x, self.p, keep)
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cache = self._saved()
        return dropout_backward(self._upstream(dy, cache.scale.shape, cache.scale), cache)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g})"
