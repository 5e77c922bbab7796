"""cnn_homework.checks: right answers pass, typical mistakes get their teaching message.

The "student" functions here are cnn_core's reference kernels (held in closures, which
the checks' reference blocker does not reach) and the same kernels with one typical
mistake injected, so every hint is tested against the mistake it names.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from matplotlib import pyplot as plt

import cnn_core
from cnn_homework import checks
from cnn_core import functional as F
from cnn_core import shapes
from cnn_homework.checks import CheckFailure
from cnn_core.data import load_digits


def with_mistake(ref, mistake, name):
    """A student function ``name`` computing ``mistake(ref, *args)``: cnn_core's kernel ``ref`` with
    one typical mistake. ``ref`` sits in a closure, which the checks' reference blocker does not reach."""

    def answer(*args):
        return mistake(ref, *args)

    answer.__name__ = name
    return answer


def student(fn):
    """A right answer: the reference itself, called through a closure."""
    return with_mistake(fn, lambda ref, *args: ref(*args), getattr(fn, "__name__", "answer"))


def conv_with(mistake):
    return with_mistake(F.conv2d_naive, mistake, "conv_forward_naive")


def conv_backward_with(mistake):
    return with_mistake(F.conv2d_backward_naive, mistake, "conv_backward_naive")


def pool_with(mistake):
    return with_mistake(F.pool2d_naive, mistake, "pool_forward")


def pool_backward_with(mistake):
    return with_mistake(F.pool2d_backward_naive, mistake, "pool_backward")


