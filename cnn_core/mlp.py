"""The lecture's review of neural nets and backprop, written literally (no biases, one sample).

An L-layer net f(x) = h_L(W_L h_{L-1}(... h_1(W_1 x))), with the recursion

    o_0 = x,   a_l = W_l o_{l-1},   o_l = h_l(a_l)        (l = 1..L)

and the squared error E_n = ||h_L(a_L) - y_n||^2. Backprop computes

    dE/da_L = 2 (h_L(a_L) - y_n) * h'_L(a_L)
    dE/da_l = (W_{l+1}^T dE/da_{l+1}) * h'_l(a_l)           (l < L)
    dE/dW_l = dE/da_l o_{l-1}^T

Lists are indexed by the layer number l: ``Ws[0]`` is W_1, and ``forward``
returns ``a`` with a[0] = None and ``o`` with o[0] = x, so a[l] and o[l] read as
in the lecture. The vectorised forms (``batch_gradients``) and
``cnn_core.Sequential`` of ``Linear`` layers compute the same numbers; tests
keep them equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .fast import one_blas_thread
from .layers import sigmoid as _sigmoid


ACTIVATIONS: dict[str, tuple] = {  # name: (h, h'), functions of a
    "sigmoid": (_sigmoid, lambda a: _sigmoid(a) * (1.0 - _sigmoid(a))),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a: (a > 0).astype(np.float64)),
    "identity": (lambda a: a, np.ones_like),
}


def _act(name: str) -> tuple:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def _check(Ws: Sequence[np.ndarray], acts: Sequence[str]) -> None:
    if len(Ws) != len(acts):
        raise ValueError(f"need one activation per layer: {len(Ws)} weight matrices, {len(acts)} activations")
    for l in range(1, len(Ws)):
        if Ws[l].shape[1] != Ws[l - 1].shape[0]:
            raise ValueError(
                f"W_{l + 1} has shape {Ws[l].shape} but W_{l} gives D_{l} = {Ws[l - 1].shape[0]} "
                f"outputs: W_l must be D_l x D_(l-1)"
            )


def init_weights(sizes: Sequence[int], seed: int = 0) -> list[np.ndarray]:
    """W_l of shape (D_l, D_{l-1}) for sizes = [D_0, D_1, ..., D_L], entries N(0, 1 / D_{l-1})."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((d_out, d_in)) / np.sqrt(d_in) for d_in, d_out in zip(sizes[:-1], sizes[1:])]


def forward(Ws: Sequence[np.ndarray], acts: Sequence[str], x: np.ndarray) -> tuple[list, list]:
    """Forward propagation of one sample x (D_0,): returns (a, o) with a[l] = W_l o_{l-1}, o[l] = h_l(a[l])."""
    _check(Ws, acts)
    a, o = [None], [np.asarray(x, dtype=np.float64)]
    for W, name in zip(Ws, acts):
        a.append(W @ o[-1])
        o.append(_act(name)[0](a[-1]))
    return a, o


def squared_error(Ws: Sequence[np.ndarray], acts: Sequence[str], x: np.ndarray, y: np.ndarray) -> float:
    """E_n = ||f(x_n) - y_n||^2 for one sample."""
    d = forward(Ws, acts, x)[1][-1] - y
    return float(d @ d)


