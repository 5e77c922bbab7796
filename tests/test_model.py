import numpy as np
import pytest

import cnn_core as cc


def lenet_like():
    return cc.Sequential(
        [cc.Conv2D(3, 10, 5, padding=2, rng=0), cc.ReLU(), cc.MaxPool2D(2), cc.Flatten(), cc.Linear(10 * 16 * 16, 10, rng=1)]
    )


def test_summary_traces_the_examples_time(capsys):
    net = lenet_like()
    net.summary((3, 32, 32))
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert "(10, 32, 32)" in lines[2] and lines[2].rstrip().endswith("760")  # the slide's 32x32x10, 760 params
    assert "(10, 16, 16)" in lines[4]
    assert lines[-1].split()[-1] == f"{760 + 2561 * 10:,}"
    assert text.strip() == net.summary_table((3, 32, 32))


def test_trace_matches_forward_shapes():
    net = lenet_like()
    rows = net.trace((3, 32, 32))
    x = np.zeros((2, 3, 32, 32))
    for layer, (_, shape, n) in zip(net.layers, rows):
        x = layer.forward(x)
        assert x.shape[1:] == shape and cc.num_params(layer) == n
    assert net.output_shape((3, 32, 32)) == (10,)


def test_trace_names_the_layer_that_does_not_fit():
    net = cc.Sequential([cc.Conv2D(1, 4, 3, stride=3)])
    with pytest.raises(
        ValueError,
        match=r"layer 0 Conv2D\(1, 4, kernel_size=3, stride=3, padding=0\) "
        r"cannot take input of shape \(1, 7, 7\).*does not fit",
    ):
        net.trace((1, 7, 7))
    with pytest.raises(ValueError, match="add a Flatten"):
        cc.Sequential([cc.Linear(16, 2)]).trace((1, 4, 4))


def test_params_are_the_layers_arrays():
    net = lenet_like()
    assert list(net.params) == ["0.W", "0.b", "4.W", "4.b"]
    assert net.params["0.W"] is net.layers[0].params["W"]
    assert cc.num_params(net) == net.num_params() == 760 + 25610


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="not a cnn_core layer"):
        cc.Sequential([cc.ReLU(), np.tanh])
