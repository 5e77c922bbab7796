"""The lecture's typical CNN pattern and the well-known CNNs, as layer specs.

    Input -> [[Conv -> ReLU]*N -> Pool?]*M -> [FC -> ReLU]*Q -> FC

``typical_architecture(N, M, Q, ...)`` builds that pattern as a ``Sequential``;
``lenet5``, ``alexnet``, ``zfnet`` and ``vgg16`` write out the well-known nets.
Big nets are described with *weightless* layers, ``Conv2DSpec`` and
``LinearSpec``: they trace shapes and count parameters exactly like
``Conv2D``/``Linear`` (same formulas from ``cnn_core.shapes``, same repr, so
``Sequential.summary`` prints the same table) but allocate nothing, so VGG-16's
138 million parameters (1.1 GB as float64) cost no memory.

GoogLeNet's Inception modules are parallel branches, not a chain of layers: its
parameter count is computed module by module from the numbers of the paper's
Table 1 (``GOOGLENET``, ``googlenet_param_table``), not by a ``Sequential``.

Published counts and where they come from: ``published_param_counts()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .global_pool import GlobalAvgPool2D
from .layers import Conv2D, Flatten, Layer, Linear, MaxPool2D, ReLU, RngLike, as_rng
from .model import Sequential
from .normalization import BatchNorm2D
from .residual import Residual
from .shapes import check_whole_number, conv_num_params, linear_num_params, output_size, same_padding


# --------------------------------------------------------------- weightless layers


def weightless(*shape: int) -> np.ndarray:
    """A read-only array of zeros of this shape that occupies no memory (every element is
    the same one number: ``np.broadcast_to``), so ``.size`` and ``.shape`` are those of real weights."""
    return np.broadcast_to(np.zeros((), dtype=np.float32), shape)


def floor_output_size(n: int, f: int, stride: int = 1, padding: int = 0) -> int:
    """floor((N + 2P - F) / S) + 1: PyTorch's output size, which drops a last window that does not fit
    (the lecture's output_size refuses those sizes instead)."""
    n, f = check_whole_number("input size N", n, 1), check_whole_number("filter size F", f, 1)
    stride, padding = check_whole_number("stride S", stride, 1), check_whole_number("padding P", padding, 0)
    if n + 2 * padding < f:
        raise ValueError(f"filter F={f} is larger than the padded input N + 2P = {n} + 2*{padding} = {n + 2 * padding}")
    return (n + 2 * padding - f) // stride + 1


class Conv2DSpec(Conv2D):
    """A Conv2D that only traces shapes and counts parameters: its W (K, D/groups, F, F) and
    b (K,) are ``weightless`` arrays, so num_params and Sequential.summary count them as usual.

    With ``groups=g`` (AlexNet's two GPUs) the D inputs and K filters are split into
    g groups and each filter sees only D/g input maps: g * (F*F*D/g + 1) * K/g params.

    ``bias=False`` leaves b out (a conv before a BatchNorm2D, as in ResNet: BN's beta is the shift).
    ``floor=True`` rounds (H + 2P - F)/S + 1 down as PyTorch does, where the lecture's formula is
    not whole (ResNet's 7x7/2 conv with P=3 on 224: 223/2 + 1 = 112.5 -> 112).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        *,
        bias: bool = True,
        floor: bool = False,
    ) -> None:
        Layer.__init__(self)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"groups={groups} must divide both in_channels={in_channels} and out_channels={out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.groups = kernel_size, stride, padding, groups
        self.floor = floor
        self.params = {"W": weightless(out_channels, in_channels // groups, kernel_size, kernel_size)}
        if bias:
            self.params["b"] = weightless(out_channels)

    def output_shape(self, input_shape):
        if not self.floor:
            return super().output_shape(input_shape)
        d, h, w = input_shape
        if d != self.in_channels:
            raise ValueError(f"Conv2D expects input depth D={self.in_channels}, got shape {tuple(input_shape)}")
        return (self.out_channels, *(floor_output_size(n, self.kernel_size, self.stride, self.padding) for n in (h, w)))

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise TypeError(f"{self!r} is a spec without weights: it traces shapes and counts parameters only")

    backward = forward

    def __repr__(self) -> str:
        text = super().__repr__()[:-1]
        text += f", groups={self.groups}" if self.groups > 1 else ""
        text += "" if "b" in self.params else ", bias=False"
        return text + ")"


class LinearSpec(Linear):
    """A Linear layer that only traces shapes and counts parameters (``weightless`` W and b)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        Layer.__init__(self)
        self.in_features, self.out_features = in_features, out_features
        self.params = {"W": weightless(out_features, in_features), "b": weightless(out_features)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise TypeError(f"{self!r} is a spec without weights: it traces shapes and counts parameters only")

    backward = forward


# --------------------------------------------------------------- the lecture's pattern


def _per_block(name: str, value, count: int, what: str) -> list:
    """An int (or bool) for every block, or a sequence that already has one per block."""
    if isinstance(value, (bool, int, np.integer)):
        return [value] * count
    value = list(value)
    if len(value) != count:
        raise ValueError(
            f"{name} has {len(value)} entries {value}, but {what} needs {count}: one per "
            f"{'block' if what.startswith('M') else 'hidden FC layer'}"
        )
    return value


def typical_architecture(
    N: int | Sequence[int],
    M: int,
    Q: int,
    *,
    input_shape: Sequence[int] = (1, 28, 28),
    filters: int | Sequence[int] = 8,
    kernel_size: int = 3,
    padding: int | None = None,
    pool: bool | Sequence[bool] = True,
    pool_size: int = 2,
    fc_units: int | Sequence[int] = 64,
    n_classes: int = 10,
    weights: bool = True,
    rng: RngLike = 0,
    dtype=np.float64,
) -> Sequential:
    """Input -> [[Conv -> ReLU]*N -> Pool?]*M -> [FC -> ReLU]*Q -> FC, as a Sequential.

    N    conv layers per block (an int, or one per block as VGG-16's (2, 2, 3, 3, 3))
    M    blocks; ``pool`` says whether each block ends with a pool_size x pool_size max pool, stride pool_size
    Q    hidden fully connected layers of ``fc_units`` neurons, then a last FC to ``n_classes``
    filters  K of each block's convs: an int is doubled from block to block (8, 16, 32, ...)
    padding  default (F - 1)/2, which keeps the size (``same_padding``)
    weights  False builds weightless ``Conv2DSpec``/``LinearSpec`` layers (shapes and counts only).

    Raises ValueError naming the block, the layer and the sizes when a layer does not fit,
    e.g. too many 2x2 pools for the image size.
    """
    M, Q = check_whole_number("M (number of blocks)", M, 0), check_whole_number("Q (number of hidden FC layers)", Q, 0)
    convs = [check_whole_number("N (convs per block)", n, 1) for n in _per_block("N", N, M, f"M={M}")]
    pools = [bool(p) for p in _per_block("pool", pool, M, f"M={M}")]
    if isinstance(filters, (int, np.integer)):
        filters = [int(filters) * 2**m for m in range(M)]
    filters = [check_whole_number("filters", k, 1) for k in _per_block("filters", filters, M, f"M={M}")]
    units = [check_whole_number("fc_units", u, 1) for u in _per_block("fc_units", fc_units, Q, f"Q={Q}")]
    padding = same_padding(kernel_size) if padding is None else padding
    gen = as_rng(rng)

    def conv(d: int, k: int) -> Layer:
        if not weights:
            return Conv2DSpec(d, k, kernel_size, padding=padding)
        return Conv2D(d, k, kernel_size, padding=padding, rng=gen, dtype=dtype)

    def fc(n_in: int, n_out: int) -> Layer:
        return Linear(n_in, n_out, rng=gen, dtype=dtype) if weights else LinearSpec(n_in, n_out)

    call = f"typical_architecture(N={N}, M={M}, Q={Q})"
    layers: list[Layer] = []
    shape = tuple(input_shape)

    def add(layer: Layer, where: str) -> None:
        nonlocal shape
        try:
            new = tuple(layer.output_shape(shape))
        except ValueError as err:
            hint = ""
            if isinstance(layer, MaxPool2D) and 2 * padding == kernel_size - 1 and shape[1] == shape[2]:
                most = max_pooled_blocks(input_shape[1], pool_size)
                hint = (
                    f" With size-keeping convs and {pool_size}x{pool_size} pools, a {input_shape[1]}-pixel "
                    f"input takes at most M={most} pooled blocks."
                )
            raise ValueError(
                f"{call} does not fit the input {tuple(input_shape)} (D, H, W): {where}, "
                f"layer {len(layers)} {layer!r} gets an input of shape {shape}: "
                f"{str(err).rstrip('.')}.{hint}"
            ) from None
        layers.append(layer)
        shape = new

    for m in range(M):
        where = f"block {m + 1} of M={M}"
        for _ in range(convs[m]):
            add(conv(shape[0], filters[m]), where)
            add(ReLU(), where)
        if pools[m]:
            add(MaxPool2D(pool_size), where)
    add(Flatten(), "flatten")
    for q in range(Q):
        add(fc(shape[0], units[q]), f"hidden FC layer {q + 1} of Q={Q}")
        add(ReLU(), "FC block")
    add(fc(shape[0], n_classes), "the last FC layer")
    return Sequential(layers)


def pattern(net: Sequential) -> dict[str, object]:
    """Read a chain net as the lecture's pattern: N (convs in each block; a block ends at a
    pool or at the Flatten), M (number of blocks) and Q (FC layers before the last one)."""
    blocks, convs, linears = [], 0, 0
    for layer in net.layers:
        if isinstance(layer, Conv2D):
            convs += 1
        elif isinstance(layer, (MaxPool2D, Flatten)) and convs:
            blocks.append(convs)
            convs = 0
        elif isinstance(layer, Linear):
            linears += 1
    return {"N": tuple(blocks), "M": len(blocks), "Q": max(linears - 1, 0)}


def max_pooled_blocks(size: int, pool_size: int = 2) -> int:
    """How many size-keeping blocks ending in a pool_size x pool_size, stride pool_size pool
    fit an input of size x size before (N - F)/S + 1 stops being a whole number >= 1."""
    blocks = 0
    while True:
        try:
            size = output_size(size, pool_size, pool_size)
        except ValueError:
            return blocks
        blocks += 1


# --------------------------------------------------------------- the well-known CNNs


def lenet5(*, weights: bool = False, rng: RngLike = 0, dtype=np.float64) -> Sequential:
    """LeNet-5 (LeCun et al. 1998) in today's form, input 1 x 32 x 32.

    C1: 6 5x5 -> 28x28x6, S2 2x2 -> 14x14x6, C3: 16 5x5 -> 10x10x16, S4 -> 5x5x16,
    C5: 120 (a 5x5 conv on 5x5 = a FC layer on 400), F6: 84, output 10.
    Here C3 sees all 6 maps, the pools are max pools and the output a plain FC layer:
    see ``lenet5_paper_param_table`` for the paper's own counting.
    ``weights=True`` builds a trainable network (28x28 MNIST digits padded by 2 to 32x32,
    as in the paper); the default builds weightless layers (shapes and counts only).
    """
    return typical_architecture(
        1,
        2,
        2,
        input_shape=(1, 32, 32),
        filters=(6, 16),
        kernel_size=5,
        padding=0,
        fc_units=(120, 84),
        n_classes=10,
        weights=weights,
        rng=rng,
        dtype=dtype,
    )


#: LeNet-5's Table I: the S2 maps (0-5) that each of C3's 16 maps is connected to.
LENET5_C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2),
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
    (0, 4, 5),
    (0, 1, 5),
    (0, 1, 2, 3),
    (1, 2, 3, 4),
    (2, 3, 4, 5),
    (0, 3, 4, 5),
    (0, 1, 4, 5),
    (0, 1, 2, 5),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def lenet5_paper_param_table() -> list[tuple[str, int]]:
    """The trainable parameters of LeNet-5 as the 1998 paper counts them, layer by layer.

    S2/S4: subsampling with one trainable coefficient and one bias per map (2 per map).
    C3: each map k is a 5x5 filter over only the maps in LENET5_C3_TABLE[k] (+1 bias).
    Output: 10 Euclidean RBF units with 84 fixed-size weight vectors and no bias.
    """
    c3 = sum(conv_num_params(5, len(inputs), 1) for inputs in LENET5_C3_TABLE)
    return [
        ("C1: 6 maps, 5x5 filters", conv_num_params(5, 1, 6)),
        ("S2: 6 maps, coefficient + bias", 2 * 6),
        ("C3: 16 maps, 5x5, partial connections", c3),
        ("S4: 16 maps, coefficient + bias", 2 * 16),
        ("C5: 120 maps, 5x5 over 16 maps", conv_num_params(5, 16, 120)),
        ("F6: 84 units", linear_num_params(120, 84)),
        ("output: 10 RBF units (no bias)", linear_num_params(84, 10, bias=False)),
    ]


def alexnet(grouped: bool = True) -> Sequential:
    """AlexNet (Krizhevsky, Sutskever & Hinton 2012), input 3 x 227 x 227.

    96 11x11/4 -> pool 3x3/2 -> 256 5x5 -> pool -> 384 3x3 -> 384 3x3 -> 256 3x3 -> pool
    -> FC 4096 -> FC 4096 -> FC 1000. With ``grouped`` conv2, conv4 and conv5 are split
    over the paper's two GPUs (groups=2: each filter sees half the input maps).
    The paper writes 224 x 224, but (224 - 11)/4 + 1 = 54.25 does not fit; 227 gives 55.
    Local response normalisation and dropout have no parameters and are left out.
    """
    g = 2 if grouped else 1
    return Sequential(
        [
            Conv2DSpec(3, 96, 11, stride=4),
            ReLU(),
            MaxPool2D(3, 2),
            Conv2DSpec(96, 256, 5, padding=2, groups=g),
            ReLU(),
            MaxPool2D(3, 2),
            Conv2DSpec(256, 384, 3, padding=1),
            ReLU(),
            Conv2DSpec(384, 384, 3, padding=1, groups=g),
            ReLU(),
            Conv2DSpec(384, 256, 3, padding=1, groups=g),
            ReLU(),
            MaxPool2D(3, 2),
            Flatten(),
            LinearSpec(256 * 6 * 6, 4096),
            ReLU(),
            LinearSpec(4096, 4096),
            ReLU(),
            LinearSpec(4096, 1000),
        ]
    )


def zfnet() -> Sequential:
    """ZF Net (Zeiler & Fergus 2014): AlexNet with conv1 7x7/2 (not 11x11/4), conv2 stride 2,
    and 384, 384, 256 filters in conv3-5, on one GPU (no groups). Input 3 x 227 x 227.

    The paper's figure (224 -> 110 -> 55 -> 26 -> 13) rounds: conv sizes down, pool sizes up.
    With whole-number sizes: 227 -> 111 -> pool 55 -> conv2 (padding 1) 27 -> pool 13 -> 6.
    Padding and input size change no parameter count.
    """
    return Sequential(
        [
            Conv2DSpec(3, 96, 7, stride=2),
            ReLU(),
            MaxPool2D(3, 2),
            Conv2DSpec(96, 256, 5, stride=2, padding=1),
            ReLU(),
            MaxPool2D(3, 2),
            Conv2DSpec(256, 384, 3, padding=1),
            ReLU(),
            Conv2DSpec(384, 384, 3, padding=1),
            ReLU(),
            Conv2DSpec(384, 256, 3, padding=1),
            ReLU(),
            MaxPool2D(3, 2),
            Flatten(),
            LinearSpec(256 * 6 * 6, 4096),
            ReLU(),
            LinearSpec(4096, 4096),
            ReLU(),
            LinearSpec(4096, 1000),
        ]
    )


def vgg16() -> Sequential:
    """VGG-16, configuration D of Simonyan & Zisserman (2015), input 3 x 224 x 224.

    It *is* the lecture's pattern: N = (2, 2, 3, 3, 3) 3x3 convs (padding 1) per block,
    M = 5 blocks each ending in a 2x2/2 max pool, Q = 2 FC layers of 4096, then FC 1000.
    """
    return typical_architecture(
        (2, 2, 3, 3, 3),
        5,
        2,
        input_shape=(3, 224, 224),
        filters=(64, 128, 256, 512, 512),
        fc_units=4096,
        n_classes=1000,
        weights=False,
    )


def vgg16_layer_names() -> list[str]:
    """The paper's names of vgg16()'s layers, in order: conv1_1, relu1_1, conv1_2, relu1_2, pool1, ...,
    conv5_3, relu5_3, pool5, flatten, fc6, relu6, fc7, relu7, fc8."""
    names = []
    for block, convs in enumerate((2, 2, 3, 3, 3), start=1):
        for i in range(1, convs + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names + ["flatten", "fc6", "relu6", "fc7", "relu7", "fc8"]


#: Input shape (D, H, W) each net above is traced with.
INPUT_SHAPES: dict[str, tuple[int, int, int]] = {
    "LeNet-5": (1, 32, 32),
    "AlexNet": (3, 227, 227),
    "ZF Net": (3, 227, 227),
    "VGG-16": (3, 224, 224),
    "GoogLeNet": (3, 224, 224),
}


# --------------------------------------------------------------- GoogLeNet


class Inception(NamedTuple):
    """One row of GoogLeNet's Table 1: the filters of the four parallel branches.

    1x1 | 1x1 reduce -> 3x3 | 1x1 reduce -> 5x5 | 3x3 max pool -> 1x1 "pool proj";
    the branch outputs are stacked in depth: depth = n1x1 + n3x3 + n5x5 + pool_proj.
    """

    name: str
    n1x1: int
    n3x3_reduce: int
    n3x3: int
    n5x5_reduce: int
    n5x5: int
    pool_proj: int
    paper_params_k: float  # the table's "params" column, in thousands

    @property
    def depth(self) -> int:
        return self.n1x1 + self.n3x3 + self.n5x5 + self.pool_proj

    def num_params(self, in_channels: int, bias: bool = True) -> int:
        """The six convolutions of the module, each counted with conv_num_params."""
        return (
            conv_num_params(1, in_channels, self.n1x1, bias)
            + conv_num_params(1, in_channels, self.n3x3_reduce, bias)
            + conv_num_params(3, self.n3x3_reduce, self.n3x3, bias)
            + conv_num_params(1, in_channels, self.n5x5_reduce, bias)
            + conv_num_params(5, self.n5x5_reduce, self.n5x5, bias)
            + conv_num_params(1, in_channels, self.pool_proj, bias)
        )


#: Table 1 of Szegedy et al. (2015), "Going deeper with convolutions": the nine Inception modules.
GOOGLENET: tuple[Inception, ...] = (
    Inception("inception (3a)", 64, 96, 128, 16, 32, 32, 159),
    Inception("inception (3b)", 128, 128, 192, 32, 96, 64, 380),
    Inception("inception (4a)", 192, 96, 208, 16, 48, 64, 364),
    Inception("inception (4b)", 160, 112, 224, 24, 64, 64, 437),
    Inception("inception (4c)", 128, 128, 256, 24, 64, 64, 463),
    Inception("inception (4d)", 112, 144, 288, 32, 64, 64, 580),
    Inception("inception (4e)", 256, 160, 320, 32, 128, 128, 840),
    Inception("inception (5a)", 256, 160, 320, 32, 128, 128, 1072),
    Inception("inception (5b)", 384, 192, 384, 48, 128, 128, 1388),
)


def googlenet_aux_num_params(in_channels: int, bias: bool = True) -> int:
    """One auxiliary classifier (on 4a and 4d during training only): 5x5/3 average pool to 4x4,
    128 1x1 filters, FC 2048 -> 1024, FC 1024 -> 1000."""
    return (
        conv_num_params(1, in_channels, 128, bias)
        + linear_num_params(4 * 4 * 128, 1024, bias)
        + linear_num_params(1024, 1000, bias)
    )


def googlenet_param_table(bias: bool = True, aux: bool = False) -> list[tuple[str, int, int, float | None]]:
    """(layer, output depth, parameters, the paper's params column in thousands) for GoogLeNet.

    Stem: conv 7x7/2 (64), conv 1x1 (64) + conv 3x3 (192); then the nine Inception modules
    (max pools between them have no parameters); 7x7 average pool; FC 1024 -> 1000.
    With ``aux`` the two auxiliary classifiers used in training are added.
    """
    rows: list[tuple[str, int, int, float | None]] = [
        ("conv 7x7/2", 64, conv_num_params(7, 3, 64, bias), 2.7),
        ("conv 1x1 + 3x3", 192, conv_num_params(1, 64, 64, bias) + conv_num_params(3, 64, 192, bias), 112),
    ]
    depth = 192
    for module in GOOGLENET:
        rows.append((module.name, module.depth, module.num_params(depth, bias), module.paper_params_k))
        if aux and module.name in ("inception (4a)", "inception (4d)"):
            rows.append((f"auxiliary classifier on {module.name[-4:]}", 1000, googlenet_aux_num_params(module.depth, bias), None))
        depth = module.depth
    rows.append(("linear", 1000, linear_num_params(depth, 1000, bias), 1000))
    return rows


def googlenet_num_params(bias: bool = True, aux: bool = False) -> int:
    """GoogLeNet's total: the sum over googlenet_param_table."""
    return sum(row[2] for row in googlenet_param_table(bias, aux))


# --------------------------------------------------------------- published figures


class Published(NamedTuple):
    """A parameter count as published: the number (None if not stated), the words, the source."""

    value: int | None
    quote: str
    source: str


def published_param_counts() -> dict[str, Published]:
    """The parameter counts the papers give, with their sources."""
    return {
        "LeNet-5": Published(
            60_000,
            "about 60,000 trainable parameters",
            "LeCun, Bottou, Bengio & Haffner (1998), Gradient-based learning applied to document recognition, Proc. IEEE 86(11)",
        ),
        "AlexNet": Published(
            60_000_000,
            "60 million parameters and 650,000 neurons",
            "Krizhevsky, Sutskever & Hinton (2012), ImageNet classification with deep "
            "convolutional neural networks, NeurIPS (abstract)",
        ),
        "ZF Net": Published(
            None,
            "no total stated (layer sizes in the paper's Fig. 3)",
            "Zeiler & Fergus (2014), Visualizing and understanding convolutional networks, ECCV",
        ),
        "VGG-16": Published(
            138_000_000,
            "138 million (configuration D)",
            "Simonyan & Zisserman (2015), Very deep convolutional networks for large-scale image recognition, ICLR, Table 2",
        ),
        "GoogLeNet": Published(
            6_800_000,
            'about 6.8 million (sum of Table 1\'s params column); "12 times fewer parameters" than AlexNet',
            "Szegedy et al. (2015), Going deeper with convolutions, CVPR, Table 1 and Sec. 1",
        ),
    }


def known_architectures() -> dict[str, Sequential]:
    """The chain-shaped well-known nets as weightless Sequentials (GoogLeNet is not a chain)."""
    return {"LeNet-5": lenet5(), "AlexNet": alexnet(), "ZF Net": zfnet(), "VGG-16": vgg16()}


def param_count_comparison() -> list[tuple[str, int, int | None, str]]:
    """(net, parameters counted by cnn_core, published count, what was counted), one row per net."""
    published = published_param_counts()
    counted = {name: net.num_params() for name, net in known_architectures().items()}
    what = {
        "LeNet-5": "modern form: C3 sees all 6 maps, max pools, FC output (paper's own counting: 60,840)",
        "AlexNet": "conv2/4/5 split over 2 GPUs (groups=2), all biases; LRN, dropout have none",
        "ZF Net": "one GPU, 96-256-384-384-256 filters, all biases",
        "VGG-16": "configuration D, 13 conv + 3 FC layers, all biases",
        "GoogLeNet": "9 Inception modules from Table 1 + stem + FC, all biases, no auxiliary classifiers",
    }
    counted["GoogLeNet"] = googlenet_num_params()
    return [(name, counted[name], published[name].value, what[name]) for name in published]


def conv_fc_split() -> dict[str, tuple[int, int]]:
    """(parameters in conv layers, parameters in fully connected layers) for each well-known net."""
    split = {}
    for name, net in known_architectures().items():
        conv = sum(layer.num_params() for layer in net.layers if isinstance(layer, Conv2D))
        split[name] = (conv, net.num_params() - conv)
    table = googlenet_param_table()
    split["GoogLeNet"] = (sum(row[2] for row in table[:-1]), table[-1][2])
    return split


# --------------------------------------------------------------- ResNet


class MaxPool2DSpec(Layer):
    """A max pool with zero padding and PyTorch's rounding down, for tracing shapes only (ResNet's
    stem: 3x3, stride 2, padding 1, 112 -> 56). No parameters."""

    def __init__(self, kernel_size: int, stride: int, padding: int = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise TypeError(f"{self!r} is a spec: it traces shapes only")

    backward = forward

    def output_shape(self, input_shape):
        d, h, w = input_shape
        return (d, *(floor_output_size(n, self.kernel_size, self.stride, self.padding) for n in (h, w)))

    def __repr__(self) -> str:
        return f"MaxPool2D(kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})"


def _named(layer: Layer, name: str) -> Layer:
    """Give a layer the name cost tables and summaries show (torchvision's module names)."""
    layer.name = name
    return layer


def _conv_bn(d_in: int, d_out: int, f: int, stride: int, conv: str, bn: str) -> list[Layer]:
    return [
        _named(Conv2DSpec(d_in, d_out, f, stride, (f - 1) // 2, bias=False, floor=True), conv),
        _named(BatchNorm2D(d_out), bn),
    ]


def basic_block_spec(d_in: int, d_out: int, stride: int = 1) -> Sequential:
    """ResNet-18/34's block: 3x3 conv (stride S) - BN - ReLU - 3x3 conv - BN, + shortcut, ReLU.
    The shortcut is the identity, or a 1x1 conv with stride S + BN where channels or size change."""
    body = [
        *_conv_bn(d_in, d_out, 3, stride, "conv1", "bn1"),
        _named(ReLU(), "relu"),
        *_conv_bn(d_out, d_out, 3, 1, "conv2", "bn2"),
    ]
    return _block(body, d_in, d_out, stride)


def _block(body: list[Layer], d_in: int, d_out: int, stride: int) -> Sequential:
    """body + shortcut (identity, or 1x1 conv + BN where the channels or the size change), then ReLU."""
    shortcut = None
    if stride != 1 or d_in != d_out:
        shortcut = _named(Sequential(_conv_bn(d_in, d_out, 1, stride, "0", "1")), "downsample")
    return Sequential([_named(Residual(body, shortcut), ""), _named(ReLU(), "relu")])


def bottleneck_spec(d_in: int, width: int, stride: int = 1, stride_on_3x3: bool = True) -> Sequential:
    """ResNet-50's block: 1x1 conv to ``width`` - BN - ReLU - 3x3 conv - BN - ReLU - 1x1 conv to 4 width - BN,
    + shortcut, ReLU. ``stride_on_3x3`` (torchvision's "v1.5") puts the stride S on the 3x3 conv; False
    puts it on the first 1x1 conv as in the paper (v1), which skips 3 of every 4 positions unseen
    and costs fewer multiply-adds."""
    d_out = 4 * width
    s1, s3 = (1, stride) if stride_on_3x3 else (stride, 1)
    body = [
        *_conv_bn(d_in, width, 1, s1, "conv1", "bn1"),
        _named(ReLU(), "relu"),
        *_conv_bn(width, width, 3, s3, "conv2", "bn2"),
        _named(ReLU(), "relu"),
        *_conv_bn(width, d_out, 1, 1, "conv3", "bn3"),
    ]
    return _block(body, d_in, d_out, stride)


#: The paper's Table 1 (He et al. 2016): blocks per stage conv2_x ... conv5_x.
RESNET_BLOCKS: dict[str, tuple[int, int, int, int]] = {
    "ResNet-18": (2, 2, 2, 2),
    "ResNet-34": (3, 4, 6, 3),
    "ResNet-50": (3, 4, 6, 3),
    "ResNet-101": (3, 4, 23, 3),
    "ResNet-152": (3, 8, 36, 3),
}


def resnet(blocks: Sequence[int], bottleneck: bool = False, n_classes: int = 1000, stride_on_3x3: bool = True) -> Sequential:
    """A ResNet as weightless specs (input 3 x 224 x 224), named as torchvision's modules.

    conv1 7x7/2 (64) - bn1 - relu - maxpool 3x3/2 -> 56x56; layer1..layer4 (the paper's conv2_x..conv5_x)
    with 64, 128, 256, 512 channels (x4 with bottlenecks), stride 2 at the first block of layer2..4;
    avgpool (global average pooling) -> fc to n_classes. Convs have no bias (each is followed by BN).
    """
    layers: list[Layer] = [
        *_conv_bn(3, 64, 7, 2, "conv1", "bn1"),
        _named(ReLU(), "relu"),
        _named(MaxPool2DSpec(3, 2, 1), "maxpool"),
    ]
    d = 64
    for stage, (n, width) in enumerate(zip(blocks, (64, 128, 256, 512))):
        stage_blocks = []
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            if bottleneck:
                block = bottleneck_spec(d, width, stride, stride_on_3x3)
                d = 4 * width
            else:
                block = basic_block_spec(d, width, stride)
                d = width
            stage_blocks.append(_named(block, str(i)))
        layers.append(_named(Sequential(stage_blocks), f"layer{stage + 1}"))
    layers += [_named(GlobalAvgPool2D(), "avgpool"), _named(LinearSpec(d, n_classes), "fc")]
    return Sequential(layers)


def resnet18() -> Sequential:
    """ResNet-18: basic blocks (2, 2, 2, 2), 11,689,512 parameters."""
    return resnet(RESNET_BLOCKS["ResNet-18"])


def resnet34() -> Sequential:
    """ResNet-34: basic blocks (3, 4, 6, 3), 21,797,672 parameters."""
    return resnet(RESNET_BLOCKS["ResNet-34"])


def resnet50(stride_on_3x3: bool = True) -> Sequential:
    """ResNet-50: bottleneck blocks (3, 4, 6, 3), 25,557,032 parameters; torchvision's v1.5 (stride on
    the 3x3 conv) by default, the paper's v1 (stride on the first 1x1) with stride_on_3x3=False."""
    return resnet(RESNET_BLOCKS["ResNet-50"], bottleneck=True, stride_on_3x3=stride_on_3x3)


class PublishedCost(NamedTuple):
    """Parameters and multiply-adds as published (None: not stated), with the source."""

    params: int | None
    multiply_adds: float
    source: str


def published_resnet_figures() -> dict[str, list[PublishedCost]]:
    """What the ResNet paper and torchvision state for ResNet-18/34/50 (input 224 x 224).

    The paper's Table 1 gives "FLOPs" that are multiply-adds (1.8 x 10^9 for ResNet-18), rounded to
    two digits, for the paper's own ResNet-50 (stride on the first 1x1 conv); torchvision's weights
    tables give the exact parameter counts and "GFLOPS" that are also multiply-adds, for its v1.5.
    """
    paper = "He, Zhang, Ren & Sun (2016), Deep residual learning for image recognition, CVPR, Table 1"
    tv = "torchvision.models weights tables (num_params, GFLOPS), ResNet18/34/50_Weights.IMAGENET1K_V1"
    return {
        "ResNet-18": [PublishedCost(None, 1.8e9, paper), PublishedCost(11_689_512, 1.81e9, tv)],
        "ResNet-34": [PublishedCost(None, 3.6e9, paper), PublishedCost(21_797_672, 3.66e9, tv)],
        "ResNet-50": [
            PublishedCost(None, 3.8e9, paper + " (v1: stride on the first 1x1 conv)"),
            PublishedCost(25_557_032, 4.09e9, tv + " (v1.5: stride on the 3x3 conv)"),
        ],
    }


def classifier_heads() -> dict[str, int]:
    """Parameters of two ways to end a net on 512 maps of 7 x 7 with 1000 classes:
    VGG-16's head (Flatten -> FC 4096 -> FC 4096 -> FC 1000) and ResNet's (global average pool -> FC 1000)."""
    vgg = linear_num_params(512 * 7 * 7, 4096) + linear_num_params(4096, 4096) + linear_num_params(4096, 1000)
    return {"VGG-16: flatten + 3 FC layers": vgg, "ResNet: global average pool + 1 FC layer": linear_num_params(512, 1000)}
