"""Batch normalisation (Ioffe & Szegedy 2015) for conv layers: BatchNorm2D and its kernels.

For each channel d, over the M = N*H*W values of the batch in that channel:

    mu_d      = (1/M) sum x                      the batch mean
    var_d     = (1/M) sum (x - mu_d)^2           the batch variance (biased: divided by M)
    xhat      = (x - mu_d) / sqrt(var_d + eps)   zero mean, unit variance
    y         = gamma_d * xhat + beta_d          a learned scale and shift per channel

Training uses the batch's mu and var and keeps running averages for later (PyTorch's rule):

    running_mean <- (1 - momentum) * running_mean + momentum * mu
    running_var  <- (1 - momentum) * running_var  + momentum * var * M / (M - 1)   (unbiased)

Evaluation (``training=False``) uses running_mean and running_var instead, so a single image
gets the same answer whatever else is in its batch.

Backward through the batch statistics (every x moves mu and var, so every output) collapses to

    dbeta  = sum dy,    dgamma = sum dy * xhat,
    dx     = gamma / (M sigma) * (M dy - sum dy - xhat * sum(dy * xhat)),   sigma = sqrt(var + eps)

(sums over N, H, W of one channel). ``batchnorm2d_forward``/``batchnorm2d_backward`` compute that
in a few whole-array passes; ``batchnorm2d_naive``/``batchnorm2d_backward_naive`` go channel by
channel through the computational graph, one node at a time (mean, centre, square, variance,
square root, invert, scale, shift), and backpropagate node by node: the same numbers, slowly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .inputs import array, as_float, check_shape, positive_number, whole
from .layers import Layer, _sample_shape, float_dtype


class BatchNormCache(NamedTuple):
    """What backward needs: x - mu, 1/sigma and gamma per channel, and whether the batch statistics
    were used (training: dx flows through mu and var too) or fixed ones (evaluation)."""

    centred: np.ndarray  # x - mu (xhat = centred * inv_std is never stored: one pass less each way)
    inv_std: np.ndarray
    gamma: np.ndarray
    batch_stats: bool
    mean: np.ndarray  # the mean used (the batch's in training)
    var: np.ndarray  # the variance used (biased batch variance in training)

    @property
    def xhat(self) -> np.ndarray:
        """The normalised input (x - mu) / sigma."""
        return self.centred * _per_channel(self.inv_std)


def _check(where: str, x, gamma, beta, eps) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    gamma = array(where, "gamma", gamma, "(D,)", 1)
    beta = array(where, "beta", beta, "(D,)", 1)
    x = as_float(array(where, "x", x, "(N, D, H, W)", 4, hint="for a single image use x[None]"), gamma)
    d = x.shape[1]
    check_shape(where, "gamma", gamma, (d,), f"one scale per channel of x, D={d}")
    check_shape(where, "beta", beta, (d,), f"one shift per channel of x, D={d}")
    eps = positive_number(where, "eps", eps)
    return x, as_float(gamma), as_float(beta), eps


def _values_per_channel(where: str, x: np.ndarray) -> int:
    """M = N*H*W, which must be at least 2 for a batch variance (as in PyTorch)."""
    n, _, h, w = x.shape
    m = n * h * w
    if m < 2:
        raise ValueError(
            f"{where}: training mode needs more than one value per channel for a batch mean and variance, "
            f"got x of shape {x.shape}, M = N*H*W = {n}*{h}*{w} = {m}; use a batch of N >= 2, "
            f"or evaluation mode (layer.training = False / model.eval()) for a single 1x1 sample"
        )
    return m


def _per_channel(v: np.ndarray) -> np.ndarray:
    """(D,) -> (D, 1, 1), to broadcast over (N, D, H, W)."""
    return v[:, None, None]


# ---------------------------------------------------------------- fast: whole-array passes


def batchnorm2d_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, BatchNormCache]:
    """Training-mode batch norm with the batch's statistics: y = gamma (x - mu)/sqrt(var + eps) + beta."""
    where = "batchnorm2d_forward"
    x, gamma, beta, eps = _check(where, x, gamma, beta, eps)
    m = _values_per_channel(where, x)
    mean = np.einsum("ndhw->d", x) / m
    xc = x - _per_channel(mean)
    var = np.einsum("ndhw,ndhw->d", xc, xc) / m  # two passes: no cancellation as in E[x^2] - E[x]^2
    inv_std = 1.0 / np.sqrt(var + eps)
    out = xc * _per_channel(gamma * inv_std)  # gamma xhat without making xhat
    out += _per_channel(beta)
    return out, BatchNormCache(xc, inv_std, gamma, True, mean, var)


