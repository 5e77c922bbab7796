"""Checking what a caller passes in, with messages that say what came, what was expected, and the fix.

One rule for the dtype of arrays, everywhere in cnn_core:

* floating-point arrays (float16, float32, float64) are used as they are;
* integer arrays (``uint8`` photos, ``int64`` from ``np.arange``) are converted to
  floating point before any arithmetic, so nothing overflows or is truncated: to
  the dtype of the weights when the operation has floating-point weights (a
  ``uint8`` image through a float32 ``Conv2D`` computes in float32), else to float64;
* booleans, complex numbers, strings, dates and Python objects are refused
  (TypeError) with the conversion to use.

Lists and tuples of numbers are accepted wherever an array is (``np.asarray``).
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

__all__ = ["array", "as_float", "whole", "pair", "positive_number", "check_shape", "describe"]


def describe(value) -> str:
    """A short description of a value for an error message: shape and dtype for arrays."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        text = repr(value)
        return f"a {type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
    text = repr(value)
    return f"{text if len(text) <= 60 else text[:57] + '...'} ({type(value).__name__})"


def array(where: str, name: str, value, layout: str | None = None, ndim: int | None = None, hint: str = "") -> np.ndarray:
    """``value`` as a numeric numpy array, or a TypeError/ValueError naming ``where``, ``name`` and ``layout``.

    Integers stay integers here (see ``as_float``); ``ndim`` checks the number of axes.
    """
    form = f" of shape {layout}" if layout else ""
    if value is None:
        raise TypeError(f"{where}: {name} must be an array{form}, got None")
    if isinstance(value, (str, bytes, dict, set)):
        raise TypeError(f"{where}: {name} must be an array{form}, got {describe(value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as err:  # ragged nested lists
        raise ValueError(
            f"{where}: {name} must be an array{form}, got {describe(value)} that numpy cannot make into "
            f"one array (rows of different lengths?): {err}"
        ) from None
    kind = arr.dtype.kind
    if kind == "b":
        raise TypeError(
            f"{where}: {name} is a boolean array (dtype bool, shape {arr.shape}); cnn_core computes with "
            f"numbers: pass {name}.astype(np.float64) (True -> 1.0, False -> 0.0)"
        )
    if kind not in "iuf":
        what = {
            "c": "complex numbers",
            "O": "Python objects",
            "U": "strings",
            "S": "bytes",
            "M": "dates",
            "m": "time spans",
            "V": "records",
        }.get(kind, "non-numbers")
        raise TypeError(
            f"{where}: {name} must be a real-valued numeric array{form}, got dtype {arr.dtype} ({what}, "
            f"shape {arr.shape}); convert it with np.asarray({name}, dtype=np.float64)"
        )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{where}: {name} must be {ndim}-D{form}, got {arr.ndim}-D shape {arr.shape}" + (f"; {hint}" if hint else "")
        )
    return arr


def as_float(arr: np.ndarray, like=None) -> np.ndarray:
    """Integer arrays to floating point (the dtype of ``like`` if that is floating point, else float64)."""
    if arr.dtype.kind in "iu":
        like_dtype = getattr(like, "dtype", like)
        target = like_dtype if like_dtype is not None and np.dtype(like_dtype).kind == "f" else np.float64
        return arr.astype(target)
    return arr


def whole(name: str, value, minimum: int, where: str = "", example: str = "") -> int:
    """``value`` as a Python int >= minimum; bools, floats and strings are refused (TypeError)."""
    prefix = f"{where}: " if where else ""
    fix = f"; e.g. {example}" if example else ""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{prefix}{name} must be a whole number >= {minimum}, got {value!r} (a bool){fix}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{prefix}{name} must be a whole number >= {minimum}, got {describe(value)}{fix}") from None
    if value < minimum:
        raise ValueError(f"{prefix}{name} must be >= {minimum}, got {value}{fix}")
    return value


def pair(name: str, value, minimum: int, where: str = "", example: str = "") -> tuple[int, int]:
    """``value`` as a pair of whole numbers (height, width) >= minimum: one number means both axes.

    A tuple or list must have exactly two entries; each is checked like ``whole``.
    """
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            prefix = f"{where}: " if where else ""
            fix = f"; e.g. {example}" if example else ""
            raise ValueError(
                f"{prefix}{name} must be one whole number or a pair (height, width), got {describe(value)} "
                f"with {len(value)} entries{fix}"
            )
        return (
            whole(f"{name} (height)", value[0], minimum, where, example),
            whole(f"{name} (width)", value[1], minimum, where, example),
        )
    v = whole(name, value, minimum, where, example)
    return (v, v)


def positive_number(
    where: str,
    name: str,
    value,
    *,
    minimum: float = 0.0,
    inclusive: bool = False,
    maximum: float | None = None,
    max_inclusive: bool = False,
) -> float:
    """A finite real number in the given range, as float, or an error naming it and the range."""
    lo = f"{name} >= {minimum}" if inclusive else f"{name} > {minimum}"
    rng = lo + ("" if maximum is None else f" and {name} {'<=' if max_inclusive else '<'} {maximum}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a real number with {rng}, got {describe(value)}")
    value = float(value)
    ok = np.isfinite(value) and (value >= minimum if inclusive else value > minimum)
    if maximum is not None:
        ok = ok and (value <= maximum if max_inclusive else value < maximum)
    if not ok:
        raise ValueError(f"{where}: need {rng}, got {name}={value}")
    return value


def check_shape(where: str, name: str, arr: np.ndarray, expected: tuple, what: str) -> None:
    """Raise a ValueError if ``arr.shape != expected``; ``what`` says where the expected shape comes from."""
    if arr.shape != tuple(expected):
        raise ValueError(f"{where}: {name} must have shape {tuple(expected)} ({what}), got shape {arr.shape}")
