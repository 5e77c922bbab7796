"""cnn_core.viz.readability and figure_data: the smallest text of a figure, recorded in its PNG,
figures sized for the book's column, and the numbers of a data figure as an accessible table."""

import base64
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_core.viz import lenet_to_resnet as V  # noqa: E402
from cnn_core.viz.explore import animate, html_explorer  # noqa: E402
from cnn_core.viz.figure_data import data_table  # noqa: E402
from cnn_core.viz.readability import (  # noqa: E402
    COLUMN_WIDTH_IN,
    MIN_FONT_PT,
    MIN_TEXT_KEY,
    column_figure,
    png_with_text_size,
    read_text_chunks,
    readable,
)


def test_png_records_the_smallest_drawn_text_in_pixels():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("title", fontsize=14)
    ax.text(0.5, 0.5, "small", fontsize=6)
    ax.text(0.5, 0.2, "hidden", fontsize=2, visible=False)  # not drawn: does not count
    ax.text(0.5, 0.1, "   ", fontsize=3)  # nothing to read: does not count
    png, sizes = png_with_text_size(fig, dpi=120)
    assert sizes.smallest == pytest.approx(6 * 120 / 72, abs=0.01)
    assert read_text_chunks(png)[MIN_TEXT_KEY] == f"{6 * 120 / 72:.2f}"
    assert png.startswith(b"\x89PNG") and matplotlib.image.imread(__import__("io").BytesIO(png)).shape[0] > 0


def test_a_hidden_axis_tick_labels_do_not_count_and_no_text_is_none():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.eye(3))
    ax.tick_params(labelsize=3)
    ax.axis("off")
    png, sizes = png_with_text_size(fig)
    assert sizes.smallest is None and read_text_chunks(png)[MIN_TEXT_KEY] == "none"


def test_readable_raises_every_text_to_the_minimum_and_keeps_larger_ones():
    fig, ax = column_figure(height=3)
    ax.plot([1, 2, 3], label="curve")
    ax.set_title("big", fontsize=20)
    ax.set_xlabel("x", fontsize=6)
    ax.legend(fontsize=5)
    ax.text(1, 1, "note", fontsize=7)
    readable(fig)
    _, sizes = png_with_text_size(fig, dpi=72)  # 72 dpi: pixels = points
    assert sizes.smallest == pytest.approx(MIN_FONT_PT) and max(sizes.px) == pytest.approx(20)
    assert fig.get_figwidth() == COLUMN_WIDTH_IN


def test_explorers_and_animations_carry_their_smallest_text():
    def render(size: int) -> plt.Figure:
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.set_title("t", fontsize=size)
        ax.axis("off")
        return fig

    page = html_explorer(render, {"size": [8, 12]}, dpi=90).data
    assert 'data-min-text-px="10.00"' in page  # 8 pt at 90 dpi, the smaller of the two states
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.axis("off")
    title = ax.set_title("frame 0", fontsize=9)
    out = animate(fig, lambda i: title.set_text(f"frame {i}"), frames=2, alt="a title counting frames").data
    assert re.search(r'<img id="_anim_img\w+" alt="a title counting frames" data-min-text-px="([\d.]+)"', out)


def test_ipython_shows_figures_as_pngs_with_their_text_size(monkeypatch):
    """In a kernel (as the book's build runs the chapters), importing cnn_core.viz puts the formatter in place."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nimport cnn_core.viz"),
        nbformat.v4.new_code_cell("fig, ax = plt.subplots(figsize=(3, 2))\nax.set_title('hello', fontsize=9)\nax.axis('off');"),
    ]
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own default: the inline backend
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    pngs = [base64.b64decode(o["data"]["image/png"]) for o in nb.cells[1].outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 1 and read_text_chunks(pngs[0])[MIN_TEXT_KEY] == f"{9 * plt.rcParams['figure.dpi'] / 72:.2f}"


def test_data_table_is_a_closed_disclosure_with_a_headed_table():
    page = data_table("loss per epoch", ["epoch", "loss"], [[1, 0.51234], [2, 1234567]]).data
    assert page.startswith('<details class="cnn-figure-data"><summary>Data: loss per epoch</summary>')
    assert "<caption>loss per epoch</caption>" in page and '<th scope="col">loss</th>' in page
    assert '<tr><th scope="row">1</th><td>0.5123</td></tr>' in page and "<td>1,234,567</td>" in page
    assert 'role="region" tabindex="0" aria-label="table: loss per epoch"' in page
    with pytest.raises(ValueError, match="every row needs 2 values"):
        data_table("x", ["a", "b"], [[1]])


def test_chapter_12_tables_hold_the_plotted_numbers():
    runs = {"plain": [{"epoch": [1, 2], "loss": [2.0, 1.0], "val_accuracy": [0.2, 0.4]}] * 2}
    page = V.depth_runs_table(runs).data
    assert '<th scope="row">plain</th><td>2</td><td>1 (1 to 1)</td><td>0.4 (0.4 to 0.4)</td>' in page
    page = V.gradient_norms_table({"plain": ([0, 1], [[0.1, 0.2], [0.3, 0.4]]), "res": ([1], [[1.0]])}).data
    assert '<th scope="row">0</th><td>0.2 (0.1 to 0.3)</td><td>—</td>' in page
    page = V.layer_costs_table(["conv1"], [118_013_952], [802_816]).data
    assert "<td>118,013,952</td><td>802,816</td>" in page
    assert V.receptive_fields_table({"a": [3, 5], "b": [7]}).data.count("<td>—</td>") == 1


def test_chapter_1_tables_hold_the_plotted_numbers():
    from cnn_core.viz import fully_connected as F

    page = F.timings_table([1, 256], [0.001, 0.01], [0.001, 0.0002]).data
    assert '<th scope="row">256</th><td>10</td><td>0.2</td><td>50x</td>' in page
    page = F.backprop_table(np.array([1.0, 3.0, 0.5, 0.5]), [0, 2, 4], [0.6, 0.8, 1.0]).data
    assert '<th scope="row">0</th><td>—</td><td>0.6</td>' in page and '<th scope="row">2</th><td>2</td><td>0.8</td>' in page
