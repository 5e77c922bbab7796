"""framework_output_size against the frameworks: PyTorch's real layers (skipped without torch),
Keras/TensorFlow's documented 'same'/'valid' rules worked by hand, d2l's and the lecture's examples."""

import itertools

import pytest

from cnn_core.frameworks import (
    dropped_positions,
    framework_output_size,
    framework_table,
    keras_same_padding,
    span,
)

GRID = list(itertools.product([5, 6, 7, 8, 11], [1, 2, 3, 4], [1, 2, 3], [0, 1, 2], [1, 2]))  # N, F, S, P, d


def _torch_size(module, n):
    torch = pytest.importorskip("torch")
    with torch.no_grad():
        return module(torch.zeros(1, 1, n, n)).shape[-1]


def test_pytorch_conv2d_shapes():
    torch = pytest.importorskip("torch")
    checked = 0
    for n, f, s, p, d in GRID:
        if n + 2 * p < span(f, d):
            with pytest.raises(ValueError, match="can't be greater"):
                framework_output_size("pytorch", n, f, s, p, d)
            continue
        conv = torch.nn.Conv2d(1, 1, f, stride=s, padding=p, dilation=d)
        assert framework_output_size("pytorch", n, f, s, p, d) == _torch_size(conv, n), (n, f, s, p, d)
        checked += 1
    assert checked > 300


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
def test_pytorch_same_padding_and_its_refusal():
    torch = pytest.importorskip("torch")
    for n, f, _, _, d in GRID:
        conv = torch.nn.Conv2d(1, 1, f, padding="same", dilation=d)
        assert framework_output_size("pytorch", n, f, 1, "same", d) == _torch_size(conv, n) == n
    with pytest.raises(ValueError, match="not supported for strided convolutions"):
        torch.nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        framework_output_size("pytorch", 7, 3, 2, "same")


def test_pytorch_maxpool_floor_and_ceil_mode():
    torch = pytest.importorskip("torch")
    checked = 0
    for (n, f, s, p, d), ceil in itertools.product(GRID, [False, True]):
        if p > f // 2:
            with pytest.raises(ValueError, match="half of kernel size"):
                framework_output_size("pytorch", n, f, s, p, d, layer="pool", ceil_mode=ceil)
            with pytest.raises(RuntimeError, match="half of"):
                _torch_size(torch.nn.MaxPool2d(f, s, p, dilation=d, ceil_mode=ceil), n)
            continue
        if n + 2 * p < span(f, d):
            continue
        pool = torch.nn.MaxPool2d(f, s, p, dilation=d, ceil_mode=ceil)
        got = framework_output_size("pytorch", n, f, s, p, d, layer="pool", ceil_mode=ceil)
        assert got == _torch_size(pool, n), (n, f, s, p, d, ceil)
        checked += 1
    assert checked > 300
    # the case where ceil_mode's extra window would start in the right padding and is dropped
    assert framework_output_size("pytorch", 5, 2, 2, 1, layer="pool", ceil_mode=True) == 3
    assert _torch_size(torch.nn.MaxPool2d(2, 2, 1, ceil_mode=True), 5) == 3


def test_pytorch_conv_transpose2d_shapes():
    torch = pytest.importorskip("torch")
    checked = 0
    for (n, f, s, p, d), op in itertools.product(GRID, [0, 1, 2]):
        if op >= s and op >= d:
            with pytest.raises(ValueError, match="smaller than either stride or dilation"):
                framework_output_size("pytorch", n, f, s, p, d, layer="transposed", output_padding=op)
            continue
        want = (n - 1) * s - 2 * p + d * (f - 1) + op + 1
        if want < 1:
            continue
        conv = torch.nn.ConvTranspose2d(1, 1, f, stride=s, padding=p, output_padding=op, dilation=d)
        got = framework_output_size("pytorch", n, f, s, p, d, layer="transposed", output_padding=op)
        assert got == _torch_size(conv, n) == want, (n, f, s, p, d, op)
        checked += 1
    assert checked > 400


def test_transposed_undoes_the_floor_with_output_padding():
    """7 -> Conv2d(3, stride 2) -> 3 -> ConvTranspose2d -> 7; 8 -> 3 as well: output_padding=1 gets 8 back."""
    assert framework_output_size("pytorch", 7, 3, 2) == framework_output_size("pytorch", 8, 3, 2) == 3
    assert framework_output_size("pytorch", 3, 3, 2, layer="transposed") == 7
    assert framework_output_size("pytorch", 3, 3, 2, layer="transposed", output_padding=1) == 8