def batchnorm2d_inference(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, BatchNormCache]:
    """Evaluation-mode batch norm with fixed statistics: y = gamma (x - mean)/sqrt(var + eps) + beta."""
    where = "batchnorm2d_inference"
    x, gamma, beta, eps = _check(where, x, gamma, beta, eps)
    d = x.shape[1]
    mean = as_float(array(where, "mean", mean, "(D,)", 1))
    var = as_float(array(where, "var", var, "(D,)", 1))
    check_shape(where, "mean", mean, (d,), f"one mean per channel of x, D={d}")
    check_shape(where, "var", var, (d,), f"one variance per channel of x, D={d}")
    inv_std = 1.0 / np.sqrt(var + eps)
    centred = x - _per_channel(mean)
    out = centred * _per_channel(gamma * inv_std)
    out += _per_channel(beta)
    return out, BatchNormCache(centred, inv_std, gamma, False, mean, var)


def batchnorm2d_backward(dout: np.ndarray, cache: BatchNormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dgamma, dbeta). With batch statistics: dx = gamma/(M sigma) (M dy - sum dy - xhat sum(dy xhat));
    with fixed statistics: dx = gamma/sigma dy."""
    if not isinstance(cache, BatchNormCache):
        raise TypeError(
            f"batchnorm2d_backward: cache must be the BatchNormCache that batchnorm2d_forward (or "
            f"batchnorm2d_inference) returned, got {type(cache).__name__}"
        )
    xc, inv_std = cache.centred, cache.inv_std
    dout = as_float(array("batchnorm2d_backward", "dout", dout, str(xc.shape)), xc)
    check_shape("batchnorm2d_backward", "dout", dout, xc.shape, "the shape of the forward output")
    dbeta = np.einsum("ndhw->d", dout)
    dgamma = np.einsum("ndhw,ndhw->d", dout, xc) * inv_std  # sum dy * xhat
    scale = cache.gamma * inv_std
    if not cache.batch_stats:
        return dout * _per_channel(scale), dgamma, dbeta
    n, _, h, w = xc.shape
    m = n * h * w
    dx = xc * _per_channel(-dgamma * inv_std / m)  # - xhat * sum(dy xhat) / M
    dx += dout
    dx -= _per_channel(dbeta / m)
    dx *= _per_channel(scale)
    return dx, dgamma, dbeta


# ---------------------------------------------------------------- naive: the graph, node by node


class NaiveBatchNormCache(NamedTuple):
    """Every node of the computational graph of each channel (lists over channels)."""

    x: np.ndarray
    gamma: np.ndarray
    eps: float
    nodes: list  # per channel: dict of the intermediate values


def batchnorm2d_naive(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, NaiveBatchNormCache]:
    """Training-mode batch norm channel by channel, one graph node at a time (reads like the paper's
    Algorithm 1): mu, x - mu, (x - mu)^2, var, sqrt(var + eps), 1/sqrt, xhat, gamma xhat, + beta."""
    where = "batchnorm2d_naive"
    x, gamma, beta, eps = _check(where, x, gamma, beta, eps)
    m = _values_per_channel(where, x)
    out = np.empty_like(x)
    nodes = []
    for d in range(x.shape[1]):
        values = x[:, d]
        mu = values.sum() / m
        centred = values - mu
        squared = centred**2
        var = squared.sum() / m
        std = np.sqrt(var + eps)
        inv_std = 1.0 / std
        xhat = centred * inv_std
        out[:, d] = gamma[d] * xhat + beta[d]
        nodes.append({"mu": mu, "centred": centred, "var": var, "std": std, "inv_std": inv_std, "xhat": xhat})
    return out, NaiveBatchNormCache(x, gamma, eps, nodes)


def batchnorm2d_backward_naive(dout: np.ndarray, cache: NaiveBatchNormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dgamma, dbeta) by the chain rule through each node of batchnorm2d_naive's graph, in reverse."""
    if not isinstance(cache, NaiveBatchNormCache):
        raise TypeError(
            f"batchnorm2d_backward_naive: cache must be the NaiveBatchNormCache that batchnorm2d_naive "
            f"returned, got {type(cache).__name__}"
        )
    x = cache.x
    dout = as_float(array("batchnorm2d_backward_naive", "dout", dout, str(x.shape)), x)
    check_shape("batchnorm2d_backward_naive", "dout", dout, x.shape, "the shape of the forward output")
    n, depth, h, w = x.shape
    m = n * h * w
    dx = np.empty_like(x)
    dgamma = np.empty(depth, dtype=x.dtype)
    dbeta = np.empty(depth, dtype=x.dtype)
    for d in range(depth):
        node, dy = cache.nodes[d], dout[:, d]
        dbeta[d] = dy.sum()  # out = gammax + beta
        dgamma[d] = (dy * node["xhat"]).sum()  # gammax = gamma * xhat
        dxhat = dy * cache.gamma[d]
        dinv_std = (dxhat * node["centred"]).sum()  # xhat = centred * inv_std
        dcentred = dxhat * node["inv_std"]
        dstd = -dinv_std / node["std"] ** 2  # inv_std = 1 / std
        dvar = dstd * 0.5 / node["std"]  # std = sqrt(var + eps)
        dsquared = np.full_like(dy, dvar / m)  # var = sum(squared) / M
        dcentred += 2.0 * node["centred"] * dsquared  # squared = centred^2
        dmu = -dcentred.sum()  # centred = x - mu
        dx[:, d] = dcentred + dmu / m  # mu = sum(x) / M
    return dx, dgamma, dbeta


