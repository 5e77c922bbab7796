"""Residual: y = body(x) + shortcut(x) with identity, projection and given shortcuts; backward sums
both paths; parameters keyed for SGD and summary; finite differences; PyTorch (skipped without it)."""

import numpy as np
import pytest

import cnn_core as cc
from cnn_core import BatchNorm2D, Conv2D, ReLU, Residual


def conv_bn_body(d_in, d_out, stride=1, rng=0):
    return [
        Conv2D(d_in, d_out, 3, stride=stride, padding=1, rng=rng),
        BatchNorm2D(d_out),
        ReLU(),
        Conv2D(d_out, d_out, 3, padding=1, rng=rng + 1),
        BatchNorm2D(d_out),
    ]


def test_identity_shortcut_adds_the_input():
    body = [Conv2D(2, 2, 3, padding=1, rng=0)]
    block = Residual(body)
    x = np.random.default_rng(0).standard_normal((3, 2, 5, 5))
    np.testing.assert_allclose(block.forward(x), block.body.forward(x) + x)
    dy = np.random.default_rng(1).standard_normal(x.shape)
    block.forward(x)
    dx = block.backward(dy)
    conv = Conv2D(2, 2, 3, padding=1, rng=0)
    conv.forward(x)
    np.testing.assert_allclose(dx, conv.backward(dy) + dy)  # the "+ dy" of the identity path


def test_a_zero_body_passes_the_input_and_its_gradient_unchanged():
    body = Conv2D(3, 3, 3, padding=1, rng=0)
    body.params["W"][:] = 0
    block = Residual(body)
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    np.testing.assert_array_equal(block.forward(x), x)
    np.testing.assert_array_equal(block.backward(x), x)


def test_projection_shortcut_reads_channels_and_stride_from_the_body():
    block = Residual(conv_bn_body(4, 8, stride=2), shortcut="projection", rng=3)
    (proj,) = block.shortcut.layers
    assert (proj.in_channels, proj.out_channels, proj.kernel_size, proj.stride) == (4, 8, 1, 2)
    assert block.output_shape((4, 9, 9)) == (8, 5, 5)  # (9 + 2 - 3)/2 + 1 = 5 and (9 - 1)/2 + 1 = 5
    assert block.forward(np.zeros((2, 4, 9, 9))).shape == (2, 8, 5, 5)


def test_params_are_the_layers_arrays_with_prefixed_names():
    block = Residual(conv_bn_body(2, 4), shortcut=[Conv2D(2, 4, 1, rng=5), BatchNorm2D(4)])
    model = cc.Sequential([block, ReLU(), cc.GlobalAvgPool2D(), cc.Linear(4, 3, rng=6)])
    assert list(block.params) == [
        "body.0.W", "body.0.b", "body.1.gamma", "body.1.beta", "body.3.W", "body.3.b", "body.4.gamma", "body.4.beta",
        "shortcut.0.W", "shortcut.0.b", "shortcut.1.gamma", "shortcut.1.beta",
    ]  # fmt: skip
    assert "0.body.0.W" in model.params and model.params["0.body.0.W"] is block.body.layers[0].params["W"]
    expected = (9 * 2 + 1) * 4 + 8 + (9 * 4 + 1) * 4 + 8 + (2 + 1) * 4 + 8
    assert block.num_params() == expected and model.num_params() == expected + 15
    assert "(4,)" in model.summary_table((2, 6, 6))
    # SGD updates the block in place through the prefixed keys
    x, y = np.random.default_rng(0).standard_normal((5, 2, 6, 6)), np.array([0, 1, 2, 0, 1])
    w = block.body.layers[0].params["W"].copy()
    opt = cc.SGD(model, lr=0.1, momentum=0.0)
    model.backward(cc.softmax_cross_entropy(model.forward(x), y)[1])
    opt.step()
    np.testing.assert_allclose(block.body.layers[0].params["W"], w - 0.1 * block.grads["body.0.W"])


