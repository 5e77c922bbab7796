"""BatchNorm2D: hand-worked numbers, the vectorised kernels == the graph node by node, gradients vs
finite differences, running statistics, training / evaluation mode, and PyTorch (skipped without it)."""

import numpy as np
import pytest

import cnn_core as cc
from cnn_core.normalization import (
    BatchNorm2D,
    batchnorm2d_backward,
    batchnorm2d_backward_naive,
    batchnorm2d_forward,
    batchnorm2d_inference,
    batchnorm2d_naive,
)

SHAPES = [(2, 3, 4, 5), (5, 1, 3, 3), (1, 4, 2, 7), (8, 2, 1, 1), (3, 6, 5, 2)]


def random_case(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * rng.uniform(0.5, 3, shape[1])[:, None, None] + rng.uniform(-2, 2, shape[1])[:, None, None]
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    return x, gamma, beta, rng.standard_normal(shape)


def test_hand_worked_numbers():
    # one channel, M = N*H*W = 2*1*2 = 4 values 1, 2, 3, 6: mean 3, biased variance (4 + 1 + 0 + 9)/4 = 3.5
    x = np.array([1.0, 2.0, 3.0, 6.0]).reshape(2, 1, 1, 2)
    out, cache = batchnorm2d_forward(x, np.array([2.0]), np.array([0.5]), eps=0.5)  # sigma = sqrt(3.5 + 0.5) = 2
    np.testing.assert_allclose(out.ravel(), 2.0 * (np.array([1, 2, 3, 6]) - 3) / 2 + 0.5)  # [-1.5, -0.5, 0.5, 3.5]
    assert cache.mean[0] == 3.0 and cache.var[0] == 3.5
    layer = BatchNorm2D(1, eps=0.5, momentum=0.25)
    layer.forward(x)
    assert layer.running_mean[0] == 0.25 * 3.0  # 0.75 * 0 + 0.25 * 3
    assert layer.running_var[0] == pytest.approx(0.75 * 1.0 + 0.25 * 3.5 * 4 / 3)  # unbiased: 14/3
    layer.training = False  # now (x - 0.75) / sqrt(running_var + eps), gamma 1, beta 0
    np.testing.assert_allclose(layer.forward(x).ravel(), (np.array([1, 2, 3, 6]) - 0.75) / np.sqrt(0.75 + 3.5 / 3 + 0.5))


@pytest.mark.parametrize("shape", SHAPES)
def test_training_output_has_zero_mean_unit_variance_per_channel(shape):
    x, _, _, _ = random_case(shape, 1)
    out = BatchNorm2D(shape[1]).forward(x)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-3)  # eps = 1e-5 shrinks it a little


@pytest.mark.parametrize("seed, shape", list(enumerate(SHAPES)))
def test_vectorised_kernels_equal_the_graph_node_by_node(seed, shape):
    x, gamma, beta, dout = random_case(shape, seed)
    out, cache = batchnorm2d_forward(x, gamma, beta)
    out_naive, cache_naive = batchnorm2d_naive(x, gamma, beta)
    np.testing.assert_allclose(out, out_naive, rtol=1e-12, atol=1e-12)
    for fast, naive in zip(batchnorm2d_backward(dout, cache), batchnorm2d_backward_naive(dout, cache_naive)):
        np.testing.assert_allclose(fast, naive, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernels", ["fast", "naive"])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES[:3])
def test_backward_matches_finite_differences(kernels, training, shape):
    x, gamma, beta, _ = random_case(shape, 7)
    layer = BatchNorm2D(shape[1], kernels=kernels)
    layer.params["gamma"][:], layer.params["beta"][:] = gamma, beta
    layer.running_mean[:], layer.running_var[:] = np.arange(shape[1]) * 0.3, np.arange(1, shape[1] + 1) * 0.7
    layer.training = training
    errors = cc.check_layer(layer, x)
    assert errors["gamma"] < 1e-7 and errors["beta"] < 1e-7, errors
    # dx sums to zero over each channel in training, so some entries are near 0 and a relative error per
    # entry means nothing there: compare against the scale of the gradient instead
    dout = np.random.default_rng(0).standard_normal(x.shape)
    layer.forward(x)
    dx = layer.backward(dout)
    numeric = cc.numerical_gradient(lambda: float(np.sum(layer.forward(x) * dout)), x)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-7 * np.abs(numeric).max())


def test_training_gradient_flows_through_the_batch_statistics():
    # with the statistics fixed, dx would be gamma/sigma * dout; through mu and var it sums to 0 per channel
    x, gamma, beta, dout = random_case((4, 2, 3, 3), 3)
    out, cache = batchnorm2d_forward(x, gamma, beta, eps=1e-14)
    dx = batchnorm2d_backward(dout, cache)[0]
    np.testing.assert_allclose(dx.sum(axis=(0, 2, 3)), 0, atol=1e-12)
    # and is orthogonal to xhat (exactly for eps -> 0: scaling x changes nothing after normalising)
    np.testing.assert_allclose(np.einsum("ndhw,ndhw->d", dx, cache.xhat), 0, atol=1e-10)
    _, fixed = batchnorm2d_inference(x, gamma, beta, cache.mean, cache.var)
    assert not np.allclose(batchnorm2d_backward(dout, fixed)[0], dx)


