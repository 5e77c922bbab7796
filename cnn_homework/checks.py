"""Teaching checks for the homework notebooks.

Each ``check_*`` runs a student's function (or answer) on cases, compares it with
cnn_core's reference, prints one line when everything matches, and otherwise raises
:class:`CheckFailure` (an ``AssertionError``) whose message says **what was
expected, what came, and the likely mistake**, e.g.::

    CheckFailure: conv_forward_naive: wrong output shape
      case:           x (1, 1, 7, 7), w (1, 1, 3, 3), b (1,), stride=2, padding=0
      expected:       (1, 1, 3, 3)
      got:            (1, 1, 5, 5)
      likely mistake: output is 5×5 but should be 3×3: did you apply the stride? ...

Array conventions are cnn_core's: x (N, D, H, W), w (K, D, F, F), b (K,).
Every check accepts ``cases=[...]`` so hidden grading tests can add shapes and edge
cases the student never saw. Checks of from-scratch code run the student's function
with cnn_core's own kernels disabled (see :func:`no_reference`), so calling the
reference is reported instead of passing.

Numbers that a question asks for are never printed by a failing check (it names the
likely mistake instead); arrays and sizes are, since they are inputs to debugging.
"""

from __future__ import annotations

import contextlib
import gc
import numbers
import sys
import time
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

try:
    import resource  # CPU time of ended child processes (not on Windows)
except ImportError:  # pragma: no cover - Windows
    resource = None

import numpy as np

from cnn_core import functional as _fn
from cnn_core import shapes as _shapes
from cnn_core.gradcheck import numerical_gradient, rel_error

__all__ = [
    "CheckFailure",
    "no_reference",
    "gradient_verdict",
    "check_output_size",
    "check_fit_answers",
    "check_conv_layer_answer",
    "check_conv_num_params",
    "check_fc_num_params",
    "check_fc_vs_conv_answer",
    "check_receptive_field",
    "check_receptive_field_answer",
    "check_conv_forward",
    "check_conv_backward",
    "check_conv_fast",
    "check_gradient_errors",
    "conv_gradient_errors",
    "pool_gradient_errors",
    "set_grading",
    "check_relu_forward",
    "check_relu_backward",
    "check_pool_forward",
    "check_pool_backward",
    "check_digits_model",
    "check_training",
    "check_accuracy",
    "check_learning_curves",
    "check_filter_plot",
    "check_first_layer_weights",
    "check_choice",
    "check_conv_transpose_forward",
    "check_conv_backward_dx",
    "check_framework_sizes",
]

# rel_error scale used by CS231n's gradient checks.
GOOD, OK_WITH_KINKS, SUSPICIOUS = 1e-7, 1e-4, 1e-2
# Two float64 computations of the same formula agree to ~1e-15; this leaves room for
# a different summation order, but not for a wrong formula.
RTOL, ATOL = 1e-6, 1e-9
# Used by the mistake models, which tests also call from inside a student function.
_POOL_BACKWARD = _fn.pool2d_backward_naive


# ---------------------------------------------------------------- failures


class CheckFailure(AssertionError):
    """A failed check: what was expected, what came, and the likely mistake."""

    def __init__(
        self, name: str, problem: str, *, case: str | None = None, expected: Any = None, got: Any = None, hint: str | None = None
    ) -> None:
        self.name, self.problem, self.case, self.hint = name, problem, case, hint
        self.expected, self.got = expected, got
        lines = [f"{name}: {problem}"]
        for label, value in (("case", case), ("expected", expected), ("got", got), ("likely mistake", hint)):
            if value is not None:
                lines.append(f"  {label + ':':<16}{value}")
        super().__init__("\n".join(lines))
        _install_ipython_handler()


def _without_check_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback without the frames of this module: a student sees their cell and their code."""
    kept = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename != __file__:
            kept.append(tb)
        tb = tb.tb_next
    new = None
    for t in reversed(kept):
        new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return new


def _show_check_failure(shell, etype, value, tb, tb_offset=None):
    """IPython handler for CheckFailure: the usual error display, minus the checks' own frames."""
    cause = value.__cause__
    if cause is not None:
        cause.__traceback__ = _without_check_frames(cause.__traceback__)
    stb = shell.InteractiveTB.structured_traceback(etype, value, _without_check_frames(tb), tb_offset=1)
    shell._showtraceback(etype, value, stb)
    return stb


def _install_ipython_handler() -> None:
    """In a notebook, show a CheckFailure without the frames of the check code (IPython always shows
    the frame that raised, so ``__tracebackhide__`` alone cannot hide it)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or any(getattr(e, "__name__", "") != "CheckFailure" for e in shell.custom_exceptions):
        return  # not in IPython, or someone else's handler is installed: leave it alone
    shell.set_custom_exc((CheckFailure,), _show_check_failure)


# ---------------------------------------------------------------- grading context

_GRADING: dict[str, Any] = {}


def set_grading(salt: int | None = None, cell_seconds: Mapping[str, float] | None = None) -> None:
    """Called by the grader only, in its own process: ``salt`` makes every check draw fresh random
    cases (same shapes, new numbers), ``cell_seconds`` are the wall-clock times it measured for the
    student's cells run so far (a notebook's own timings are claims). ``set_grading()`` returns to
    the student-side behaviour."""
    _GRADING.clear()
    if salt is not None:
        _GRADING["salt"] = int(salt)
    if cell_seconds is not None:
        _GRADING["cell_seconds"] = cell_seconds


class _CellClock:
    """In Jupyter, the wall time of the cells run since the set-up cell (the one that imports these
    checks): the student-side measure of what the grader times, cell by cell, in its sandbox."""

    def __init__(self) -> None:
        self.seconds, self.cells, self.started, self.running = 0.0, 0, None, False

    def install(self) -> None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        if shell is None or not hasattr(shell, "events"):
            return
        shell.events.register("pre_run_cell", self._pre)
        shell.events.register("post_run_cell", self._post)
        self.running = True

    def _pre(self, info: Any = None) -> None:
        self.started = time.monotonic()

    def _post(self, result: Any = None) -> None:
        if "cnn_homework" in str(getattr(getattr(result, "info", None), "raw_cell", "")):
            self.seconds, self.cells = 0.0, 0  # the set-up cell (again): the clock starts after it
        elif self.started is not None:
            self.seconds += time.monotonic() - self.started
            self.cells += 1
        self.started = None


_CLOCK = _CellClock()


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, _GRADING["salt"]] if "salt" in _GRADING else seed)


def gradient_verdict(err: float) -> str:
    """The CS231n reading of a relative error between two gradients."""
    if not np.isfinite(err):
        return "not a number: the gradient contains nan or inf"
    if err < GOOD:
        return "good (< 1e-7)"
    if err < OK_WITH_KINKS:
        return "acceptable only where the function has kinks (1e-7 .. 1e-4)"
    if err < SUSPICIOUS:
        return "suspicious (1e-4 .. 1e-2)"
    return "wrong (> 1e-2)"


def _done(message: str) -> None:
    print("\u2713 " + message)


def _hw(shape: Sequence[int]) -> str:
    return "\u00d7".join(str(s) for s in shape)


def _what(value: Any, limit: int = 300) -> str:
    """A value's type and (shortened) repr, for a message: the grader's stand-in for something it
    would not rebuild says why in its repr."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= limit else text[:limit] + '…'}"


def _describe(**items: Any) -> str:
    parts = []
    for key, value in items.items():
        if isinstance(value, np.ndarray):
            parts.append(f"{key} {tuple(value.shape)}")
        else:
            parts.append(f"{key}={value!r}")
    return ", ".join(parts)


# ---------------------------------------------------------------- calling student code

# The reference implementations a from-scratch exercise must not call.
KERNELS = {
    "conv": ("conv2d_naive", "conv2d_forward", "conv2d_backward", "conv2d_backward_naive"),
    "pool": ("pool2d_naive", "pool2d_forward", "pool2d_backward", "pool2d_backward_naive"),
    "shapes": ("output_size", "conv_output_shape", "conv_num_params", "linear_num_params", "receptive_field"),
    "transpose": (
        "conv_transpose2d_naive",
        "conv_transpose2d_forward",
        "conv_transpose2d_backward",
        "conv_transpose2d_backward_naive",
    ),
}


@contextlib.contextmanager
def no_reference(names: Sequence[str], owner: str, namespace: dict | None = None) -> Iterator[None]:
    """Temporarily replace cnn_core's reference functions ``names`` by ones that fail.

    Patches every cnn_core module attribute bound to them and, if given, the student's
    namespace (``fn.__globals__``), so ``cnn_core.conv2d_forward(...)``,
    ``from cnn_core import conv2d_forward`` and the layers (which call the kernels)
    are all caught. Everything is restored on exit.
    """
    originals = {id(f): n for n in names for f in [getattr(_fn, n, None) or getattr(_shapes, n, None)] if f}
    if not originals:
        yield
        return

    def blocker(name: str) -> Callable:
        def blocked(*args, **kwargs):
            raise CheckFailure(
                owner,
                f"calls cnn_core's reference {name}()",
                hint=f"this exercise is to write it yourself: {owner} is checked against "
                f"cnn_core.{name}, so calling it would prove nothing. Use numpy only.",
            )

        return blocked

    patched: list[tuple[Any, str, Any]] = []
    targets: list[tuple[Any, str, Any]] = []
    for mod_name, module in list(sys.modules.items()):
        if mod_name == "cnn_core" or mod_name.startswith("cnn_core."):
            for attr, value in list(vars(module).items()):
                if callable(value) and id(value) in originals and mod_name != __name__:
                    targets.append((module, attr, value))
    if namespace is not None:
        for attr, value in list(namespace.items()):
            if callable(value) and id(value) in originals:
                targets.append((namespace, attr, value))
    try:
        for owner_obj, attr, value in targets:
            replacement = blocker(originals[id(value)])
            if isinstance(owner_obj, dict):
                owner_obj[attr] = replacement
            else:
                setattr(owner_obj, attr, replacement)
            patched.append((owner_obj, attr, value))
        yield
    finally:
        for owner_obj, attr, value in patched:
            if isinstance(owner_obj, dict):
                owner_obj[attr] = value
            else:
                setattr(owner_obj, attr, value)


_ERROR_HINTS = {
    IndexError: "an index ran past the edge of an array: check your loop ranges (H2, W2 from the "
    "output-size formula) and that you index the padded input",
    ValueError: "often two arrays whose shapes do not fit together: print the shapes of the window and the filter you multiply",
    TypeError: "check the arguments and what you return (a number where an array is expected, or the other way round)",
    NameError: "a name is not defined inside your function: did you run the cell that defines it, and spell it the same way?",
    ZeroDivisionError: "a division by zero: check the formula's denominator",
}


