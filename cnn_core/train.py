"""Training: minibatch SGD with momentum, fit / evaluate / predict, a progress line per epoch.

"How do we learn the filters? Essentially the same as FC NNs: SGD/backprop."
For each minibatch: forward, loss, backward, then for every parameter
    g <- grad + weight_decay * w,   v <- momentum * v - lr * g,   w <- w + v.

Weight decay (L2 regularisation: adding (weight_decay / 2) * |w|^2 to the loss adds
weight_decay * w to its gradient) is applied to every parameter, biases and BatchNorm's
gamma and beta included, as PyTorch's torch.optim.SGD does unless told otherwise. With a
constant lr this is exactly torch.optim.SGD(lr, momentum, weight_decay) (PyTorch keeps
b = momentum * b + g and steps w -= lr * b, which is v = -lr * b).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from .inputs import array, describe, positive_number, whole
from .layers import Layer
from .model import in_mode
from .losses import mse_loss, softmax_cross_entropy
from .progress import EpochBar

LossFn = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]
LOSSES: dict[str, LossFn] = {"cross_entropy": softmax_cross_entropy, "mse": mse_loss}


def _model(where: str, model) -> Layer:
    if not isinstance(model, Layer):
        raise TypeError(
            f"{where}: model must be a cnn_core layer or Sequential (with forward, backward, params, "
            f"grads), got {describe(model)}"
        )
    return model


class SGD:
    """Stochastic gradient descent with (heavy-ball) momentum and weight decay; momentum=0 is plain SGD."""

    def __init__(self, model: Layer, lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 0.0) -> None:
        self.model = _model("SGD", model)
        self.lr = positive_number("SGD", "lr", lr)
        self.momentum = positive_number("SGD", "momentum", momentum, inclusive=True, maximum=1)
        self.weight_decay = positive_number("SGD", "weight_decay", weight_decay, inclusive=True)
        self.velocity = {k: np.zeros_like(p) for k, p in model.params.items()}

    def step(self) -> None:
        """Update every parameter in place from the gradients of the last backward."""
        grads = self.model.grads
        for k, p in self.model.params.items():
            if k not in grads:
                raise RuntimeError(
                    f"SGD.step: no gradient for parameter {k!r}: run model.backward(dout) after model.forward(x) before each step"
                )
            v = self.velocity[k]
            v *= self.momentum
            v -= self.lr * grads[k]
            if self.weight_decay:
                v -= (self.lr * self.weight_decay) * p
            p += v


def batches(n: int, batch_size: int, order: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Index arrays of consecutive minibatches over range(n) (or over `order`); the last may be short."""
    order = np.arange(n) if order is None else order
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


# ---------------------------------------------------------------- checks


def _loss_fn(loss: str | LossFn) -> LossFn:
    if callable(loss):
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)} or a function (out, y) -> (loss, dout), got {loss!r}")
    return LOSSES[loss]


