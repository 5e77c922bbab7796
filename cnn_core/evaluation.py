"""What a trained network does (chapter 10): its probabilities, its confusion matrix, every
layer's output, its accuracy when the test digits move, and training runs over a grid of
learning rates. Numbers in, numbers out; cnn_core.viz.training draws them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .data import SHIFTS, shift
from .layers import Layer, MaxPool2D, ReLU
from .losses import softmax
from .model import Sequential, in_mode
from .train import batches, evaluate, fit

History = dict[str, list[float]]


def probabilities(model: Layer, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Softmax of the model's scores for every example, (N, classes), in evaluation mode."""
    with in_mode(model, False):
        return np.concatenate([softmax(model.forward(X[idx])) for idx in batches(len(X), batch_size)])


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """C[i, j] = number of examples of true class i predicted as class j (rows sum to class sizes)."""
    C = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(C, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return C


def layer_outputs(model: Sequential, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(layer, its output) for every layer of the model on the batch x, in order, in evaluation mode."""
    outs = []
    with in_mode(model, False):
        for i, layer in enumerate(model.layers):
            x = layer.forward(x)
            outs.append((f"{i}: {layer!r}", x))
    return outs


def activation_maps(
    model: Sequential, image: np.ndarray, kinds: tuple[type[Layer], ...] = (ReLU, MaxPool2D)
) -> tuple[list[tuple[str, np.ndarray]], np.ndarray]:
    """For one image (D, H, W): the (layer, maps (D', H', W')) after every layer of the given kinds
    that outputs maps (not the FC layers' vectors), and the class probabilities."""
    outs = layer_outputs(model, image[None])
    maps = [(name, out[0]) for (name, out), layer in zip(outs, model.layers) if isinstance(layer, kinds) and out.ndim == 4]
    return maps, softmax(outs[-1][1])[0]


def shift_accuracy(model: Layer, X: np.ndarray, y: np.ndarray, shifts: Sequence[int] = SHIFTS) -> np.ndarray:
    """acc[i, j] = accuracy on X moved down by shifts[i] and right by shifts[j] pixels (zero fill)."""
    return np.array([[evaluate(model, shift(X, dy, dx), y)[1] for dx in shifts] for dy in shifts])


def shift_summary(acc: np.ndarray, shifts: Sequence[int] = SHIFTS) -> dict[str, float]:
    """Mean accuracies read off a shift_accuracy grid: unshifted; moved 1 or 2 pixels left/right
    only; up/down only; and over every shift but (0, 0), diagonals included."""
    shifts = list(shifts)
    c = shifts.index(0)
    out = {"unshifted": float(acc[c, c])}
    for k in (1, 2):
        if k in shifts and -k in shifts:
            out[f"{k} px left/right"] = float(np.mean([acc[c, shifts.index(k)], acc[c, shifts.index(-k)]]))
            out[f"{k} px up/down"] = float(np.mean([acc[shifts.index(k), c], acc[shifts.index(-k), c]]))
    out["every shift"] = float((acc.sum() - acc[c, c]) / (acc.size - 1))
    return out


class LearningRateRuns:
    """history(lr, lr_decay): fit's history of a fresh model trained with those settings.

    Each setting is trained on first use and kept in ``runs[(lr, lr_decay)]``, so the book's
    pre-rendered explorer computes a grid once and the live one trains new settings on demand.
    """

    def __init__(
        self,
        make_model: Callable[[], Sequential],
        data: tuple[np.ndarray, ...],
        epochs: int = 10,
        momentum: float = 0.9,
        seed: int = 0,
    ) -> None:
        self.make_model, self.data, self.epochs = make_model, data, epochs
        self.momentum, self.seed = momentum, seed
        self.runs: dict[tuple[float, float], History] = {}

    def history(self, lr: float, lr_decay: float = 1.0) -> History:
        if (lr, lr_decay) not in self.runs:
            X_tr, y_tr, X_val, y_val = self.data
            self.runs[(lr, lr_decay)] = fit(
                self.make_model(),
                X_tr,
                y_tr,
                epochs=self.epochs,
                lr=lr,
                momentum=self.momentum,
                lr_decay=lr_decay,
                validation=(X_val, y_val),
                seed=self.seed,
                progress=False,
            )
        return self.runs[(lr, lr_decay)]
