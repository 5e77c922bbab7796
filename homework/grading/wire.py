"""The one format that crosses the sandbox wall: JSON plus numpy arrays, never pickle.

A message is ``[8-byte length][JSON][8-byte count]([8-byte length][.npy bytes])*``. Values are
plain data: None, bool, int, float (also nan/inf), str, list, tuple, dict, numeric numpy
arrays; anything else is sent as a tagged description (``__callable__``, ``__figure__``,
``__model__``, ``__object__``) that the receiving side turns into something safe. Arrays are
read with ``allow_pickle=False``, so no message can run code in the process that reads it.

This file is copied into the sandbox next to ``runner.py``: it imports numpy only.
"""

from __future__ import annotations

import io
import json
import math
import struct
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

MAX_JSON = 16 << 20  # bytes of JSON in one message
MAX_ARRAYS = 512 << 20  # bytes of array data in one message
MAX_DEPTH = 32
_LEN = struct.Struct("<Q")


class WireError(ValueError):
    """A message that breaks the format or its limits."""


def encode(value: Any, describe: Callable[[Any], dict | None] | None = None) -> tuple[Any, list[np.ndarray]]:
    """(JSON-able tree, arrays) for ``value``; ``describe`` turns other objects into tagged dicts."""
    arrays: list[np.ndarray] = []

    def enc(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, np.generic) and v.dtype.kind in "biuf":
            v = v.item()
        if isinstance(v, int):
            return v if abs(v) < 2**63 else {"__float__": repr(float(v))}
        if isinstance(v, float):
            return v if math.isfinite(v) else {"__float__": repr(v)}
        if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
            arrays.append(np.ascontiguousarray(v))
            return {"__array__": len(arrays) - 1}
        if isinstance(v, tuple):
            return {"__tuple__": [enc(x, depth + 1) for x in v]}
        if isinstance(v, list):
            return [enc(x, depth + 1) for x in v]
        if isinstance(v, dict) and all(isinstance(k, (str, int)) for k in v):
            return {"__dict__": [[k, enc(x, depth + 1)] for k, x in v.items()]}
        described = describe(v) if describe else None
        if described is not None:
            return {key: enc(x, depth + 1) if key != "__callable__" else x for key, x in described.items()}
        return {"__object__": type(v).__name__, "repr": _short_repr(v)}

    return enc(value, 0), arrays


def decode(
    tree: Any,
    arrays: list[np.ndarray],
    tagged: Callable[[dict], Any] | None = None,
    text: Callable[[str], str] | None = None,
) -> Any:
    """The value of an encoded tree; ``tagged`` builds values of the tagged descriptions (given
    them with every string already passed through ``text``, if given: the grader cleans there
    what the student's process wrote)."""

    def dec(t: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
        if isinstance(t, list):
            return [dec(x, depth + 1) for x in t]
        if isinstance(t, str):
            return t if text is None else text(t)
        if not isinstance(t, dict):
            return t
        if "__array__" in t:
            index = t["__array__"]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise WireError(f"array reference {index!r} out of range")
            return arrays[index]
        if "__float__" in t:
            return float(t["__float__"])
        if "__tuple__" in t:
            return tuple(dec(x, depth + 1) for x in t["__tuple__"])
        if "__dict__" in t:
            return {dec(k, depth + 1): dec(x, depth + 1) for k, x in t["__dict__"]}
        inner = {
            dec(k, depth + 1): (dec(v, depth + 1) if k not in ("__callable__", "__object__", "repr") else raw(v))
            for k, v in t.items()
        }
        if tagged is None:
            return inner
        return tagged(inner)

    def raw(v: Any) -> Any:  # a field kept as sent (a name, a repr): only its text is cleaned
        return text(v) if text is not None and isinstance(v, str) else v

    return dec(tree, 0)


def write_message(stream: BinaryIO, tree: Any, arrays: list[np.ndarray] = ()) -> None:
    data = json.dumps(tree, allow_nan=False).encode()
    parts = [_LEN.pack(len(data)), data, _LEN.pack(len(arrays))]
    for a in arrays:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, a, allow_pickle=False)
        parts += [_LEN.pack(buf.tell()), buf.getvalue()]
    stream.write(b"".join(parts))
    stream.flush()


def read_message(stream: BinaryIO) -> tuple[Any, list[np.ndarray]] | None:
    """The next (tree, arrays) from ``stream``; None at a clean end of stream."""
    head = stream.read(_LEN.size)
    if not head:
        return None
    n = _read_len(head, MAX_JSON, "JSON part")
    tree = json.loads(_read_exact(stream, n))
    count = _read_len(_read_exact(stream, _LEN.size), 10_000, "array count")
    arrays, total = [], 0
    for _ in range(count):
        size = _read_len(_read_exact(stream, _LEN.size), MAX_ARRAYS - total, "array data")
        total += size
        arr = np.lib.format.read_array(io.BytesIO(_read_exact(stream, size)), allow_pickle=False)
        if arr.dtype.kind not in "biuf":
            raise WireError(f"array of dtype {arr.dtype} is not allowed")
        arrays.append(arr)
    return tree, arrays


def _read_len(raw: bytes, limit: int, what: str) -> int:
    if len(raw) != _LEN.size:
        raise WireError("message cut short")
    (n,) = _LEN.unpack(raw)
    if n > limit:
        raise WireError(f"{what} of {n} bytes is over the limit of {limit}")
    return n


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise WireError("message cut short")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _short_repr(v: Any, limit: int = 200) -> str:
    try:
        text = repr(v)
    except Exception:  # noqa: BLE001 - a student's __repr__ may raise anything
        text = f"<{type(v).__name__}>"
    return text if len(text) <= limit else text[:limit] + "…"