@contextlib.contextmanager
def _student_errors(owner: str, case: str) -> Iterator[None]:
    """Exceptions of the student's code inside the block become a CheckFailure with a hint."""
    __tracebackhide__ = True
    try:
        yield
    except CheckFailure:
        raise
    except NotImplementedError:
        raise CheckFailure(
            owner,
            "is not implemented yet",
            case=case,
            hint="replace `raise NotImplementedError()` with your code, run that cell, then run this check again",
        ) from None
    except Exception as err:  # noqa: BLE001 - any crash of student code is reported, chained
        hint = next((h for t, h in _ERROR_HINTS.items() if isinstance(err, t)), "see the traceback above")
        raise CheckFailure(owner, f"raised {type(err).__name__}: {err}", case=case, hint=hint) from err


def _callable(owner: str, fn: Any) -> None:
    __tracebackhide__ = True
    if not callable(fn):
        raise CheckFailure(
            owner,
            f"is not a function but {type(fn).__name__} {fn!r}",
            hint=f"define it with `def {owner}(...):` and run that cell",
        )


def _call(owner: str, fn: Callable, args: tuple, case: str, forbid: Sequence[str] = ()) -> Any:
    """fn(*args) with cnn_core's ``forbid`` kernels disabled; exceptions become CheckFailure."""
    __tracebackhide__ = True
    _callable(owner, fn)
    with _student_errors(owner, case), no_reference(forbid, owner, getattr(fn, "__globals__", None)):
        return fn(*args)


def _as_array(owner: str, value: Any, what: str, case: str) -> np.ndarray:
    __tracebackhide__ = True
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], np.ndarray):
        raise CheckFailure(
            owner,
            f"returned a tuple of 2 instead of the {what} array",
            case=case,
            expected=f"one array ({what})",
            got="a tuple (array, ...)",
            hint="return only the output array (the CS231n-style (out, cache) pair is not used here)",
        )
    if not isinstance(value, np.ndarray):
        raise CheckFailure(
            owner,
            f"returned {type(value).__name__}, not a numpy array",
            case=case,
            expected=f"a numpy array ({what})",
            got=repr(value)[:80],
            hint="did you forget `return`?" if value is None else None,
        )
    return value


def _first_difference(expected: np.ndarray, got: np.ndarray, name: str = "out") -> str:
    diff = np.abs(expected - got)
    idx = np.unravel_index(np.nanargmax(np.where(np.isnan(diff), np.inf, diff)), diff.shape)
    error = rel_error(expected, got)
    return (
        f"largest difference at {name}[{', '.join(map(str, idx))}]: expected {expected[idx]:.6g}, "
        f"got {got[idx]:.6g} (rel. error {error:.1e}, {gradient_verdict(error).split(' (')[0]})"
    )


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def _match_mistake(got: np.ndarray, mistakes: Sequence[tuple[Callable[[], np.ndarray], str]]) -> str | None:
    """The hint of the first mistake model whose result equals what the student returned."""
    for make, hint in mistakes:
        try:
            candidate = np.asarray(make())
        except Exception:  # noqa: BLE001 - a mistake model that does not apply to this case
            continue
        if _close(candidate, got):
            return hint
    return None


def _unchanged(owner: str, before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray], case: str) -> None:
    __tracebackhide__ = True
    for key, value in before.items():
        if not np.array_equal(value, after[key], equal_nan=True):
            raise CheckFailure(
                owner,
                f"changed its input {key} in place",
                case=case,
                hint=f"work on a new array (e.g. np.zeros(...), np.maximum(...), {key}.copy()) "
                f"instead of writing into {key}: the caller still needs it",
            )


# ---------------------------------------------------------------- HW1: shapes and parameters

SIZE_CASES = [  # (N, F, S, P): the lecture's examples first
    (7, 3, 1, 0),
    (7, 3, 2, 0),
    (7, 3, 3, 0),
    (7, 3, 1, 1),
    (32, 5, 1, 2),
    (32, 5, 1, 0),
    (5, 3, 2, 1),
    (227, 11, 4, 0),
    (224, 11, 4, 2),
    (4, 5, 1, 0),
]


def _size_or_error(n: int, f: int, s: int, p: int) -> int | None:
    try:
        return _shapes.output_size(n, f, s, p)
    except ValueError:
        return None


def _size_mistakes(n: int, f: int, s: int, p: int) -> list[tuple[float, str]]:
    """Sizes the usual mistakes give for one side, with the hint for each."""
    out = []
    if s > 1:
        out.append(
            (n + 2 * p - f + 1, "did you apply the stride? The window moves S pixels at a time, so divide (N + 2P - F) by S")
        )
    if p > 0:
        out.append(((n - f) / s + 1, "did you add the padding? It is P on each side, so N + 2P"))
        out.append(((n + p - f) / s + 1, "the padding goes on both sides: use N + 2P, not N + P"))
    out.append(((n + 2 * p - f) / s, "did you forget the +1? The first position is already one output"))
    out.append(((n + 2 * p + f) / s + 1, "subtract the filter size: (N + 2P - F) / S + 1"))
    return out


def check_output_size(fn: Callable[[int, int, int, int], int], cases: Sequence[tuple] | None = None) -> None:
    """fn(N, F, S, P) must return (N + 2P - F) / S + 1 as an int, or raise ValueError if it does not fit."""
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "output_size")
    cases = SIZE_CASES if cases is None else cases
    # the formula first, then the settings that must raise
    for n, f, s, p in sorted(cases, key=lambda c: _size_or_error(*c) is None):
        case = f"N={n}, F={f}, S={s}, P={p}"
        expected = _size_or_error(n, f, s, p)
        try:
            with no_reference(KERNELS["shapes"], owner, getattr(fn, "__globals__", None)):
                got = fn(n, f, s, p)
        except ValueError:
            if expected is None:
                continue
            raise CheckFailure(
                owner,
                "raised ValueError for a setting that fits",
                case=case,
                expected="a size, no error",
                got="ValueError",
                hint="raise only when (N + 2P - F) is not a multiple of S or F > N + 2P",
            ) from None
        except CheckFailure:
            raise
        except NotImplementedError:
            raise CheckFailure(
                owner, "is not implemented yet", case=case, hint="replace `raise NotImplementedError()` with your code"
            ) from None
        except Exception as err:  # noqa: BLE001
            if expected is None:
                raise CheckFailure(
                    owner,
                    f"raised {type(err).__name__} for a setting that does not fit",
                    case=case,
                    expected="ValueError",
                    got=f"{type(err).__name__}: {err}",
                    hint="raise ValueError(...) (a wrong value, not a wrong type)",
                ) from err
            raise CheckFailure(owner, f"raised {type(err).__name__}: {err}", case=case) from err
        span = n + 2 * p - f
        if expected is None:
            why = (
                f"the filter is larger than the padded input (N + 2P = {n + 2 * p} < F = {f})"
                if span < 0
                else f"(N + 2P - F) / S + 1 = {span}/{s} + 1 = {span / s + 1:.2f} is not a whole number"
            )
            raise CheckFailure(
                owner,
                "returned a size for a setting that does not fit",
                case=case,
                expected="ValueError",
                got=repr(got),
                hint=f"{why}: the filter does not fit, so raise ValueError instead of "
                "rounding (the lecture's 7×7 input, 3×3 filter, stride 3: doesn't fit!)",
            )
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            exact = isinstance(got, numbers.Real) and float(got) == expected
            raise CheckFailure(
                owner,
                f"returned {type(got).__name__} {got!r}, not an int",
                case=case,
                expected="an int",
                got=repr(got),
                hint=("the value is right but a size must be an int: use // once you know the division is exact, or int(...)")
                if exact
                else None,
            )
        if got != expected:
            hint = next((h for v, h in _size_mistakes(n, f, s, p) if v == got), None)
            raise CheckFailure(
                owner, "wrong size", case=case, expected=expected, got=got, hint=hint or "use (N + 2P - F) / S + 1"
            )
    _done(f"{owner}: {len(cases)} settings right, including the ones that do not fit")


def check_fit_answers(answers: Mapping[str, bool], settings: Mapping[str, tuple[int, int, int, int]]) -> None:
    """answers[label] must say whether settings[label] = (N, F, S, P) fits. Right answers are not shown."""
    __tracebackhide__ = True
    owner = "fits"
    if not isinstance(answers, Mapping):
        raise CheckFailure(
            owner,
            f"must be a dict like {{'a': True, ...}}, got {type(answers).__name__}",
            hint="answer every setting with True (fits) or False (does not fit)",
        )
    missing = [k for k in settings if k not in answers]
    if missing:
        raise CheckFailure(owner, f"has no answer for {missing}", expected=sorted(settings), got=sorted(answers))
    for key, (n, f, s, p) in settings.items():
        value = answers[key]
        if not isinstance(value, (bool, np.bool_)):
            raise CheckFailure(owner, f"answer for {key!r} is {value!r}", expected="True or False", got=repr(value))
        fits = _size_or_error(n, f, s, p) is not None
        if bool(value) != fits:
            span = n + 2 * p - f
            raise CheckFailure(
                owner,
                f"({key}) N={n}, F={f}, S={s}, P={p}: your answer {value} is not right",
                hint=f"compute (N + 2P - F) / S + 1 = ({n} + {2 * p} - {f}) / {s} + 1 = {span}/{s} + 1: "
                f"does it fit exactly (a whole number, and F <= N + 2P)?",
            )
    _done(f"fits: all {len(settings)} settings answered right")


def check_conv_layer_answer(
    out_shape: Sequence[int],
    n_params: int,
    input_shape: Sequence[int] = (3, 32, 32),
    K: int = 10,
    F: int = 5,
    S: int = 1,
    P: int = 2,
) -> None:
    """The output volume (D2, H2, W2) and parameter count of a conv layer (defaults: the lecture's layer)."""
    __tracebackhide__ = True
    d, h, w = input_shape
    setting = f"input {d}×{h}×{w} (D×H×W), K={K} filters {F}×{F}, S={S}, P={P}"
    exp_shape = _shapes.conv_output_shape(input_shape, K, F, S, P)
    if out_shape is None:
        raise CheckFailure("out_shape", "has no answer yet", case=setting, hint="set out_shape = (D2, H2, W2)")
    try:
        got_shape = tuple(int(v) for v in out_shape)
    except (TypeError, ValueError):
        raise CheckFailure("out_shape", f"must be a tuple (D2, H2, W2), got {out_shape!r}", case=setting) from None
    if got_shape != exp_shape:
        if len(got_shape) != 3:
            hint = "give the three sizes (D2, H2, W2)"
        elif sorted(got_shape) == sorted(exp_shape):
            hint = "the order is (D2, H2, W2): depth first, as in cnn_core's (N, D, H, W) arrays"
        elif got_shape[0] != K:
            hint = f"the output depth D2 is the number of filters K, not the input depth {d}"
        else:
            hint = next((hh for v, hh in _size_mistakes(h, F, S, P) if v == got_shape[1]), "H2 = (H1 + 2P - F) / S + 1")
        raise CheckFailure("out_shape", "is not right", case=setting, got=got_shape, hint=hint)
    exp_params = _shapes.conv_num_params(F, d, K)
    mistakes = [
        (F * F * d * K, "each filter also has one bias: (F·F·D + 1)·K"),
        ((F * F + 1) * K, f"each filter spans the full input depth D={d}: F·F·D weights"),
        (F * F * d * K + 1, "one bias per filter, not one for the whole layer"),
        (
            (F * F * d + 1) * K * h * w,
            "the filter's weights are shared by all positions (parameter sharing): do not multiply by H·W",
        ),
        (F * F * d + 1, f"that is one filter; the layer has K={K} of them"),
    ]
    _check_number("n_params", n_params, exp_params, mistakes, setting)
    _done(f"the conv layer's output volume and parameter count are right ({setting})")


