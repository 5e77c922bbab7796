"""A trained network as plain JSON, for the book's in-page engine (book/_assets/live/cnn-live.js).

``to_json(model)`` lists the layers of a ``Sequential`` with their settings and parameters:
``[{"type": "Conv2D", "stride": 1, "padding": 1, "W": {"shape": [8, 1, 3, 3], "data": [...]},
"b": {...}}, {"type": "ReLU"}, ...]``. The page rebuilds the same network and computes what
``model.forward`` computes (tests/test_live_engine.py compares the two).
"""

from __future__ import annotations

import numpy as np

from .layers import AvgPool2D, Conv2D, Flatten, Linear, MaxPool2D, ReLU
from .model import Sequential

_SETTINGS = {
    Conv2D: ("stride", "padding"),
    MaxPool2D: ("kernel_size", "stride"),
    AvgPool2D: ("kernel_size", "stride"),
    ReLU: (),
    Flatten: (),
    Linear: (),
}


# What the page engine computes: square filters, one stride and padding for both axes, and the
# lecture's defaults for everything the engine does not know.
_DEFAULTS = {"dilation": 1, "groups": 1, "rounding": "strict", "padding": 0}
_ENGINE_OPTIONS = {
    Conv2D: ("dilation", "groups", "rounding"),
    MaxPool2D: ("padding", "rounding"),
    AvgPool2D: ("padding", "rounding"),
}


def _check_engine_options(layer) -> None:
    """Refuse settings the page engine cannot compute (pairs, dilation, groups, pool padding, rounding)."""
    kind = type(layer).__name__
    for name in ("kernel_size", "stride", "padding"):
        value = getattr(layer, name, 0)
        if not isinstance(value, (int, np.integer)):
            raise ValueError(
                f"to_json: {kind} has {name}={value!r}, a (height, width) pair; the page engine computes square "
                f"windows with one {name} for both axes only: use one number"
            )
    for name in _ENGINE_OPTIONS.get(type(layer), ()):
        value = getattr(layer, name, _DEFAULTS[name])
        if value != _DEFAULTS[name]:
            raise ValueError(
                f"to_json: {kind} has {name}={value!r}; the page engine computes only {name}={_DEFAULTS[name]!r} "
                f"(the lecture's layers): export a model without it"
            )


def _array(a: np.ndarray, digits: int | None) -> dict:
    values = [float(v) for v in a.ravel()]
    return {"shape": list(a.shape), "data": values if digits is None else [round(v, digits) for v in values]}


def to_json(model: Sequential, digits: int | None = None) -> list[dict]:
    """The layers of ``model`` as JSON-able dicts; parameters exact, or rounded to ``digits``
    decimals for a lighter page."""
    out = []
    for layer in model.layers:
        kind = type(layer)
        if kind not in _SETTINGS:
            supported = ", ".join(k.__name__ for k in _SETTINGS)
            raise TypeError(f"to_json: layer {kind.__name__} is not supported by the page engine (supported: {supported})")
        _check_engine_options(layer)
        entry: dict = {"type": kind.__name__, **{k: getattr(layer, k) for k in _SETTINGS[kind]}}
        for name in ("W", "b"):
            if name in layer.params:
                entry[name] = _array(layer.params[name], digits)
        out.append(entry)
    return out


__all__ = ["to_json"]
