import matplotlib.pyplot as plt
import numpy as np

from cnn_core import transforms as T
from cnn_core.viz import semantic_gap as gap


def test_scene_pictures_share_the_cat_shape():
    s = gap.scene(2)
    assert s["cat"].shape == (150, 226, 3)
    for key in ("occluder", "background", "brick", "coffee", "flat"):
        assert s[key].shape == s["cat"].shape and s[key].dtype == np.uint8, key
    assert s["mask"].shape == (150, 226) and s["mask"][87, 120] == 1.0 and s["mask"][0, 0] == 0.0
    assert len(np.unique(s["flat"].reshape(-1, 3), axis=0)) == 1  # one colour everywhere


def test_render_every_kind_and_describe_gives_the_distance():
    for kind in gap.CONTROLS["kind"]:
        fig = gap.render(kind, 1.0)
        assert len(fig.axes) == 4 and kind in fig.axes[0].get_title()
        plt.close(fig)
    d = T.pixel_distance(gap.scene(2)["cat"], gap.variation("occlusion", 1.0, 2), "rms")
    assert f"{d:.1f}" in gap.describe("occlusion", 1.0)
    fig = gap.render("occlusion", 0.0)
    assert "0% of the values changed" in fig.axes[2].get_title()
    plt.close(fig)
    assert set(gap.STATIC_CONTROLS["kind"]) < set(gap.CONTROLS["kind"])


def test_show_variations_titles_hold_the_distances():
    cat = gap.scene(4)["cat"]
    dark = T.brightness(cat, 0.5)
    fig = gap.show_variations(cat, {"dark": dark}, ncols=2)
    assert fig.axes[0].get_title() == "original"
    assert f"{T.pixel_distance(cat, dark, 'rms'):.1f}" in fig.axes[1].get_title()
    plt.close(fig)


def test_distance_bars_sorted_and_coloured():
    fig = gap.distance_bars({"a": 3.0, "b": 1.0, "c": 2.0}, same={"b"})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "a"]
    colours = [p.get_facecolor() for p in ax.patches]
    assert colours[0] != colours[1] and colours[1] == colours[2]
    plt.close(fig)


def test_digit_figures():
    img = np.eye(8)
    fig = gap.show_triplet(img, img, img, (2, 2, 7), 1.5, 0.5)
    assert "1.50" in fig.axes[1].get_title() and "'7'" in fig.axes[2].get_title()
    plt.close(fig)
    fig = gap.plot_shift_accuracy(["(0, 0)", "(0, 1)"], [0.98, 0.66])
    assert [t.get_text() for t in fig.axes[0].texts if "%" in t.get_text()] == ["98%", "66%"]
    plt.close(fig)