_KERNELS = {
    "fast": (batchnorm2d_forward, batchnorm2d_backward),
    "naive": (batchnorm2d_naive, batchnorm2d_backward_naive),
}


# ---------------------------------------------------------------- the layer


class BatchNorm2D(Layer):
    """Batch normalisation of each of the D channels of (N, D, H, W) (PyTorch's nn.BatchNorm2d).

    params["gamma"], params["beta"]: (D,), start at 1 and 0 (y = xhat at first).
    running_mean, running_var: (D,) buffers (not learned, not in params), start at 0 and 1.
    ``training`` (default True): normalise with the batch's statistics and update the running
    ones; False: normalise with the running statistics (``model.eval()``, evaluate, predict).
    """

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, *, dtype=np.float64, kernels: str = "fast"
    ) -> None:
        super().__init__()
        ex = "BatchNorm2D(16) after a Conv2D(..., 16, ...)"
        self.num_features = whole("num_features (channels D)", num_features, 1, "BatchNorm2D", ex)
        self.eps = positive_number("BatchNorm2D", "eps", eps)
        self.momentum = positive_number("BatchNorm2D", "momentum", momentum, inclusive=True, maximum=1, max_inclusive=True)
        if kernels not in _KERNELS:
            raise ValueError(
                f"BatchNorm2D: kernels must be 'fast' (whole-array passes, the default) or 'naive' "
                f"(the graph node by node), got {kernels!r}"
            )
        self.kernels = kernels
        dtype = float_dtype(dtype, "BatchNorm2D")
        self.params["gamma"] = np.ones(self.num_features, dtype=dtype)
        self.params["beta"] = np.zeros(self.num_features, dtype=dtype)
        self.running_mean = np.zeros(self.num_features, dtype=dtype)
        self.running_var = np.ones(self.num_features, dtype=dtype)
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x, self.params["gamma"])
        if x.ndim != 4:
            raise ValueError(f"BatchNorm2D expects a 4-D input (N, D, H, W), got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm2D expects num_features D={self.num_features} channels (axis 1 of (N, D, H, W)), "
                f"got {x.shape[1]} in input of shape {x.shape}; use BatchNorm2D({x.shape[1]}) or fix the "
                f"layer before it"
            )
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not self.training:
            out, self.cache = batchnorm2d_inference(x, gamma, beta, self.running_mean, self.running_var, self.eps)
            return out
        forward = _KERNELS[self.kernels][0]
        out, self.cache = forward(x, gamma, beta, self.eps)
        n, _, h, w = x.shape
        m = n * h * w
        if self.kernels == "fast":
            mean, var = self.cache.mean, self.cache.var
        else:
            mean = np.array([node["mu"] for node in self.cache.nodes])
            var = np.array([node["var"] for node in self.cache.nodes])
        mom = self.momentum
        self.running_mean *= 1 - mom
        self.running_mean += mom * mean
        self.running_var *= 1 - mom
        self.running_var += mom * var * (m / (m - 1))
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cache = self._saved()
        shape = cache.x.shape if isinstance(cache, NaiveBatchNormCache) else cache.centred.shape
        dy = self._upstream(dy, shape, self.params["gamma"])
        backward = batchnorm2d_backward if isinstance(cache, BatchNormCache) else batchnorm2d_backward_naive
        dx, self.grads["gamma"], self.grads["beta"] = backward(dy, cache)
        return dx

    def output_shape(self, input_shape):
        input_shape = _sample_shape("BatchNorm2D", input_shape)
        if input_shape[0] != self.num_features:
            raise ValueError(f"BatchNorm2D expects num_features D={self.num_features} channels, got input_shape {input_shape}")
        return input_shape

    def __repr__(self) -> str:
        extra = "" if self.eps == 1e-5 and self.momentum == 0.1 else f", eps={self.eps:g}, momentum={self.momentum:g}"
        return f"BatchNorm2D({self.num_features}{extra})"