def backward(
    Ws: Sequence[np.ndarray], acts: Sequence[str], a: list, o: list, y: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Backward propagation for one sample: (dE/dW_l for l = 1..L, dE/da_l for l = 1..L).

    dE/da_L = 2 (h_L(a_L) - y) * h'_L(a_L);  dE/da_l = (W_{l+1}^T dE/da_{l+1}) * h'_l(a_l);
    dE/dW_l = dE/da_l o_{l-1}^T (an outer product).
    """
    L = len(Ws)
    delta = [None] * (L + 1)
    delta[L] = 2.0 * (o[L] - y) * _act(acts[L - 1])[1](a[L])
    for l in range(L - 1, 0, -1):
        delta[l] = (Ws[l].T @ delta[l + 1]) * _act(acts[l - 1])[1](a[l])  # Ws[l] is W_{l+1}
    grads = [np.outer(delta[l], o[l - 1]) for l in range(1, L + 1)]
    return grads, delta[1:]


def sgd_step(
    Ws: list[np.ndarray], acts: Sequence[str], x: np.ndarray, y: np.ndarray, eta: float, update_too_early: bool = False
) -> float:
    """One backprop step on one sample, in place: W_l <- W_l - eta dE/da_l o_{l-1}^T. Returns E_n before it.

    The right order computes every dE/da_l with the *old* weights, then updates.
    ``update_too_early=True`` shows the classic mistake: W_{l+1} is already updated
    when dE/da_l = W_{l+1}^T dE/da_{l+1} ... is computed, so the step is not the gradient.
    """
    a, o = forward(Ws, acts, x)
    error = float((o[-1] - y) @ (o[-1] - y))
    if not update_too_early:
        grads, _ = backward(Ws, acts, a, o, y)
        for W, g in zip(Ws, grads):
            W -= eta * g
        return error
    L = len(Ws)
    delta = 2.0 * (o[L] - y) * _act(acts[L - 1])[1](a[L])
    for l in range(L, 0, -1):
        Ws[l - 1] -= eta * np.outer(delta, o[l - 1])  # update W_l now ...
        if l > 1:  # ... and use the new W_l for dE/da_{l-1}: wrong
            delta = (Ws[l - 1].T @ delta) * _act(acts[l - 2])[1](a[l - 1])
    return error


def backprop(
    Ws: list[np.ndarray], acts: Sequence[str], X: np.ndarray, Y: np.ndarray, eta: float, steps: int, seed: int = 0
) -> np.ndarray:
    """The lecture's algorithm: repeat {pick n at random; forward; backward; update}. In place.

    X (N, D_0) and Y (N, D_L); returns E_n of every step (before its update).
    """
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    if len(X) != len(Y):
        raise ValueError(f"X and Y must have the same number of samples, got {len(X)} and {len(Y)}")
    rng = np.random.default_rng(seed)
    errors = np.empty(steps)
    for t in range(steps):
        n = rng.integers(len(X))  # 1. randomly pick one data point
        errors[t] = sgd_step(Ws, acts, X[n], Y[n], eta)  # 2.-3. forward, backward, update
    return errors


def outputs(Ws: Sequence[np.ndarray], acts: Sequence[str], X: np.ndarray) -> np.ndarray:
    """f(x) for every row of X at once: (N, D_0) -> (N, D_L)."""
    return forward_batch(Ws, acts, X)[1][-1]


def forward_batch(Ws: Sequence[np.ndarray], acts: Sequence[str], X: np.ndarray) -> tuple[list, list]:
    """Forward propagation of a minibatch, one sample per row: A_l = O_{l-1} W_l^T, O_l = h_l(A_l)."""
    _check(Ws, acts)
    A, O = [None], [np.asarray(X, dtype=np.float64)]
    for W, name in zip(Ws, acts):
        A.append(O[-1] @ W.T)
        O.append(_act(name)[0](A[-1]))
    return A, O


def batch_gradients(Ws: Sequence[np.ndarray], acts: Sequence[str], X: np.ndarray, Y: np.ndarray) -> list[np.ndarray]:
    """Mean over the minibatch of dE_n/dW_l, with matrix products instead of a loop over samples.

    Row n of Delta_l is dE_n/da_l; then (1/B) sum_n dE_n/da_l o_{l-1}^T = Delta_l^T O_{l-1} / B.
    """
    A, O = forward_batch(Ws, acts, X)
    L, B = len(Ws), len(X)
    delta = 2.0 * (O[L] - Y) * _act(acts[L - 1])[1](A[L])
    grads = [None] * L
    for l in range(L, 0, -1):
        grads[l - 1] = delta.T @ O[l - 1] / B
        if l > 1:
            delta = (delta @ Ws[l - 1]) * _act(acts[l - 2])[1](A[l - 1])
    return grads


def loop_gradients(Ws: Sequence[np.ndarray], acts: Sequence[str], X: np.ndarray, Y: np.ndarray) -> list[np.ndarray]:
    """The same mean gradient as batch_gradients, by a Python loop of forward + backward per sample."""
    total = [np.zeros_like(W) for W in Ws]
    for x, y in zip(X, Y):
        a, o = forward(Ws, acts, x)
        for acc, g in zip(total, backward(Ws, acts, a, o, y)[0]):
            acc += g
    return [g / len(X) for g in total]


def with_bias(W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[W | b]: a layer with a bias as a bias-free one on o with a constant 1 appended,
    W o + b = [W | b] [o; 1]."""
    return np.hstack([W, np.asarray(b).reshape(-1, 1)])


def append_one(o: np.ndarray) -> np.ndarray:
    """[o; 1] for one sample (D,), or a column of ones appended to a batch (N, D)."""
    o = np.asarray(o, dtype=np.float64)
    return np.append(o, 1.0) if o.ndim == 1 else np.hstack([o, np.ones((len(o), 1))])


def train_digits_mlp(
    learning_rate: float, hidden_width: int, batch_size: int, epochs: int = 6, seed: int = 0
) -> dict[str, list[float]]:
    """A tiny MLP (64 -> hidden -> ReLU -> 10) trained on the digits with cnn_core.fit and plain
    SGD (momentum 0, as in the lecture); returns fit's history (val_* on the test split)."""
    from .data import load_digits
    from .layers import Flatten, Linear, ReLU
    from .model import Sequential
    from .train import fit

    X_tr, y_tr, X_te, y_te = load_digits()
    model = Sequential([Flatten(), Linear(64, hidden_width, rng=seed), ReLU(), Linear(hidden_width, 10, rng=seed + 1)])
    with one_blas_thread():
        return fit(
            model,
            X_tr,
            y_tr,
            epochs=epochs,
            batch_size=batch_size,
            lr=learning_rate,
            momentum=0.0,
            validation=(X_te, y_te),
            seed=seed,
            progress=False,
        )


@lru_cache(maxsize=64)
def digits_mlp_history(learning_rate: float, hidden_width: int, batch_size: int) -> dict[str, list[float]]:
    """train_digits_mlp for one setting, computed once and kept: chapter 1's text and its explorer
    (cnn_core.viz.fully_connected.TrainingExplorer) read the same runs."""
    return train_digits_mlp(learning_rate, hidden_width, batch_size)