@pytest.mark.parametrize(
    "make",
    [
        lambda: Residual([Conv2D(3, 3, 3, padding=1, rng=0), ReLU(), Conv2D(3, 3, 3, padding=1, rng=1)]),
        lambda: Residual([Conv2D(3, 5, 3, stride=2, padding=1, rng=0), ReLU()], shortcut="projection", rng=2),
        lambda: Residual([Conv2D(3, 4, 3, padding=1, rng=0)], shortcut=Conv2D(3, 4, 1, rng=1)),
    ],
)
def test_backward_matches_finite_differences(make):
    block = make()
    x = np.random.default_rng(11).standard_normal((2, 3, 7, 7))
    errors = cc.check_layer(block, x)
    assert set(errors) == {"x", *block.params}
    assert max(errors.values()) < 1e-6, errors


def test_backward_with_batchnorm_in_the_body_matches_finite_differences():
    # a conv bias right before BN has no effect (BN subtracts the mean): its true gradient is 0, which a
    # relative error cannot judge, so every gradient is compared against its own scale
    block = Residual(conv_bn_body(3, 4, stride=2), shortcut=[Conv2D(3, 4, 1, stride=2, rng=9), BatchNorm2D(4)])
    x = np.random.default_rng(12).standard_normal((3, 3, 7, 7))
    dout = np.random.default_rng(13).standard_normal((3, 4, 4, 4))
    block.forward(x)
    analytic = {"x": block.backward(dout), **{k: g.copy() for k, g in block.grads.items()}}

    def loss():
        return float(np.sum(block.forward(x) * dout))

    for name, arr in {"x": x, **block.params}.items():
        numeric = cc.numerical_gradient(loss, arr)
        scale = max(np.abs(numeric).max(), 1e-3)
        np.testing.assert_allclose(analytic[name], numeric, rtol=1e-5, atol=1e-6 * scale, err_msg=name)
    assert np.abs(analytic["body.0.b"]).max() < 1e-12  # the bias before BN gets no gradient


def test_backward_before_forward_is_refused():
    with pytest.raises(RuntimeError, match="before forward"):
        Residual([ReLU()]).backward(np.zeros((1, 2, 3, 3)))


def test_modes_reach_the_layers_inside_the_block():
    block = Residual(conv_bn_body(2, 2))
    model = cc.Sequential([block, ReLU()])
    model.eval()
    assert not block.body.layers[1].training and not block.body.layers[4].training
    cc.set_training(model, True)
    assert block.body.layers[1].training


def test_shape_mismatch_says_to_use_a_projection_shortcut():
    block = Residual(conv_bn_body(2, 4, stride=2))
    with pytest.raises(ValueError, match="projection") as info:
        block.forward(np.zeros((1, 2, 9, 9)))
    assert "(4, 5, 5)" in str(info.value) and "(2, 9, 9)" in str(info.value)
    with pytest.raises(ValueError, match="projection"):
        block.output_shape((2, 9, 9))


def test_a_small_residual_network_learns_the_digits():
    X, y, X_test, y_test = cc.data.load_digits()
    model = cc.Sequential(
        [
            Conv2D(1, 16, 3, padding=1, rng=0),
            BatchNorm2D(16),
            ReLU(),
            Residual(conv_bn_body(16, 16, rng=1)),
            ReLU(),
            cc.GlobalAvgPool2D(),
            cc.Linear(16, 10, rng=3),
        ]
    )
    # lr_decay lets the weights settle, so BN's running statistics (a lagging average) fit the final weights;
    # with lr=0.1 throughout, this net reaches train loss 0.1 but only ~0.6 test accuracy in evaluation mode
    history = cc.fit(model, X, y, epochs=3, batch_size=32, lr=0.1, lr_decay=0.3, progress=False, weight_decay=1e-4)
    assert history["loss"][-1] < 0.3 * history["loss"][0]
    assert cc.evaluate(model, X_test, y_test)[1] > 0.9  # chance is 0.1


