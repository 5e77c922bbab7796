"""cnn_core: a small numpy implementation of the CNN lecture, from formulas to training.

Notation (the lecture's symbols, and how the arrays and arguments spell them):

    N        batch size: x.shape[0]            (N is also the lecture's input size in
                                                output_size(n, ...), the one place it means that)
    D        depth = channels: x.shape[1]       in_channels
    H, W     height, width: x.shape[2:]         (the lecture's H1, W1; outputs H2, W2)
    K        number of filters: w.shape[0]      out_channels
    F        filter (window) size               kernel_size, f (pool_size: the pool's F where a
                                                function builds both, architectures.typical_architecture)
    S        stride                             stride
    P        zero padding                       padding
    d        dilation (taps d cells apart)      dilation
    G        groups of channels                 groups

Arrays are NCHW: x.shape == (N, D, H, W); filters w.shape == (K, D, F, F); biases (K,).
F, S, P and the dilation may differ per axis: kernel_size=(Fh, Fw), stride=(Sh, Sw), ...;
with groups G the filters are (K, D/G, Fh, Fw); a transposed convolution's w is (D, K/G, Fh, Fw).

The lecture's equations and the functions that compute them (tests/test_lecture_map.py checks
that every name exists):

    W2 = (W1 + 2P - F)/S + 1, H2 likewise             shapes.output_size, shapes.conv_output_shape
    D2 = K                                             shapes.conv_output_shape
    #parameters = (F x F x D1 + 1) x K                 shapes.conv_num_params
    fully connected: (D_in + 1) x D_out                shapes.linear_num_params
    P = (F - 1)/2 keeps the size (S = 1)               shapes.same_padding
    dilated filter: F_eff = d(F - 1) + 1               shapes.output_size, naive.conv2d_naive
    grouped: #parameters = (F x F x D1/G + 1) x K      shapes.conv_num_params
    transposed: H2 = (H1 - 1)S - 2P + d(F - 1)        shapes.transposed_output_size
                     + output_padding + 1
    transposed convolution (forward, backward)         naive.conv_transpose2d_naive, fast.conv_transpose2d_forward
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
model.py, losses.py, train.py train them (progress.py draws fit's line per epoch); shapes.py holds
the formulas; the chapters' computations live in modules named for their concept (connectivity,
windows, filters, architectures, evaluation, costs, ...); viz/ draws what they compute and never trains.
Beyond the lecture: normalization.py (BatchNorm2D, with its graph-by-node reference), global_pool.py,
regularization.py (Dropout), residual.py (Residual blocks); layers with a training/evaluation mode
have a ``training`` flag that model.set_training sets; costs.py counts multiply-adds, activations
and receptive fields layer by layer.

Chapters and the modules they use (tests/test_lecture_map.py checks this both ways against the
chapters' code; every chapter also uses viz.explore for its explorers and viz.prose for glue):

    01 review of MLPs and backprop     data gradcheck layers losses mlp model shapes | viz.fully_connected
    02 the semantic gap                data transforms | viz.pixels viz.semantic_gap
    03 fully connected layers          data fast layers model shapes train transforms | viz.fully_connected
    04 convolution                     costs data fast filters layers model naive shapes | viz.convolution viz.live viz.sliding
    05 sparse connectivity             connectivity data fast shapes | viz.connectivity
    06 parameter sharing               connectivity data filters layers shapes | viz.connectivity viz.convolution
    07 stride and padding              costs data filters layers shapes windows | viz.live viz.sliding viz.stride_padding
    08 pooling                         data fast gradcheck layers naive shapes windows | viz.live viz.pooling
    09 putting a CNN together          architectures costs data layers model shapes | viz.architecture
    10 training a CNN                  architectures data evaluation gradcheck layers shapes train | viz.live viz.training
    11 convolution in depth            connectivity conv_in_depth data fast frameworks gradcheck naive shapes | viz.conv_in_depth
    12 from LeNet to ResNet            architectures costs data depth global_pool interpret layers losses
                                       model shapes train | viz.lenet_to_resnet
"""

from .functional import (
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_naive,
    conv_transpose2d_backward,
    conv_transpose2d_backward_naive,
    conv_transpose2d_forward,
    conv_transpose2d_naive,
    pool2d_backward,
    pool2d_backward_naive,
    pool2d_forward,
    pool2d_naive,
)
from .gradcheck import check_layer, numerical_gradient, rel_error
from .layers import AvgPool2D, Conv2D, ConvTranspose2D, Flatten, L2Pool2D, Layer, Linear, MaxPool2D, ReLU, Sigmoid
from .losses import mse_loss, softmax, softmax_cross_entropy
from .model import Sequential, num_params, set_training
from .shapes import (
    conv_num_params,
    conv_output_shape,
    linear_num_params,
    output_size,
    receptive_field,
    same_padding,
    transposed_output_size,
)
from .train import SGD, evaluate, fit, predict

# Chapter-sized modules, reachable as cnn_core.<module> (numpy-only imports; data loads lazily).
from . import (  # noqa: E402
    architectures,
    connectivity,
    conv_in_depth,
    data,
    depth,
    evaluation,
    fast,
    filters,
    frameworks,
    interpret,
    mlp,
    naive,
    transforms,
    windows,
)
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
    "transposed_output_size",
    "receptive_field",
    "conv2d_naive",
    "conv2d_backward_naive",
    "conv2d_forward",
    "conv2d_backward",
    "conv_transpose2d_naive",
    "conv_transpose2d_backward_naive",
    "conv_transpose2d_forward",
    "conv_transpose2d_backward",
    "pool2d_naive",
    "pool2d_backward_naive",
    "pool2d_forward",
    "pool2d_backward",
    "Layer",
    "Conv2D",
    "ConvTranspose2D",
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
    "conv_in_depth",
    "data",
    "depth",
    "evaluation",
    "fast",
    "filters",
    "frameworks",
    "interpret",
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
