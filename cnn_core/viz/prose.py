"""Numbers that the book's sentences state, computed by the code next to them.

A chapter computes a value and hands it to its prose with ``glue``; a markdown cell shows
it with MyST-NB's role, {glue:text}`name`. The value is formatted once, here, so the
page shows exactly what the code computed (and ``tests/test_prose.py`` checks that every
name a page uses was glued, and that the built page shows the value).
"""

from __future__ import annotations

import numbers

import numpy as np


def glue(name: str, value, fmt: str = "") -> None:
    """Glue ``format(value, fmt)`` under ``name`` for the book's prose.

    ``glue("test_acc", acc, ".3f")`` -> {glue:text}`test_acc` reads 0.971. numpy scalars
    are turned into Python numbers first (their repr, ``np.float64(...)``, is not a number).
    Outside a MyST-NB build (JupyterLab without myst_nb, Colab) nothing is displayed. Returns
    None, so a glue() call that ends a cell shows nothing in the page either.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue: name must be a Python identifier (letters, digits, _), got {name!r}")
    plain = value.item() if isinstance(value, np.generic) else value
    if fmt and not isinstance(plain, (numbers.Number, str)):
        raise TypeError(f"glue: {name!r} has format {fmt!r} but its value is {type(value).__name__}, not a number")
    text = format(plain, fmt)
    try:
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover - the book build always has myst_nb
        return None
    _glue(name, text, display=False)
    return None