def _check_number(
    owner: str, got: Any, expected: float, mistakes: Sequence[tuple[float, str]], case: str, hint: str | None = None
) -> None:
    __tracebackhide__ = True
    if got is None or isinstance(got, type(Ellipsis)):
        raise CheckFailure(owner, "has no answer yet", case=case, hint=f"set {owner} = <your number>")
    if not isinstance(got, numbers.Real) or isinstance(got, bool):
        raise CheckFailure(owner, f"must be a number, got {type(got).__name__} {got!r}", case=case)
    if not np.isclose(float(got), expected, rtol=1e-9, atol=0):
        match = next((h for v, h in mistakes if np.isclose(float(got), v, rtol=1e-9, atol=0)), None)
        raise CheckFailure(owner, f"{got} is not right", case=case, got=got, hint=match or hint)


def check_conv_num_params(fn: Callable[[int, int, int], int], cases: Sequence[tuple] | None = None) -> None:
    """fn(F, D, K) must return (F·F·D + 1)·K."""
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "conv_num_params")
    cases = [(5, 3, 10), (3, 1, 8), (1, 64, 32), (11, 3, 96)] if cases is None else cases
    for f, d, k in cases:
        case = f"F={f}, D={d}, K={k}"
        got = _call(owner, fn, (f, d, k), case, KERNELS["shapes"])
        expected = _shapes.conv_num_params(f, d, k)
        mistakes = [
            (f * f * d * k, "each filter also has one bias: (F·F·D + 1)·K"),
            ((f * f + 1) * k, "each filter spans the full input depth D: F·F·D weights per filter"),
            (f * f * d * k + 1, "one bias per filter (K biases), not one for the whole layer"),
            (f * f * d + 1, "that is one filter: multiply by the K filters"),
        ]
        if got != expected:
            hint = next((h for v, h in mistakes if v == got), "(F·F·D + 1)·K")
            raise CheckFailure(owner, "wrong count", case=case, expected=expected, got=got, hint=hint)
    _done(f"{owner}: right for {len(cases)} layers")


def check_fc_num_params(fn: Callable[[int, int], int], cases: Sequence[tuple] | None = None) -> None:
    """fn(n_in, n_out) must return (n_in + 1)·n_out: a weight per pair plus a bias per output."""
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "fc_num_params")
    cases = [(3072, 10), (128, 10), (1, 1), (784, 100)] if cases is None else cases
    for n_in, n_out in cases:
        case = f"n_in={n_in}, n_out={n_out}"
        got = _call(owner, fn, (n_in, n_out), case, KERNELS["shapes"])
        expected = _shapes.linear_num_params(n_in, n_out)
        mistakes = [
            (n_in * n_out, "each output also has one bias: (n_in + 1)·n_out"),
            (n_in * (n_out + 1), "the bias belongs to each output, not each input: (n_in + 1)·n_out"),
            (n_in * n_out + 1, "one bias per output, not one for the whole layer"),
        ]
        if got != expected:
            hint = next((h for v, h in mistakes if v == got), "(n_in + 1)·n_out")
            raise CheckFailure(owner, "wrong count", case=case, expected=expected, got=got, hint=hint)
    _done(f"{owner}: right for {len(cases)} layers")


def check_fc_vs_conv_answer(
    fc_weights: int, conv_weights: int, image: Sequence[int] = (32, 32, 3), hidden: Sequence[int] = (28, 28), F: int = 5
) -> None:
    """The lecture's 'much less parameters' example, biases ignored: an FC layer from the whole
    image to a hidden layer of 28×28 units vs one 5×5×3 filter (shared by all 28×28 positions)."""
    __tracebackhide__ = True
    n_in, n_out, depth = int(np.prod(image)), int(np.prod(hidden)), image[-1]
    case = f"image {_hw(image)}, hidden layer {_hw(hidden)}, filter {F}×{F}×{depth}, no biases"
    _check_number(
        "fc_weights",
        fc_weights,
        n_in * n_out,
        [
            ((n_in + 1) * n_out, "the lecture's example ignores the biases"),
            (n_in, "every one of the hidden units has its own weight for each input pixel"),
            (n_in * n_out / depth, f"the image has {depth} channels: {_hw(image)} inputs"),
        ],
        case,
    )
    _check_number(
        "conv_weights",
        conv_weights,
        F * F * depth,
        [
            (F * F * depth * n_out, "the filter is shared by all positions (parameter sharing): count its weights once"),
            (F * F, f"the filter spans all {depth} input channels"),
            (F * F * depth + 1, "the lecture's example ignores the bias"),
        ],
        case,
    )
    _done(f"FC {fc_weights:,} weights vs conv {conv_weights}: {fc_weights // conv_weights:,}× fewer")


RF_CASES = [
    [(3, 1)],
    [(3, 1), (3, 1)],
    [(3, 1), (3, 1), (3, 1)],
    [(5, 1), (2, 2)],
    [(3, 1), (2, 2), (3, 1)],
    [(11, 4), (3, 2), (5, 1)],
]


def _rf_mistakes(layers: Sequence[tuple[int, int]]) -> list[tuple[int, str]]:
    own_stride, jump = 1, 1
    for f, s in layers:
        jump *= s
        own_stride += (f - 1) * jump
    return [
        (sum(f for f, _ in layers), "the windows of neighbouring outputs overlap: each layer adds F - 1 to the field, not F"),
        (
            1 + sum(f - 1 for f, _ in layers),
            "the strides of the layers before a layer multiply how far its "
            "neighbouring inputs are apart: add (F - 1)·(product of earlier strides)",
        ),
        (own_stride, "a layer's own stride does not widen its window: multiply by the strides of the layers *before* it"),
        (int(np.prod([f for f, _ in layers])), "the sizes add up (with overlaps), they do not multiply"),
    ]


def check_receptive_field(fn: Callable[[Sequence[tuple[int, int]]], int], cases: Sequence | None = None) -> None:
    """fn([(F1, S1), (F2, S2), ...]) must return how many input pixels (per side) one output sees."""
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "receptive_field")
    cases = RF_CASES if cases is None else cases
    for layers in cases:
        case = f"layers (F, S) = {list(layers)}"
        got = _call(owner, fn, (list(layers),), case, KERNELS["shapes"])
        expected = _shapes.receptive_field(layers)
        if got != expected:
            hint = next(
                (h for v, h in _rf_mistakes(layers) if v == got),
                "start at r = 1 and add (F - 1)·(product of the strides before the layer) per layer",
            )
            raise CheckFailure(owner, "wrong receptive field", case=case, expected=expected, got=got, hint=hint)
    _done(f"{owner}: right for {len(cases)} stacks")


def check_receptive_field_answer(name: str, answer: int, layers: Sequence[tuple[int, int]]) -> None:
    """A receptive-field number the student worked out for ``layers``; the right value is not shown."""
    __tracebackhide__ = True
    case = f"layers (F, S) = {list(layers)}"
    _check_number(
        name,
        answer,
        _shapes.receptive_field(layers),
        _rf_mistakes(layers),
        case,
        hint="draw one output and the inputs it sees, layer by layer, on a line of squares",
    )
    _done(f"{name}: right")


# ---------------------------------------------------------------- HW2: convolution


