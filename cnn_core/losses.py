"""Losses: each returns (loss, gradient with respect to its first argument)."""

from __future__ import annotations

import numpy as np

from .inputs import array, as_float


def _logits(where: str, logits) -> np.ndarray:
    logits = as_float(
        array(where, "logits", logits, "(N, C)", 2, hint="for one example use logits[None] (and [0] on the result)")
    )
    if logits.shape[1] == 0:
        raise ValueError(f"{where}: logits must have shape (N, C) with C >= 1 classes, got {logits.shape}")
    return logits


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row max so huge logits do not overflow."""
    logits = _logits("softmax", logits)
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over the batch of -log softmax(logits)[label].

    logits (N, C), labels (N,) integers in [0, C). dlogits = (softmax - onehot) / N.
    """
    where = "softmax_cross_entropy"
    logits = np.asarray(logits) if isinstance(logits, (list, tuple)) else logits
    if getattr(logits, "ndim", 2) != 2:
        raise ValueError(
            f"logits must have shape (N, C), got {np.shape(logits)}; for one example use logits[None] and labels[None]"
        )
    logits = _logits(where, logits)
    labels = array(where, "labels", labels, "(N,)") if not isinstance(labels, np.ndarray) else labels
    n, c = logits.shape
    if n == 0:
        raise ValueError(
            f"{where}: logits has no rows (shape {logits.shape}): the mean loss of 0 examples "
            f"is undefined; pass at least one example"
        )
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape (N,)=({n},) to match logits {logits.shape}, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min(initial=0) < 0 or labels.max(initial=0) >= c:
        raise ValueError(f"labels must be integers in [0, {c}) (one per class of the logits), got {labels[:10]}...")
    z = logits - logits.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1
    return float(loss), dlogits / n


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """The lecture's squared error E_n = ||h_L(a_L) - y_n||^2, averaged over the batch.

    Its gradient for one sample is 2 (h_L(a_L) - y_n), as in the lecture's backprop;
    for a batch of N it is 2 (pred - target) / N.
    """
    pred = as_float(array("mse_loss", "pred", pred))
    target = as_float(array("mse_loss", "target", target), pred)
    if pred.size == 0:
        raise ValueError(f"mse_loss: pred is empty (shape {pred.shape}): the mean error of 0 examples is undefined")
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {pred.shape} and {target.shape}")
    diff = pred - target
    n = pred.shape[0] if pred.ndim else 1
    return float(np.sum(diff * diff) / n), 2.0 * diff / n