# ------------------------------------------------ PyTorch


@pytest.mark.parametrize(
    "stride, d_in, d_out, shape", [(1, 3, 3, (4, 3, 6, 6)), (2, 3, 5, (3, 3, 7, 7)), (1, 2, 4, (2, 2, 5, 4))]
)
def test_matches_pytorch_forward_and_backward(stride, d_in, d_out, shape):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    rng = np.random.default_rng(stride * 10 + d_out)
    projection = stride != 1 or d_in != d_out
    ours = cc.Sequential(
        [
            Residual(
                conv_bn_body(d_in, d_out, stride, rng=4),
                shortcut=[Conv2D(d_in, d_out, 1, stride=stride, rng=7), BatchNorm2D(d_out)] if projection else None,
            ),
            ReLU(),
        ]
    )
    for name, p in ours.params.items():  # non-trivial biases, gammas and betas
        if not name.endswith("W"):
            p[:] = rng.standard_normal(p.shape)

    block = ours.layers[0]
    body_t = nn.Sequential(
        nn.Conv2d(d_in, d_out, 3, stride, 1),
        nn.BatchNorm2d(d_out),
        nn.ReLU(),
        nn.Conv2d(d_out, d_out, 3, 1, 1),
        nn.BatchNorm2d(d_out),
    ).double()
    skip_t = nn.Sequential(nn.Conv2d(d_in, d_out, 1, stride), nn.BatchNorm2d(d_out)).double() if projection else nn.Identity()
    pairs = [(body_t[i], block.body.layers[i]) for i in (0, 1, 3, 4)]
    if projection:
        pairs += [(skip_t[0], block.shortcut.layers[0]), (skip_t[1], block.shortcut.layers[1])]
    names = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}
    with torch.no_grad():
        for mod, layer in pairs:
            for k, v in layer.params.items():
                getattr(mod, names[k]).copy_(torch.from_numpy(v))

    def rel(a, b):
        return np.max(np.abs(a - b)) / np.max(np.abs(b))

    for training in (True, False):
        ours.train(training)
        body_t.train(training)
        skip_t.train(training)
        x, dout = rng.standard_normal(shape), None
        xt = torch.from_numpy(x).requires_grad_(True)
        yt = torch.relu(body_t(xt) + skip_t(xt))
        dout = rng.standard_normal(tuple(yt.shape))
        yt.backward(torch.from_numpy(dout))
        assert rel(ours.forward(x), yt.detach().numpy()) < 1e-10
        assert rel(ours.backward(dout), xt.grad.numpy()) < 1e-10
        for mod, layer in pairs:
            for k in layer.params:
                expected = getattr(mod, names[k]).grad.numpy()
                if k == "b" and training:  # each conv is followed by BN, which cancels its bias in training
                    assert np.abs(layer.grads[k]).max() < 1e-12 and np.abs(expected).max() < 1e-12
                else:
                    assert rel(layer.grads[k], expected) < 1e-10, (layer, k)
            if isinstance(layer, BatchNorm2D):
                assert rel(layer.running_mean, mod.running_mean.numpy()) < 1e-10
                assert rel(layer.running_var, mod.running_var.numpy()) < 1e-10
        body_t.zero_grad()
        skip_t.zero_grad()


def test_float32_blocks_are_checked_on_a_float64_copy():
    block = Residual([Conv2D(2, 2, 3, padding=1, rng=0, dtype=np.float32), BatchNorm2D(2, dtype=np.float32)])
    x = np.random.default_rng(0).standard_normal((3, 2, 5, 5)).astype(np.float32)
    with pytest.warns(cc.gradcheck.GradientCheckWarning, match="float64 copy"):
        errors = cc.check_layer(block, x)
    assert errors["x"] < 1e-6 and errors["body.0.W"] < 1e-6
    assert block.body.layers[0].params["W"].dtype == np.float32  # the block itself is untouched
