"""Jupyter Server settings for the chapters (`make lab`, Binder): see README.md here.

Chapter notebooks are saved without outputs. JupyterLab autosaves every ~2 minutes; without
this hook the saved outputs (random animation ids, timings, widget state) would end up in the
repository. Outputs live in the browser until the notebook is closed; rerun to get them back.
"""

import re

CHAPTER = re.compile(r"(^|/)\d\d_[^/]*\.ipynb$")  # book/01_review.ipynb ... book/10_training.ipynb
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# nbstripout's own defaults (its command line and git filter strip these too)
EXTRA_KEYS = [
    "metadata.signature",
    "metadata.widgets",
    "cell.metadata.collapsed",
    "cell.metadata.ExecuteTime",
    "cell.metadata.execution",
    "cell.metadata.heading_collapsed",
    "cell.metadata.hidden",
    "cell.metadata.scrolled",
]


def strip_chapter_outputs(model, path, contents_manager=None, **kwargs):
    """pre_save_hook: clear outputs, execution counts and volatile metadata of a chapter."""
    if model.get("type") != "notebook" or not model.get("content") or not CHAPTER.search(path or ""):
        return
    import nbformat
    from nbstripout import strip_output

    nb = nbformat.from_dict(model["content"])
    # keep_id: cell ids are part of the chapters (the Colab cell is found by its id)
    nb = strip_output(nb, keep_output=False, keep_count=False, keep_id=True, extra_keys=EXTRA_KEYS)
    # the kernel's version details would differ from machine to machine: keep the language only
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    # the chapters run on the standard python3 kernel (tests/test_notebooks.py), whichever one
    # (e.g. `make kernel`'s cnn-course) was picked for this session
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    model["content"] = nb


c = get_config()  # noqa: F821 (provided by traitlets when the config is loaded)
c.FileContentsManager.pre_save_hook = strip_chapter_outputs