def fails(check, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as info:
        check(*args, **kwargs)
    assert isinstance(info.value, AssertionError)
    return str(info.value)


# ---------------------------------------------------------------- message format


def test_failure_message_lists_expected_got_and_hint():
    err = CheckFailure("f", "wrong size", case="N=7", expected=3, got=5, hint="did you apply the stride?")
    assert str(err).splitlines() == [
        "f: wrong size",
        "  case:           N=7",
        "  expected:       3",
        "  got:            5",
        "  likely mistake: did you apply the stride?",
    ]


def test_gradient_verdict_uses_cs231n_scale():
    assert checks.gradient_verdict(1e-9).startswith("good")
    assert checks.gradient_verdict(1e-5).startswith("acceptable")
    assert checks.gradient_verdict(1e-3).startswith("suspicious")
    assert checks.gradient_verdict(0.5).startswith("wrong")
    assert checks.gradient_verdict(float("nan")).startswith("not a number")


def test_not_implemented_and_crashes_are_explained():
    def conv_forward_naive(x, w, b, stride, padding):
        raise NotImplementedError()

    msg = fails(checks.check_conv_forward, conv_forward_naive)
    assert "conv_forward_naive: is not implemented yet" in msg and "NotImplementedError" in msg

    def conv_forward_crash(x, w, b, stride, padding):
        return x[0, 0, 100]

    msg = fails(checks.check_conv_forward, conv_forward_crash)
    assert "raised IndexError" in msg and "loop ranges" in msg


def test_calling_the_reference_is_reported_and_everything_restored():
    original = F.conv2d_naive

    def conv_forward_naive(x, w, b, stride, padding):
        return cnn_core.conv2d_naive(x, w, b, stride, padding)

    msg = fails(checks.check_conv_forward, conv_forward_naive)
    assert "calls cnn_core's reference conv2d_naive()" in msg
    # the layers call the kernels through the module: blocked as well
    layer = cnn_core.Conv2D(1, 1, 3, rng=0)
    msg = fails(checks.check_conv_forward, lambda x, w, b, s, p: layer.forward(x))
    assert "calls cnn_core's reference conv2d_forward()" in msg
    assert F.conv2d_naive is original and cnn_core.conv2d_naive is original
    assert cnn_core.fast.conv2d_forward is F.conv2d_forward and cnn_core.naive.conv2d_naive is original


def test_input_changed_in_place_is_reported():
    def relu_forward(x):
        x[x < 0] = 0
        return x

    msg = fails(checks.check_relu_forward, relu_forward)
    assert "changed its input x in place" in msg


# ---------------------------------------------------------------- HW1


def test_output_size_right_and_mistakes(capsys):
    checks.check_output_size(student(shapes.output_size))
    assert "10 settings right" in capsys.readouterr().out

    msg = fails(checks.check_output_size, lambda n, f, s, p: n + 2 * p - f + 1)
    assert "N=7, F=3, S=2" in msg and "did you apply the stride?" in msg
    assert fails(checks.check_output_size, lambda n, f, s, p: (n + 2 * p - f) // s).count("forget the +1") == 1
    assert "did you add the padding?" in fails(checks.check_output_size, lambda n, f, s, p: (n - f) // s + 1)
    assert "both sides" in fails(checks.check_output_size, lambda n, f, s, p: (n + p - f) // s + 1)
    msg = fails(checks.check_output_size, lambda n, f, s, p: (n + 2 * p - f) // s + 1)  # floors, never raises
    assert "returned a size for a setting that does not fit" in msg and "2.33" in msg and "ValueError" in msg
    msg = fails(checks.check_output_size, lambda n, f, s, p: (n + 2 * p - f) / s + 1)
    assert "float" in msg


def test_fit_answers_do_not_reveal_but_guide():
    settings = {"a": (7, 3, 3, 0), "b": (32, 5, 1, 2)}
    checks.check_fit_answers({"a": False, "b": True}, settings)
    msg = fails(checks.check_fit_answers, {"a": True, "b": True}, settings)
    assert "(a) N=7, F=3, S=3, P=0" in msg and "4/3 + 1" in msg
    assert "has no answer for ['b']" in fails(checks.check_fit_answers, {"a": False}, settings)


def test_lecture_conv_layer_answer():
    checks.check_conv_layer_answer((10, 32, 32), 760)
    msg = fails(checks.check_conv_layer_answer, (10, 32, 32), 750)
    assert "750 is not right" in msg and "bias" in msg and "760" not in msg
    assert "depth" in fails(checks.check_conv_layer_answer, (3, 32, 32), 760)
    assert "padding" in fails(checks.check_conv_layer_answer, (10, 28, 28), 760)
    assert "has no answer yet" in fails(checks.check_conv_layer_answer, (10, 32, 32), None)


def test_param_counts():
    checks.check_conv_num_params(student(shapes.conv_num_params))
    checks.check_fc_num_params(student(shapes.linear_num_params))
    assert "one bias" in fails(checks.check_conv_num_params, lambda f, d, k: f * f * d * k)
    assert "full input depth" in fails(checks.check_conv_num_params, lambda f, d, k: (f * f + 1) * k)
    assert "one bias" in fails(checks.check_fc_num_params, lambda i, o: i * o)
    checks.check_fc_vs_conv_answer(32 * 32 * 3 * 28 * 28, 75)
    assert "parameter sharing" in fails(checks.check_fc_vs_conv_answer, 2408448, 75 * 784)


def test_receptive_field():
    checks.check_receptive_field(student(shapes.receptive_field))
    assert "overlap" in fails(checks.check_receptive_field, lambda layers: sum(f for f, _ in layers))
    assert "before" in fails(checks.check_receptive_field, lambda layers: 1 + sum(f - 1 for f, _ in layers))
    checks.check_receptive_field_answer("rf", 7, [(3, 1)] * 3)
    assert "overlap" in fails(checks.check_receptive_field_answer, "rf", 9, [(3, 1)] * 3)


# ---------------------------------------------------------------- HW2


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (lambda ref, x, w, b, s, p: ref(x, w, b, 1, p), "output is 5×5 but should be 3×3: did you apply the stride?"),
        (lambda ref, x, w, b, s, p: ref(x, w, b, s, 0), "did you add the padding?"),
        (lambda ref, x, w, b, s, p: ref(x, w[:, :, ::-1, ::-1], b, s, p), "you flipped the filter"),
        (lambda ref, x, w, b, s, p: ref(x, w, 0 * b, s, p), "the bias is missing"),
        (lambda ref, x, w, b, s, p: ref(x[:, :1], w[:, :1], b, s, p), "only the first input channel"),
        (
            lambda ref, x, w, b, s, p: ref(x, w, b, 1, p)[
                :, :, : shapes.output_size(x.shape[2], w.shape[2], s, p), : shapes.output_size(x.shape[3], w.shape[2], s, p)
            ],
            "the window moved 1 pixel per output",
        ),
        (lambda ref, x, w, b, s, p: ref(x, w, b, s, p)[0], "return a 4-D array"),
        (lambda ref, x, w, b, s, p: (ref(x, w, b, s, p), None), "returned a tuple of 2"),
    ],
)
def test_conv_forward_mistakes(mistake, hint):
    msg = fails(checks.check_conv_forward, conv_with(mistake))
    assert hint in msg, msg
    assert "expected:" in msg and "got:" in msg


def test_conv_forward_right_and_hidden_cases(capsys):
    checks.check_conv_forward(conv_with(lambda ref, *a: ref(*a)))
    checks.check_conv_forward(conv_with(lambda ref, *a: ref(*a)), cases=[(3, 2, 5, 5, 1, 5, 1, 2), (1, 4, 10, 7, 3, 1, 3, 0)])
    out = capsys.readouterr().out
    assert "5 cases match" in out and "2 cases match" in out


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (lambda ref, d, x, w, s, p: (F.pad(ref(d, x, w, s, p)[0], p), *ref(d, x, w, s, p)[1:]), "cut the padding off"),
        (
            lambda ref, d, x, w, s, p: (checks._overwrite_conv_backward(d, x, w, s, p)[0], *ref(d, x, w, s, p)[1:]),
            "overwrote each other: add with +=",
        ),
        (lambda ref, d, x, w, s, p: (*ref(d, x, w, s, p)[:2], d.sum(axis=(2, 3))), "db"),
        (lambda ref, d, x, w, s, p: (*ref(d, x, w, s, p)[:2], d.mean(axis=(0, 2, 3))), "db is a sum, not a mean"),
        (
            lambda ref, d, x, w, s, p: (ref(d, x, w, s, p)[0], ref(d[-1:], x[-1:], w, s, p)[1], ref(d, x, w, s, p)[2]),
            "last image",
        ),
        (lambda ref, d, x, w, s, p: ref(d, x, w, s, p)[:2], "not the three gradients"),
    ],
)
def test_conv_backward_mistakes(mistake, hint):
    msg = fails(checks.check_conv_backward, conv_backward_with(mistake))
    assert hint in msg, msg


def test_conv_backward_right_reports_numerical_errors(capsys):
    checks.check_conv_backward(conv_backward_with(lambda ref, *a: ref(*a)))
    out = capsys.readouterr().out
    assert "rel. error to numerical gradients: dx" in out and "good" in out


def test_conv_fast_rejects_loops_and_accepts_im2col():
    fast = F.conv2d_forward
    checks.check_conv_fast(student(lambda *a: fast(*a)[0]))
    msg = fails(checks.check_conv_fast, conv_with(lambda ref, *a: ref(*a)))
    assert "faster than the naive loops" in msg and "sliding_window_view" in msg


def test_conv_fast_counts_cpu_time_so_a_busy_machine_does_not_fail_a_fast_version():
    """A right, fast answer that waits 30 ms each call (as when other programs hold the CPU) still
    passes: the speed test counts CPU time, not the wall clock (CI failed on wall time, 4.5×)."""
    fast = F.conv2d_forward

    def descheduled(*args):
        time.sleep(0.03)
        return fast(*args)[0]

    checks.check_conv_fast(descheduled)


def test_conv_fast_takes_the_cpu_time_a_sandboxed_function_reports():
    """The grader's functions run in the student's sandbox and report that sandbox's CPU time as
    ``cpu_seconds`` (measured outside it): that, not the grader's own time, is what counts."""
    fast = F.conv2d_forward

    class Remote:
        __name__ = "conv_forward_fast"

        def __init__(self, seconds):
            self.seconds, self.cpu_seconds = seconds, None

        def __call__(self, *args):
            self.cpu_seconds = self.seconds
            return fast(*args)[0]

    msg = fails(checks.check_conv_fast, Remote(1.0))
    assert "faster than the naive loops" in msg and "1000.0 ms" in msg, msg
    checks.check_conv_fast(Remote(1e-4))


def test_gradient_errors():
    checks.check_gradient_errors({"dx": 1e-10, "dw": 2e-11, "db": 3e-12})
    assert "exactly 0" in fails(checks.check_gradient_errors, {"dx": 0.0, "dw": 1e-10, "db": 1e-10})
    msg = fails(checks.check_gradient_errors, {"dx": 0.3, "dw": 1e-10, "db": 1e-10})
    assert "wrong (> 1e-2)" in msg
    assert "no entry for ['db']" in fails(checks.check_gradient_errors, {"dx": 1e-9, "dw": 1e-9})


# ---------------------------------------------------------------- HW3


def test_relu():
    checks.check_relu_forward(lambda x: np.maximum(x, 0))
    checks.check_relu_backward(lambda d, x: d * (x > 0))
    assert "max(0, x)" in fails(checks.check_relu_forward, lambda x: np.minimum(x, 0))
    assert "flowed where x <= 0" in fails(checks.check_relu_backward, lambda d, x: d.copy())
    assert "mask by the input x" in fails(checks.check_relu_backward, lambda d, x: d * (d > 0))
    assert "multiply the mask by dout" in fails(checks.check_relu_backward, lambda d, x: (x > 0) * 1.0)


def test_pool_forward_right_and_mistakes():
    checks.check_pool_forward(pool_with(lambda ref, *a: ref(*a)))
    msg = fails(checks.check_pool_forward, pool_with(lambda ref, x, f, s, m: ref(x, f, 1, m)))
    assert "output is 3×3 but should be 2×2: did you apply the stride?" in msg
    msg = fails(checks.check_pool_forward, pool_with(lambda ref, x, f, s, m: ref(x, f, s, "avg")), modes=["max"])
    assert "that is average pooling" in msg
    msg = fails(checks.check_pool_forward, pool_with(lambda ref, x, f, s, m: ref(x, f, s, m) ** 2), modes=["l2"])
    assert "square root" in msg
    msg = fails(checks.check_pool_forward, pool_with(lambda ref, x, f, s, m: ref(x, f, s, m) * f * f), modes=["avg"])
    assert "divide by the F·F = 4 values" in msg


def test_pool_backward_right_and_mistakes(capsys):
    checks.check_pool_backward(pool_backward_with(lambda ref, *a: ref(*a)))
    assert "rel. error to numerical gradients: max" in capsys.readouterr().out
    every = pool_backward_with(lambda ref, d, x, f, s, m: ref(d, x, f, s, "avg") * f * f)
    msg = fails(checks.check_pool_backward, every, modes=["max"])
    assert "max-pool gradient went to all 4 positions of a window: it belongs only to the position of the max" in msg
    msg = fails(checks.check_pool_backward, every, modes=["avg"])
    assert "4 times too large" in msg
    msg = fails(
        checks.check_pool_backward, pool_backward_with(lambda ref, d, x, f, s, m: checks._l2_variant(d, x, f, s, 0)), modes=["l2"]
    )
    assert "divide by the window's norm" in msg
    overwrite = pool_backward_with(lambda ref, d, x, f, s, m: checks._overwrite_pool_backward(d, x, f, s, m))
    msg = fails(checks.check_pool_backward, overwrite, modes=["avg"])
    assert "windows overlap here" in msg


# ---------------------------------------------------------------- HW4


@pytest.fixture(scope="module")
def trained():
    X_tr, y_tr, X_te, y_te = load_digits()
    model = cnn_core.Sequential(
        [
            cnn_core.Conv2D(1, 4, 3, padding=1, rng=0),
            cnn_core.ReLU(),
            cnn_core.MaxPool2D(2),
            cnn_core.Flatten(),
            cnn_core.Linear(64, 10, rng=1),
        ]
    )
    history = cnn_core.fit(model, X_tr, y_tr, epochs=2, validation=(X_te, y_te), progress=False)
    return model, history, X_te, y_te


def test_model_checks(trained):
    model, history, X_te, y_te = trained
    checks.check_digits_model(model)
    checks.check_training(history)
    checks.check_accuracy(model, X_te, y_te, target=0.5)
    assert "below the target" in fails(checks.check_accuracy, model, X_te, y_te, target=0.999)
    assert "validation=(X_test, y_test)" in fails(checks.check_training, {"loss": [1.0]})
    assert "took" in fails(checks.check_training, {**history, "seconds": [20.0, 20.0]})
    relu_last = cnn_core.Sequential([*model.layers, cnn_core.ReLU()])
    assert "end with Linear" in fails(checks.check_digits_model, relu_last)
    no_flatten = cnn_core.Sequential([cnn_core.Conv2D(1, 4, 3, rng=0), cnn_core.Linear(64, 10)])
    assert "cannot take a digit" in fails(checks.check_digits_model, no_flatten)
    checks.check_first_layer_weights(36, model)
    assert "without the biases" in fails(checks.check_first_layer_weights, 40, model)


def test_figure_checks(trained):
    model, history, *_ = trained
    fig, (a, b) = plt.subplots(1, 2)
    a.plot(history["epoch"], history["loss"])
    a.set_xlabel("epoch")
    a.set_ylabel("loss")
    b.plot(history["epoch"], history["val_accuracy"], label="test")
    b.set_xlabel("epoch")
    b.set_title("accuracy")
    checks.check_learning_curves(fig, history)
    b.plot(history["epoch"], history["accuracy"], label="train")
    assert "no legend" in fails(checks.check_learning_curves, fig, history)
    bare, ax = plt.subplots()
    ax.plot(history["loss"])
    assert "test accuracy" in fails(checks.check_learning_curves, bare, history)

    W = model.layers[0].params["W"]
    fig2, axes = plt.subplots(1, 4)
    for k, ax in enumerate(axes):
        ax.imshow(W[k, 0] * 3 + 1, cmap="gray")  # a colour map rescales: still the same filter
    fig2.suptitle("filters")
    checks.check_filter_plot(fig2, W)
    assert "filter 0" in fails(checks.check_filter_plot, fig2, W[::-1] * -1)
    two, axes = plt.subplots(1, 2)
    for k, ax in enumerate(axes):
        ax.imshow(W[k, 0])
    assert "shows 2 image(s)" in fails(checks.check_filter_plot, two, W)
    plt.close("all")


def test_choice():
    opts = {"a": "first", "b": "second"}
    checks.check_choice("q1", "B", opts)
    checks.check_choice("q1", "(a)", opts, correct="a")
    assert "not one of the options" in fails(checks.check_choice, "q1", "c", opts)
    assert "has no answer yet" in fails(checks.check_choice, "q1", None, opts)
    assert "because" in fails(checks.check_choice, "q1", "b", opts, correct="a", why="because")


def test_plot_functions_are_called_checked_and_closed(trained):
    model, history, *_ = trained

    def plot_learning_curves(h):
        raise NotImplementedError()

    assert "plot_learning_curves: is not implemented yet" in fails(checks.check_learning_curves, plot_learning_curves, history)
    assert "first train" in fails(checks.check_learning_curves, plot_learning_curves, None)

    def plot_filters(W):
        fig, axes = plt.subplots(1, W.shape[0])
        for k, ax in enumerate(axes):
            ax.imshow(W[k, 0])
        fig.suptitle("first-layer filters")
        return fig

    before = len(plt.get_fignums())
    checks.check_filter_plot(plot_filters, model)  # weights taken from the model's first Conv2D
    assert len(plt.get_fignums()) == before  # the figure the check made is closed
    assert "the model has no Conv2D layer" in fails(checks.check_filter_plot, plot_filters, None)
    assert "not a matplotlib Figure" in fails(checks.check_filter_plot, lambda W: None, model)


# ---------------------------------------------------------------- HW5 (optional): the transposed convolution


def transpose_with(mistake):
    return with_mistake(F.conv_transpose2d_naive, mistake, "conv_transpose_forward")


def test_conv_transpose_forward_right_and_mistakes(capsys):
    checks.check_conv_transpose_forward(transpose_with(lambda ref, *a: ref(*a)))
    assert "5 cases match cnn_core's conv_transpose2d" in capsys.readouterr().out
    msg = fails(checks.check_conv_transpose_forward, transpose_with(lambda ref, x, w, b, s, p: ref(x, w, None, s, p)))
    assert "the bias is missing" in msg
    msg = fails(
        checks.check_conv_transpose_forward, transpose_with(lambda ref, x, w, b, s, p: ref(x, w[:, :, ::-1, ::-1], b, s, p))
    )
    assert "you flipped the filter" in msg
    overwrite = transpose_with(lambda ref, x, w, b, s, p: checks._transpose_mistakes(x, w, b, s, p)[3][0]())
    msg = fails(checks.check_conv_transpose_forward, overwrite)
    assert "must add up (+=), not overwrite (=)" in msg
    swapped = transpose_with(lambda ref, x, w, b, s, p: ref(x, w.transpose(1, 0, 2, 3), b, s, p))
    msg = fails(checks.check_conv_transpose_forward, swapped, cases=[(1, 2, 3, 3, 2, 3, 2, 0)])
    assert "PyTorch's layout for ConvTranspose2d" in msg


def test_conv_transpose_forward_shapes():
    uncut = transpose_with(lambda ref, x, w, b, s, p: ref(x, w, b, s, 0))
    msg = fails(checks.check_conv_transpose_forward, uncut, cases=[(1, 1, 3, 3, 1, 4, 2, 1)])
    assert "expected:       (1, 1, 6, 6)" in msg and "got:            (1, 1, 8, 8)" in msg
    assert "cut P = 1 rows and columns from each side" in msg
    times_s = transpose_with(lambda ref, x, w, b, s, p: np.zeros((x.shape[0], w.shape[1], x.shape[2] * s, x.shape[3] * s)))
    msg = fails(checks.check_conv_transpose_forward, times_s, cases=[(1, 1, 2, 2, 1, 3, 2, 0)])
    assert "not H*S" in msg


def test_conv_transpose_forward_refuses_the_reference():
    def conv_transpose_forward(x, w, b, stride, padding):
        return F.conv_transpose2d_naive(x, w, b, stride, padding)

    assert "calls cnn_core's reference conv_transpose2d_naive()" in fails(
        checks.check_conv_transpose_forward, conv_transpose_forward
    )

    def via_backward(x, w, b, stride, padding):  # the conv backward's dx is the same operation
        return F.conv2d_backward_naive(x, np.zeros((1, 1, 5, 5)), w, stride, padding)[0]

    via_backward.__name__ = "conv_transpose_forward"
    assert "calls cnn_core's reference conv2d_backward_naive()" in fails(checks.check_conv_transpose_forward, via_backward)


def test_conv_backward_dx_right_and_mistakes(capsys):
    right = with_mistake(F.conv_transpose2d_naive, lambda ref, d, w, s, p: ref(d, w, None, s, p), "conv_backward_dx")
    checks.check_conv_backward_dx(right)
    assert "your transposed convolution of dout is the conv backward pass's dx" in capsys.readouterr().out
    flipped = with_mistake(
        F.conv_transpose2d_naive, lambda ref, d, w, s, p: ref(d, w[:, :, ::-1, ::-1], None, s, p), "conv_backward_dx"
    )
    assert "no flip here" in fails(checks.check_conv_backward_dx, flipped)
    bias = with_mistake(
        F.conv_transpose2d_naive, lambda ref, d, w, s, p: ref(d, w, np.ones(w.shape[1]), s, p), "conv_backward_dx"
    )
    assert "dx has no bias term" in fails(checks.check_conv_backward_dx, bias)
    padded = with_mistake(F.conv_transpose2d_naive, lambda ref, d, w, s, p: ref(d, w, None, s, 0), "conv_backward_dx")
    assert "dx has the wrong shape" in fails(checks.check_conv_backward_dx, padded, cases=[(1, 1, 7, 7, 1, 3, 1, 1)])


def test_framework_sizes():
    questions = {"a": ("lecture", 224, 3, 2, 0, {}), "b": ("pytorch", 224, 3, 2, 0, {}), "f": ("pytorch", 28, 3, 2, "same", {})}
    checks.check_framework_sizes({"a": None, "b": 111, "f": None}, questions)
    msg = fails(checks.check_framework_sizes, {"a": 112, "b": 111, "f": None}, questions)
    assert "(a) lecture: N=224, F=3, S=2, padding=0: your answer 112 is not right" in msg and "must be a whole number" in msg
    assert "111" not in msg.split("likely mistake")[1]  # the right answer is not revealed
    assert "has no answer for ['f']" in fails(checks.check_framework_sizes, {"a": None, "b": 111}, questions)
    assert "a whole number or None" in fails(checks.check_framework_sizes, {"a": None, "b": 111.0, "f": None}, questions)
    assert "must be a dict" in fails(checks.check_framework_sizes, [None, 111, None], questions)
    msg = fails(checks.check_framework_sizes, {"a": None, "b": 111, "f": 14}, questions)
    assert "padding='same' only at stride 1" in msg
