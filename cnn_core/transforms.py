"""Image transformations for the semantic gap, and distances measured on raw pixels.

The lecture's challenges of image classification — viewpoint, illumination,
deformation, occlusion, background clutter — each become a function that
changes a real image while keeping what it shows (a cat stays a cat).
``pixel_distance`` then measures how far the numbers moved.

Images are single pictures, (H, W) or (H, W, C): ``uint8`` in 0..255 (photos)
or float in 0..1 (digits). Every transformation returns a new array of the
input's dtype; uint8 results are rounded and clipped to 0..255. The
deformations are deterministic (a fixed seed), so a figure never changes
between runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_MODES = ("mirror", "nearest", "constant", "wrap")


def _check_image(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim not in (2, 3):
        hint = " (one image of an NCHW batch x is x[i, 0] for gray or x[i].transpose(1, 2, 0) for color)" if img.ndim == 4 else ""
        raise ValueError(f"expected one image of shape (H, W) or (H, W, C), got shape {img.shape}{hint}")
    return img


def to_unit(img) -> np.ndarray:
    """img as float64 in [0, 1]: uint8 (what photo loaders return) divided by 255, floats as they
    are. The one conversion rule of the book's pictures."""
    img = np.asarray(img)
    return img / 255.0 if img.dtype == np.uint8 else img.astype(np.float64)


def max_value(img: np.ndarray) -> float:
    """The white level of an image: 255 for uint8, 1.0 for float images."""
    return 255.0 if np.asarray(img).dtype == np.uint8 else 1.0


def _like(out: np.ndarray, img: np.ndarray) -> np.ndarray:
    """out in the dtype of img: uint8 is rounded and clipped to 0..255, floats stay float64."""
    if img.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return np.asarray(out, dtype=np.float64)


def _sample(img: np.ndarray, rows: np.ndarray, cols: np.ndarray, mode: str, cval: float) -> np.ndarray:
    """out[y, x] = img[rows[y, x], cols[y, x]] with bilinear interpolation, channel by channel.

    Where (rows, cols) falls outside the image, ``mode`` fills in: "mirror"
    (reflect the picture), "nearest" (repeat the edge), "constant" (cval) or "wrap".
    """
    from scipy.ndimage import map_coordinates

    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    img = _check_image(img)
    src = img.astype(np.float64)
    planes = src[..., None] if src.ndim == 2 else src
    out = np.stack(
        [map_coordinates(planes[..., c], [rows, cols], order=1, mode=mode, cval=cval) for c in range(planes.shape[-1])], axis=-1
    )
    return _like(out if img.ndim == 3 else out[..., 0], img)


