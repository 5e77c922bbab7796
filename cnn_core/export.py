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
        entry: dict = {"type": kind.__name__, **{k: getattr(layer, k) for k in _SETTINGS[kind]}}
        for name in ("W", "b"):
            if name in layer.params:
                entry[name] = _array(layer.params[name], digits)
        out.append(entry)
    return out


__all__ = ["to_json"]
