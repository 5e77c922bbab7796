"""A convolution is a fully connected layer with a sparse, tied weight matrix.

Flatten one input volume x of shape (D, H, W) to a vector (index d*H*W + y*W + x,
the lecture's "stretch 32x32x3 to 3072 x 1") and one output volume (K, H2, W2)
the same way. Then a convolution layer is

    out.ravel() = M @ x.ravel() + b_vec,     M of shape (K*H2*W2, D*H*W),

    M[k*H2*W2 + r*W2 + c,  d*H*W + y*W + x] = w[k, d, y - r*S + P, x - c*S + P]

when 0 <= y - r*S + P < F and 0 <= x - c*S + P < F, and 0 otherwise. (With dilation the
tap is (y - r*S + P)/dilation where that is whole; with G groups filter k sees only its
group's D/G channels, so M is block diagonal; conv_weight_index takes both.)

* **sparse connectivity**: each row has at most F*F*D nonzeros (a receptive field),
  where a fully connected layer has D*H*W;
* **parameter sharing**: every row reuses the same F*F*D*K numbers (tied weights),
  where a fully connected layer has a different number in every entry.

Everything here is derived from one index matrix (``conv_weight_index``): which
filter weight sits in each entry, or -1 for "no connection".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .data import shift
from .functional import pad
from .naive import ConvGeometry, _geometry
from .shapes import check_groups, conv_num_params, conv_output_shape, linear_num_params, output_size, receptive_field

# ---------------------------------------------------------------- the matrix of a convolution


def _weight_index(
    k: int, d: int, kernel: tuple[int, int], size: tuple[int, int], geo: ConvGeometry, rounding: str = "strict"
) -> np.ndarray:
    """Index matrix (K*H2*W2, D*H*W) of a convolution with K filters of size (D/G) x Fh x Fw:
    entry = flat index of the filter weight w[k, d, i, j] it holds, or -1 (no connection).
    Filter k belongs to group g = k // (K/G) and sees input channels g*(D/G) .. (g+1)*(D/G) - 1."""
    (fh, fw), (h, w), (sh, sw), (ph, pw), (dh, dw) = kernel, size, geo.stride, geo.padding, geo.dilation
    h2 = output_size(h, fh, sh, ph, dh, rounding)
    w2 = output_size(w, fw, sw, pw, dw, rounding)
    groups = geo.groups
    depth = d // groups  # the depth of one filter
    kk, rr, cc, dd, ii, jj = np.indices((k, h2, w2, depth, fh, fw), sparse=True)
    y, x = rr * sh + ii * dh - ph, cc * sw + jj * dw - pw  # input pixel under tap (i, j)
    inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)  # taps on the zero padding connect nothing
    shape = (k, h2, w2, depth, fh, fw)
    channel = (kk // (k // groups)) * depth + dd
    rows = np.broadcast_to((kk * h2 + rr) * w2 + cc, shape)
    cols = np.broadcast_to((channel * h + y) * w + x, shape)
    taps = np.broadcast_to(((kk * depth + dd) * fh + ii) * fw + jj, shape)
    inside = np.broadcast_to(inside, shape)
    index = np.full((k * h2 * w2, d * h * w), -1, dtype=np.int64)
    index[rows[inside], cols[inside]] = taps[inside]
    return index


def _check_volume(input_shape: Sequence[int]) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be one volume (D, H, W), got {tuple(input_shape)}; drop the batch axis: x.shape[1:]")
    return tuple(int(s) for s in input_shape)


def conv_weight_index(
    w_shape: Sequence[int],
    input_shape: Sequence[int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    rounding: str = "strict",
) -> np.ndarray:
    """Which filter weight each entry of the convolution's matrix holds.

    w_shape (K, D/G, Fh, Fw), input_shape (D, H, W) -> int array (K*H2*W2, D*H*W) whose
    entry is the flat index of w[k, d, i, j] in w.ravel(), or -1 where the output
    does not see the input. Row k*H2*W2 + r*W2 + c, column d*H*W + y*W + x. stride,
    padding, dilation, groups and rounding mean what they mean in conv2d_forward.
    """
    where = "conv_weight_index"
    k, depth, fh, fw = (int(s) for s in w_shape)
    d, h, w = _check_volume(input_shape)
    groups = check_groups(groups, d, k, where)
    if depth * groups != d:
        per_group = "" if groups == 1 else f" x groups={groups} = {depth * groups}"
        raise ValueError(
            f"depth mismatch: filters of shape {tuple(w_shape)} span D={depth} channels{per_group} but the "
            f"input (D, H, W)={tuple(input_shape)} has D={d}; filters always extend the full depth"
            + ("" if groups == 1 else " of their group (D/groups channels)")
        )
    return _weight_index(k, d, (fh, fw), (h, w), _geometry(where, stride, padding, dilation, groups), rounding)


def conv_matrix(
    w: np.ndarray,
    input_shape: Sequence[int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    b: np.ndarray | None = None,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    rounding: str = "strict",
) -> tuple[np.ndarray, np.ndarray]:
    """The convolution as a fully connected layer: (M, b_vec) with

        conv2d_forward(x[None], w, b, stride, padding, dilation, groups, rounding)[0].ravel() == M @ x.ravel() + b_vec

    for any x of shape input_shape = (D, H, W). M has shape (K*H2*W2, D*H*W) and holds
    only the K*(D/G)*Fh*Fw numbers of w (tied), at most (D/G)*Fh*Fw per row (sparse); b_vec
    repeats each filter's bias H2*W2 times (zeros if b is None).
    """
    w = np.asarray(w)
    index = conv_weight_index(w.shape, input_shape, stride, padding, dilation, groups, rounding)
    m = np.where(index >= 0, w.ravel()[index], 0).astype(w.dtype)
    n_pos = index.shape[0] // w.shape[0]
    b_vec = np.zeros(index.shape[0], dtype=w.dtype) if b is None else np.repeat(np.asarray(b), n_pos)
    return m, b_vec


def conv1d_weight_index(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The 1-D case (one row of pixels x_1..x_n, one filter of width F, as in Goodfellow's
    figures 9.2-9.5): int array (n_out, n), entry = tap 0..F-1 of the filter, or -1."""
    return _weight_index(1, 1, (1, kernel_size), (1, n), ConvGeometry((1, stride), (0, padding), (1, 1), 1))


def dense_weight_index(n_in: int, n_out: int) -> np.ndarray:
    """A fully connected layer's matrix (n_out, n_in): every entry is its own parameter."""
    return np.arange(n_out * n_in).reshape(n_out, n_in)


def connections(
    kind: str, n: int, kernel_size: int = 3, stride: int = 1, padding: int = 0, n_out: int | None = None
) -> np.ndarray:
    """Boolean (n_out, n) matrix, True where input i touches output o, read off the layer's
    weight matrix: kind "conv" (1-D convolution) or "dense" (n_out defaults to the
    convolution's output size, so the two layers can be compared)."""
    conv = conv1d_weight_index(n, kernel_size, stride, padding) >= 0
    if kind == "conv":
        return conv
    if kind == "dense":
        return dense_weight_index(n, conv.shape[0] if n_out is None else n_out) >= 0
    raise ValueError(f"kind must be 'conv' or 'dense', got {kind!r}")


def reach(matrices: Sequence[np.ndarray], layer: int, unit: int) -> list[np.ndarray]:
    """Which units of every layer are linked to one unit through a stack of connection matrices.

    matrices[l] is (n_{l+1}, n_l), True where unit of layer l feeds unit of layer l+1 (layer 0 is
    the input). Returns one boolean vector per layer 0..L: going down from `unit` of `layer`,
    the units it is affected by (its receptive field); going up, the units it affects.
    """
    sizes = [matrices[0].shape[1]] + [m.shape[0] for m in matrices]
    on = [np.zeros(s, dtype=bool) for s in sizes]
    on[layer][unit] = True
    for l in range(layer, 0, -1):  # down: inputs of what is on
        on[l - 1] = (matrices[l - 1].T.astype(int) @ on[l]) > 0
    for l in range(layer, len(matrices)):  # up: outputs of what is on
        on[l + 1] = (matrices[l].astype(int) @ on[l]) > 0
    return on


def num_connections(
    input_shape: Sequence[int], kernel_size: int, out_channels: int = 1, stride: int = 1, padding: int = 0
) -> int:
    """How many (input, output) pairs a convolution links, i.e. the nonzeros of its matrix.

    K * D * c_H * c_W where c_N = number of (output position, filter tap) pairs along one axis
    whose tap lands on the input (not on padding). Without padding c_N = N_out * F, so the
    count is K * H2 * W2 * F * F * D. A dense layer links all D*H*W x K*H2*W2 pairs.
    """
    d, h, w = _check_volume(input_shape)

    def per_axis(n: int) -> int:
        n_out = output_size(n, kernel_size, stride, padding)
        pos = np.arange(n_out)[:, None] * stride + np.arange(kernel_size)[None] - padding
        return int(((pos >= 0) & (pos < n)).sum())

    return out_channels * d * per_axis(h) * per_axis(w)


def param_counts(
    image_size: int, depth: int, kernel_size: int, filters: int, stride: int = 1, padding: int = 0
) -> dict[str, int]:
    """Weights (no biases, as in the lecture) of three layers with the same N x N x D input and
    H2 x W2 x K output: fully connected; locally connected (sparse, one filter per position,
    not shared); convolution (sparse and shared)."""
    k, h2, w2 = conv_output_shape((depth, image_size, image_size), filters, kernel_size, stride, padding)
    conv = conv_num_params(kernel_size, depth, filters, bias=False)
    return {
        "fully connected": linear_num_params(depth * image_size * image_size, k * h2 * w2, bias=False),
        "locally connected": h2 * w2 * conv,
        "convolution": conv,
    }


# ---------------------------------------------------------------- receptive fields


def _layer(spec: Sequence[int]) -> tuple[int, int, int]:
    """(F, S) or (F, S, P) -> (F, S, P)."""
    if len(spec) not in (2, 3):
        raise ValueError(f"a layer is (F, S) or (F, S, P), got {tuple(spec)}")
    f, s, *p = spec
    return int(f), int(s), int(p[0]) if p else 0


def layer_output_sizes(layers: Sequence[Sequence[int]], input_shape: Sequence[int]) -> list[tuple[int, int]]:
    """Spatial sizes (H, W) after each layer of a stack of (F, S[, P]) layers, input first.
    Raises output_size's ValueError where a layer does not fit."""
    h, w = (int(s) for s in input_shape[-2:])
    sizes = [(h, w)]
    for spec in layers:
        f, s, p = _layer(spec)
        h, w = output_size(h, f, s, p), output_size(w, f, s, p)
        sizes.append((h, w))
    return sizes


def receptive_field_box(layers: Sequence[Sequence[int]], position: tuple[int, int]) -> tuple[int, int, int]:
    """(top, left, size) of the input square one output unit (r, c) of the stack sees, in
    input pixel coordinates, before clipping to the image (padding can put it outside).

    Walking down one (F, S, P) layer, output rows lo..hi see input rows lo*S - P .. hi*S - P + F - 1;
    the size ends at cnn_core.receptive_field(layers).
    """
    (top, bottom), (left, right) = (position[0], position[0]), (position[1], position[1])
    for spec in reversed(list(layers)):
        f, s, p = _layer(spec)
        top, bottom = top * s - p, bottom * s - p + f - 1
        left, right = left * s - p, right * s - p + f - 1
    size = bottom - top + 1
    assert size == right - left + 1 == receptive_field([_layer(l)[:2] for l in layers])
    return top, left, size


def receptive_field_mask(layers: Sequence[Sequence[int]], input_shape: Sequence[int], position: tuple[int, int]) -> np.ndarray:
    """Boolean (H, W) mask of the input pixels that output unit `position` = (r, c) of a stack of
    (F, S[, P]) layers depends on. input_shape is (H, W) or (D, H, W) (every channel is seen).
    The square has side cnn_core.receptive_field(layers), clipped to the image."""
    sizes = layer_output_sizes(layers, input_shape)
    h2, w2 = sizes[-1]
    r, c = position
    if not (0 <= r < h2 and 0 <= c < w2):
        raise ValueError(f"position {tuple(position)} is outside the {h2}x{w2} output of the stack")
    top, left, size = receptive_field_box(layers, position)
    h, w = sizes[0]
    mask = np.zeros((h, w), dtype=bool)
    mask[max(top, 0) : max(top + size, 0), max(left, 0) : max(left + size, 0)] = True
    return mask


def unit_at(layers: Sequence[Sequence[int]], input_shape: Sequence[int], pixel: tuple[int, int]) -> tuple[int, int]:
    """The output unit (r, c) of the stack whose receptive field is centred closest to an input
    pixel (y, x): e.g. the unit that looks at the cat's eye."""
    h2, w2 = layer_output_sizes(layers, input_shape)[-1]
    top0, left0, size = receptive_field_box(layers, (0, 0))
    jump = int(np.prod([_layer(l)[1] for l in layers])) if layers else 1
    centre = (size - 1) / 2
    r = int(np.clip(round((pixel[0] - top0 - centre) / jump), 0, h2 - 1))
    c = int(np.clip(round((pixel[1] - left0 - centre) / jump), 0, w2 - 1))
    return r, c


# ---------------------------------------------------------------- filters and equivariance


def locally_connected(image: np.ndarray, kernels: np.ndarray, padding: int = 0) -> np.ndarray:
    """Sparse but NOT shared: output (r, c) = sum(window(r, c) * kernels[r, c]) with a filter of
    its own at every position. image (H, W), kernels (H2, W2, F, F), stride 1. With the same
    kernel everywhere it is cnn_core.filters.apply_filter (a convolution)."""
    f = kernels.shape[-1]
    xp = pad(np.asarray(image, dtype=np.float64)[None, None], padding)[0, 0]
    windows = sliding_window_view(xp, (f, f))
    if windows.shape[:2] != kernels.shape[:2]:
        raise ValueError(
            f"need one {f}x{f} filter per output position: kernels.shape[:2] must be {windows.shape[:2]}, got {kernels.shape[:2]}"
        )
    return np.einsum("rcij,rcij->rc", windows, kernels)


def steered_filters(shape: tuple[int, int], kernel_x: np.ndarray, kernel_y: np.ndarray, turns: float = 1.0) -> np.ndarray:
    """A different filter at every position (for locally_connected): cos(t) * kernel_x + sin(t) * kernel_y
    with the angle t = turns * pi * c / W2 growing from 0 at the left (kernel_x) to turns * pi at the
    right; shape (H2, W2, F, F)."""
    h2, w2 = shape
    t = turns * np.pi * np.arange(w2) / w2
    per_column = np.cos(t)[:, None, None] * kernel_x + np.sin(t)[:, None, None] * kernel_y
    return np.broadcast_to(per_column, (h2, w2) + kernel_x.shape)


def equivariance_gap(
    layer: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dy: int, dx: int, margin: int
) -> tuple[np.ndarray, float]:
    """How far `layer` is from translation equivariance: gap = layer(shift(x)) - shift(layer(x)),
    with cnn_core.data.shift (down dy, right dx, zero fill). Returns (gap, largest |gap| at least
    `margin` pixels away from every border), which is 0 for a convolution once the margin
    covers the shift plus the filter's reach into the zero fill."""
    gap = layer(shift(x, dy, dx)) - shift(layer(x), dy, dx)
    inner = gap[..., margin : gap.shape[-2] - margin, margin : gap.shape[-1] - margin]
    return gap, float(np.abs(inner).max())