def _data(where: str, X, y, x_name: str = "X", y_name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """(X, y) as arrays with the same number of examples, at least one."""
    X = array(where, x_name, X, "(N, ...)")
    y = array(where, y_name, y, "(N,) labels or (N, ...) targets")
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{where}: {x_name} and {y_name} need a first axis of examples, got shapes {X.shape} and {y.shape}")
    if len(X) != len(y):
        raise ValueError(
            f"{where}: {x_name} and {y_name} must have the same number of examples, got "
            f"{len(X)} and {len(y)} ({x_name}.shape={X.shape}, {y_name}.shape={y.shape})"
        )
    if len(X) == 0:
        raise ValueError(f"{where}: {x_name} has no examples (shape {X.shape}): need at least one")
    return X, y


def _accuracy(out: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose largest output is the label (nan for non-label targets)."""
    if y.ndim != 1 or out.ndim != 2:
        return float("nan")
    return float(np.mean(out.argmax(axis=1) == y))


def evaluate(
    model: Layer, X: np.ndarray, y: np.ndarray, loss: str | LossFn = "cross_entropy", batch_size: int = 256
) -> tuple[float, float]:
    """(mean loss, accuracy) of the model on (X, y), in batches, in evaluation mode."""
    model = _model("evaluate", model)
    X, y = _data("evaluate", X, y)
    batch_size = whole("batch_size", batch_size, 1, "evaluate")
    loss_fn, total, out_all = _loss_fn(loss), 0.0, []
    with in_mode(model, False):
        for idx in batches(len(X), batch_size):
            out = model.forward(X[idx])
            total += loss_fn(out, y[idx])[0] * len(out)
            out_all.append(out)
    out = np.concatenate(out_all)
    return total / len(X), _accuracy(out, y)


def predict(model: Layer, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The predicted class (index of the largest output) of every example, in evaluation mode
    (an empty X gives an empty array)."""
    model = _model("predict", model)
    given, X = X, array("predict", "X", X, "(N, ...)")
    if X.ndim == 0:
        raise ValueError(f"predict: X needs a first axis of examples, (N, ...), got {describe(given)}")
    batch_size = whole("batch_size", batch_size, 1, "predict")
    with in_mode(model, False):
        if len(X) == 0:
            return model.forward(X).argmax(axis=1)
        return np.concatenate([model.forward(X[idx]).argmax(axis=1) for idx in batches(len(X), batch_size)])


def fit(
    model: Layer,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 10,
    batch_size: int = 32,
    lr: float = 0.05,
    momentum: float = 0.9,
    lr_decay: float = 1.0,
    weight_decay: float = 0.0,
    loss: str | LossFn = "cross_entropy",
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, list[float]]:
    """Train with minibatch SGD + momentum (+ weight decay), in training mode; return the per-epoch history.

    Each epoch shuffles the data with a generator seeded by ``seed`` (same seed,
    same model initialisation -> same numbers) and multiplies lr by ``lr_decay``
    afterwards. ``weight_decay`` is SGD's (every parameter). Layers with a mode (BatchNorm2D,
    Dropout) train in training mode; their modes are restored afterwards.
    History keys: epoch, loss, accuracy (running means over the epoch's minibatches), val_loss,
    val_accuracy (if validation is given), seconds.
    ``progress`` shows one line per epoch (tqdm): redrawn in a terminal, a widget
    in Jupyter, printed once when finished in a log.
    """
    model = _model("fit", model)
    X, y = _data("fit", X, y)
    epochs = whole("epochs", epochs, 0, "fit", "fit(model, X, y, epochs=10)")
    batch_size = whole("batch_size", batch_size, 1, "fit", "fit(model, X, y, batch_size=32)")
    positive_number("fit", "lr_decay", lr_decay)
    positive_number("fit", "weight_decay", weight_decay, inclusive=True)
    seed = whole("seed", seed, 0, "fit")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"fit: progress must be True or False, got {describe(progress)}")
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError(f"fit: validation must be a pair (X_val, y_val) or None, got {describe(validation)}")
        validation = _data("fit", *validation, x_name="validation X", y_name="validation y")
    loss_fn, rng, opt = _loss_fn(loss), np.random.default_rng(seed), SGD(model, lr, momentum, weight_decay)
    history: dict[str, list[float]] = {"epoch": [], "loss": [], "accuracy": [], "seconds": []}
    if validation is not None:
        history.update(val_loss=[], val_accuracy=[])
    n_batches = -(-len(X) // batch_size)
    with in_mode(model, True):
        for epoch in range(1, epochs + 1):
            bar = EpochBar(n_batches, f"epoch {epoch}/{epochs}", progress)
            start, order = time.perf_counter(), rng.permutation(len(X))
            total_loss = total_correct = 0.0
            for b, idx in enumerate(batches(len(X), batch_size, order)):
                out = model.forward(X[idx])
                value, dout = loss_fn(out, y[idx])
                model.backward(dout)
                opt.step()
                total_loss += value * len(idx)
                total_correct += _accuracy(out, y[idx]) * len(idx)
                seen = min((b + 1) * batch_size, len(X))
                if b + 1 < n_batches:
                    bar.update(b + 1, f"loss {total_loss / seen:.4f}")
            history["epoch"].append(epoch)
            history["loss"].append(total_loss / len(X))
            history["accuracy"].append(total_correct / len(X))
            suffix = f"loss {history['loss'][-1]:.4f} acc {history['accuracy'][-1]:.3f}"
            if validation is not None:
                val_loss, val_acc = evaluate(model, *validation, loss=loss_fn)
                history["val_loss"].append(val_loss)
                history["val_accuracy"].append(val_acc)
                suffix += f" | val_loss {val_loss:.4f} val_acc {val_acc:.3f}"
            history["seconds"].append(time.perf_counter() - start)
            bar.close(suffix + f" ({history['seconds'][-1]:.2f}s)")
            opt.lr *= lr_decay
    return history