def _conv_case(
    rng: np.random.Generator,
    n: int,
    d: int,
    h: int,
    w: int,
    k: int,
    f: int,
    s: int,
    p: int,
    dtype=np.float64,
    transposed: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Random x (N, D, H, W), filters, bias for one case; transposed: filters (D, K, F, F), PyTorch's
    ConvTranspose2d layout, instead of (K, D, F, F)."""
    x = rng.standard_normal((n, d, h, w)).astype(dtype)
    wt = rng.standard_normal((d, k, f, f) if transposed else (k, d, f, f)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    return x, wt, b, s, p


# (N, D, H, W, K, F, S, P): the lecture's 7×7 examples first, then depth, batch, non-square.
CONV_CASES = [
    (1, 1, 7, 7, 1, 3, 1, 0),
    (1, 1, 7, 7, 1, 3, 2, 0),
    (1, 1, 7, 7, 1, 3, 1, 1),
    (2, 3, 5, 5, 4, 3, 1, 1),
    (2, 3, 7, 9, 2, 3, 2, 1),
]


def _conv_inputs(cases: Sequence[tuple] | None, seed: int) -> list[tuple]:
    rng = _rng(seed)
    return [_conv_case(rng, *c) for c in (CONV_CASES if cases is None else cases)]


def _conv_shape_hint(x: np.ndarray, w: np.ndarray, s: int, p: int, exp: tuple, got: tuple) -> str | None:
    n, d, h, wd = x.shape
    k, _, f, _ = w.shape
    if len(got) != 4:
        return "return a 4-D array (N, K, H2, W2): one activation map per filter for each image"
    if got[0] != n:
        return "the first axis is the batch: one output per image of x"
    if got[1] != k:
        return f"the second axis has one activation map per filter: K={k} (the input depth D={d} is summed over)"
    if got[2:] == exp[2:][::-1]:
        return "height and width are swapped: arrays are (N, K, H2, W2)"
    pairs = zip(_size_mistakes(h, f, s, p), _size_mistakes(wd, f, s, p))
    for (vh, hint), (vw, _) in pairs:
        if (vh, vw) == got[2:]:
            return f"output is {_hw(got[2:])} but should be {_hw(exp[2:])}: {hint}"
    return f"output is {_hw(got[2:])} but should be {_hw(exp[2:])}: H2 = (H + 2P - F)/S + 1"


def _conv_mistakes(x, w, b, s, p) -> list[tuple[Callable[[], np.ndarray], str]]:
    ref = _fn.conv2d_naive
    n, _, h, wd = x.shape
    k, d, f, _ = w.shape
    h2, w2 = _shapes.output_size(h, f, s, p), _shapes.output_size(wd, f, s, p)
    return [
        (
            lambda: ref(x, w[:, :, ::-1, ::-1], b, s, p),
            "you flipped the filter (the textbook 'convolution'): CNN layers compute a cross-correlation, "
            "window * w[k] with w as it is",
        ),
        (lambda: ref(x, w, np.zeros_like(b), s, p), "the bias is missing: add b[k] to every output of filter k"),
        (lambda: ref(x, w, np.zeros_like(b), s, p) + b.sum(), "each filter k adds only its own bias b[k]"),
        (
            lambda: ref(x[:, :1], w[:, :1], b, s, p) if d > 1 else None,
            "only the first input channel is used: a filter spans the full depth D, sum over all channels",
        ),
        (
            lambda: ref(x, w, b, 1, p)[:, :, :h2, :w2] if s > 1 else None,
            "the output has the right size but the window moved 1 pixel per output: start output (r, c)'s "
            "window at row r*S, column c*S",
        ),
        (
            lambda: ref(np.pad(x, ((0, 0), (0, 0), (2 * p, 0), (2 * p, 0))), w, b, s, 0) if p else None,
            "the padding is all on one side: pad P zeros on each side (top and bottom, left and right)",
        ),
        (
            lambda: np.stack([ref(x[i : i + 1], w, b, s, p)[0] for i in [0] * n]) if n > 1 else None,
            "every image got the first image's output: loop over the batch and use x[i]",
        ),
    ]


def _same_conv_output(owner: str, expected: np.ndarray, got: np.ndarray, inputs: tuple, case: str) -> None:
    """CheckFailure unless ``got`` is conv2d_naive's output ``expected`` for ``inputs`` (x, w, b, s, p)."""
    __tracebackhide__ = True
    x, w, b, s, p = inputs
    if got.shape != expected.shape:
        raise CheckFailure(
            owner,
            "wrong output shape",
            case=case,
            expected=expected.shape,
            got=got.shape,
            hint=_conv_shape_hint(x, w, s, p, expected.shape, got.shape),
        )
    if not _close(expected, got):
        hint = _match_mistake(got, _conv_mistakes(x, w, b, s, p))
        raise CheckFailure(
            owner,
            "wrong values",
            case=case,
            expected="cnn_core.conv2d_naive(x, w, b, stride, padding)",
            got=_first_difference(expected, got),
            hint=hint
            or "out[n, k, r, c] = sum(xp[n, :, r*S:r*S+F, c*S:c*S+F] * w[k]) + b[k], xp = x zero-padded by P on each side",
        )


def check_conv_forward(fn: Callable, cases: Sequence[tuple] | None = None, seed: int = 0) -> None:
    """fn(x, w, b, stride, padding) -> out, compared with cnn_core.conv2d_naive.

    cases: (N, D, H, W, K, F, S, P) tuples (random data, seeded).
    """
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "conv_forward")
    inputs = _conv_inputs(cases, seed)
    worst = 0.0
    for x, w, b, s, p in inputs:
        case = _describe(x=x, w=w, b=b, stride=s, padding=p)
        expected = _fn.conv2d_naive(x, w, b, s, p)
        copies = {"x": x.copy(), "w": w.copy(), "b": b.copy()}
        got = _as_array(owner, _call(owner, fn, (x, w, b, s, p), case, KERNELS["conv"]), "output", case)
        _unchanged(owner, copies, {"x": x, "w": w, "b": b}, case)
        _same_conv_output(owner, expected, got, (x, w, b, s, p), case)
        worst = max(worst, rel_error(expected, got))
    _done(f"{owner}: {len(inputs)} cases match cnn_core.conv2d_naive (largest rel. error {worst:.1e})")


def _conv_backward_reference(x, w, b, s, p, dout):
    dx, dw, db = _fn.conv2d_backward_naive(dout, x, w, s, p)
    return {"dx": dx, "dw": dw, "db": db}


def _overwrite_conv_backward(dout, x, w, s, p):
    """The '=' instead of '+=' mistake: each window's gradient overwrites the previous one."""
    n, _, h, wd = x.shape
    k, _, f, _ = w.shape
    _, _, h2, w2 = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(n):
        for j in range(k):
            for r in range(h2):
                for c in range(w2):
                    dxp[i, :, r * s : r * s + f, c * s : c * s + f] = dout[i, j, r, c] * w[j]
                    dw[j] = dout[i, j, r, c] * xp[i, :, r * s : r * s + f, c * s : c * s + f]
    return dxp[:, :, p : p + h, p : p + wd], dw


def _conv_backward_mistakes(name: str, x, w, b, s, p, dout, ref) -> list[tuple[Callable[[], np.ndarray], str]]:
    n = x.shape[0]
    if name == "dx":
        return [
            (
                lambda: _overwrite_conv_backward(dout, x, w, s, p)[0],
                "overlapping windows overwrote each other: add with += (dxp[...] += dout * w[k])",
            ),
            (
                lambda: _fn.conv2d_backward_naive(dout, x, w[:, :, ::-1, ::-1], s, p)[0],
                "you flipped the filter: dx gets dout[n, k, r, c] * w[k] added to the window's place",
            ),
            (lambda: np.zeros_like(x), "dx is all zeros: every window sends dout * w[k] back to where it came from"),
        ]
    if name == "dw":
        return [
            (
                lambda: _overwrite_conv_backward(dout, x, w, s, p)[1],
                "dw must add up the contributions of every position and image: use +=",
            ),
            (
                lambda: _conv_backward_reference(x[-1:], w, b, s, p, dout[-1:])["dw"] if n > 1 else None,
                "dw only holds the last image's contribution: add (+=) over the whole batch",
            ),
            (
                lambda: _conv_backward_reference(x, w, b, s, p, dout)["dw"][:, :, ::-1, ::-1],
                "dw is flipped: dw[k] += dout[n, k, r, c] * window (the window as it is)",
            ),
        ]
    return [
        (lambda: dout.sum(axis=(2, 3)) if n > 1 else None, "db must also sum over the batch: db[k] = dout[:, k].sum()"),
        (lambda: dout[:, :, 0, 0].sum(axis=0), "db sums dout over all positions (r, c), not only the first"),
        (lambda: dout.mean(axis=(0, 2, 3)), "db is a sum, not a mean: every output added b[k] once"),
    ]


def check_conv_backward(fn: Callable, cases: Sequence[tuple] | None = None, seed: int = 1) -> None:
    """fn(dout, x, w, stride, padding) -> (dx, dw, db), compared with cnn_core.conv2d_backward_naive
    and with numerical gradients of L = sum(conv(x, w, b) * dout)."""
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "conv_backward")
    rng = _rng(seed)
    inputs = _conv_inputs(cases, seed)
    report = {"dx": 0.0, "dw": 0.0, "db": 0.0}
    for x, w, b, s, p in inputs:
        out = _fn.conv2d_naive(x, w, b, s, p)
        dout = rng.standard_normal(out.shape)
        case = _describe(dout=dout, x=x, w=w, stride=s, padding=p)
        ref = _conv_backward_reference(x, w, b, s, p, dout)
        copies = {"dout": dout.copy(), "x": x.copy(), "w": w.copy()}
        got = _call(owner, fn, (dout, x, w, s, p), case, KERNELS["conv"])
        _unchanged(owner, copies, {"dout": dout, "x": x, "w": w}, case)
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise CheckFailure(
                owner,
                f"returned {type(got).__name__}, not the three gradients",
                case=case,
                expected="a tuple (dx, dw, db)",
                hint="return dx, dw, db",
            )
        for name, value in zip(("dx", "dw", "db"), got):
            value = _as_array(owner, value, name, case)
            exp = ref[name]
            if value.shape != exp.shape:
                hint = None
                if name == "dx" and value.shape == _fn.pad(x, p).shape:
                    hint = f"dx has the padded shape {value.shape}: cut the padding off, dx = dxp[:, :, P:P+H, P:P+W]"
                elif name == "db":
                    hint = "db has one number per filter: sum dout over the batch and all positions"
                elif name == "dw":
                    hint = "dw has the shape of w: (K, D, F, F)"
                raise CheckFailure(
                    owner,
                    f"{name} has the wrong shape",
                    case=case,
                    expected=exp.shape,
                    got=value.shape,
                    hint=hint or f"{name} has the shape of { {'dx': 'x', 'dw': 'w', 'db': 'b'}[name] }",
                )
            if not _close(exp, value):
                hint = _match_mistake(value, _conv_backward_mistakes(name, x, w, b, s, p, dout, ref))
                raise CheckFailure(
                    owner,
                    f"wrong {name}",
                    case=case,
                    expected="cnn_core.conv2d_backward_naive(dout, x, w, stride, padding)",
                    got=_first_difference(exp, value, name),
                    hint=hint,
                )
    # the numerical check on the first multi-channel case (central differences, as the student does)
    x, w, b, s, p = inputs[-1]
    dout = rng.standard_normal(_fn.conv2d_naive(x, w, b, s, p).shape)
    dx, dw, db = _call(owner, fn, (dout, x, w, s, p), "numerical check", KERNELS["conv"])
    loss = lambda: float(np.sum(_fn.conv2d_forward(x, w, b, s, p)[0] * dout))  # noqa: E731
    for name, value, arr in (("dx", dx, x), ("dw", dw, w), ("db", db, b)):
        # the loss is linear in each array, so a large step h has no truncation error and less rounding
        report[name] = rel_error(value, numerical_gradient(loss, arr, h=1e-3))
    summary = ", ".join(f"{k} {v:.1e}" for k, v in report.items())
    _done(
        f"{owner}: {len(inputs)} cases match cnn_core; rel. error to numerical gradients: {summary} "
        f"({gradient_verdict(max(report.values())).split(' (')[0]})"
    )


