"""How small the text of a figure is, recorded in the picture the book shows.

Every figure the book shows is a PNG: a notebook output (IPython's PNG formatter for
matplotlib Figures, replaced here by ``register_png_display``), a frame of an animation
(``explore.animate``) or a state of a kernel-free explorer (``explore.html_explorer``).
Each carries the size of its smallest drawn text in PNG pixels: a PNG text chunk
``MIN_TEXT_KEY`` (notebook outputs) or the ``data-min-text-px`` attribute of the ``<img>``
(explorers, animations). The browser test (tests/test_figures_readable.py) scales it by the
width the picture is shown at: smallest text in CSS px = min_text_px * shown / natural width.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.text import Text

#: Width in inches of a figure made for the book's column. The column is 688 CSS px at 1280 px
#: and 358 px on a 390 px phone (measured, sphinx-book-theme); matplotlib draws at 100 dpi.
COLUMN_WIDTH_IN = 5.5
#: Smallest font (points) of a column figure: 11 pt at 100 dpi is 15 px, shown 1:1 on a desktop,
#: and 11 pt of a 5.5 in figure is 11 / 72 * 358 / 5.5 = 9.9 CSS px on a phone (9.5 in an explorer).
MIN_FONT_PT = 11.0

#: PNG text chunk (tEXt) holding the smallest drawn text in pixels of the PNG ("none": no text).
MIN_TEXT_KEY = "cnn-min-text-px"


class TextSizes:
    """Sizes (in pixels of the saved picture) of the texts drawn while recording."""

    def __init__(self) -> None:
        self.px: list[float] = []

    @property
    def smallest(self) -> float | None:
        """The smallest text drawn, in pixels (None if no text was drawn)."""
        return min(self.px) if self.px else None

    def as_attribute(self) -> str:
        """The smallest size as written into the picture: "11.5", or "none" without text."""
        return "none" if self.smallest is None else f"{self.smallest:.2f}"


@contextlib.contextmanager
def recording_text_sizes() -> Iterator[TextSizes]:
    """Record the size of every non-empty, visible Text that matplotlib draws in this block.

    Only what is drawn counts (a hidden axis's tick labels are not), at the dpi of the
    renderer that draws it (savefig's dpi). Sizes are rounded to 0.01 px.
    """
    sizes = TextSizes()
    original = Text.draw

    def draw(self: Text, renderer) -> None:
        if renderer is not None and self.get_visible() and self.get_text().strip():
            dpi = getattr(renderer, "dpi", None) or self.figure.dpi
            sizes.px.append(round(self.get_fontsize() * dpi / 72.0, 2))
        original(self, renderer)

    Text.draw = draw
    try:
        yield sizes
    finally:
        Text.draw = original


def column_figure(nrows: int = 1, ncols: int = 1, height: float = 3.6, **kwargs) -> tuple[Figure, object]:
    """plt.subplots for the book's column: COLUMN_WIDTH_IN wide, constrained layout (a suptitle
    never covers a panel title). Call ``readable(fig)`` once the figure is drawn."""
    return plt.subplots(nrows, ncols, figsize=(COLUMN_WIDTH_IN, height), layout="constrained", **kwargs)


def readable(fig: Figure, min_pt: float = MIN_FONT_PT) -> Figure:
    """Raise every text of the figure (titles, labels, tick labels, legends, annotations) to at
    least min_pt points; returns the figure."""
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            sizes = [label.get_fontsize() for label in axis.get_ticklabels(which="both")]
            ax.tick_params(axis=name, which="both", labelsize=max([min_pt, *sizes]))
    for text in fig.findobj(Text):
        if text.get_fontsize() < min_pt:
            text.set_fontsize(min_pt)
    return fig


def png_with_text_size(fig: Figure, dpi: float | None = None, **savefig_kwargs) -> tuple[bytes, TextSizes]:
    """The figure as PNG bytes (bbox tight) carrying its smallest text size, and those sizes."""
    buf = io.BytesIO()
    with recording_text_sizes() as sizes:
        fig.savefig(buf, format="png", dpi=dpi or fig.dpi, bbox_inches="tight", **savefig_kwargs)
    data = buf.getvalue()
    return _with_text_chunk(data, MIN_TEXT_KEY, sizes.as_attribute()), sizes


def _with_text_chunk(png: bytes, key: str, value: str) -> bytes:
    """png with a tEXt chunk key=value inserted after its header chunk (IHDR)."""
    import struct
    import zlib

    body = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
    ihdr_end = 8 + 4 + 4 + 13 + 4  # signature, length, type, IHDR data, CRC
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def read_text_chunks(png: bytes) -> dict[str, str]:
    """The tEXt chunks of a PNG as a dict (what tests read back)."""
    import struct

    out, pos = {}, 8
    while pos + 8 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"tEXt":
            key, _, value = png[pos + 8 : pos + 8 + length].partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        if kind == b"IEND":
            break
        pos += 12 + length
    return out


def _figure_png(fig: Figure) -> bytes:
    return png_with_text_size(fig)[0]


def register_png_display() -> bool:
    """Make IPython show matplotlib Figures as PNGs that carry their smallest text size.

    Called when ``cnn_core.viz`` is imported; does nothing outside IPython. Returns True
    when the formatter is in place.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    # Load the inline backend now: it selects its own PNG formatter once, when it is loaded,
    # and would otherwise replace this one at the first figure of the notebook.
    plt.get_backend()
    import matplotlib

    if "inline" in str(matplotlib.get_backend()):
        import matplotlib_inline.backend_inline  # noqa: F401 (configures the inline backend on import)
    shell.display_formatter.formatters["image/png"].for_type(Figure, _figure_png)
    return True
