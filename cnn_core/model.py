"""Sequential: layers applied in order; backward runs them in reverse (backprop).

Training and evaluation modes: layers that behave differently in training (BatchNorm2D uses the
batch's statistics, Dropout drops) have a ``training`` flag; ``set_training(model, flag)`` sets it
in every layer inside a model (through ``.layers`` of Sequential and Residual), and
``Sequential.train()`` / ``.eval()`` call it. ``fit`` trains in training mode, ``evaluate`` and
``predict`` run in evaluation mode (``in_mode(model, False)``), each restoring the modes afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from .layers import Layer


class Sequential(Layer):
    """A network as a list of layers: forward o_l = layer_l(o_{l-1}), backward in reverse.

    ``params`` and ``grads`` are flat views keyed "<index>.<name>" (e.g. "0.W"),
    the same arrays the layers hold, so an optimiser updates the layers in place.
    """

    def __init__(self, layers: Iterable[Layer]) -> None:  # no Layer.__init__: params live in the layers
        if isinstance(layers, Layer) or not isinstance(layers, Iterable):
            raise TypeError(
                f"Sequential takes a list of layers, got {layers!r}; "
                f"e.g. Sequential([Conv2D(1, 8, 3), ReLU(), Flatten(), Linear(8 * 6 * 6, 10)])"
            )
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if isinstance(layer, type) and issubclass(layer, Layer):
                raise TypeError(
                    f"layer {i} is the class {layer.__name__}, not a layer: call it to make one, e.g. {layer.__name__}()"
                )
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} is {layer!r}, not a cnn_core layer")

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        for i, layer in enumerate(self.layers):
            try:
                x = layer.forward(x)
            except (ValueError, TypeError) as err:
                err.add_note(f"(in Sequential.forward, layer {i}: {layer!r})")
                raise
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray:
        for i in range(len(self.layers) - 1, -1, -1):
            try:
                dy = self.layers[i].backward(dy)
            except (ValueError, TypeError, RuntimeError) as err:
                err.add_note(f"(in Sequential.backward, layer {i}: {self.layers[i]!r})")
                raise
        return dy

    def num_params(self) -> int:
        return sum(layer.num_params() for layer in self.layers)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        for layer in self.layers:
            input_shape = layer.output_shape(input_shape)
        return tuple(input_shape)

    def trace(self, input_shape: Sequence[int]) -> list[tuple[str, tuple[int, ...], int]]:
        """(layer, output shape for one sample, parameters) for every layer, without running it.

        Raises ValueError naming the layer where a shape does not fit.
        """
        rows, shape = [], tuple(input_shape)
        for i, layer in enumerate(self.layers):
            try:
                shape = tuple(layer.output_shape(shape))
            except ValueError as err:
                raise ValueError(f"layer {i} {layer!r} cannot take input of shape {shape}: {err}") from err
            rows.append((label(layer), shape, layer.num_params()))
        return rows

    def summary(self, input_shape: Sequence[int]) -> None:
        """Print a table of each layer's output shape (D, H, W) and parameter count."""
        print(self.summary_table(input_shape))

    def summary_table(self, input_shape: Sequence[int]) -> str:
        """The table that summary prints, as a string."""
        rows = self.trace(input_shape)
        width = max(len(r[0]) for r in [("input", (), 0), *rows])
        lines = [
            f"{'layer':<{width}}  {'output (D, H, W)':<18}{'params':>12}",
            f"{'input':<{width}}  {str(tuple(input_shape)):<18}{'':>12}",
        ]
        lines += [f"{name:<{width}}  {str(shape):<18}{n:>12,}" for name, shape, n in rows]
        lines.append(f"{'total':<{width}}  {'':<18}{self.num_params():>12,}")
        return "\n".join(lines)

    def train(self, mode: bool = True) -> Sequential:
        """Training mode for every layer inside (as PyTorch's module.train()); returns the model."""
        set_training(self, mode)
        return self

    def eval(self) -> Sequential:
        """Evaluation mode for every layer inside (BatchNorm2D: running statistics, Dropout: identity)."""
        return self.train(False)

    @property
    def training(self) -> bool:
        """True if any layer inside is in training mode (a model without such layers: True)."""
        flags = [layer.training for layer in sublayers(self) if "training" in vars(layer)]
        return any(flags) if flags else True

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"Sequential([\n{inner}\n])"


def label(layer: Layer) -> str:
    """One line for a table: "name: repr" for a named layer, "name (Sequential of n layers)" for a container."""
    name = getattr(layer, "name", None)
    if isinstance(layer, Sequential):
        text = f"Sequential of {len(layer.layers)} layers"
        return f"{name} ({text})" if name else text
    if hasattr(layer, "body") and hasattr(layer, "shortcut"):  # a Residual block
        skip = "identity" if layer.shortcut is None else " + ".join(type(x).__name__ for x in layer.shortcut.layers)
        text = f"Residual({' - '.join(type(x).__name__ for x in layer.body.layers)}; shortcut {skip})"
        return f"{name}: {text}" if name else text
    return f"{name}: {layer!r}" if name else repr(layer)


def sublayers(model: Layer) -> Iterator[Layer]:
    """The model and every layer nested in it (through the ``layers`` of Sequential and Residual)."""
    yield model
    for layer in getattr(model, "layers", []):
        yield from sublayers(layer)


def set_training(model: Layer, training: bool) -> None:
    """Set ``training`` on every layer inside ``model`` that has a mode (BatchNorm2D, Dropout)."""
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"set_training: training must be True or False, got {training!r}")
    for layer in sublayers(model):
        if "training" in vars(layer):
            layer.training = bool(training)


@contextmanager
def in_mode(model: Layer, training: bool) -> Iterator[Layer]:
    """``with in_mode(model, False): ...`` runs the block in that mode and restores each layer's own mode after."""
    saved = [(layer, layer.training) for layer in sublayers(model) if "training" in vars(layer)]
    set_training(model, training)
    try:
        yield model
    finally:
        for layer, flag in saved:
            layer.training = flag


def num_params(layer_or_model: Layer) -> int:
    """The number of learned numbers (weights and biases) in a layer or model."""
    return layer_or_model.num_params()
