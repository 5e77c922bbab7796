import tracemalloc

import numpy as np
import pytest

import cnn_core as cc
from cnn_core import architectures as A


def test_vgg16_has_the_standard_138_357_544_parameters():
    net = A.vgg16()
    assert net.num_params() == 138_357_544
    rows = net.trace((3, 224, 224))
    assert rows[0][1:] == ((64, 224, 224), (3 * 3 * 3 + 1) * 64)  # 1,792
    assert rows[-1][1:] == ((1000,), (4096 + 1) * 1000)
    assert [s for name, s, _ in rows if name.startswith("MaxPool")][-1] == (512, 7, 7)
    assert net.summary_table((3, 224, 224)).splitlines()[-1].split()[-1] == "138,357,544"


def test_specs_allocate_no_weights():
    tracemalloc.start()
    net = A.vgg16()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000  # real float64 weights would be 1.1 GB
    assert all(p.strides == (0,) * p.ndim for p in net.params.values())
    assert net.params["0.W"].shape == (64, 3, 3, 3)


def test_alexnet_grouped_and_ungrouped():
    assert A.alexnet().num_params() == 60_965_224
    assert A.alexnet(grouped=False).num_params() == 62_378_344
    conv2 = A.alexnet().layers[3]
    assert conv2.num_params() == 2 * (5 * 5 * 48 + 1) * 128 == 307_456
    assert "groups=2" in repr(conv2)
    rows = A.alexnet().trace((3, 227, 227))
    assert rows[0][1] == (96, 55, 55) and rows[2][1] == (96, 27, 27) and rows[-1][1] == (1000,)
    with pytest.raises(ValueError, match=r"layer 0 .*\(3, 224, 224\).*54.25"):
        A.alexnet().trace((3, 224, 224))  # the paper's 224 does not fit 11x11 stride 4


def test_zfnet_and_lenet5():
    assert A.zfnet().num_params() == 62_357_608
    assert A.zfnet().output_shape((3, 227, 227)) == (1000,)
    assert A.zfnet().trace((3, 227, 227))[0][1] == (96, 111, 111)
    net = A.lenet5()
    assert net.num_params() == 156 + 2416 + 48120 + 10164 + 850 == 61_706
    assert [s for _, s, _ in net.trace((1, 32, 32))][:6] == [
        (6, 28, 28),
        (6, 28, 28),
        (6, 14, 14),
        (16, 10, 10),
        (16, 10, 10),
        (16, 5, 5),
    ]


def test_lenet5_paper_counting():
    table = dict(A.lenet5_paper_param_table())
    assert sum(table.values()) == 60_840
    assert table["C3: 16 maps, 5x5, partial connections"] == 1516  # 25 * 60 connections + 16 biases
    assert sum(len(c) for c in A.LENET5_C3_TABLE) == 60
    assert [len(c) for c in A.LENET5_C3_TABLE] == [3] * 6 + [4] * 9 + [6]
    assert all(len(set(c)) == len(c) and set(c) <= set(range(6)) for c in A.LENET5_C3_TABLE)


def test_googlenet_modules():
    depths = [m.depth for m in A.GOOGLENET]
    assert depths == [256, 480, 512, 512, 512, 528, 832, 832, 1024]  # Table 1's output depths
    m3a = A.GOOGLENET[0]
    by_hand = 192 * 64 + 192 * 96 + 96 * 9 * 128 + 192 * 16 + 16 * 25 * 32 + 192 * 32
    assert m3a.num_params(192, bias=False) == by_hand == 163_328
    assert m3a.num_params(192) == by_hand + 64 + 96 + 128 + 16 + 32 + 32
    assert A.googlenet_num_params() == 6_998_552
    assert A.googlenet_num_params(bias=False) == 6_990_272
    aux = A.googlenet_aux_num_params(512) + A.googlenet_aux_num_params(528)
    assert A.googlenet_num_params(aux=True) == 6_998_552 + aux
    assert A.googlenet_aux_num_params(512) == (512 + 1) * 128 + (2048 + 1) * 1024 + (1024 + 1) * 1000
    table = A.googlenet_param_table()
    assert table[-1] == ("linear", 1000, 1_025_000, 1000)
    assert sum(row[3] for row in table) == pytest.approx(6797.7)


def test_spec_layers_match_real_layers():
    real, spec = cc.Conv2D(3, 8, 5, stride=1, padding=2, rng=0), A.Conv2DSpec(3, 8, 5, padding=2)
    assert repr(real) == repr(spec) and real.num_params() == spec.num_params() == 608
    assert real.output_shape((3, 32, 32)) == spec.output_shape((3, 32, 32)) == (8, 32, 32)
    assert cc.Linear(10, 4, rng=0).num_params() == A.LinearSpec(10, 4).num_params() == 44
    with pytest.raises(TypeError, match="spec without weights"):
        spec.forward(np.zeros((1, 3, 32, 32)))
    with pytest.raises(ValueError, match="groups=3 must divide"):
        A.Conv2DSpec(4, 6, 3, groups=3)