def test_keras_valid_and_same_rules_by_hand():
    # valid: floor((N - d(F-1) - 1)/S) + 1
    assert framework_output_size("keras", 7, 3, 2, "valid") == (7 - 2 - 1) // 2 + 1 == 3
    assert framework_output_size("keras", 8, 3, 2, "valid") == (8 - 2 - 1) // 2 + 1 == 3
    assert framework_output_size("keras", 10, 3, 1, "valid", dilation=2) == (10 - 4 - 1) // 1 + 1 == 6
    assert framework_output_size("keras", 28, 5, 1, "valid") == 24
    # same: ceil(N/S)
    assert framework_output_size("keras", 7, 3, 2, "same") == 4
    assert framework_output_size("keras", 8, 3, 2, "same") == 4
    assert framework_output_size("keras", 28, 5, 1, "same") == 28
    assert framework_output_size("keras", 5, 2, 3, "same") == 2
    with pytest.raises(ValueError, match="ZeroPadding2D"):
        framework_output_size("keras", 7, 3, 1, 1)
    with pytest.raises(ValueError, match="dilation_rate"):
        framework_output_size("keras", 9, 3, 2, "same", dilation=2)


def test_keras_same_padding_split():
    """total = max((ceil(N/S) - 1) S + d(F-1)+1 - N, 0), left = total // 2, right = the rest."""
    assert keras_same_padding(7, 3, 2) == (2, 1, 1)  # (4-1)*2 + 3 - 7 = 2
    assert keras_same_padding(8, 3, 2) == (1, 0, 1)  # (4-1)*2 + 3 - 8 = 1: the extra pixel goes right
    assert keras_same_padding(8, 4, 1) == (3, 1, 2)  # even filter: (8-1) + 4 - 8 = 3
    assert keras_same_padding(5, 2, 3) == (0, 0, 0)  # (2-1)*3 + 2 - 5 = 0
    assert keras_same_padding(5, 1, 3) == (0, 0, 0)  # max(.., 0): (2-1)*3 + 1 - 5 = -1
    assert keras_same_padding(9, 3, 1, dilation=2) == (4, 2, 2)
    # with that padding, floor((N + total - F')/S) + 1 is exactly ceil(N/S)
    for n, f, s in itertools.product(range(1, 12), range(1, 6), range(1, 4)):
        total, left, right = keras_same_padding(n, f, s)
        assert left + right == total and right - left in (0, 1)
        if n + total >= f:
            assert (n + total - f) // s + 1 == -(-n // s), (n, f, s)


def test_keras_transposed_lengths():
    # keras deconv_output_length: valid N*S + max(F - S, 0), same N*S
    assert framework_output_size("keras", 3, 3, 2, "valid", layer="transposed") == 7
    assert framework_output_size("keras", 4, 1, 2, "valid", layer="transposed") == 8
    assert framework_output_size("keras", 3, 3, 2, "same", layer="transposed") == 6
    assert framework_output_size("keras", 3, 3, 2, "same", layer="transposed", output_padding=1) == (3 - 1) * 2 + 3 - 2 + 1 == 6


def test_d2l_examples_of_section_7_3():
    """8x8 input, 3x3 kernel, padding 1 on each side (p_h = 2 total) -> 8x8; with stride 2 -> 4x4;
    a (3, 5) kernel with padding (0, 1) and stride (3, 4) -> 2x2."""
    assert framework_output_size("d2l", 8, 3, 1, 2) == 8
    assert framework_output_size("d2l", 8, 3, 2, 2) == 4
    assert framework_output_size("d2l", 8, 3, 3, 0) == 2 and framework_output_size("d2l", 8, 5, 4, 2) == 2
    # the d2l formula is PyTorch's floor with P = p/2
    for n, f, s, p, _ in GRID:
        if n + 2 * p >= f:
            assert framework_output_size("d2l", n, f, s, 2 * p) == framework_output_size("pytorch", n, f, s, p)


def test_lecture_numbers():
    assert framework_output_size("lecture", 7, 3, 1) == 5
    assert framework_output_size("lecture", 7, 3, 2) == 3
    with pytest.raises(ValueError, match="does not fit"):
        framework_output_size("lecture", 7, 3, 3)
    assert framework_output_size("pytorch", 7, 3, 3) == 2  # the frameworks round down instead
    assert dropped_positions(7, 3, 3) == [6]  # ... and never read the last column
    assert framework_output_size("lecture", 32, 5, 1, 2) == 32
    assert framework_output_size("lecture", 5, 3, 1, dilation=2) == 1
    with pytest.raises(ValueError, match="with dilation 2 the 3x3 filter spans F' = 5"):
        framework_output_size("lecture", 6, 3, 2, dilation=2)
    assert framework_output_size("lecture", 3, 3, 2, layer="transposed") == 7