def test_evaluation_mode_uses_running_statistics_and_leaves_them_alone():
    x, _, _, _ = random_case((6, 3, 4, 4), 5)
    layer = BatchNorm2D(3, momentum=0.5)
    for _ in range(3):
        layer.forward(x)
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    np.testing.assert_allclose(mean, x.mean(axis=(0, 2, 3)) * (1 - 0.5**3))
    layer.training = False
    one = layer.forward(x[:1])  # one image: its answer does not depend on the batch
    np.testing.assert_allclose(one, layer.forward(x)[:1])
    np.testing.assert_array_equal(layer.running_mean, mean)
    np.testing.assert_array_equal(layer.running_var, var)


def test_momentum_one_keeps_the_last_batch_and_zero_keeps_the_start():
    x, _, _, _ = random_case((4, 2, 3, 3), 9)
    last, start = BatchNorm2D(2, momentum=1.0), BatchNorm2D(2, momentum=0.0)
    last.forward(x)
    start.forward(x)
    np.testing.assert_allclose(last.running_mean, x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(last.running_var, x.var(axis=(0, 2, 3), ddof=1))
    assert (start.running_mean == 0).all() and (start.running_var == 1).all()


def test_float32_stays_float32_and_integers_are_converted():
    layer = BatchNorm2D(2, dtype=np.float32)
    x = np.random.default_rng(0).integers(0, 255, (3, 2, 4, 4)).astype(np.uint8)
    out = layer.forward(x)
    assert out.dtype == np.float32 and layer.running_mean.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32


def test_sequential_eval_reaches_batchnorm_and_predict_restores_the_mode():
    model = cc.Sequential([cc.Conv2D(1, 2, 3, rng=0), BatchNorm2D(2), cc.ReLU(), cc.Flatten(), cc.Linear(2 * 3 * 3, 3, rng=1)])
    bn = model.layers[1]
    x = np.random.default_rng(0).standard_normal((4, 1, 5, 5))
    assert model.eval() is model and not bn.training and not model.training
    model.train()
    assert bn.training
    before = bn.running_mean.copy()
    cc.predict(model, x)
    cc.evaluate(model, x, np.array([0, 1, 2, 0]))
    np.testing.assert_array_equal(bn.running_mean, before)  # evaluation mode: no update
    assert bn.training  # and the mode is back


def test_output_shape_and_repr():
    assert BatchNorm2D(8).output_shape((8, 5, 5)) == (8, 5, 5)
    assert repr(BatchNorm2D(8)) == "BatchNorm2D(8)"
    assert repr(BatchNorm2D(8, eps=1e-3, momentum=0.01)) == "BatchNorm2D(8, eps=0.001, momentum=0.01)"
    assert BatchNorm2D(8).num_params() == 16  # gamma and beta; the running statistics are not learned


# ------------------------------------------------ PyTorch


@pytest.mark.parametrize("seed, shape", list(enumerate(SHAPES)))
@pytest.mark.parametrize("kernels", ["fast", "naive"])
def test_matches_pytorch_in_training_and_evaluation(seed, shape, kernels):
    torch = pytest.importorskip("torch")
    x, gamma, beta, dout = random_case(shape, seed)
    momentum, eps = 0.3, 1e-4
    ours = BatchNorm2D(shape[1], eps=eps, momentum=momentum, kernels=kernels)
    ours.params["gamma"][:], ours.params["beta"][:] = gamma, beta
    ref = torch.nn.BatchNorm2d(shape[1], eps=eps, momentum=momentum).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(gamma))
        ref.bias.copy_(torch.from_numpy(beta))

    def rel(a, b):
        return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)

    for step, training in enumerate([True, True, True, False]):
        ours.training = training
        ref.train(training)
        xs = x * (1 + 0.5 * step) + step  # batches with different statistics
        xt = torch.from_numpy(xs).requires_grad_(True)
        yt = ref(xt)
        yt.backward(torch.from_numpy(dout))
        y = ours.forward(xs)
        dx = ours.backward(dout)
        assert rel(y, yt.detach().numpy()) < 1e-10
        assert rel(dx, xt.grad.numpy()) < 1e-10
        assert rel(ours.grads["gamma"], ref.weight.grad.numpy()) < 1e-10
        assert rel(ours.grads["beta"], ref.bias.grad.numpy()) < 1e-10
        assert rel(ours.running_mean, ref.running_mean.numpy()) < 1e-10
        assert rel(ours.running_var, ref.running_var.numpy()) < 1e-10
        ref.weight.grad = ref.bias.grad = None


def test_matches_pytorch_on_random_shapes():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2026)
    for _ in range(12):
        n, d, h, w = rng.integers(1, 6), rng.integers(1, 7), rng.integers(1, 8), rng.integers(1, 8)
        if n * h * w < 2:
            continue
        x, dout = rng.normal(rng.uniform(-3, 3), rng.uniform(0.1, 4), (n, d, h, w)), rng.standard_normal((n, d, h, w))
        ours, ref = BatchNorm2D(int(d)), torch.nn.BatchNorm2d(int(d)).double()
        for training in (True, False):  # eval uses the running statistics one training step left
            ours.training = training
            ref.train(training)
            xt = torch.from_numpy(x).requires_grad_(True)
            yt = ref(xt)
            yt.backward(torch.from_numpy(dout))
            for a, b in [
                (ours.forward(x), yt.detach().numpy()),
                (ours.backward(dout), xt.grad.numpy()),
                (ours.grads["gamma"], ref.weight.grad.numpy()),
                (ours.running_var, ref.running_var.numpy()),
                (ours.running_mean, ref.running_mean.numpy()),
            ]:
                assert np.max(np.abs(a - b)) <= 1e-10 * np.max(np.abs(b)), (n, d, h, w, training)
            ref.zero_grad()