def _cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its children that have ended."""
    seconds = time.process_time()
    if resource is not None:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds += children.ru_utime + children.ru_stime
    return seconds


def _timed(fn: Callable, args: tuple) -> tuple[float, Any]:
    """(seconds, fn(*args)): the call's CPU time, so other programs on a busy machine (or a
    classmate's sandbox beside this one) do not count. A function the grader runs in the student's
    sandbox reports the sandbox's CPU time for the call as ``fn.cpu_seconds`` (measured outside it);
    where that could not be read, its wall-clock time is what is left."""
    enabled = gc.isenabled()
    gc.disable()  # as timeit does: a collection of the checker's garbage is not the student's time
    try:
        cpu, wall = _cpu_seconds(), time.perf_counter()
        result = fn(*args)
        cpu, wall = _cpu_seconds() - cpu, time.perf_counter() - wall
    finally:
        if enabled:
            gc.enable()
    if not hasattr(fn, "cpu_seconds"):
        return cpu, result
    return (wall if fn.cpu_seconds is None else fn.cpu_seconds), result


def check_conv_fast(
    fn: Callable, cases: Sequence[tuple] | None = None, seed: int = 2, min_speedup: float = 5.0, rounds: int = 5
) -> None:
    """fn(x, w, b, stride, padding) must match the reference and run ``min_speedup`` times faster
    than cnn_core's naive loops on a batch of 4 images of 3×16×16 with 8 3×3 filters, in CPU time
    (best of up to ``rounds``, so a busy machine does not fail a fast version). Every timed call gets
    fresh numbers and its output is compared with the reference: speed counts only for the right
    answer, and a remembered answer is wrong."""
    __tracebackhide__ = True
    check_conv_forward(fn, cases, seed)
    owner = getattr(fn, "__name__", "conv_forward_fast")
    rng = _rng(seed)
    naive = fast = np.inf
    for _ in range(rounds):
        x, w, b, s, p = _conv_case(rng, 4, 3, 16, 16, 8, 3, 1, 1)
        case = _describe(x=x, w=w, b=b, stride=s, padding=p) + " (the speed test)"
        seconds, expected = _timed(_fn.conv2d_naive, (x, w, b, s, p))
        naive = min(naive, seconds)
        with _student_errors(owner, case), no_reference(KERNELS["conv"], owner, getattr(fn, "__globals__", None)):
            seconds, got = _timed(fn, (x, w, b, s, p))
        _same_conv_output(owner, expected, _as_array(owner, got, "output", case), (x, w, b, s, p), case)
        fast = min(fast, max(seconds, 1e-9))
        if fast * min_speedup <= naive:
            break
    if fast * min_speedup > naive:
        raise CheckFailure(
            owner,
            f"is only {naive / fast:.1f}× faster than the naive loops",
            case=case,
            expected=f"at least {min_speedup:g}× faster ({naive * 1e3:.0f} ms / {min_speedup:g})",
            got=f"{fast * 1e3:.1f} ms",
            hint="remove the loops over images and positions: gather all windows at once "
            "(numpy.lib.stride_tricks.sliding_window_view, or a loop over the F·F "
            "kernel offsets only) and do one matrix product with w.reshape(K, -1)",
        )
    _done(f"{owner}: {naive / fast:.0f}× faster than the naive loops ({fast * 1e3:.2f} ms vs {naive * 1e3:.0f} ms of CPU time)")


def check_gradient_errors(
    errors: Mapping[str, float],
    names: Sequence[str] = ("dx", "dw", "db"),
    threshold: float = 1e-5,
    measure: Callable[[], Mapping[str, float]] | None = None,
) -> None:
    """The student's own gradient check: errors[name] = rel_error(analytic, numerical) for each name.

    ``measure()`` repeats the same gradient check with the student's functions; the reported numbers
    must agree with it within a factor of 10 (so typed-in numbers do not pass) and the measured
    errors must be below ``threshold``."""
    __tracebackhide__ = True
    owner = "errors"
    if not isinstance(errors, Mapping):
        raise CheckFailure(
            owner,
            f"must be a dict {{name: relative error}}, got {type(errors).__name__}",
            hint=f"errors = {{'{names[0]}': rel_error(...), ...}}",
        )
    if not errors:
        raise CheckFailure(
            owner,
            "is empty",
            expected=f"relative errors for {list(names)}",
            hint="the gradient-check cell above did not run to the end (see its error) or is not written yet",
        )
    missing = [n for n in names if n not in errors]
    if missing:
        raise CheckFailure(owner, f"has no entry for {missing}", expected=list(names), got=list(errors))
    for name in names:
        err = errors[name]
        if not isinstance(err, numbers.Real):
            raise CheckFailure(
                owner, f"{name} is {type(err).__name__} {err!r}, not a number", hint="rel_error(a, b) returns a float"
            )
        if float(err) == 0.0:
            raise CheckFailure(
                owner,
                f"{name} is exactly 0",
                got=0.0,
                hint="an analytic and a numerical gradient never agree to the last bit: did you "
                "compare an array with itself? Compare your backward with "
                "numerical_gradient(loss, array)",
            )
    measured = dict(measure()) if measure is not None else {n: float(errors[n]) for n in names}
    lines = []
    for name in names:
        err, real = float(errors[name]), float(measured[name])
        if measure is not None and not (
            np.isfinite(err) and np.isfinite(real) and real > 0 and abs(np.log10(err) - np.log10(real)) <= 1.0
        ):
            raise CheckFailure(
                owner,
                f"{name}: the reported error {err:.1e} is not what your functions give",
                expected=f"about {real:.1e} (the same gradient check, run again on your forward and backward)",
                got=f"{err:.1e}",
                hint="fill errors with the rel_error values your code computes; do not type "
                "numbers in, and run the cells above again after changing your functions",
            )
        if not real < threshold:
            raise CheckFailure(
                owner,
                f"{name}: relative error {real:.1e} is {gradient_verdict(real)}",
                expected=f"< {threshold:g}",
                got=f"{real:.1e}",
                hint="your backward (or the loss you differentiate) is wrong: the loss must be "
                "sum(forward(...) * dout) with the same dout you pass to backward",
            )
        lines.append(f"{name} {real:.1e}")
    worst = max(float(measured[n]) for n in names)
    _done(
        f"gradient check: {', '.join(lines)} ({gradient_verdict(worst).split(' (')[0]})"
        + (", re-measured" if measure is not None else "")
    )


def conv_gradient_errors(
    forward: Callable,
    backward: Callable,
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    dout: np.ndarray,
    stride: int,
    padding: int,
) -> dict[str, float]:
    """rel_error of backward's (dx, dw, db) against numerical gradients of sum(forward(...) * dout),
    the gradient check of homework 2, computed with the given (the student's) functions."""
    __tracebackhide__ = True
    x, w, b = x.copy(), w.copy(), b.copy()
    case = _describe(x=x, w=w, stride=stride, padding=padding)
    owner = getattr(forward, "__name__", "forward")

    def loss() -> float:
        return float(np.sum(_as_array(owner, _call(owner, forward, (x, w, b, stride, padding), case), "out", case) * dout))

    grads = _call(getattr(backward, "__name__", "backward"), backward, (dout, x, w, stride, padding), case)
    if not (isinstance(grads, (tuple, list)) and len(grads) == 3):
        raise CheckFailure("backward", "must return (dx, dw, db)", case=case, got=type(grads).__name__)
    return {
        name: rel_error(np.asarray(g, dtype=float), numerical_gradient(loss, arr))
        for name, g, arr in zip(("dx", "dw", "db"), grads, (x, w, b))
    }


def pool_gradient_errors(
    relu_forward: Callable,
    relu_backward: Callable,
    pool_forward: Callable,
    pool_backward: Callable,
    x: np.ndarray,
    dout_relu: np.ndarray,
    dout_pool: np.ndarray,
) -> dict[str, float]:
    """The gradient check of homework 3 (ReLU and 2×2/stride-2 max, avg and L2 pooling) with the given
    (the student's) functions."""
    __tracebackhide__ = True
    x = x.copy()
    case = _describe(x=x)
    errors = {
        "relu": rel_error(
            np.asarray(_call("relu_backward", relu_backward, (dout_relu, x), case), dtype=float),
            numerical_gradient(lambda: float(np.sum(np.asarray(_call("relu_forward", relu_forward, (x,), case)) * dout_relu)), x),
        )
    }
    for mode in MODES:

        def loss() -> float:
            out = _call("pool_forward", pool_forward, (x, 2, 2, mode), case)
            return float(np.sum(_as_array("pool_forward", out, "out", case) * dout_pool))

        analytic = _call("pool_backward", pool_backward, (dout_pool, x, 2, 2, mode), case)
        errors[mode] = rel_error(np.asarray(analytic, dtype=float), numerical_gradient(loss, x))
    return errors


# ---------------------------------------------------------------- HW3: ReLU and pooling

RELU_SHAPES = [(2, 3, 4, 4), (5, 7), (1, 1, 3, 3)]


def check_relu_forward(fn: Callable[[np.ndarray], np.ndarray], seed: int = 3) -> None:
    """fn(x) must return max(0, x) elementwise, as a new array."""
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "relu_forward")
    rng = _rng(seed)
    for shape in RELU_SHAPES:
        x = rng.standard_normal(shape)
        x.flat[0] = 0.0
        case = _describe(x=x)
        x0 = x.copy()
        got = _as_array(owner, _call(owner, fn, (x,), case), "output", case)
        _unchanged(owner, {"x": x0}, {"x": x}, case)
        exp = np.maximum(x0, 0)
        if got.shape != exp.shape:
            raise CheckFailure(
                owner,
                "wrong shape",
                case=case,
                expected=exp.shape,
                got=got.shape,
                hint="ReLU works elementwise: the output has the shape of x",
            )
        if not _close(exp, got):
            hint = _match_mistake(
                got,
                [
                    (lambda: np.abs(x0), "negative inputs must become 0, not |x|"),
                    (lambda: np.minimum(x0, 0), "keep the positive part: max(0, x)"),
                    (lambda: (x0 > 0).astype(float), "return the values max(0, x), not the mask"),
                ],
            )
            raise CheckFailure(
                owner, "wrong values", case=case, expected="np.maximum(x, 0)", got=_first_difference(exp, got), hint=hint
            )
    _done(f"{owner}: right on {len(RELU_SHAPES)} arrays")


def check_relu_backward(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], seed: int = 4) -> None:
    """fn(dout, x) must return dout where x > 0 and 0 elsewhere."""
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "relu_backward")
    rng = _rng(seed)
    for shape in RELU_SHAPES:
        x, dout = rng.standard_normal(shape), rng.standard_normal(shape)
        case = _describe(dout=dout, x=x)
        x0, d0 = x.copy(), dout.copy()
        got = _as_array(owner, _call(owner, fn, (dout, x), case), "dx", case)
        _unchanged(owner, {"dout": d0, "x": x0}, {"dout": dout, "x": x}, case)
        exp = d0 * (x0 > 0)
        if got.shape != exp.shape:
            raise CheckFailure(owner, "wrong shape", case=case, expected=exp.shape, got=got.shape, hint="dx has the shape of x")
        if not _close(exp, got):
            hint = _match_mistake(
                got,
                [
                    (lambda: d0, "the gradient also flowed where x <= 0: ReLU's slope is 0 there, so dx = dout * (x > 0)"),
                    (lambda: d0 * (d0 > 0), "mask by the input x (where the ReLU was open), not by dout"),
                    (lambda: (x0 > 0).astype(float), "multiply the mask by dout (chain rule): dx = dout * (x > 0)"),
                    (lambda: np.maximum(x0, 0), "that is the forward pass; the backward pass returns dout * (x > 0)"),
                ],
            )
            raise CheckFailure(
                owner, "wrong gradient", case=case, expected="dout * (x > 0)", got=_first_difference(exp, got, "dx"), hint=hint
            )
    _done(f"{owner}: right on {len(RELU_SHAPES)} arrays")


# (N, D, H, W, F, S): the lecture's 2×2 stride 2 first, then overlapping windows and a non-square input.
POOL_CASES = [(1, 1, 4, 4, 2, 2), (2, 3, 6, 6, 2, 2), (2, 2, 7, 7, 3, 2), (1, 2, 6, 9, 3, 3)]
MODES = ("max", "avg", "l2")


