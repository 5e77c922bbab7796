"""Every function the package docstring's map of the lecture names exists (cnn_core/__init__.py)."""

import importlib
import re

import cnn_core


def test_every_name_in_the_lecture_map_exists():
    doc = cnn_core.__doc__
    start = doc.index("\n", doc.index("that every name exists"))
    table = doc[start : doc.index("Rooms:")]
    names = re.findall(r"\b([a-z_]+)\.([A-Za-z_][A-Za-z0-9_]*)\b", table)
    assert len(names) >= 20, names
    for module, attr in names:
        mod = importlib.import_module(f"cnn_core.{module}")
        assert hasattr(mod, attr), f"cnn_core.{module}.{attr} is named in the lecture map but does not exist"
