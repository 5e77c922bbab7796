"""Where a trained network looks: input-gradient saliency, occlusion sensitivity, class-activation maps.

Three answers to "which pixels made the network say class c?", for one image x of shape (D, H, W)
and the score (logit) s_c(x) of class c:

    saliency     |ds_c / dx|, one backward pass from the score to the input (Simonyan et al., 2014);
    occlusion    p_c(x) - p_c(x with an F x F patch set to `fill`), for every patch position
                 (Zeiler & Fergus, 2014): how much the probability of class c drops without that patch;
    CAM          sum_k w_ck f_k(y, x) for a network that ends in global average pooling of its last
                 feature maps f_k and one Linear layer (Zhou et al., 2016); its mean over (y, x) plus
                 the bias b_c is the score s_c, so the map splits the score between the positions.
"""

from __future__ import annotations

import numpy as np

from .inputs import array, whole
from .layers import AvgPool2D, Flatten, Layer, Linear
from .losses import softmax
from .model import Sequential


def _image(where: str, x) -> np.ndarray:
    x = array(where, "x", x, "(D, H, W), one image")
    if x.ndim != 3:
        hint = "; for a batch of one, pass x[0]" if x.ndim == 4 and x.shape[0] == 1 else ""
        raise ValueError(f"{where}: x must be one image of shape (D, H, W), got shape {x.shape}{hint}")
    return x


def _label(where: str, label, n_classes: int) -> int:
    label = whole("label", label, 0, where)
    if label >= n_classes:
        raise ValueError(f"{where}: label must be a class 0..{n_classes - 1} of the model's {n_classes} outputs, got {label}")
    return label


def scores(model: Layer, x: np.ndarray) -> np.ndarray:
    """The model's scores (logits) for one image x (D, H, W): shape (classes,)."""
    return model.forward(_image("scores", x)[None])[0]


def saliency(model: Layer, x: np.ndarray, label: int) -> np.ndarray:
    """ds_label / dx for one image x (D, H, W): the gradient of the class score with respect to
    every input pixel, by one backward pass of the one-hot upstream gradient (shape of x).

    Its absolute value, summed over D, is the saliency map of Simonyan et al. (2014). The
    backward pass also overwrites the model's parameter gradients.
    """
    x = _image("saliency", x)
    out = model.forward(x[None])
    label = _label("saliency", label, out.shape[1])
    upstream = np.zeros_like(out)
    upstream[0, label] = 1.0
    return model.backward(upstream)[0]


def occlusion(model: Layer, x: np.ndarray, label: int, patch: int = 3, stride: int = 1, fill: float = 0.0) -> np.ndarray:
    """Drop of the probability of `label` when a patch x patch square of x is set to `fill`,
    for every position of the square (top-left corner at (i*stride, j*stride)).

    Returns shape ((H - patch)/stride + 1, (W - patch)/stride + 1): positive where covering
    the square makes the network less sure of `label`. All occluded copies run as one batch.
    """
    x = _image("occlusion", x)
    _, h, w = x.shape
    patch = whole("patch", patch, 1, "occlusion", "occlusion(model, x, label, patch=3)")
    stride = whole("stride", stride, 1, "occlusion", "occlusion(model, x, label, stride=1)")
    if patch > min(h, w):
        raise ValueError(f"occlusion: patch={patch} is larger than the image ({h} x {w}); choose patch <= {min(h, w)}")
    rows, cols = range(0, h - patch + 1, stride), range(0, w - patch + 1, stride)
    copies = np.repeat(x[None], len(rows) * len(cols), axis=0)
    for n, (i, j) in enumerate((i, j) for i in rows for j in cols):
        copies[n, :, i : i + patch, j : j + patch] = fill
    p_clean = softmax(model.forward(x[None]))[0]
    label = _label("occlusion", label, p_clean.size)
    p_covered = softmax(model.forward(copies))[:, label]
    return (p_clean[label] - p_covered).reshape(len(rows), len(cols))


def occlusion_pixels(drops: np.ndarray, image_shape: tuple[int, int], patch: int, stride: int = 1) -> np.ndarray:
    """Spread an occlusion map back onto the pixels: each pixel gets the mean drop of the patches
    that covered it (shape image_shape = (H, W))."""
    h, w = image_shape
    total, count = np.zeros((h, w)), np.zeros((h, w))
    for i in range(drops.shape[0]):
        for j in range(drops.shape[1]):
            total[i * stride : i * stride + patch, j * stride : j * stride + patch] += drops[i, j]
            count[i * stride : i * stride + patch, j * stride : j * stride + patch] += 1
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def gap_head(model: Sequential) -> int:
    """Index of the global-average-pooling layer of a GAP head: the model must end in global
    average pooling, an optional Flatten, and one Linear layer; the layers before it make the
    feature maps."""
    layers = list(getattr(model, "layers", []))
    tail = [layer for layer in layers[-3:] if not isinstance(layer, Flatten)] if layers else []
    is_gap = len(tail) >= 2 and (type(tail[-2]).__name__ == "GlobalAvgPool2D" or isinstance(tail[-2], AvgPool2D))
    if not (is_gap and isinstance(tail[-1], Linear)):
        raise ValueError(
            "class_activation_map: the model must end in global average pooling, Flatten, Linear "
            f"(a GAP head), but it ends in {layers[-3:]!r}; a network with fully connected layers on a "
            "flattened volume (an MLP, VGG's head) has no class-activation map"
        )
    return layers.index(tail[-2])


def class_activation_map(model: Sequential, x: np.ndarray, label: int) -> tuple[np.ndarray, float]:
    """(CAM, bias) for one image x (D, H, W) and a model ending in a GAP head.

    CAM[y, x] = sum_k W[label, k] f_k(y, x), with f the last feature maps (K, h, w); then
    CAM.mean() + bias == the score of `label`. Raises ValueError if an AvgPool2D head does not
    cover the whole feature map (then it is not global).
    """
    x = _image("class_activation_map", x)
    start = gap_head(model)
    features = x[None]
    for layer in model.layers[:start]:
        features = layer.forward(features)
    features = features[0]
    pool, fc = model.layers[start], model.layers[-1]
    size = getattr(pool, "kernel_size", None)
    if size is not None and features.shape[1:] != (size, size):
        raise ValueError(
            f"class_activation_map: {pool!r} is not global on feature maps of {features.shape[1]} x "
            f"{features.shape[2]}: use AvgPool2D({features.shape[1]}) on square maps, or a global average pool"
        )
    label = _label("class_activation_map", label, fc.out_features)
    cam = np.tensordot(fc.params["W"][label], features, axes=1)
    return cam, float(fc.params["b"][label])
