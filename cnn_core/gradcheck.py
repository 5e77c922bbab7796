"""Numerical gradients by central differences, and the relative error to compare them.

CS231n's scale for rel_error: < 1e-7 good, 1e-4 suspicious, > 1e-2 wrong.

Central differences need float64 and a function that is smooth within h of x.
check_layer takes care of both: it checks float32 layers on a float64 copy,
converts integer inputs, and leaves out the entries that sit on a kink (a ReLU
input or a max-pool tie within h), each time with a GradientCheckWarning that
says why.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import numpy as np

from .inputs import array, as_float, positive_number


class GradientCheckWarning(UserWarning):
    """check_layer changed how it checks (dtype, integer input, kinks): the message says why."""


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(1e-8, |a| + |b|), elementwise, the largest over the array."""
    a = as_float(array("rel_error", "a", a)).astype(np.float64)
    b = as_float(array("rel_error", "b", b)).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d f / d x by central differences (f(x + h) - f(x - h)) / 2h, one entry at a time.

    f takes no arguments and reads x, which is changed in place and restored.
    x must be a floating-point array (an integer array cannot hold x + h).
    """
    return _differences(f, x, h)[0]


def _differences(f: Callable[[], float], x: np.ndarray, h: float, one_sided: bool = False):
    """(central, forward, backward) differences of f at every entry of x (the last two only if one_sided)."""
    if not callable(f):
        raise TypeError(f"numerical_gradient: f must be a function of no arguments that reads x and returns a number, got {f!r}")
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"numerical_gradient: x must be the numpy array that f reads (it is changed in place), got {type(x).__name__}"
        )
    if x.dtype.kind != "f":
        raise TypeError(
            f"numerical_gradient: x must be a floating-point array, got dtype {x.dtype}: an integer "
            f"array cannot hold x + h; use x = x.astype(np.float64) (and let f read the new x)"
        )
    if not x.flags.writeable:
        raise ValueError("numerical_gradient: x is read-only, but it is changed in place: pass a copy, x.copy()")
    h = positive_number("numerical_gradient", "h", h)
    grad = np.zeros(x.shape, dtype=np.float64)
    fwd = np.zeros(x.shape, dtype=np.float64) if one_sided else None
    bwd = np.zeros(x.shape, dtype=np.float64) if one_sided else None
    center = float(f()) if one_sided else 0.0
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f()
        x[idx] = old - h
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
        if one_sided:
            fwd[idx] = (plus - center) / h
            bwd[idx] = (center - minus) / h
    return grad, fwd, bwd


def _float64_copy(layer):
    """A deep copy of the layer whose parameters (in it and in its sub-layers) are float64."""
    twin = copy.deepcopy(layer)
    stack = [twin]
    while stack:
        item = stack.pop()
        params = getattr(item, "__dict__", {}).get("params")
        if isinstance(params, dict):
            for name, p in params.items():
                params[name] = np.asarray(p, dtype=np.float64)
        stack.extend(getattr(item, "layers", []))
    return twin


def check_layer(layer, x: np.ndarray, seed: int = 0, h: float = 1e-5) -> dict[str, float]:
    """Compare a layer's backward with numerical gradients of L = sum(forward(x) * dout).

    Returns the relative error for the input ("x") and every parameter. Warns
    (GradientCheckWarning) instead of raising a false alarm when central
    differences cannot be trusted, and says what it did:

    * float32 (or float16) parameters or input: ~7 significant digits are too few for
      (f(x+h) - f(x-h)) / 2h, so a float64 copy of the layer is checked instead;
    * an integer input: converted to float64 (the gradient is the same);
    * entries within h of a kink (a ReLU input near 0, a max-pool near-tie), where
      the two one-sided differences disagree: left out of the relative error.
    """
    for attr in ("forward", "backward", "params", "grads"):
        if not hasattr(layer, attr):
            raise TypeError(
                f"check_layer: layer must have forward, backward, params and grads (a cnn_core "
                f"layer), got {type(layer).__name__} without {attr!r}"
            )
    x = array("check_layer", "x", x)
    h = positive_number("check_layer", "h", h)
    if x.dtype.kind in "iu":
        warnings.warn(
            f"check_layer: x has integer dtype {x.dtype}; it is checked as float64 (x.astype(np.float64)), the same values",
            GradientCheckWarning,
            stacklevel=2,
        )
    low = sorted({str(a.dtype) for a in [x, *layer.params.values()] if a.dtype.kind == "f" and a.itemsize < 8})
    if low:
        warnings.warn(
            f"check_layer: the layer or x is {', '.join(low)}, whose ~7 significant digits make central "
            f"differences with h={h:g} meaningless (rounding / h is about 1e-2); checking a float64 copy of "
            f"the layer instead (the same code, in double precision)",
            GradientCheckWarning,
            stacklevel=2,
        )
        layer = _float64_copy(layer)
    x = np.array(x, dtype=np.float64)  # a copy: numerical_gradient changes it in place
    dout = np.random.default_rng(seed).standard_normal(layer.forward(x).shape)

    def loss() -> float:
        return float(np.sum(layer.forward(x) * dout))

    layer.forward(x)
    analytic = {"x": layer.backward(dout)}
    analytic.update({k: g.copy() for k, g in layer.grads.items()})
    targets = {"x": x, **layer.params}
    errors, kinks = {}, {}
    for name, arr in targets.items():
        central, fwd, bwd = _differences(loss, arr, h, one_sided=True)
        # on a kink the slopes left and right of x differ (a smooth f: by about h * f'')
        kink = np.abs(fwd - bwd) > 1e-3 * np.maximum(1.0, np.abs(fwd) + np.abs(bwd))
        if kink.any():
            kinks[name] = int(kink.sum()), kink.size
        ok = ~kink
        errors[name] = rel_error(np.asarray(analytic[name])[ok], central[ok])
    if kinks:
        where = ", ".join(f"{n} of {total} entries of {name}" for name, (n, total) in kinks.items())
        warnings.warn(
            f"check_layer: {where} sit within h={h:g} of a kink (e.g. a ReLU input near 0 or a max-pool "
            f"near-tie), where the function has no derivative and central differences mean nothing; they were "
            f"left out of the errors. To check them too, move x away from the kink (another seed or "
            f"x + 0.1 * np.sign(x)) or use a smaller h",
            GradientCheckWarning,
            stacklevel=2,
        )
    return errors