def _pool_inputs(cases, seed):
    rng = _rng(seed)
    out = []
    for n, d, h, w, f, s in POOL_CASES if cases is None else cases:
        # distinct values: no ties for max pooling, and away from 0 for L2's kink
        x = rng.permutation(n * d * h * w).reshape(n, d, h, w) / (n * d * h * w) - 0.5
        x = x + rng.standard_normal(x.shape) * 1e-3
        out.append((x, f, s))
    return out


def _pool_forward_mistakes(x, f, s, mode):
    ref = _fn.pool2d_naive
    hints = {
        "max": [
            (lambda: ref(x, f, s, "avg"), "that is average pooling: max pooling keeps the largest value"),
            (lambda: -ref(-x, f, s, "max"), "that is the smallest value of each window: use max"),
        ],
        "avg": [
            (lambda: ref(x, f, s, "avg") * f * f, f"that is the window's sum: divide by the F·F = {f * f} values"),
            (lambda: ref(x, f, s, "avg") * f, f"divide by the number of values F·F = {f * f}, not by F"),
            (lambda: ref(x, f, s, "max"), "that is max pooling: average pooling takes the mean"),
        ],
        "l2": [
            (lambda: ref(x, f, s, "l2") ** 2, "take the square root: L2 = sqrt(sum of squares)"),
            (lambda: np.sqrt(ref(x, f, s, "l2") ** 2 / (f * f)), "the L2 norm sums the squares, it does not average them"),
            (lambda: ref(np.abs(x), f, s, "avg") * f * f, "square the values before adding: sqrt(sum x^2)"),
        ],
    }[mode]
    return hints + [
        (
            lambda: ref(x, f, 1, mode)[:, :, : (x.shape[2] - f) // s + 1, : (x.shape[3] - f) // s + 1],
            "the windows moved 1 pixel per output: start output (r, c)'s window at r*S, c*S",
        )
    ]


def check_pool_forward(fn: Callable, modes: Sequence[str] = MODES, cases: Sequence[tuple] | None = None, seed: int = 5) -> None:
    """fn(x, pool_size, stride, mode) for mode in modes, compared with cnn_core.pool2d_naive.

    cases: (N, D, H, W, F, S) tuples.
    """
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "pool_forward")
    inputs = _pool_inputs(cases, seed)
    for mode in modes:
        for x, f, s in inputs:
            case = _describe(x=x, pool_size=f, stride=s, mode=mode)
            exp = _fn.pool2d_naive(x, f, s, mode)
            x0 = x.copy()
            got = _as_array(owner, _call(owner, fn, (x, f, s, mode), case, KERNELS["pool"]), "output", case)
            _unchanged(owner, {"x": x0}, {"x": x}, case)
            if got.shape != exp.shape:
                hint = None
                if got.ndim == 4 and got.shape[1] != exp.shape[1]:
                    hint = "pooling works on each activation map on its own: the depth D stays the same"
                elif got.ndim == 4:
                    h, w = x.shape[2:]
                    for (vh, sh), (vw, _) in zip(_size_mistakes(h, f, s, 0), _size_mistakes(w, f, s, 0)):
                        if (vh, vw) == got.shape[2:]:
                            hint = f"output is {_hw(got.shape[2:])} but should be {_hw(exp.shape[2:])}: {sh}"
                            break
                raise CheckFailure(
                    owner,
                    "wrong output shape",
                    case=case,
                    expected=exp.shape,
                    got=got.shape,
                    hint=hint or "H2 = (H - F)/S + 1, and N, D stay the same",
                )
            if not _close(exp, got):
                hint = _match_mistake(got, _pool_forward_mistakes(x, f, s, mode))
                raise CheckFailure(
                    owner,
                    f"wrong values for mode={mode!r}",
                    case=case,
                    expected=f"cnn_core.pool2d_naive(x, {f}, {s}, {mode!r})",
                    got=_first_difference(exp, got),
                    hint=hint,
                )
    _done(f"{owner}: {', '.join(modes)} pooling match cnn_core on {len(inputs)} cases each")


def _pool_backward_mistakes(dout, x, f, s, mode):
    ref = _fn.pool2d_backward_naive
    every = lambda: ref(dout, x, f, s, "avg") * f * f  # noqa: E731 - dout copied to every position
    hints = {
        "max": [
            (
                every,
                f"max-pool gradient went to all {f * f} positions of a window: it belongs only to "
                "the position of the max (the other inputs did not affect the output)",
            ),
            (
                lambda: ref(dout, x, f, s, "avg"),
                "that is the average-pool gradient: max pooling sends dout only to the position of the window's max",
            ),
            (lambda: ref(dout, -x, f, s, "max"), "the gradient went to the smallest value: use argmax"),
        ],
        "avg": [
            (
                every,
                f"the gradient is F·F = {f * f} times too large: each input is 1/{f * f} of the "
                f"average, so it gets dout / {f * f}",
            ),
            (lambda: ref(dout, x, f, s, "avg") * f, f"divide by the F·F = {f * f} values, not by F"),
            (
                lambda: ref(dout, x, f, s, "max"),
                "that is the max-pool gradient: the average depends on every input of the window equally",
            ),
        ],
        "l2": [
            (
                lambda: _l2_variant(dout, x, f, s, power=0),
                "d sqrt(sum x^2) / dx_i = x_i / sqrt(sum x^2): divide by the window's norm",
            ),
            (lambda: _l2_variant(dout, x, f, s, power=2), "divide by the norm itself, not its square"),
            (lambda: 2 * ref(dout, x, f, s, "l2"), "the 2 of x^2 cancels the 1/2 of the square root"),
        ],
    }[mode]
    overlap = (
        [
            (
                lambda: _overwrite_pool_backward(dout, x, f, s, mode),
                "windows overlap here (stride < pool size): add with += so an input in two windows gets both gradients",
            )
        ]
        if s < f
        else []
    )
    return hints + overlap


def _l2_variant(dout, x, f, s, power):
    dx = np.zeros_like(x)
    n, d, h2, w2 = dout.shape
    for i, ch, r, c in np.ndindex(n, d, h2, w2):
        win = x[i, ch, r * s : r * s + f, c * s : c * s + f]
        dx[i, ch, r * s : r * s + f, c * s : c * s + f] += dout[i, ch, r, c] * win / np.sqrt(np.sum(win * win)) ** power
    return dx


def _overwrite_pool_backward(dout, x, f, s, mode):
    dx = np.zeros_like(x)
    n, d, h2, w2 = dout.shape
    for i, ch, r, c in np.ndindex(n, d, h2, w2):
        local = _POOL_BACKWARD(
            dout[i : i + 1, ch : ch + 1, r : r + 1, c : c + 1],
            x[i : i + 1, ch : ch + 1, r * s : r * s + f, c * s : c * s + f],
            f,
            f,
            mode,
        )
        dx[i, ch, r * s : r * s + f, c * s : c * s + f] = local[0, 0]
    return dx


def check_pool_backward(fn: Callable, modes: Sequence[str] = MODES, cases: Sequence[tuple] | None = None, seed: int = 6) -> None:
    """fn(dout, x, pool_size, stride, mode) -> dx for mode in modes, compared with
    cnn_core.pool2d_backward_naive and with numerical gradients."""
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "pool_backward")
    rng = _rng(seed)
    inputs = _pool_inputs(cases, seed)
    report = {}
    for mode in modes:
        for x, f, s in inputs:
            dout = rng.standard_normal(_fn.pool2d_naive(x, f, s, mode).shape)
            case = _describe(dout=dout, x=x, pool_size=f, stride=s, mode=mode)
            exp = _fn.pool2d_backward_naive(dout, x, f, s, mode)
            copies = {"dout": dout.copy(), "x": x.copy()}
            got = _as_array(owner, _call(owner, fn, (dout, x, f, s, mode), case, KERNELS["pool"]), "dx", case)
            _unchanged(owner, copies, {"dout": dout, "x": x}, case)
            if got.shape != exp.shape:
                raise CheckFailure(
                    owner,
                    "wrong shape of dx",
                    case=case,
                    expected=exp.shape,
                    got=got.shape,
                    hint="dx has the shape of x (the pooling input), not of dout",
                )
            if not _close(exp, got):
                hint = _match_mistake(got, _pool_backward_mistakes(dout, x, f, s, mode))
                raise CheckFailure(
                    owner,
                    f"wrong gradient for mode={mode!r}",
                    case=case,
                    expected=f"cnn_core.pool2d_backward_naive(dout, x, {f}, {s}, {mode!r})",
                    got=_first_difference(exp, got, "dx"),
                    hint=hint,
                )
        x, f, s = inputs[-1]
        dout = rng.standard_normal(_fn.pool2d_naive(x, f, s, mode).shape)
        got = _call(owner, fn, (dout, x, f, s, mode), "numerical check", KERNELS["pool"])
        loss = lambda: float(np.sum(_fn.pool2d_naive(x, f, s, mode) * dout))  # noqa: E731
        report[mode] = rel_error(got, numerical_gradient(loss, x))
    summary = ", ".join(f"{m} {e:.1e}" for m, e in report.items())
    _done(f"{owner}: {', '.join(modes)} match cnn_core; rel. error to numerical gradients: {summary}")


# ---------------------------------------------------------------- HW4: training a CNN


def check_digits_model(model: Any, input_shape: Sequence[int] = (1, 8, 8), n_classes: int = 10, max_params: int = 50_000) -> None:
    """A cnn_core Sequential with at least one Conv2D that maps a digit (1, 8, 8) to 10 class scores."""
    __tracebackhide__ = True
    from cnn_core.layers import Conv2D, Linear, ReLU, Sigmoid
    from cnn_core.model import Sequential

    owner = "model"
    if not isinstance(model, Sequential):
        raise CheckFailure(
            owner,
            f"is not a cnn_core Sequential but {_what(model)}",
            hint="model = Sequential([Conv2D(1, 8, 3, padding=1), ReLU(), ...])",
        )
    if not any(isinstance(layer, Conv2D) for layer in model.layers):
        raise CheckFailure(owner, "has no Conv2D layer", hint="this is a CNN: start with Conv2D(1, K, F, ...)")
    try:
        shape = model.output_shape(tuple(input_shape))
    except ValueError as err:
        raise CheckFailure(
            owner,
            f"cannot take a digit of shape {tuple(input_shape)}: {err}",
            hint="print model.summary((1, 8, 8)) to see where the shapes stop fitting",
        ) from None
    if tuple(shape) != (n_classes,):
        raise CheckFailure(
            owner,
            "wrong output shape for one digit",
            expected=(n_classes,),
            got=tuple(shape),
            hint="end with Flatten() and Linear(..., 10): one score per digit class",
        )
    if isinstance(model.layers[-1], (ReLU, Sigmoid)):
        raise CheckFailure(
            owner,
            f"ends with {type(model.layers[-1]).__name__}",
            hint="the last layer gives the class scores (logits): end with Linear; the softmax is part of the loss",
        )
    if not isinstance(model.layers[-1], Linear):
        raise CheckFailure(
            owner,
            f"ends with {type(model.layers[-1]).__name__}, not Linear",
            hint="[[Conv → ReLU]*N → Pool?]*M → [FC → ReLU]*Q → FC: the last layer is FC",
        )
    n = model.num_params()
    if n > max_params:
        raise CheckFailure(
            owner,
            f"has {n:,} parameters",
            expected=f"at most {max_params:,}",
            hint="fewer filters: the digits are only 8×8, and training must stay under 30 s",
        )
    _done(f"model: {len(model.layers)} layers, {n:,} parameters, (1, 8, 8) -> ({n_classes},)")


