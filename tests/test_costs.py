"""Multiply-adds, activations and receptive fields, by hand, against the published ResNet/VGG figures,
and against PyTorch's own FLOP counter on the same networks (skipped without PyTorch)."""

import pytest

import cnn_core as cc
from cnn_core import architectures as A
from cnn_core import costs as C


def test_conv_multiply_adds_by_hand():
    # the lecture's 32x32x3 input, 10 5x5 filters, stride 1, pad 2: 32*32 positions x 10 filters x 5*5*3 weights
    assert C.conv_multiply_adds((3, 32, 32), 10, 5, 1, 2) == 32 * 32 * 10 * 75 == 768_000
    assert C.conv_multiply_adds((3, 227, 227), 96, 11, 4) == 55 * 55 * 96 * 363  # AlexNet conv1: 105 M
    assert C.conv_multiply_adds((96, 27, 27), 256, 5, 1, 2, groups=2) == 27 * 27 * 256 * 25 * 48
    assert C.linear_multiply_adds(4096, 1000) == 4_096_000


def test_a_small_net_layer_by_layer():
    net = cc.Sequential([cc.Conv2D(1, 4, 3, padding=1), cc.ReLU(), cc.MaxPool2D(2), cc.Flatten(), cc.Linear(4 * 4 * 4, 10)])
    rows = C.layer_costs(net, (1, 8, 8))
    assert [r.name for r in rows] == ["0", "1", "2", "3", "4"]
    assert [r.multiply_adds for r in rows] == [8 * 8 * 4 * 9, 0, 0, 0, 64 * 10]
    assert [r.activations for r in rows] == [256, 256, 64, 64, 10]
    assert [r.receptive_field for r in rows] == [3, 3, 4, None, None]
    assert C.multiply_adds(net, (1, 8, 8)) == 2304 + 640
    assert C.activation_memory(net, (1, 8, 8)) == 4 * 650
    assert C.activation_memory(net, (1, 8, 8), bytes_per_value=8) == 8 * 650
    assert sum(r.params for r in rows) == net.num_params()


def test_residual_blocks_count_both_paths_and_the_sum():
    block = cc.Residual([cc.Conv2D(2, 4, 3, padding=1)], shortcut=cc.Conv2D(2, 4, 1))
    rows = C.layer_costs(cc.Sequential([block]), (2, 5, 5))
    assert [r.name for r in rows] == ["0.0", "0.shortcut.0", "0.add"]
    assert [r.multiply_adds for r in rows] == [25 * 4 * 18, 25 * 4 * 2, 0]
    assert rows[-1].activations == 100 and rows[-1].receptive_field == 3  # the longer path: the 3x3 body


@pytest.mark.parametrize(
    "make, params", [(A.resnet18, 11_689_512), (A.resnet34, 21_797_672), (A.resnet50, 25_557_032)], ids=["18", "34", "50"]
)
def test_resnet_parameters_equal_torchvision(make, params):
    assert make().num_params() == params  # torchvision's num_params, exactly


def test_resnet_multiply_adds_against_the_paper_and_torchvision():
    counted = {
        "ResNet-18": C.multiply_adds(A.resnet18(), (3, 224, 224)),
        "ResNet-34": C.multiply_adds(A.resnet34(), (3, 224, 224)),
        "ResNet-50": C.multiply_adds(A.resnet50(), (3, 224, 224)),
    }
    assert counted == {"ResNet-18": 1_814_073_344, "ResNet-34": 3_663_761_408, "ResNet-50": 4_089_184_256}
    for name, (paper, torchvision) in A.published_resnet_figures().items():
        assert torchvision.params == getattr(A, name.lower().replace("-", ""))().num_params()
        # torchvision states 3 digits (1.81, 3.66, 4.09 G): within rounding, 0.5%
        assert abs(counted[name] / torchvision.multiply_adds - 1) < 0.005, name
    # the paper states 2 digits (1.8, 3.6 G) for ResNet-18/34: within 2% (1.8% for ResNet-34, rounding alone is 1.4%)
    assert abs(counted["ResNet-18"] / 1.8e9 - 1) < 0.02 and abs(counted["ResNet-34"] / 3.6e9 - 1) < 0.02
    # its 3.8 G is for its own ResNet-50, stride on the first 1x1 conv: 3.86 G here, 1.5% above
    v1 = C.multiply_adds(A.resnet50(stride_on_3x3=False), (3, 224, 224))
    assert v1 == 3_857_973_248 and abs(v1 / 3.8e9 - 1) < 0.02
    assert A.resnet50(stride_on_3x3=False).num_params() == 25_557_032  # moving a stride changes no count


