"""Global average pooling: each whole activation map becomes one number, its mean.

    (N, D, H, W) -> (N, D),   y[n, d] = (1 / (H W)) sum_{i, j} x[n, d, i, j]

It is ``AvgPool2D(H)`` (one H x W window) followed by ``Flatten``, and it is how GoogLeNet and
ResNet end: instead of flattening a 7 x 7 x 512 volume into a huge fully connected layer
(VGG-16's first FC layer alone has 25088 x 4096 weights), the last maps are averaged and one
small FC layer classifies the D averages. It has no parameters and takes any H x W.
Backward spreads each gradient evenly: dx[n, d, i, j] = dy[n, d] / (H W).
"""

from __future__ import annotations

import numpy as np

from .layers import Layer, _sample_shape


class GlobalAvgPool2D(Layer):
    """(N, D, H, W) -> (N, D): the mean of each activation map (PyTorch: AdaptiveAvgPool2d(1) + flatten)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        if x.ndim != 4:
            raise ValueError(
                f"GlobalAvgPool2D expects a 4-D input (N, D, H, W), got shape {x.shape}"
                + ("; for one image use x[None]" if x.ndim == 3 else "")
            )
        n, d, h, w = x.shape
        if h * w == 0:
            raise ValueError(f"GlobalAvgPool2D: the maps of x are empty (shape {x.shape}): need H, W >= 1")
        self.cache = x.shape
        return x.reshape(n, d, h * w).mean(axis=2)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        n, d, h, w = self._saved()
        dy = self._upstream(dy, (n, d), None)
        return np.broadcast_to((dy / (h * w))[:, :, None, None], (n, d, h, w)).copy()

    def output_shape(self, input_shape):
        return (_sample_shape("GlobalAvgPool2D", input_shape)[0],)