def check_training(history: Mapping[str, list], max_seconds: float = 30.0) -> None:
    """fit's history with test accuracy per epoch, trained within the time budget. The budget counts
    all the notebook's work up to this check, wherever the training happened: when graded, the
    grader's clock on every cell of the student's before this check (not the history's own claim);
    in Jupyter, every cell run after the set-up cell."""
    __tracebackhide__ = True
    owner = "history"
    if not isinstance(history, Mapping) or "loss" not in history:
        raise CheckFailure(
            owner,
            f"is {type(history).__name__}, not the dict that fit returns",
            hint="history = fit(model, X_train, y_train, ..., validation=(X_test, y_test))",
        )
    if "val_accuracy" not in history:
        raise CheckFailure(
            owner,
            "has no test accuracy per epoch",
            got=sorted(history),
            hint="pass validation=(X_test, y_test) to fit so the curves show test accuracy",
        )
    if not np.all(np.isfinite(history["loss"])):
        raise CheckFailure(
            owner, "the training loss became nan or inf", hint="the learning rate is too large: try lr=0.05 (or smaller)"
        )
    fit_seconds = float(np.sum(history.get("seconds", [0.0])))
    if "cell_seconds" in _GRADING:
        cells = float(sum(_GRADING["cell_seconds"].values()))
        where = "your cells before this check (the grader's clock)"
    elif _CLOCK.running:
        cells = _CLOCK.seconds
        where = f"the {_CLOCK.cells} cells run since the set-up cell"
    else:
        cells, where = 0.0, "fit"
    seconds = max(fit_seconds, cells)
    if seconds > max_seconds:
        raise CheckFailure(
            owner,
            f"training took {seconds:.0f} s: {where if cells >= fit_seconds else 'fit'} took that long",
            expected=f"at most {max_seconds:.0f} s from the set-up cell to this check, wherever the training happens",
            hint="fewer epochs or fewer filters, and train once, in the train cell: every cell before this check "
            "counts (in Jupyter, cells run again count again: Kernel → Restart & Run All to measure one clean run)",
        )
    _done(f"trained {len(history['loss'])} epochs; {seconds:.1f} s from the set-up cell to this check")


def check_accuracy(model: Any, X: np.ndarray, y: np.ndarray, target: float = 0.93) -> None:
    """The model's accuracy on (X, y) must reach ``target``."""
    __tracebackhide__ = True
    from cnn_core.layers import Layer
    from cnn_core.train import evaluate

    if not isinstance(model, Layer):
        raise CheckFailure(
            "model", f"is not a cnn_core model but {_what(model)}", hint="build and train the model in the cells above first"
        )
    try:
        loss, acc = evaluate(model, X, y)
    except Exception as err:  # noqa: BLE001
        raise CheckFailure(
            "model",
            f"cannot classify the digits: {type(err).__name__}: {err}",
            hint="print model.summary((1, 8, 8)) to see where the shapes stop fitting",
        ) from err
    if not np.isfinite(loss):
        raise CheckFailure("model", "gives nan/inf scores", hint="the learning rate was too large: lower it and retrain")
    if acc < target:
        raise CheckFailure(
            "model",
            "test accuracy below the target",
            expected=f">= {target}",
            got=f"{acc:.3f}",
            hint="train more epochs, or lower the learning rate if the loss jumps around "
            "(lr=0.05 with lr_decay=0.9 is a good start); more filters also help",
        )
    _done(f"test accuracy {acc:.3f} >= {target}")


def _lines(fig) -> list[np.ndarray]:
    return [np.asarray(line.get_ydata(), dtype=float) for ax in fig.axes for line in ax.get_lines()]


def _figure_from(owner: str, fig_or_fn: Any, arg: Any, check: Callable[[Any], None]) -> None:
    """Run ``check`` on a Figure, or on the Figure that the plot function ``fig_or_fn(arg)`` returns
    (closed afterwards, so a check cell does not show it a second time)."""
    __tracebackhide__ = True
    if not callable(fig_or_fn):
        check(fig_or_fn)
        return
    fig = _call(owner, fig_or_fn, (arg,), f"{owner}(...)")
    try:
        check(fig)
    finally:
        from matplotlib import pyplot as plt
        from matplotlib.figure import Figure

        if isinstance(fig, Figure):
            plt.close(fig)


def check_learning_curves(fig: Any, history: Mapping[str, list]) -> None:
    """A Figure (or a function history -> Figure) that plots the training loss and the test
    accuracy per epoch, with labelled axes."""
    __tracebackhide__ = True
    if not isinstance(history, Mapping) or "loss" not in history or "val_accuracy" not in history:
        raise CheckFailure(
            "history",
            "is not fit's history with validation",
            hint="first train with history = fit(..., validation=(X_test, y_test))",
        )
    _figure_from(getattr(fig, "__name__", "plot_learning_curves"), fig, history, lambda f: _check_learning_curves(f, history))


def _check_learning_curves(fig: Any, history: Mapping[str, list]) -> None:
    __tracebackhide__ = True
    from matplotlib.figure import Figure

    owner = "learning curves"
    if not isinstance(fig, Figure):
        raise CheckFailure(
            owner, f"is not a matplotlib Figure but {_what(fig)}", hint="fig, axes = plt.subplots(1, 2); ...; return fig"
        )
    lines = _lines(fig)
    for key, what in (("loss", "training loss"), ("val_accuracy", "test accuracy")):
        want = np.asarray(history[key], dtype=float)
        if not any(line.shape == want.shape and np.allclose(line, want) for line in lines):
            raise CheckFailure(
                owner,
                f"has no line showing the {what} per epoch",
                expected=f"a line with y = history[{key!r}] ({len(want)} points)",
                got=f"{len(lines)} line(s) of lengths {[len(v) for v in lines]}",
                hint=f"ax.plot(history['epoch'], history[{key!r}], label='{what}')",
            )
    for ax in fig.axes:
        if ax.get_lines():
            if not ax.get_xlabel():
                raise CheckFailure(owner, "an axes has no x label", hint="ax.set_xlabel('epoch')")
            if not (ax.get_ylabel() or ax.get_title()):
                raise CheckFailure(
                    owner,
                    "an axes has neither a y label nor a title",
                    hint="say what is plotted: ax.set_ylabel('loss') or ax.set_title(...)",
                )
            if len(ax.get_lines()) > 1 and ax.get_legend() is None:
                raise CheckFailure(
                    owner, "an axes with several lines has no legend", hint="give each line a label=... and call ax.legend()"
                )
    _done("learning curves: training loss and test accuracy plotted, axes labelled")


def _first_conv(model: Any, owner: str):
    from cnn_core.layers import Conv2D

    conv = next((layer for layer in getattr(model, "layers", []) if isinstance(layer, Conv2D)), None)
    if conv is None:
        raise CheckFailure(
            owner,
            "cannot be checked: the model has no Conv2D layer",
            got=f"model = {_what(model)}",
            hint="build and train the model in parts 1 and 2 first",
        )
    return conv


def check_filter_plot(fig: Any, model: Any) -> None:
    """A Figure (or a function weights -> Figure) showing every first-layer filter W[k, 0]
    (K filters of F×F) as an image; ``model`` is the trained model (or the weights W themselves)."""
    __tracebackhide__ = True
    weights = model if isinstance(model, np.ndarray) else _first_conv(model, "filter plot").params["W"]
    _figure_from(getattr(fig, "__name__", "plot_filters"), fig, weights, lambda f: _check_filter_plot(f, weights))


def _check_filter_plot(fig: Any, weights: np.ndarray) -> None:
    __tracebackhide__ = True
    from matplotlib.figure import Figure

    owner = "filter plot"
    if not isinstance(fig, Figure):
        raise CheckFailure(
            owner, f"is not a matplotlib Figure but {_what(fig)}", hint="fig, axes = plt.subplots(1, K); ...; return fig"
        )
    weights = np.asarray(weights)
    k, _, f, _ = weights.shape
    images = [np.asarray(im.get_array(), dtype=float) for ax in fig.axes for im in ax.get_images()]
    if len(images) < k:
        raise CheckFailure(
            owner,
            f"shows {len(images)} image(s)",
            expected=f"{k} (one per filter)",
            got=len(images),
            hint="one ax.imshow(W[k, 0]) per filter, e.g. in a 2×K/2 grid",
        )

    def same_pattern(a: np.ndarray, b: np.ndarray) -> bool:
        """Equal up to the offset and scale a colour map applies."""
        if a.shape != b.shape:
            return False
        a, b = a - a.mean(), b - b.mean()
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        if na < 1e-12 or nb < 1e-12:
            return bool(na < 1e-12 and nb < 1e-12)
        return bool(np.allclose(a / na, b / nb, atol=1e-6))

    for j in range(k):
        if not any(same_pattern(im, weights[j, 0]) for im in images):
            raise CheckFailure(
                owner,
                f"filter {j} of the first layer is not shown",
                expected=f"an image equal to W[{j}, 0] ({f}×{f})",
                got=f"images of shapes {sorted({im.shape for im in images})}",
                hint="plot the trained weights model.layers[0].params['W'][k, 0] after fit",
            )
    titled = fig.get_suptitle() or any(ax.get_title() for ax in fig.axes)
    if not titled:
        raise CheckFailure(owner, "has no title", hint="fig.suptitle('first-layer filters after training')")
    _done(f"filter plot: all {k} filters of {f}×{f} shown")


def check_first_layer_weights(answer: int, model: Any) -> None:
    """The number of weights (no biases) of the model's first Conv2D layer."""
    __tracebackhide__ = True
    if answer is None:
        raise CheckFailure("n_first_layer_weights", "has no answer yet", hint="set n_first_layer_weights = <a number>")
    conv = _first_conv(model, "n_first_layer_weights")
    k, d, f, _ = conv.params["W"].shape
    case = f"your first layer: {conv!r}"
    _check_number(
        "n_first_layer_weights",
        answer,
        k * d * f * f,
        [
            (k * (d * f * f + 1), "without the biases: only the entries of W"),
            (f * f * d, f"that is one filter; the layer has K={k}"),
            (f * f * k * 3, "the digits have depth D=1 (gray), not 3"),
        ],
        case,
        hint="K filters × D × F × F",
    )
    _done("n_first_layer_weights: right")


