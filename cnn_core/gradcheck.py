"""Numerical gradients by central differences, and the relative error to compare them.

CS231n's scale for rel_error: < 1e-7 good, 1e-4 suspicious, > 1e-2 wrong.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(1e-8, |a| + |b|), elementwise, the largest over the array."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d f / d x by central differences (f(x + h) - f(x - h)) / 2h, one entry at a time.

    f takes no arguments and reads x, which is changed in place and restored.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f()
        x[idx] = old - h
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def check_layer(layer, x: np.ndarray, seed: int = 0, h: float = 1e-5) -> dict[str, float]:
    """Compare a layer's backward with numerical gradients of L = sum(forward(x) * dout).

    Returns the relative error for the input ("x") and every parameter.
    """
    dout = np.random.default_rng(seed).standard_normal(layer.forward(x).shape)

    def loss() -> float:
        return float(np.sum(layer.forward(x) * dout))

    layer.forward(x)
    errors = {"x": rel_error(layer.backward(dout), numerical_gradient(loss, x, h))}
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    for name, p in layer.params.items():
        errors[name] = rel_error(analytic[name], numerical_gradient(loss, p, h))
    return errors