def test_resnet18_stage_table_follows_the_paper():
    rows = {r.name: r for r in C.cost_table(A.resnet18(), (3, 224, 224))}
    assert list(rows) == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    assert [rows[f"layer{i}"].output_shape for i in range(1, 5)] == [(64, 56, 56), (128, 28, 28), (256, 14, 14), (512, 7, 7)]
    assert rows["conv1"].multiply_adds == 112 * 112 * 64 * 7 * 7 * 3
    assert rows["fc"].params == 513_000 and rows["fc"].multiply_adds == 512_000
    # stages 2-4 halve the size and double the channels: the same multiply-adds each (3x3 convs + a 1x1 projection)
    assert rows["layer3"].multiply_adds == rows["layer4"].multiply_adds == rows["layer2"].multiply_adds
    assert "total" in C.format_cost_table(list(rows.values())).splitlines()[-1]


def test_receptive_fields_of_vgg16_layer_by_layer():
    spatial = [r for r in C.layer_costs(A.vgg16(), (3, 224, 224)) if r.layer.startswith(("Conv2D", "MaxPool2D"))]
    chain = [(3, 1) if r.layer.startswith("Conv2D") else (2, 2) for r in spatial]
    fields = [r.receptive_field for r in spatial]
    assert fields == [cc.receptive_field(chain[: i + 1]) for i in range(len(chain))]
    # conv1_1 3, conv1_2 5, pool1 6, ..., conv5_3 196, pool5 212 (each conv adds 2 * jump, each pool 1 * jump)
    assert fields[:3] == [3, 5, 6] and fields[-2:] == [196, 212]
    named = dict(zip(A.vgg16_layer_names(), C.layer_costs(A.vgg16(), (3, 224, 224))))
    assert len(named) == len(A.vgg16().layers) and named["fc6"].params == 25088 * 4096 + 4096
    assert (named["conv5_3"].receptive_field, named["pool5"].receptive_field) == (196, 212)
    assert C.receptive_fields(A.vgg16(), (3, 224, 224))[-1] == ("36", None, 32)  # the last FC layer sees everything


def test_receptive_field_of_resnet18_is_435():
    rows = {r.name: r for r in C.cost_table(A.resnet18(), (3, 224, 224))}
    assert [rows[k].receptive_field for k in ["conv1", "maxpool", "layer1", "layer2", "layer3", "layer4"]] == [
        7,
        11,
        43,
        99,
        211,
        435,
    ]
    # the longest path: 7x7/2, 3x3/2 pool, then 16 3x3 convs of which the first of stages 2-4 has stride 2
    chain = [(7, 2), (3, 2)] + [(3, 2) if i in (4, 8, 12) else (3, 1) for i in range(16)]
    assert cc.receptive_field(chain) == 435 and rows["avgpool"].receptive_field is None


def test_classifier_heads():
    heads = A.classifier_heads()
    assert heads["VGG-16: flatten + 3 FC layers"] == 123_642_856  # 89% of VGG-16's 138 M
    assert heads["ResNet: global average pool + 1 FC layer"] == 513_000


# ------------------------------------------------ PyTorch's own counts on the same networks


def _torch_resnet18(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, d_in, d_out, stride):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(d_in, d_out, 3, stride, 1, bias=False), nn.BatchNorm2d(d_out), nn.ReLU(),
                nn.Conv2d(d_out, d_out, 3, 1, 1, bias=False), nn.BatchNorm2d(d_out),
            )  # fmt: skip
            self.skip = nn.Identity()
            if stride != 1 or d_in != d_out:
                self.skip = nn.Sequential(nn.Conv2d(d_in, d_out, 1, stride, bias=False), nn.BatchNorm2d(d_out))

        def forward(self, x):
            return torch.relu(self.body(x) + self.skip(x))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    d = 64
    for stage, width in enumerate([64, 128, 256, 512]):
        for i in range(2):
            layers.append(Block(d, width, 2 if stage and not i else 1))
            d = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000)]
    return nn.Sequential(*layers)


def test_resnet18_counts_equal_pytorch_flop_counter():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    net = _torch_resnet18(torch).eval()
    assert sum(p.numel() for p in net.parameters()) == A.resnet18().num_params()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = net(torch.zeros(1, 3, 224, 224))
    assert out.shape == (1, 1000)
    assert counter.get_total_flops() == 2 * C.multiply_adds(A.resnet18(), (3, 224, 224))  # it counts 2 per multiply-add


def test_resnet18_summary_names_the_stages_on_one_line_each():
    lines = A.resnet18().summary_table((3, 224, 224)).splitlines()
    assert lines[2].startswith("conv1: Conv2D(3, 64, kernel_size=7, stride=2, padding=3, bias=False)")
    assert "(64, 112, 112)" in lines[2] and lines[2].rstrip().endswith("9,408")
    assert lines[6].startswith("layer1 (Sequential of 2 layers)") and lines[6].rstrip().endswith("147,968")
    assert lines[-1].rstrip().endswith("11,689,512") and len(lines) == 2 + 10 + 1
    block = cc.model.label(A.basic_block_spec(64, 128, 2).layers[0])
    assert block == "Residual(Conv2DSpec - BatchNorm2D - ReLU - Conv2DSpec - BatchNorm2D; shortcut Conv2DSpec + BatchNorm2D)"