def _grid(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = img.shape[:2]
    return np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")


# --- viewpoint ---------------------------------------------------------------------------------


def translate(img: np.ndarray, dy: float, dx: float, mode: str = "mirror", cval: float = 0.0) -> np.ndarray:
    """Move the content down by dy and right by dx pixels: out[y, x] = img[y - dy, x - dx].

    The strip that comes into view is filled by ``mode`` (the camera would see new
    scenery there; "mirror" stands in for it, "constant" with cval=0 suits digits).
    """
    rows, cols = _grid(_check_image(img))
    return _sample(img, rows - dy, cols - dx, mode, cval)


def rotate(img: np.ndarray, degrees: float, mode: str = "mirror", cval: float = 0.0) -> np.ndarray:
    """Turn the content by ``degrees`` counter-clockwise about the image centre."""
    rows, cols = _grid(_check_image(img))
    cy, cx = (img.shape[0] - 1) / 2, (img.shape[1] - 1) / 2
    t = np.deg2rad(degrees)
    # inverse map: the source of output pixel p is the centre + R(-t) (p - centre), y pointing down
    y, x = rows - cy, cols - cx
    src_x = cx + np.cos(t) * x - np.sin(t) * y
    src_y = cy + np.sin(t) * x + np.cos(t) * y
    return _sample(img, src_y, src_x, mode, cval)


def zoom(img: np.ndarray, factor: float, mode: str = "mirror", cval: float = 0.0) -> np.ndarray:
    """Magnify by ``factor`` about the centre, keeping the size: out(p) = img(c + (p - c) / factor).

    factor > 1 moves the camera closer (crops), factor < 1 moves it away.
    """
    if factor <= 0:
        raise ValueError(f"zoom factor must be > 0, got {factor}")
    rows, cols = _grid(_check_image(img))
    cy, cx = (img.shape[0] - 1) / 2, (img.shape[1] - 1) / 2
    return _sample(img, cy + (rows - cy) / factor, cx + (cols - cx) / factor, mode, cval)


def flip(img: np.ndarray) -> np.ndarray:
    """Mirror left-right: the same object seen from the other side, out[y, x] = img[y, W - 1 - x]."""
    return _check_image(img)[:, ::-1].copy()


# --- illumination ------------------------------------------------------------------------------


def brightness(img: np.ndarray, factor: float) -> np.ndarray:
    """Scale the light: out = clip(factor * img, 0, white). factor < 1 darkens."""
    img = _check_image(img)
    if factor < 0:
        raise ValueError(f"brightness factor must be >= 0, got {factor}")
    return _like(np.clip(img.astype(np.float64) * factor, 0, max_value(img)), img)


def gamma(img: np.ndarray, g: float) -> np.ndarray:
    """Gamma curve: out = white * (img / white) ** g. g > 1 darkens the mid-tones, g < 1 lightens."""
    img = _check_image(img)
    if g <= 0:
        raise ValueError(f"gamma must be > 0, got {g}")
    white = max_value(img)
    return _like(white * (img.astype(np.float64) / white) ** g, img)


def shadow_mask(
    shape: tuple[int, ...], strength: float, angle: float = 30.0, position: float = 0.5, softness: float = 0.08
) -> np.ndarray:
    """The light that reaches each pixel, (H, W) in [1 - strength, 1]: a soft-edged shadow.

    Along the direction ``angle`` (degrees, 0 = left to right), with t in 0..1 the
    position across the image, light = 1 - strength * sigmoid((t - position) / softness).
    """
    if not 0 <= strength <= 1:
        raise ValueError(f"shadow strength must be in [0, 1], got {strength}")
    h, w = shape[:2]
    rows, cols = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    a = np.deg2rad(angle)
    t = (np.cos(a) * cols + np.sin(a) * rows) / (abs(np.cos(a)) + abs(np.sin(a)))
    t = t - t.min()
    return 1.0 - strength * 0.5 * (1.0 + np.tanh((t - position) / (2 * softness)))


def shadow(img: np.ndarray, strength: float, angle: float = 30.0, position: float = 0.5, softness: float = 0.08) -> np.ndarray:
    """Cast a soft shadow over part of the image: out = img * shadow_mask(...)."""
    img = _check_image(img)
    light = shadow_mask(img.shape, strength, angle, position, softness)
    return _like(img.astype(np.float64) * (light if img.ndim == 2 else light[..., None]), img)


# --- deformation -------------------------------------------------------------------------------


def displacement_field(shape: tuple[int, ...], alpha: float, sigma: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random displacement (dy, dx), each (H, W), largest |value| = alpha pixels.

    White noise from a generator seeded with ``seed``, blurred by a Gaussian of width
    sigma pixels (so neighbouring pixels move together), then scaled.
    """
    from scipy.ndimage import gaussian_filter

    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    rng = np.random.default_rng(seed)
    fields = []
    for _ in range(2):
        u = gaussian_filter(rng.standard_normal(shape[:2]), sigma, mode="reflect")
        fields.append(u * (alpha / np.abs(u).max()))
    return fields[0], fields[1]


def elastic(img: np.ndarray, alpha: float, sigma: float, seed: int = 0, mode: str = "mirror", cval: float = 0.0) -> np.ndarray:
    """Elastic deformation: out[y, x] = img[y + dy(y, x), x + dx(y, x)] with the smooth field
    of ``displacement_field`` (up to alpha pixels, correlated over about sigma pixels).

    The same seed gives the same warp every time.
    """
    rows, cols = _grid(_check_image(img))
    dy, dx = displacement_field(img.shape, alpha, sigma, seed)
    return _sample(img, rows + dy, cols + dx, mode, cval)


# --- occlusion and background clutter ----------------------------------------------------------


def occlude(img: np.ndarray, top: int, left: int, height: int, width: int, fill: float | np.ndarray | None = None) -> np.ndarray:
    """Cover the box rows top..top+height, columns left..left+width.

    fill: a value (default: mid-grey, white / 2), or an image of the same shape whose
    pixels in the box are pasted in (something real standing in front of the object).
    """
    img = _check_image(img)
    h, w = img.shape[:2]
    if height <= 0 or width <= 0 or top < 0 or left < 0 or top + height > h or left + width > w:
        raise ValueError(
            f"box (top={top}, left={left}, height={height}, width={width}) must lie inside the {h}x{w} image and not be empty"
        )
    out = img.copy()
    box = (slice(top, top + height), slice(left, left + width))
    if fill is None:
        fill = max_value(img) / 2
    if np.ndim(fill) == 0:
        out[box] = _like(np.full(out[box].shape, float(fill)), img)
    else:
        fill = np.asarray(fill)
        if fill.shape != img.shape:
            raise ValueError(f"fill image must have the image's shape {img.shape}, got {fill.shape}")
        out[box] = _like(fill[box].astype(np.float64), img)
    return out


def ellipse_mask(
    shape: tuple[int, ...], center: tuple[float, float], radii: tuple[float, float], softness: float = 0.1
) -> np.ndarray:
    """(H, W) weights in [0, 1]: 1 inside the ellipse, 0 outside, a soft edge between.

    With r = sqrt(((y - cy)/ry)^2 + ((x - cx)/rx)^2), mask = clip((1 + softness - r) / softness, 0, 1)
    (the hard ellipse when softness -> 0).
    """
    if softness <= 0:
        raise ValueError(f"softness must be > 0, got {softness}")
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    r = np.hypot((rows - center[0]) / radii[0], (cols - center[1]) / radii[1])
    return np.clip((1.0 + softness - r) / softness, 0.0, 1.0)


def resize_to(img: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """img resized to height and width shape[:2] (anti-aliased), in img's dtype."""
    from skimage.transform import resize

    img = _check_image(img)
    out = resize(img.astype(np.float64), tuple(shape[:2]) + img.shape[2:], order=1, anti_aliasing=True, preserve_range=True)
    return _like(out, img)


def clutter(img: np.ndarray, background: np.ndarray, mask: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """Put the object on a busy background: out = m * img + (1 - m) * ((1 - amount) * img + amount * bg).

    mask m (H, W) in [0, 1] marks the object (e.g. ``ellipse_mask``); ``background`` is a
    real picture, resized to the image's size if needed; amount in [0, 1] blends from
    the original background (0) to the busy one (1).
    """
    img = _check_image(img)
    if not 0 <= amount <= 1:
        raise ValueError(f"amount must be in [0, 1], got {amount}")
    mask = np.asarray(mask, dtype=np.float64)
    if mask.shape != img.shape[:2]:
        raise ValueError(f"mask must have shape (H, W) = {img.shape[:2]}, got {mask.shape}")
    bg = _check_image(background)
    if bg.ndim != img.ndim:
        raise ValueError(f"background must be {'color' if img.ndim == 3 else 'gray'} like the image, got shape {bg.shape}")
    bg = resize_to(bg, img.shape).astype(np.float64) * (max_value(img) / max_value(bg))
    m = mask if img.ndim == 2 else mask[..., None]
    x = img.astype(np.float64)
    return _like(m * x + (1 - m) * ((1 - amount) * x + amount * bg), img)


# --- all variations by name, with a strength in [0, 1] -----------------------------------------

VARIATIONS: dict[str, str] = {
    "viewpoint: shift": "the camera pans: content moves right by 10% of the width at strength 1",
    "viewpoint: rotate": "the camera tilts: up to 30 degrees",
    "viewpoint: zoom": "the camera comes closer: up to 2x magnification",
    "illumination: darker": "less light: brightness x (1 - 0.8 s)",
    "illumination: shadow": "a soft shadow darkens the right part, by up to 85%",
    "deformation": "an elastic warp moving pixels by up to 12% of the image height",
    "occlusion": "a patch covers the centre: up to half of the image area",
    "background clutter": "a busy background replaces the one around the object",
}


def vary(
    img: np.ndarray,
    kind: str,
    strength: float,
    *,
    occluder: np.ndarray | None = None,
    background: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Apply the variation ``kind`` (a key of VARIATIONS) at ``strength`` s in [0, 1]; s = 0 is the image.

    occlusion pastes ``occluder`` (same shape) into the patch, mid-grey if None;
    background clutter needs ``background`` and the object ``mask``.
    """
    img = _check_image(img)
    if kind not in VARIATIONS:
        raise ValueError(f"unknown variation {kind!r}; choose one of {list(VARIATIONS)}")
    if not 0 <= strength <= 1:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    h, w = img.shape[:2]
    s = float(strength)
    actions: dict[str, Callable[[], np.ndarray]] = {
        "viewpoint: shift": lambda: translate(img, 0, round(0.1 * s * w)),
        "viewpoint: rotate": lambda: rotate(img, 30 * s),
        "viewpoint: zoom": lambda: zoom(img, 1 + s),
        "illumination: darker": lambda: brightness(img, 1 - 0.8 * s),
        "illumination: shadow": lambda: shadow(img, 0.85 * s),
        "deformation": lambda: elastic(img, 0.12 * s * min(h, w), 0.1 * min(h, w)),
        "occlusion": lambda: _centre_patch(img, s, occluder),
        "background clutter": lambda: _clutter_or_error(img, background, mask, s),
    }
    return actions[kind]()


def _centre_patch(img: np.ndarray, s: float, occluder: np.ndarray | None) -> np.ndarray:
    h, w = img.shape[:2]
    ph, pw = round(h * np.sqrt(s / 2)), round(w * np.sqrt(s / 2))
    if ph == 0 or pw == 0:
        return img.copy()
    return occlude(img, (h - ph) // 2, (w - pw) // 2, ph, pw, occluder)


def _clutter_or_error(img, background, mask, s) -> np.ndarray:
    if background is None or mask is None:
        raise ValueError("background clutter needs a background picture and the object's mask")
    return clutter(img, background, mask, s)


# --- distances on pixels -----------------------------------------------------------------------


def pixel_distance(a: np.ndarray, b: np.ndarray, kind: str = "l2") -> float:
    """Distance between two images of the same shape, computed on their numbers.

    "l1": sum |a - b|;  "l2": sqrt(sum (a - b)^2);  "rms": l2 / sqrt(number of values),
    the typical difference of one value (in 0..255 units for photos). Computed in
    float64: subtracting uint8 arrays directly would wrap around (3 - 5 = 254).
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"images must have the same shape to compare pixels, got {a.shape} and {b.shape}")
    d = a.astype(np.float64) - b.astype(np.float64)
    if kind == "l1":
        return float(np.abs(d).sum())
    if kind == "l2":
        return float(np.sqrt((d * d).sum()))
    if kind == "rms":
        return float(np.sqrt((d * d).mean()))
    raise ValueError(f"kind must be 'l1', 'l2' or 'rms', got {kind!r}")


def changed_fraction(a: np.ndarray, b: np.ndarray, tol: float = 0.0) -> float:
    """Fraction of the values (pixels x channels) that differ by more than tol."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"images must have the same shape, got {a.shape} and {b.shape}")
    return float(np.mean(np.abs(a - b) > tol))


def pairwise_l2(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """(len(A), len(B)) matrix of L2 pixel distances between the images of two batches."""
    A = np.asarray(A, dtype=np.float64).reshape(len(A), -1)
    B = np.asarray(B, dtype=np.float64).reshape(len(B), -1)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"images must have the same number of values, got {A.shape[1]} and {B.shape[1]}")
    sq = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T
    return np.sqrt(np.maximum(sq, 0.0))


def nearest_neighbor(X_train: np.ndarray, y_train: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Classify each image of X with the label of the training image nearest in L2 pixel distance."""
    return np.asarray(y_train)[pairwise_l2(X, X_train).argmin(axis=1)]


def permute_pixels(img: np.ndarray, perm: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Rearrange the H*W pixel positions of one image by a fixed permutation, channels kept together.

    Flattened row by row, out.flat[j] = img.flat[perm[j]] (per channel); ``inverse=True`` undoes it.
    What a fully connected layer does with the pixels is unchanged if its weights are permuted alike.
    """
    img = _check_image(img)
    h, w = img.shape[:2]
    perm = np.asarray(perm)
    if sorted(perm.tolist()) != list(range(h * w)):
        raise ValueError(f"perm must be a permutation of the {h * w} pixel positions 0..{h * w - 1}")
    if inverse:
        perm = np.argsort(perm)
    flat = img.reshape(h * w, *img.shape[2:])
    return flat[perm].reshape(img.shape)
