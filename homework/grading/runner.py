"""Runs inside the sandbox: executes a student's cells and answers the grader's requests.

Started as ``python runner.py`` by :mod:`sandbox`; requests arrive on stdin and replies leave
on the original stdout, both in :mod:`wire`'s format. The student's own prints and warnings are
captured per request (capped); anything written to the file descriptors directly goes to
stderr, which the grader drains and caps. Nothing here decides a score: the grader only takes
the student's outputs from this process and judges them in its own.

Requests: ``{"op": "run", "cell": id, "code": src}``, ``{"op": "get", "name": n}``,
``{"op": "call", "name": n, "args": [...], "kwargs": {...}}``, ``{"op": "poison", "names":
[...], "why": text}``.
"""

from __future__ import annotations

import builtins
import io
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable

import wire

CAP = 20_000  # characters of printed output kept per request
# file names of the student's code: their cells, and cells IPython compiles (%%time, %%capture)
STUDENT_CODE = ("<cell ", "<timed exec>", "<ipython-input-")


class CappedText(io.TextIOBase):
    """A text stream that keeps the first CAP characters and counts the rest."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        s = str(s)
        room = CAP - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n… {self.dropped:,} more characters of output not kept"
        return out


def _shell_for(ns: dict) -> Callable[[], object]:
    """``get_ipython()`` for the student's cells: a real IPython shell on their namespace, made the
    first time a cell uses a magic or a shell line, so ``%%time``, ``%timeit``, ``%%capture``,
    ``%load_ext``, ``!ls`` and the rest run as in Jupyter (shell lines run inside the sandbox, like
    any of the student's processes). Only two things differ from a kernel: no history file, and
    ``%matplotlib`` keeps the Agg backend the grader reads figures from (what ``inline`` draws with)."""
    shell = None

    def get_ipython():
        nonlocal shell
        if shell is None:
            from IPython.core.interactiveshell import InteractiveShell
            from traitlets.config import Config

            config = Config()
            config.HistoryManager.enabled = False
            shell = InteractiveShell.instance(config=config, user_ns=ns)
            shell.system = shell.system_piped  # as ipykernel: a command's output is the cell's output
            shell.enable_matplotlib = lambda gui=None: (gui, "agg")
        return shell

    return get_ipython


def _display(*objs, **kwargs) -> None:
    for obj in objs:
        print(repr(obj))


def _transform(code: str) -> str:
    """IPython syntax (%magic, !cmd) turned into calls, as Jupyter does."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return code
    try:
        return TransformerManager().transform_cell(code)
    except Exception:  # noqa: BLE001 - leave it to compile() to report
        return code


def _error(err: BaseException, skip: int = 1) -> dict:
    frames = traceback.extract_tb(err.__traceback__)[skip:]
    tb = "".join(traceback.format_list(frames[-6:]))
    message = str(err)
    if isinstance(err, SyntaxError):  # the cell did not run at all: say where, as Jupyter shows it
        message = f"{err.msg} at line {err.lineno}" + (f": {err.text.strip()}" if err.text and err.text.strip() else "")
    return {"type": type(err).__name__, "message": message[:2000], "traceback": tb[-4000:]}


class _CallableRef:
    """A function of the student's namespace, sent by name: the grader calls it back by that name."""

    def __init__(self, name: str) -> None:
        self.name = name


def _describe(value):
    """Tagged descriptions of the objects a check may look at: functions, figures, cnn_core models."""
    if isinstance(value, _CallableRef):
        return {"__callable__": value.name}
    module = type(value).__module__ or ""
    if module.startswith("matplotlib"):
        from matplotlib.figure import Figure

        if isinstance(value, Figure):
            return {"__figure__": _figure(value)}
    if module.startswith("cnn_core"):
        from cnn_core.layers import Layer
        from cnn_core.model import Sequential

        if isinstance(value, Sequential):
            layers = _own(value).get("layers")
            return {"__model__": {"layers": [_layer(x) for x in list.copy(layers)] if isinstance(layers, list) else []}}
        if isinstance(value, Layer):
            return {"__model__": {"layers": [_layer(value)], "single": True}}
    return None


def _own(obj) -> dict:
    """The object's own attributes, read without running any of its code (no property, no
    __getattr__): describing a model costs the student no time the grader does not see."""
    try:
        attributes = object.__getattribute__(obj, "__dict__")
    except AttributeError:  # not a layer at all (a number, say): the grader names its type
        return {}
    return dict.copy(attributes) if isinstance(attributes, dict) else {}


def _figure(fig) -> dict:
    axes = []
    for ax in fig.axes:
        axes.append(
            {
                "title": ax.get_title(),
                "xlabel": ax.get_xlabel(),
                "ylabel": ax.get_ylabel(),
                "legend": ax.get_legend() is not None,
                "lines": [
                    {"x": _floats(line.get_xdata()), "y": _floats(line.get_ydata()), "label": str(line.get_label())}
                    for line in ax.get_lines()
                ],
                "images": [_floats(im.get_array()) for im in ax.get_images()],
            }
        )
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    return {"suptitle": suptitle, "axes": axes}


def _floats(values):
    import numpy as np

    return np.asarray(values, dtype=float)


def _setting(value) -> bool:
    """A layer attribute that is part of its configuration: a number, a string or a (height, width) pair."""
    if isinstance(value, tuple):
        return len(value) == 2 and all(isinstance(v, int) for v in value)
    return isinstance(value, (bool, int, float, str))


def _layer(layer) -> dict:
    own = _own(layer)
    config = {k: v for k, v in own.items() if k not in ("params", "grads", "cache") and _setting(v)}
    params = own.get("params")
    params = dict.copy(params) if isinstance(params, dict) else {}
    return {"type": type(layer).__name__, "config": config, "params": params}


def _poisoned(name: str, why: str):
    def stopped(*args, **kwargs):
        raise TimeoutError(why)

    stopped.__name__ = name
    return stopped


def _stop_strays(me: int) -> None:
    """Kill every process the student's code left running (only in the sandbox's own PID
    namespace, where that is everything but its init (1) and this runner), so a background
    job or a fork bomb of one cell cannot slow down the next. Returns once they are reaped too
    (the init reaps orphans): only then is their CPU time in the reapers' counts, which the
    grader reads for the speed checks (``Sandbox.cpu_seconds``)."""
    if os.environ.get("GRADING_OWN_PIDS") != "1":
        return
    for _ in range(100):
        others, zombies = [], 0
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in (1, me):
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                            others.append(int(entry))
                        else:
                            zombies += 1
                except (OSError, IndexError):
                    continue
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        while True:  # collect our own dead children
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        if not others and not zombies:
            return
        time.sleep(0.01 if others else 0.001)


class _Watchdog:
    """Before the grader's time limit runs out, reply on the main thread's behalf with the names of
    the student's functions it is stuck in, so the grader stops those once (not once per cell that
    calls them). Student code cannot catch this: it runs in its own thread."""

    def __init__(self, stdout, ns: dict, seconds: float | None) -> None:
        self.stdout, self.ns, self.lock, self.fired = stdout, ns, threading.Lock(), False
        self.main = threading.get_ident()
        self.timer = threading.Timer(max(0.05, min(seconds - 0.5, seconds * 0.9)), self._fire) if seconds else None
        if self.timer:
            self.timer.daemon = True
            self.timer.start()

    def _running(self) -> list[str]:
        names, frame = [], sys._current_frames().get(self.main)
        while frame is not None:
            code, name = frame.f_code, frame.f_code.co_name
            if code.co_filename.startswith(STUDENT_CODE) and getattr(self.ns.get(name), "__code__", None) is code:
                names.insert(0, name)
            frame = frame.f_back
        return list(dict.fromkeys(names))

    def _fire(self) -> None:
        with self.lock:
            self.fired = True
            tree, arrays = wire.encode({"ok": False, "hung": self._running()})
            wire.write_message(self.stdout, tree, arrays)

    def finish(self) -> bool:
        """Stop the watchdog; True if the main thread may still reply (the watchdog did not)."""
        if self.timer:
            self.timer.cancel()
        self.lock.acquire()
        return not self.fired


def serve(stdin, stdout) -> None:
    ns: dict = {"__name__": "__main__", "__builtins__": builtins, "display": _display}
    ns["get_ipython"] = _shell_for(ns)
    pid = os.getpid()
    wire.write_message(stdout, {"ready": True, "python": sys.version.split()[0], "pid": pid})
    while True:
        message = wire.read_message(stdin)
        if message is None:
            return
        tree, arrays = message
        request = wire.decode(tree, arrays)
        captured = CappedText()
        real = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = captured
        start = time.perf_counter()
        watchdog = _Watchdog(stdout, ns, request.get("timeout"))
        reply: dict = {"ok": True}
        try:
            op = request["op"]
            if op == "run":
                code = compile(_transform(request["code"]), f"<cell {request['cell']}>", "exec")
                exec(code, ns)
            elif op == "get":
                name = request["name"]
                if name not in ns:
                    reply["missing"] = True
                elif callable(ns[name]) and not isinstance(ns[name], type) and _describe(ns[name]) is None:
                    reply["value"] = _CallableRef(name)
                else:
                    reply["value"] = ns[name]
            elif op == "call":
                fn = ns.get(request["name"])
                if not callable(fn):
                    raise NameError(f"name {request['name']!r} is not defined (or not a function)")
                reply["value"] = fn(*request.get("args", []), **request.get("kwargs", {}))
            elif op == "poison":
                for name in request["names"]:
                    ns[name] = _poisoned(name, request["why"])
            else:
                raise ValueError(f"unknown request {op!r}")
        except BaseException as err:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are answers too
            reply = {"ok": False, "error": _error(err)}
        finally:
            if os.getpid() != pid:  # a process the student's code forked: it must not answer requests
                os._exit(0)
            _stop_strays(pid)
            sys.stdout, sys.stderr = real
            try:
                import matplotlib.pyplot as plt

                figures = plt.get_fignums()
            except Exception:  # noqa: BLE001
                figures = []
        reply["seconds"] = time.perf_counter() - start
        reply["output"] = captured.text()
        try:
            tree, arrays = wire.encode(reply, _describe)
        except Exception as err:  # noqa: BLE001 - a value that cannot be sent is the student's error
            tree, arrays = wire.encode(
                {"ok": False, "error": _error(err, 0), "seconds": reply["seconds"], "output": reply["output"]}
            )
        if figures and request.get("op") == "run":
            plt.close("all")
        if not watchdog.finish():
            os._exit(0)  # the grader has its answer and ends this sandbox
        wire.write_message(stdout, tree, arrays)
        watchdog.lock.release()


def _limit_processes(argv: list[str]) -> None:
    """RLIMIT_NPROC from ``--processes N``, set here rather than before bwrap starts: Linux (5.14 on)
    counts processes per user namespace, so inside the sandbox's own one it counts only the
    sandbox's processes, whether the grader runs as root (a claimed uid) or as an ordinary user
    (whose other processes it would count outside)."""
    if "--processes" in argv:
        import resource

        n = int(argv[argv.index("--processes") + 1])
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))


def main() -> None:
    _limit_processes(sys.argv)
    stdin = os.fdopen(os.dup(0), "rb")
    stdout = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # input() in student code gets EOF, not the grader's requests
    os.dup2(2, 1)  # raw writes to fd 1 go to the drained stderr, not the channel
    sys.stdin = open(os.devnull)
    sys.path.insert(0, "")  # as in a kernel: a module the notebook wrote (%%writefile) imports from the cwd
    serve(stdin, stdout)


if __name__ == "__main__":
    main()
