"""The online book's live explorers: a <div> with settings that book/_assets/live/explorers.js
turns into controls and computes in the page with cnn-live.js (no kernel, no server).

Jupyter Book loads both scripts on every page (``html_js_files`` in ``_config.yml``). Where a
kernel runs instead (JupyterLab, Colab), the explorer shows nothing: the chapter's ipywidgets
explorer is the live one there. The page's numbers are cnn_core's:
tests/test_live_engine.py and tests/test_live_explorers.py compare them.
"""

from __future__ import annotations

import base64
import html
import json

import numpy as np

from ..data import photo
from ..export import to_json
from ..filters import KERNELS
from ..model import Sequential
from ..transforms import resize_to

#: Photos offered by the explorers: grey, longer side ``side`` pixels.
LIVE_PHOTOS = {"cat": "chelsea", "astronaut": "astronaut", "coffee": "coffee"}


class LiveHTML:
    """A live explorer's HTML (``.data``). Displayed only while Jupyter Book builds the book:
    where a kernel runs, the chapter's ipywidgets explorer is the live one, and this shows nothing."""

    def __init__(self, data: str) -> None:
        self.data = data

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        from .explore import in_book_build

        if in_book_build():
            display(HTML(self.data))


def grey_image(img: np.ndarray, name: str) -> dict:
    """A grey image in [0, 1] as the page reads it: uint8 bytes in base64, row by row."""
    img = np.asarray(img, dtype=float)
    if img.ndim != 2:
        raise ValueError(f"grey_image: need a 2-D grey image, got shape {img.shape}")
    data = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    return {
        "name": name,
        "height": int(img.shape[0]),
        "width": int(img.shape[1]),
        "b64": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def page_image(entry: dict) -> np.ndarray:
    """The (H, W) float image the page computes with, from a grey_image entry."""
    raw = np.frombuffer(base64.b64decode(entry["b64"]), dtype=np.uint8)
    return raw.reshape(entry["height"], entry["width"]) / 255.0


def photos(side: int) -> list[dict]:
    """The bundled photos, grey, resized so the longer side is ``side`` pixels."""
    out = []
    for label, name in LIVE_PHOTOS.items():
        img = photo(name, gray=True)
        scale = side / max(img.shape)
        out.append(grey_image(resize_to(img, (round(img.shape[0] * scale), round(img.shape[1] * scale))), label))
    return out


def live_explorer(kind: str, config: dict, *, label: str) -> LiveHTML:
    """The div of one live explorer; ``label`` names it for screen readers."""
    payload = json.dumps(config).replace("</", "<\\/")
    return LiveHTML(
        f'<div class="cnn-live" data-kind="{html.escape(kind)}" role="group" '
        f'aria-label="{html.escape(label)}">'
        f'<p class="cnn-live-fallback">{html.escape(label)}: this explorer computes in your browser '
        "with JavaScript, which is off or blocked here; the pictures above show the same idea.</p>"
        f'<script type="application/json" class="cnn-live-config">{payload}</script></div>'
    )


def convolution_playground(side: int = 120, cell: int = 3, preset: str = "vertical edge (Sobel)") -> LiveHTML:
    """Type any 3x3 or 5x5 kernel; a photo, your own image or the webcam; numbers under the cursor."""
    presets = {name: k.tolist() for name, k in KERNELS.items()}
    return live_explorer(
        "convolution",
        {"images": photos(side), "presets": presets, "preset": preset, "side": side, "cell": cell},
        label="convolution playground",
    )


def stride_padding_explorer(N: int = 7, F: int = 3, S: int = 2, P: int = 0, dilation: int = 1) -> LiveHTML:
    """Any N, F, S, P and dilation: the windows along a row, the formula, why it does not fit."""
    return live_explorer(
        "stride_padding",
        {"start": {"N": N, "F": F, "S": S, "P": P, "Dl": dilation}},
        label="stride, padding and dilation explorer",
    )


def pooling_explorer(side: int = 96, cell: int = 3) -> LiveHTML:
    """Max / avg / L2 pooling of any size and stride on a photo (longer side ``side`` pixels: large
    enough to recognise, so that a pooled map looks coarser) or a drawing; the routed gradient."""
    return live_explorer("pooling", {"images": photos(side), "cell": cell}, label="pooling explorer")


def digit_input(image: np.ndarray, pad: int = 2) -> np.ndarray:
    """What the draw-a-digit page feeds its network, from a 28x28 image in [0, 1]: quantized to
    8 bits as a canvas holds it, shifted by whole pixels so its centre of mass is at the centre,
    padded by ``pad``; shape (1, 1, 28 + 2 pad, 28 + 2 pad). The page does the same in JavaScript."""
    img = np.rint(np.asarray(image, dtype=float).reshape(28, 28) * 255) / 255
    total = img.sum()
    rows, cols = np.indices(img.shape)
    dy = int(np.floor(13.5 - (rows * img).sum() / total + 0.5)) if total else 0  # JS Math.round
    dx = int(np.floor(13.5 - (cols * img).sum() / total + 0.5)) if total else 0
    out = np.zeros((28, 28))
    src = img[max(0, -dy) : 28 - max(0, dy), max(0, -dx) : 28 - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return np.pad(out, pad)[None, None]


#: The draw-a-digit page opens on the first example its network reads right with at least this probability.
SURE = 0.9
#: Less ink (the sum of the 28x28 input, 0..1 a pixel) than the faintest of the 5,000 MNIST digits holds
#: (23): the page says the drawing hardly looks like a digit yet.
LITTLE_INK = 20


def opening_example(model: Sequential, examples: np.ndarray, labels: np.ndarray, pad: int = 2) -> int:
    """Index of the example the draw-a-digit page opens on: the first that ``model``, fed as the page
    feeds it (digit_input), reads as its label with probability >= SURE, else the surest right one."""
    dtype = next(w.dtype for layer in model.layers for w in getattr(layer, "params", {}).values())
    scores = model.forward(np.concatenate([digit_input(e, pad) for e in examples]).astype(dtype)).astype(float)
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    right = [(p[i, y], i) for i, y in enumerate(np.asarray(labels, int)) if p[i].argmax() == y]
    if not right:
        raise ValueError("digit_explorer: the network misreads every example digit; pass more examples")
    sure = [i for q, i in right if q >= SURE]
    return sure[0] if sure else max(right)[1]


def digit_explorer(model: Sequential, examples: np.ndarray, labels: np.ndarray, pad: int = 2) -> LiveHTML:
    """Draw a digit; ``model`` (trained on 28x28 digits padded by ``pad``) classifies it in the page,
    with every layer's maps, the class probabilities and a saliency map. ``examples``: real test
    digits (N, 28, 28) in [0, 1] offered as starting points; the page opens on one it reads right
    (opening_example)."""
    ex = [{**grey_image(np.asarray(e).reshape(28, 28), str(int(y))), "label": int(y)} for e, y in zip(examples, labels)]
    start = opening_example(model, examples, labels, pad)
    config = {"layers": to_json(model, digits=6), "pad": pad, "examples": ex, "start": start, "littleInk": LITTLE_INK}
    return live_explorer("digit", config, label="draw a digit")