def test_dropped_positions():
    assert dropped_positions(7, 3, 1) == [] and dropped_positions(7, 3, 2) == []
    assert dropped_positions(8, 3, 2) == [7]  # windows 0-2, 2-4, 4-6
    assert dropped_positions(8, 3, 2, padding=1) == []  # padded: windows end on the right zero
    assert dropped_positions(9, 2, 3) == [2, 5, 8]  # S > F: a gap after every window
    assert dropped_positions(8, 3, 2, dilation=2) == [1, 3, 5, 7]  # taps land on even rows only
    assert dropped_positions(12, 5, 3) == [11]  # (12 - 5) mod 3 = 1 row left over
    assert dropped_positions(2, 5, 1) == [0, 1]
    for n, f, s, p, d in GRID:  # floor drops exactly (N + 2P - F') mod S padded rows at the end (when S <= F')
        fd = span(f, d)
        if d == 1 and s <= f and n + 2 * p >= fd:
            tail = (n + 2 * p - fd) % s
            assert dropped_positions(n, f, s, p, d) == [i for i in range(n) if i >= n + p - tail], (n, f, s, p)


def test_refusals_name_the_argument():
    with pytest.raises(ValueError, match="framework must be one of"):
        framework_output_size("tensorflow", 7, 3)
    with pytest.raises(ValueError, match="ceil_mode=True is an option of PyTorch's pooling"):
        framework_output_size("pytorch", 7, 3, 2, ceil_mode=True)
    with pytest.raises(ValueError, match="output_padding belongs to transposed"):
        framework_output_size("pytorch", 7, 3, 2, output_padding=1)
    with pytest.raises(ValueError, match="layer must be one of"):
        framework_output_size("pytorch", 7, 3, layer="dense")
    with pytest.raises(ValueError, match="stride S"):
        framework_output_size("pytorch", 7, 3, 0)
    with pytest.raises(ValueError, match="'full' is not a padding"):
        framework_output_size("keras", 7, 3, 1, "full")


def test_framework_table_rows():
    rows = framework_table(8, 3, 2, 0)
    out = {r["call"].split("(")[0] + r["call"][-14:]: r["output"] for r in rows}
    assert [r["output"] for r in rows] == [None, 3, 4, None, 3, 4, 3, 8], out
    assert rows[7]["call"].endswith("output_padding=1)")  # 8 -> 3 -> 8: the dropped row comes back
    assert "does not fit" in rows[0]["note"] and "strided" in rows[3]["note"]
    assert rows[1]["note"] == "input rows [7] never read"
    assert "pads 1 = 0 left + 1 right" in rows[5]["formula"]
    rows = framework_table(7, 3, 1, 1)
    assert [r["output"] for r in rows] == [7] * 8 and rows[7]["call"].endswith("output_padding=0)")
    for n, f, s, p, d in GRID:  # ConvTranspose2d with output_padding = dropped rows always gets N back
        if n + 2 * p >= span(f, d):
            assert framework_table(n, f, s, p, d)[7]["output"] == n, (n, f, s, p, d)
    assert framework_table(2, 5, 1)[7]["output"] is None


def test_pytorch_rows_agree_with_cnn_core_shapes():
    """cnn_core.shapes.output_size(..., rounding="floor" / "ceil") is PyTorch's rule too."""
    from cnn_core.shapes import output_size, transposed_output_size

    for n, f, s, p, d in GRID:
        if n + 2 * p < span(f, d):
            continue
        assert framework_output_size("pytorch", n, f, s, p, d) == output_size(n, f, s, p, d, rounding="floor")
        if p <= f // 2:
            pool = framework_output_size("pytorch", n, f, s, p, d, layer="pool", ceil_mode=True)
            assert pool == output_size(n, f, s, p, d, rounding="ceil"), (n, f, s, p, d)
        if (n + 2 * p - span(f, d)) % s == 0:
            assert framework_output_size("lecture", n, f, s, p, d) == output_size(n, f, s, p, d)
        for op in range(min(max(s, d), 3)):
            got = framework_output_size("pytorch", n, f, s, p, d, layer="transposed", output_padding=op)
            if got >= 1:
                assert got == transposed_output_size(n, f, s, p, op, d)
