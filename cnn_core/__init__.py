"""cnn_core: a small numpy implementation of the CNN lecture, from formulas to training.

Notation (the lecture's symbols, and how the arrays and arguments spell them):

    N        batch size: x.shape[0]            (N is also the lecture's input size in
                                                output_size(n, ...), the one place it means that)
    D        depth = channels: x.shape[1]       in_channels
    H, W     height, width: x.shape[2:]         (the lecture's H1, W1; outputs H2, W2)
    K        number of filters: w.shape[0]      out_channels
    F        filter (window) size               kernel_size, f
    S        stride                             stride
    P        zero padding                       padding

Arrays are NCHW: x.shape == (N, D, H, W); filters w.shape == (K, D, F, F); biases (K,).

The lecture's equations and the functions that compute them (tests/test_lecture_map.py checks
that every name exists):

    W2 = (W1 + 2P - F)/S + 1, H2 likewise             shapes.output_size, shapes.conv_output_shape
    D2 = K                                             shapes.conv_output_shape
    #parameters = (F x F x D1 + 1) x K                 shapes.conv_num_params
    fully connected: (D_in + 1) x D_out                shapes.linear_num_params
    P = (F - 1)/2 keeps the size (S = 1)               shapes.same_padding
    receptive field of stacked layers                  shapes.receptive_field
    a_l = W_l o_(l-1), o_l = h_l(a_l)                  mlp.forward
    backprop: dE/da_l = (W_(l+1)^T dE/da_(l+1)) o h'   mlp.backward
    W_l <- W_l - eta dE/dW_l                           mlp.sgd_step, train.SGD
    convolution: dot products of a sliding filter      naive.conv2d_naive (loops), fast.conv2d_forward
    its backward pass (dx, dW, db)                     naive.conv2d_backward_naive, fast.conv2d_backward
    max / average pooling                              naive.pool2d_naive, fast.pool2d_forward
    ReLU max(0, x)                                     layers.ReLU
    softmax and cross-entropy                          losses.softmax, losses.softmax_cross_entropy
    numerical gradient, relative error                 gradcheck.numerical_gradient, gradcheck.rel_error

Beyond the lecture (the chapter "From LeNet to ResNet"):

    batch norm y = gamma (x - mu)/sqrt(var + eps) + beta   normalization.BatchNorm2D, normalization.batchnorm2d_naive
    global average pooling (N, D, H, W) -> (N, D)      global_pool.GlobalAvgPool2D
    inverted dropout y = x * keep / (1 - p)            regularization.Dropout
    residual block y = F(x) + x (or + W_s x)           residual.Residual
    weight decay g <- grad + lambda w                  train.SGD
    training / evaluation mode                         model.set_training
    multiply-adds H2 x W2 x K x F x F x D of a conv     costs.conv_multiply_adds, costs.multiply_adds
    ResNet-18/34/50 (weightless specs)                 architectures.resnet18, architectures.resnet50

Rooms: naive.py (the loops, read these first) and fast.py (the same operations tuned, same names
and contract); layers.py wires them into layers (Conv2D(..., kernels="naive") runs the loops);
model.py, losses.py, train.py train them; shapes.py holds the formulas. viz/ draws.
Beyond the lecture: normalization.py (BatchNorm2D, with its graph-by-node reference), global_pool.py,
regularization.py (Dropout), residual.py (Residual blocks); layers with a training/evaluation mode
have a ``training`` flag that model.set_training sets; costs.py counts multiply-adds, activations
and receptive fields layer by layer.
"""

from .functional import (
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_naive,
    pool2d_backward,
    pool2d_backward_naive,
    pool2d_forward,
    pool2d_naive,
)
from .gradcheck import check_layer, numerical_gradient, rel_error
from .layers import AvgPool2D, Conv2D, Flatten, L2Pool2D, Layer, Linear, MaxPool2D, ReLU, Sigmoid
from .losses import mse_loss, softmax, softmax_cross_entropy
from .model import Sequential, num_params, set_training
from .shapes import conv_num_params, conv_output_shape, linear_num_params, output_size, receptive_field, same_padding
from .train import SGD, evaluate, fit, predict

# Chapter-sized modules, reachable as cnn_core.<module> (numpy-only imports; data loads lazily).
from . import architectures, connectivity, data, fast, filters, mlp, naive, transforms, windows  # noqa: E402
from . import costs, global_pool, normalization, regularization, residual  # noqa: E402
from .global_pool import GlobalAvgPool2D  # noqa: E402
from .normalization import BatchNorm2D  # noqa: E402
from .regularization import Dropout  # noqa: E402
from .residual import Residual  # noqa: E402
from .connectivity import conv_matrix, receptive_field_mask  # noqa: E402
from .filters import apply_filter  # noqa: E402

__all__ = [
    "output_size",
    "conv_output_shape",
    "conv_num_params",
    "linear_num_params",
    "same_padding",
    "receptive_field",
    "conv2d_naive",
    "conv2d_backward_naive",
    "conv2d_forward",
    "conv2d_backward",
    "pool2d_naive",
    "pool2d_backward_naive",
    "pool2d_forward",
    "pool2d_backward",
    "Layer",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "L2Pool2D",
    "ReLU",
    "Sigmoid",
    "Flatten",
    "Linear",
    "BatchNorm2D",
    "GlobalAvgPool2D",
    "Dropout",
    "Residual",
    "set_training",
    "softmax",
    "softmax_cross_entropy",
    "mse_loss",
    "Sequential",
    "num_params",
    "SGD",
    "fit",
    "evaluate",
    "predict",
    "rel_error",
    "numerical_gradient",
    "check_layer",
    "conv_matrix",
    "receptive_field_mask",
    "apply_filter",
    "architectures",
    "connectivity",
    "data",
    "fast",
    "filters",
    "mlp",
    "naive",
    "transforms",
    "windows",
    "costs",
    "global_pool",
    "normalization",
    "regularization",
    "residual",
]
