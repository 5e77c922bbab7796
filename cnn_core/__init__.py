"""cnn_core: a small numpy implementation of the CNN lecture, from formulas to training.

Arrays are NCHW: x.shape == (N, D, H, W) (batch, depth/channels, height, width).
"""
from .functional import (conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_naive,
                         pool2d_backward, pool2d_backward_naive, pool2d_forward, pool2d_naive)
from .gradcheck import check_layer, numerical_gradient, rel_error
from .layers import AvgPool2D, Conv2D, Flatten, L2Pool2D, Layer, Linear, MaxPool2D, ReLU, Sigmoid
from .losses import mse_loss, softmax, softmax_cross_entropy
from .model import Sequential, num_params
from .shapes import (conv_num_params, conv_output_shape, linear_num_params, output_size,
                     receptive_field, same_padding)
from .train import SGD, evaluate, fit, predict

# Chapter-sized modules, reachable as cnn_core.<module> (numpy-only imports; data loads lazily).
from . import architectures, connectivity, data, fast, filters, mlp, naive, transforms, windows  # noqa: E402
from .connectivity import conv_matrix, receptive_field_mask  # noqa: E402
from .filters import apply_filter  # noqa: E402

__all__ = [
    "output_size", "conv_output_shape", "conv_num_params", "linear_num_params", "same_padding",
    "receptive_field", "conv2d_naive", "conv2d_backward_naive", "conv2d_forward", "conv2d_backward",
    "pool2d_naive", "pool2d_backward_naive", "pool2d_forward", "pool2d_backward",
    "Layer", "Conv2D", "MaxPool2D", "AvgPool2D", "L2Pool2D", "ReLU", "Sigmoid", "Flatten", "Linear",
    "softmax", "softmax_cross_entropy", "mse_loss", "Sequential", "num_params",
    "SGD", "fit", "evaluate", "predict", "rel_error", "numerical_gradient", "check_layer",
    "conv_matrix", "receptive_field_mask", "apply_filter",
    "architectures", "connectivity", "data", "fast", "filters", "mlp", "naive", "transforms", "windows",
]