def test_typical_architecture_builds_and_runs():
    net = A.typical_architecture(2, 2, 1, input_shape=(1, 8, 8), filters=4, fc_units=16, rng=0)
    kinds = [type(layer).__name__ for layer in net.layers]
    block = ["Conv2D", "ReLU", "Conv2D", "ReLU", "MaxPool2D"]
    assert kinds == block * 2 + ["Flatten", "Linear", "ReLU", "Linear"]
    assert net.layers[5].out_channels == 8  # filters double from block to block
    assert net.forward(np.ones((2, 1, 8, 8))).shape == (2, 10)
    spec = A.typical_architecture(2, 2, 1, input_shape=(1, 8, 8), filters=4, fc_units=16, weights=False)
    assert spec.summary_table((1, 8, 8)) == net.summary_table((1, 8, 8))
    f32 = A.typical_architecture(1, 1, 0, input_shape=(1, 4, 4), dtype=np.float32)
    assert all(p.dtype == np.float32 for p in f32.params.values())
    mlp = A.typical_architecture(1, 0, 1, input_shape=(1, 8, 8), fc_units=128)
    assert [repr(layer) for layer in mlp.layers] == ["Flatten()", "Linear(64, 128)", "ReLU()", "Linear(128, 10)"]


def test_vgg16_is_the_lecture_pattern_and_lenet_without_padding():
    assert A.vgg16().summary_table((3, 224, 224)).count("MaxPool2D") == 5
    assert A.lenet5().layers[0].padding == 0


def test_typical_architecture_refuses_what_does_not_fit():
    with pytest.raises(
        ValueError,
        match=r"N=1, M=6, Q=1\) does not fit the input \(1, 32, 32\).*block 6 of M=6, "
        r"layer 17 MaxPool2D.*\(256, 1, 1\).*at most M=5",
    ):
        A.typical_architecture(1, 6, 1, input_shape=(1, 32, 32))
    with pytest.raises(ValueError, match=r"block 3 of M=3.*\(32, 7, 7\).*3\.50 is not a whole number"):
        A.typical_architecture(1, 3, 1, input_shape=(1, 28, 28))
    with pytest.raises(ValueError, match=r"Conv2D\(8, 16, kernel_size=5.*\(8, 2, 2\)"):
        A.typical_architecture(1, 2, 0, input_shape=(1, 8, 8), kernel_size=5, padding=0)
    with pytest.raises(ValueError, match=r"fc_units has 2 entries \[3, 4\], but Q=3 needs 3"):
        A.typical_architecture(1, 1, 3, fc_units=(3, 4))
    with pytest.raises(ValueError, match=r"N \(convs per block\) must be >= 1"):
        A.typical_architecture(0, 1, 1)
    with pytest.raises(ValueError, match="even filter F=4"):
        A.typical_architecture(1, 1, 1, kernel_size=4)


def test_pattern_reads_n_m_q():
    assert A.pattern(A.vgg16()) == {"N": (2, 2, 3, 3, 3), "M": 5, "Q": 2}
    assert A.pattern(A.alexnet()) == {"N": (1, 1, 3), "M": 3, "Q": 2}
    assert A.pattern(A.lenet5()) == {"N": (1, 1), "M": 2, "Q": 2}
    net = A.typical_architecture(2, 2, 0, pool=(True, False), weights=False)  # the last block has no pool
    assert A.pattern(net) == {"N": (2, 2), "M": 2, "Q": 0}


def test_max_pooled_blocks():
    assert A.max_pooled_blocks(32) == 5  # 32 -> 16 -> 8 -> 4 -> 2 -> 1
    assert A.max_pooled_blocks(224) == 5  # 224 -> ... -> 7, and 7 is odd
    assert A.max_pooled_blocks(28) == 2 and A.max_pooled_blocks(8) == 3 and A.max_pooled_blocks(7) == 0
    assert A.max_pooled_blocks(27, pool_size=3) == 3


def test_published_counts_and_comparison():
    published = A.published_param_counts()
    assert published["VGG-16"].value == 138_000_000 and published["ZF Net"].value is None
    assert all(p.source for p in published.values())
    rows = A.param_count_comparison()
    assert [r[0] for r in rows] == ["LeNet-5", "AlexNet", "ZF Net", "VGG-16", "GoogLeNet"]
    for name, counted, pub, what in rows:
        assert pub is None or abs(counted / pub - 1) < 0.035, name
        assert what


def test_conv_fc_split():
    split = A.conv_fc_split()
    for name, net in A.known_architectures().items():
        assert sum(split[name]) == net.num_params()
    assert split["VGG-16"][0] == 14_714_688
    assert split["GoogLeNet"] == (A.googlenet_num_params() - 1_025_000, 1_025_000)


def test_lenet5_with_weights_trains_on_32x32_digits():
    net = A.lenet5(weights=True, rng=0, dtype=np.float32)
    assert net.num_params() == A.lenet5().num_params() == 61_706
    assert all(p.dtype == np.float32 and p.strides != (0,) * p.ndim for p in net.params.values())
    x = np.random.default_rng(0).random((4, 1, 32, 32), dtype=np.float32)
    assert net.forward(x).shape == (4, 10)
    same = A.lenet5(weights=True, rng=0, dtype=np.float32)
    assert all(np.array_equal(net.params[k], same.params[k]) for k in net.params)
    hist = cc.fit(net, x, np.arange(4), epochs=20, lr=0.05, progress=False)
    assert hist["loss"][-1] < hist["loss"][0] / 2  # it learns four images