def check_choice(name: str, answer: Any, options: Mapping[str, str], correct: str | None = None, why: str | None = None) -> None:
    """A multiple-choice answer: one of ``options`` (public check); equal to ``correct`` (grading)."""
    __tracebackhide__ = True
    if answer is None:
        raise CheckFailure(name, "has no answer yet", hint=f"set {name} = one of {sorted(options)}")
    key = str(answer).strip().lower().strip("()")
    if key not in options:
        raise CheckFailure(name, f"{answer!r} is not one of the options", expected=sorted(options), got=repr(answer))
    if correct is not None and key != correct:
        raise CheckFailure(name, f"({key}) is not right", got=f"({key}) {options[key]}", hint=why)
    _done(f"{name}: answered ({key})" + (" correctly" if correct is not None else ""))


# ---------------------------------------------------------------- hw5: the transposed convolution

# (N, D, H, W, K, F, S, P) of the transposed convolution: x (N, D, H, W) -> (N, K, H_out, W_out),
# H_out = (H - 1)S - 2P + F. The chapter's 2x2 -> 5x5 first, then overlap, padding, depth, batch, non-square.
TRANSPOSE_CASES = [
    (1, 1, 2, 2, 1, 3, 2, 0),
    (1, 1, 3, 3, 1, 3, 1, 0),
    (1, 1, 3, 3, 1, 4, 2, 1),
    (2, 3, 3, 3, 2, 3, 2, 1),
    (2, 2, 2, 3, 3, 2, 3, 0),
]


def _transpose_inputs(cases: Sequence[tuple] | None, seed: int) -> list[tuple]:
    rng = _rng(seed)
    return [_conv_case(rng, *c, transposed=True) for c in (TRANSPOSE_CASES if cases is None else cases)]


def _transpose_mistakes(x, w, b, s, p) -> list[tuple[Callable[[], np.ndarray], str]]:
    ref = _fn.conv_transpose2d_naive
    d, k, f, _ = w.shape

    def overwrite() -> np.ndarray:  # '=' instead of '+=' where the paintings overlap
        n, _, h, wd = x.shape
        big = np.zeros((n, k, (h - 1) * s + f, (wd - 1) * s + f))
        for i, r, c in np.ndindex(n, h, wd):
            big[i, :, r * s : r * s + f, c * s : c * s + f] = np.einsum("d,dkij->kij", x[i, :, r, c], w)
        big = big[:, :, p : big.shape[2] - p, p : big.shape[3] - p]
        return big + b[None, :, None, None]

    return [
        (lambda: ref(x, w, np.zeros_like(b), s, p), "the bias is missing: add b[k] to every output of channel k"),
        (lambda: ref(x, w[:, :, ::-1, ::-1], b, s, p), "you flipped the filter: paint x[n, d, r, c] * w[d, k] as it is"),
        (
            lambda: ref(x, w.transpose(1, 0, 2, 3), b, s, p) if d == k else None,
            "w is (D_in, K_out, F, F) here, PyTorch's layout for ConvTranspose2d: input channel d paints w[d, k] "
            "onto output channel k (you used w[k, d])",
        ),
        (overwrite, "where two paintings overlap they must add up (+=), not overwrite (=)"),
    ]


def _transpose_shape_hint(x, w, s: int, p: int, exp: tuple, got: tuple) -> str:
    n, d, h, wd = x.shape
    f = w.shape[2]
    if len(got) != 4:
        return "return a 4-D array (N, K, H_out, W_out)"
    if got[1] != exp[1]:
        return f"one output map per output channel: K = w.shape[1] = {exp[1]} (w is (D_in, K_out, F, F))"
    if got[2:] == ((h - 1) * s + f, (wd - 1) * s + f) and p:
        return f"the output still has its padding: cut P = {p} rows and columns from each side"
    if got[2:] == (h * s, wd * s):
        return "H_out = (H - 1)S - 2P + F, not H*S: the last pixel's painting reaches F - S past H*S"
    return f"H_out = (H - 1)S - 2P + F = ({h} - 1)*{s} - 2*{p} + {f}"


def check_conv_transpose_forward(fn: Callable, cases: Sequence[tuple] | None = None, seed: int = 7) -> None:
    """fn(x, w, b, stride, padding) -> out, compared with cnn_core's conv_transpose2d_naive.

    x (N, D, H, W), w (D, K, F, F), b (K,); cases: (N, D, H, W, K, F, S, P) tuples (random data, seeded).
    """
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "conv_transpose_forward")
    inputs = _transpose_inputs(cases, seed)
    forbid = KERNELS["transpose"] + KERNELS["conv"]  # the conv backward's dx is the same operation
    worst = 0.0
    for x, w, b, s, p in inputs:
        case = _describe(x=x, w=w, b=b, stride=s, padding=p)
        expected = _fn.conv_transpose2d_naive(x, w, b, s, p)
        copies = {"x": x.copy(), "w": w.copy(), "b": b.copy()}
        got = _as_array(owner, _call(owner, fn, (x, w, b, s, p), case, forbid), "output", case)
        _unchanged(owner, copies, {"x": x, "w": w, "b": b}, case)
        if got.shape != expected.shape:
            raise CheckFailure(
                owner,
                "wrong output shape",
                case=case,
                expected=expected.shape,
                got=got.shape,
                hint=_transpose_shape_hint(x, w, s, p, expected.shape, got.shape),
            )
        if not _close(expected, got):
            raise CheckFailure(
                owner,
                "wrong values",
                case=case,
                expected="cnn_core's conv_transpose2d_naive(x, w, b, stride, padding)",
                got=_first_difference(expected, got),
                hint=_match_mistake(got, _transpose_mistakes(x, w, b, s, p))
                or "each x[n, d, r, c] adds x[n, d, r, c] * w[d, k] at rows r*S..r*S+F-1, columns c*S..c*S+F-1 "
                "of output channel k; then cut P from each side and add b[k]",
            )
        worst = max(worst, rel_error(expected, got))
    _done(f"{owner}: {len(inputs)} cases match cnn_core's conv_transpose2d (largest rel. error {worst:.1e})")


def check_conv_backward_dx(fn: Callable, cases: Sequence[tuple] | None = None, seed: int = 8) -> None:
    """fn(dout, w, stride, padding) -> dx of the convolution conv2d(x, w, b, stride, padding), compared
    with cnn_core.conv2d_backward_naive. cases: conv cases (N, D, H, W, K, F, S, P) that fit exactly."""
    __tracebackhide__ = True
    owner = getattr(fn, "__name__", "conv_backward_dx")
    rng = _rng(seed)
    inputs = _conv_inputs(cases, seed)
    forbid = KERNELS["transpose"] + KERNELS["conv"]
    for x, w, b, s, p in inputs:
        dout = rng.standard_normal(_fn.conv2d_naive(x, w, b, s, p).shape)
        case = _describe(dout=dout, w=w, stride=s, padding=p) + f" (x {tuple(x.shape)})"
        expected = _fn.conv2d_backward_naive(dout, x, w, s, p)[0]
        copies = {"dout": dout.copy(), "w": w.copy()}
        got = _as_array(owner, _call(owner, fn, (dout, w, s, p), case, forbid), "dx", case)
        _unchanged(owner, copies, {"dout": dout, "w": w}, case)
        if got.shape != expected.shape:
            raise CheckFailure(
                owner,
                "dx has the wrong shape",
                case=case,
                expected=expected.shape,
                got=got.shape,
                hint="dx has the shape of x: the transposed convolution of dout with the conv's own w "
                "((K, D, F, F) is (D_in, K_out, F, F) for the transposed one), same stride and padding",
            )
        if not _close(expected, got):
            flipped = _fn.conv_transpose2d_naive(dout, w[:, :, ::-1, ::-1], None, s, p)
            hint = _match_mistake(
                got,
                [
                    (lambda: flipped, "no flip here: the transposed convolution paints w as it is"),
                    (
                        lambda: _fn.conv_transpose2d_naive(dout, w, np.ones(w.shape[1]), s, p),
                        "dx has no bias term: call your conv_transpose_forward with b = None or zeros",
                    ),
                ],
            )
            raise CheckFailure(
                owner,
                "wrong dx",
                case=case,
                expected="cnn_core.conv2d_backward_naive(dout, x, w, stride, padding)[0]",
                got=_first_difference(expected, got, "dx"),
                hint=hint or "dx = conv_transpose_forward(dout, w, None, stride, padding)",
            )
    _done(f"{owner}: {len(inputs)} cases: your transposed convolution of dout is the conv backward pass's dx")


def _framework_size(question: tuple) -> int | None:
    """framework_output_size for a question (framework, N, F, S, padding, options), None where refused."""
    from cnn_core.frameworks import framework_output_size

    framework, n, f, s, padding, options = question
    try:
        return framework_output_size(framework, n, f, s, padding, **options)
    except ValueError:
        return None


_FRAMEWORK_HINTS = {
    "lecture": "the lecture: (N + 2P - F)/S + 1, and it must be a whole number (else None: doesn't fit)",
    "pytorch": "PyTorch: floor((N + 2P - d(F-1) - 1)/S) + 1; ceil_mode=True (pooling) rounds up unless the last "
    "window would start in the right padding; padding='same' only at stride 1 (else None); ConvTranspose2d: "
    "(N - 1)S - 2P + d(F-1) + output_padding + 1",
    "keras": "Keras: 'valid' -> floor((N - d(F-1) - 1)/S) + 1, 'same' -> ceil(N/S)",
    "d2l": "d2l counts the total padding p of both sides: floor((n - k + p + s)/s)",
}


def check_framework_sizes(answers: Mapping[str, Any], questions: Mapping[str, tuple]) -> None:
    """answers[label] must be framework X's output size for questions[label], or None where X refuses
    the setting (or the lecture says it doesn't fit). Right answers are not shown."""
    __tracebackhide__ = True
    owner = "sizes"
    if not isinstance(answers, Mapping):
        raise CheckFailure(
            owner,
            f"must be a dict like {{'a': 3, ...}}, got {type(answers).__name__}",
            hint="answer every question with a whole number, or None",
        )
    missing = [k for k in questions if answers.get(k, ...) is ...]
    if missing:
        raise CheckFailure(owner, f"has no answer for {missing}", expected=sorted(questions), got=sorted(answers))
    for key, question in questions.items():
        value = answers[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise CheckFailure(owner, f"answer for {key!r} is {value!r}", expected="a whole number or None", got=repr(value))
        if value != _framework_size(question):
            framework, n, f, s, padding, options = question
            extra = "".join(f", {k}={v!r}" for k, v in options.items())
            raise CheckFailure(
                owner,
                f"({key}) {framework}: N={n}, F={f}, S={s}, padding={padding!r}{extra}: your answer {value} is not right",
                hint=_FRAMEWORK_HINTS[framework],
            )
    _done(f"sizes: all {len(questions)} questions answered right")


_CLOCK.install()
