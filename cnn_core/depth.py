"""Depth experiments: a deep plain CNN against the same depth with residual connections, and
what batch normalization does to the learning rates that train.

    plain block      x -> ReLU(conv(ReLU(conv(x))))
    residual block   x -> ReLU(x + conv(ReLU(conv(x))))          (He et al., 2016)

with an optional BatchNorm2D after each convolution. Every network is
stem (conv 3x3 -> ReLU -> 2x2 max pool) -> `blocks` blocks of two 3x3 convolutions -> Flatten ->
Linear, so a plain and a residual network of the same `blocks` have exactly the same layers and
parameters; only the shortcut differs.

Numbers in, numbers out: the chapter plots them (cnn_core.viz.lenet_to_resnet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .inputs import whole
from .layers import Conv2D, Flatten, Layer, Linear, MaxPool2D, ReLU, as_rng
from .losses import softmax_cross_entropy
from .model import Sequential
from .train import evaluate, fit


def deep_cnn(
    blocks: int,
    *,
    residual: bool,
    batchnorm: bool = False,
    width: int = 8,
    input_shape: Sequence[int] = (1, 8, 8),
    n_classes: int = 10,
    zero_init_residual: bool = True,
    rng=0,
    dtype=np.float64,
) -> Sequential:
    """stem -> `blocks` blocks of two 3x3 convs (width filters) -> Flatten -> Linear.

    Convolution layers: 1 + 2 * blocks. With ``residual``, each block adds its input to its
    output before the last ReLU; ``zero_init_residual`` starts the block's last layer at zero
    (its conv weights, or its BatchNorm's gamma), so every block starts as the identity and the
    network starts as a shallow one (Goyal et al., 2017; torchvision's ``zero_init_residual``).
    Without it the variance of x + F(x) grows with every block.
    """
    blocks = whole("blocks", blocks, 0, "deep_cnn", "deep_cnn(8, residual=True)")
    width = whole("width", width, 1, "deep_cnn", "deep_cnn(8, residual=True, width=8)")
    gen = as_rng(rng)
    d, h, w = (whole(f"input_shape[{i}]", n, 1, "deep_cnn") for i, n in enumerate(input_shape))
    if batchnorm:
        from .normalization import BatchNorm2D
    if residual:
        from .residual import Residual

    def conv(d_in: int) -> list[Layer]:
        layers: list[Layer] = [Conv2D(d_in, width, 3, padding=1, rng=gen, dtype=dtype)]
        return layers + ([BatchNorm2D(width, dtype=dtype)] if batchnorm else [])

    layers: list[Layer] = [*conv(d), ReLU(), MaxPool2D(2)]
    for _ in range(blocks):
        body = [*conv(width), ReLU(), *conv(width)]
        if residual:
            if zero_init_residual:
                last = body[-1]
                last.params["gamma" if batchnorm else "W"][...] = 0.0
            layers += [Residual(body), ReLU()]
        else:
            layers += [*body, ReLU()]
    layers += [Flatten(), Linear(width * (h // 2) * (w // 2), n_classes, rng=gen, dtype=dtype)]
    return Sequential(layers)


def _has_weights(layer: Layer) -> bool:
    """A convolution, a linear layer or a block holding them (not a BatchNorm's gamma/beta)."""
    return any(v.ndim >= 2 for v in layer.params.values())


def signal_gradient_norms(model: Sequential, X: np.ndarray, y: np.ndarray) -> tuple[list[int], list[float]]:
    """(depths, norms): ||dE/dx_l||, the error signal that reaches the input x_l of every layer
    with parameters (a convolution, a residual block, the last Linear), input side first, for one
    batch (X, y); depths[l] = the number of convolution layers below x_l.

    In a plain stack the signal is multiplied by every layer's Jacobian on its way down; a
    residual block adds its input's path, dx = dy + dF/dx^T dy, so the signal also arrives
    unchanged. Runs one forward and a backward layer by layer.
    """
    out = model.forward(X)
    _, dy = softmax_cross_entropy(out, y)
    norms = []
    for layer in reversed(model.layers):
        dy = layer.backward(dy)
        if _has_weights(layer):
            norms.append(float(np.linalg.norm(dy)))
    depths, below = [], 0
    for layer in model.layers:
        if _has_weights(layer):
            depths.append(below)
        below += sum(1 for v in layer.params.values() if v.ndim == 4)
    return depths, norms[::-1]


def train_seeds(
    make_model: Callable[[int], Layer],
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    seeds: Sequence[int],
    **fit_kwargs,
) -> list[dict[str, list[float]]]:
    """fit(make_model(seed), X_train, y_train, validation=(X_val, y_val), seed=seed) for every
    seed: new weights and new shuffling each time. Returns the histories."""
    X_tr, y_tr, X_val, y_val = data
    runs = []
    for seed in seeds:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is a result, not an error
            runs.append(fit(make_model(seed), X_tr, y_tr, validation=(X_val, y_val), seed=seed, progress=False, **fit_kwargs))
    return runs


def lr_sweep(
    make_model: Callable[[int], Layer],
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    lrs: Sequence[float],
    seeds: Sequence[int],
    **fit_kwargs,
) -> dict[float, list[float]]:
    """{learning rate: [validation accuracy after training, one per seed]}. A run whose loss
    overflows to nan counts with the accuracy it ends at (about 0.1 for 10 classes)."""
    return {lr: [h["val_accuracy"][-1] for h in train_seeds(make_model, data, seeds, lr=lr, **fit_kwargs)] for lr in lrs}


def accuracy(model: Layer, X: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of a trained model on (X, y) (in evaluation mode where the model has one)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return evaluate(model, X, y)[1]
