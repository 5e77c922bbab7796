import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnn_core import data
from cnn_core.viz import pixels


def test_number_grid_writes_every_value_with_readable_colour():
    fig, ax = plt.subplots()
    values = np.array([[0, 255], [17, 200]])
    pixels.number_grid(ax, values, title="t")
    texts = {t.get_text(): t.get_color() for t in ax.texts}
    assert set(texts) == {"0", "255", "17", "200"}
    assert texts["0"] == "white" and texts["255"] == "black"  # white on black, black on white
    assert ax.get_title() == "t"
    with pytest.raises(ValueError, match="2-D"):
        pixels.number_grid(ax, np.zeros((2, 2, 3)))
    plt.close(fig)


def test_show_pixels_shows_the_patch_numbers_of_one_channel():
    cat = data.cat()
    fig = pixels.show_pixels(cat, top=105, left=160, size=4, channel=0, name="cat")
    grid = fig.axes[2]
    numbers = sorted(int(t.get_text()) for t in grid.texts)
    assert numbers == sorted(cat[105:109, 160:164, 0].ravel().tolist())
    assert "300 x 451 x 3" in fig.axes[0].get_title() and "R channel" in grid.get_title()
    assert [t.get_text() for t in grid.get_xticklabels()] == ["160", "161", "162", "163"]
    plt.close(fig)
    with pytest.raises(ValueError, match="does not fit"):
        pixels.show_pixels(cat, top=299, left=0, size=4)


def test_show_channels_needs_colour_and_labels_each_channel():
    cat = data.cat()
    fig = pixels.show_channels(cat, top=140, left=140, size=3)
    titles = [ax.get_title() for ax in fig.axes]
    assert sum("channel" in t for t in titles) == 3
    g_grid = [ax for ax in fig.axes if ax.get_title() == "G numbers of the patch"][0]
    assert sorted(int(t.get_text()) for t in g_grid.texts) == sorted(cat[140:143, 140:143, 1].ravel().tolist())
    plt.close(fig)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        pixels.show_channels(cat[..., 0], 0, 0)


def test_channel_colormaps_go_from_black_to_the_channel_colour():
    for cmap, rgb in zip(pixels.CHANNEL_CMAPS, [(1, 0, 0), (0, 1, 0), (0, 0, 1)]):
        assert cmap(0.0)[:3] == (0, 0, 0)
        assert np.allclose(cmap(1.0)[:3], rgb)
