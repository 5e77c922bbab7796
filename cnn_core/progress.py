"""The progress line of training: one tqdm line per epoch (used by cnn_core.train.fit).

In a terminal, tqdm redraws the line in place; in Jupyter, tqdm.notebook shows
a progress widget (one per epoch, so a built book keeps one line per epoch);
in a log (output not a terminal, e.g. CI) nothing is redrawn: one finished
line per epoch is printed.
"""

from __future__ import annotations

import shutil
import sys
import time

BAR_FORMAT = "{desc} [{bar:20}] {n_fmt}/{total_fmt} {postfix[0]}"
NOTEBOOK_BAR_FORMAT = "{desc} {bar} {n_fmt}/{total_fmt} {postfix[0]}"
BAR_CHARS = ".#"  # tqdm's ascii bar: '.' to do, '#' done


def _output_mode() -> str:
    """'notebook' in a Jupyter kernel, 'terminal' if stdout is a terminal, else 'log'."""
    try:
        from IPython import get_ipython

        if get_ipython() is not None and hasattr(get_ipython(), "kernel"):
            return "notebook"
    except ImportError:
        pass
    isatty = getattr(sys.stdout, "isatty", None)
    return "terminal" if isatty is not None and isatty() else "log"


class EpochBar:
    """The progress line of one epoch (tqdm), shown according to _output_mode()."""

    def __init__(self, total: int, desc: str, enabled: bool = True) -> None:
        self.total, self.desc, self.start = total, desc, time.perf_counter()
        self.mode = _output_mode() if enabled else "off"
        self.bar = None
        if self.mode == "notebook":
            try:
                from tqdm.notebook import tqdm as notebook_tqdm

                self.bar = notebook_tqdm(total=total, desc=desc, bar_format=NOTEBOOK_BAR_FORMAT, postfix=[""])
            except ImportError:  # no ipywidgets: a text line instead
                self.mode = "terminal"
        if self.mode == "terminal":
            from tqdm import tqdm

            size = shutil.get_terminal_size((100, 24))  # a terminal that reports 0 x 0: 100 x 24
            self.bar = tqdm(
                total=total,
                desc=desc,
                bar_format=BAR_FORMAT,
                ascii=BAR_CHARS,
                postfix=[""],
                file=sys.stdout,
                leave=True,
                ncols=size.columns,
                nrows=size.lines,
            )

    def update(self, done: int, text: str = "") -> None:
        """done of total minibatches finished; text (the running loss) goes after the count."""
        if self.bar is not None:
            self.bar.postfix[0] = text
            self.bar.update(done - self.bar.n)

    def close(self, text: str = "") -> None:
        """The epoch's final line (in a log, the only one)."""
        if self.bar is not None:
            self.bar.postfix[0] = text
            self.bar.update(self.total - self.bar.n)
            self.bar.close()
        elif self.mode == "log":
            from tqdm import tqdm

            print(
                tqdm.format_meter(
                    self.total,
                    self.total,
                    time.perf_counter() - self.start,
                    prefix=self.desc,
                    ascii=BAR_CHARS,
                    bar_format=BAR_FORMAT,
                    postfix=[text],
                ),
                flush=True,
            )
