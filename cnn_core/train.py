"""Training: minibatch SGD with momentum, fit / evaluate / predict, a progress bar.

"How do we learn the filters? Essentially the same as FC NNs: SGD/backprop."
For each minibatch: forward, loss, backward, then for every parameter
    v <- momentum * v - lr * grad,   w <- w + v.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

from .layers import Layer
from .losses import mse_loss, softmax_cross_entropy

LossFn = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]
LOSSES: dict[str, LossFn] = {"cross_entropy": softmax_cross_entropy, "mse": mse_loss}


class SGD:
    """Stochastic gradient descent with (heavy-ball) momentum; momentum=0 is plain SGD."""

    def __init__(self, model: Layer, lr: float = 0.05, momentum: float = 0.9) -> None:
        if lr <= 0 or not 0 <= momentum < 1:
            raise ValueError(f"need lr > 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
        self.model, self.lr, self.momentum = model, lr, momentum
        self.velocity = {k: np.zeros_like(p) for k, p in model.params.items()}

    def step(self) -> None:
        """Update every parameter in place from the gradients of the last backward."""
        grads = self.model.grads
        for k, p in self.model.params.items():
            v = self.velocity[k]
            v *= self.momentum
            v -= self.lr * grads[k]
            p += v


class ProgressBar:
    """One line per epoch: redrawn in place in a terminal or a notebook, printed once in a log."""

    def __init__(self, total: int, prefix: str = "", enabled: bool = True) -> None:
        self.total, self.prefix, self.enabled = total, prefix, enabled
        self.handle = None
        self.mode = _output_mode() if enabled else "off"

    def update(self, done: int, suffix: str = "", final: bool = False) -> None:
        if self.mode == "off" or (self.mode == "log" and not final):
            return
        filled = int(20 * done / max(self.total, 1))
        text = f"{self.prefix} [{'#' * filled}{'.' * (20 - filled)}] {done}/{self.total} {suffix}"
        if self.mode == "notebook":
            from IPython.display import display
            view = _BarView(text, done, self.total)
            if self.handle is None:
                self.handle = display(view, display_id=True)
            else:
                self.handle.update(view)
        elif self.mode == "terminal":
            sys.stdout.write("\r" + text + ("\n" if final else ""))
            sys.stdout.flush()
        else:
            print(text)


class _BarView:
    def __init__(self, text: str, done: int, total: int) -> None:
        self.text, self.done, self.total = text, done, total

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        import html
        return (f'<progress value="{self.done}" max="{self.total}" style="width:12em"></progress> '
                f"<code>{html.escape(self.text)}</code>")


def _output_mode() -> str:
    try:
        from IPython import get_ipython
        if get_ipython() is not None and hasattr(get_ipython(), "kernel"):
            return "notebook"
    except ImportError:
        pass
    return "terminal" if sys.stdout.isatty() else "log"


def _loss_fn(loss: str | LossFn) -> LossFn:
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)} or a function, got {loss!r}")
    return LOSSES[loss]


def _accuracy(out: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose largest output is the label (nan for non-label targets)."""
    if y.ndim != 1 or out.ndim != 2:
        return float("nan")
    return float(np.mean(out.argmax(axis=1) == y))


def evaluate(model: Layer, X: np.ndarray, y: np.ndarray, loss: str | LossFn = "cross_entropy",
             batch_size: int = 256) -> tuple[float, float]:
    """(mean loss, accuracy) of the model on (X, y), in batches."""
    loss_fn, total, out_all = _loss_fn(loss), 0.0, []
    for start in range(0, len(X), batch_size):
        out = model.forward(X[start:start + batch_size])
        total += loss_fn(out, y[start:start + batch_size])[0] * len(out)
        out_all.append(out)
    out = np.concatenate(out_all)
    return total / len(X), _accuracy(out, y)


def predict(model: Layer, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The predicted class (index of the largest output) of every example."""
    return np.concatenate([model.forward(X[s:s + batch_size]).argmax(axis=1) for s in range(0, len(X), batch_size)])


def fit(model: Layer, X: np.ndarray, y: np.ndarray, *, epochs: int = 10, batch_size: int = 32,
        lr: float = 0.05, momentum: float = 0.9, lr_decay: float = 1.0, loss: str | LossFn = "cross_entropy",
        validation: tuple[np.ndarray, np.ndarray] | None = None, seed: int = 0,
        progress: bool = True) -> dict[str, list[float]]:
    """Train with minibatch SGD + momentum; return the per-epoch history.

    Each epoch shuffles the data with a generator seeded by ``seed`` (same seed,
    same model initialisation -> same numbers) and multiplies lr by ``lr_decay``
    afterwards. History keys: epoch, loss, accuracy (running means over the
    epoch's minibatches), val_loss, val_accuracy (if validation is given), seconds.
    """
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of examples, got {len(X)} and {len(y)}")
    loss_fn, rng, opt = _loss_fn(loss), np.random.default_rng(seed), SGD(model, lr, momentum)
    history: dict[str, list[float]] = {"epoch": [], "loss": [], "accuracy": [], "seconds": []}
    if validation is not None:
        history.update(val_loss=[], val_accuracy=[])
    n_batches = -(-len(X) // batch_size)
    for epoch in range(1, epochs + 1):
        start, order = time.perf_counter(), rng.permutation(len(X))
        bar = ProgressBar(n_batches, f"epoch {epoch}/{epochs}", progress)
        total_loss = total_correct = 0.0
        for b in range(n_batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
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
        bar.update(n_batches, suffix + f" ({history['seconds'][-1]:.2f}s)", final=True)
        opt.lr *= lr_decay
    return history
