"""Convolution and pooling kernels, the names chapters and homework import.

The loops that read like the lecture live in ``cnn_core.naive`` (``conv2d_naive``,
``conv2d_backward_naive``, ``conv_transpose2d_naive``, ``conv_transpose2d_backward_naive``,
``pool2d_naive``, ``pool2d_backward_naive``); the tuned kernels the layers use by default live in
``cnn_core.fast`` (``conv2d_forward`` / ``conv2d_backward``, ``conv_transpose2d_forward`` /
``conv_transpose2d_backward``, ``pool2d_forward`` / ``pool2d_backward``). This module gathers both under one name,
``from cnn_core import functional as fn``, as the chapters have always imported them.
"""

from __future__ import annotations

from .fast import (
    SCRATCH_BYTES,
    SMALL_PRODUCT_FLOPS,
    ConvCache,
    ConvTransposeCache,
    PoolCache,
    blas_threads_for,
    conv2d_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
    free_workspace,
    matmul,
    pool2d_backward,
    pool2d_forward,
    scratch_bytes,
)
from .naive import (
    POOL_MODES,
    conv2d_backward_naive,
    conv2d_naive,
    conv_transpose2d_backward_naive,
    conv_transpose2d_naive,
    pad,
    pool2d_backward_naive,
    pool2d_naive,
)

__all__ = [
    "conv2d_naive",
    "conv2d_backward_naive",
    "conv_transpose2d_naive",
    "conv_transpose2d_backward_naive",
    "pool2d_naive",
    "pool2d_backward_naive",
    "pad",
    "POOL_MODES",
    "conv2d_forward",
    "conv2d_backward",
    "conv_transpose2d_forward",
    "conv_transpose2d_backward",
    "pool2d_forward",
    "pool2d_backward",
    "ConvCache",
    "ConvTransposeCache",
    "PoolCache",
    "matmul",
    "blas_threads_for",
    "SMALL_PRODUCT_FLOPS",
    "SCRATCH_BYTES",
    "scratch_bytes",
    "free_workspace",
]
