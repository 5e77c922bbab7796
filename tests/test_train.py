import numpy as np
import pytest

import cnn_core as cc
from cnn_core.data import load_digits


def small_cnn(seed=0, dtype=np.float64):
    return cc.Sequential(
        [
            cc.Conv2D(1, 8, 3, padding=1, rng=seed, dtype=dtype),
            cc.ReLU(),
            cc.MaxPool2D(2),
            cc.Conv2D(8, 16, 3, padding=1, rng=seed + 1, dtype=dtype),
            cc.ReLU(),
            cc.MaxPool2D(2),
            cc.Flatten(),
            cc.Linear(16 * 2 * 2, 10, rng=seed + 2, dtype=dtype),
        ]
    )


@pytest.fixture(scope="module")
def digits():
    return load_digits(dtype=np.float32)


def test_small_cnn_learns_real_digits(digits):
    X_tr, y_tr, X_te, y_te = digits
    net = small_cnn(dtype=np.float32)
    hist = cc.fit(net, X_tr, y_tr, epochs=10, lr=0.05, lr_decay=0.8, validation=(X_te, y_te), progress=False)
    loss, acc = cc.evaluate(net, X_te, y_te)
    assert acc >= 0.95, hist
    assert hist["val_accuracy"][-1] == acc and hist["val_loss"][-1] == pytest.approx(loss)
    assert hist["loss"][-1] < hist["loss"][0] / 5
    assert len(hist["epoch"]) == 10 and set(hist) >= {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
    assert np.mean(cc.predict(net, X_te) == y_te) == acc


def test_same_seed_same_numbers(digits):
    X_tr, y_tr = digits[0][:300], digits[1][:300]
    runs = [cc.fit(small_cnn(seed=3), X_tr, y_tr, epochs=2, seed=5, progress=False) for _ in range(2)]
    assert runs[0]["loss"] == runs[1]["loss"]
    other = cc.fit(small_cnn(seed=3), X_tr, y_tr, epochs=2, seed=6, progress=False)
    assert other["loss"] != runs[0]["loss"]


def test_sgd_momentum_update_by_hand():
    layer = cc.Linear(1, 1)
    layer.params["W"][:] = 1.0
    layer.grads["W"], layer.grads["b"] = np.array([[2.0]]), np.array([0.0])
    opt = cc.SGD(layer, lr=0.1, momentum=0.5)
    opt.step()  # v = -0.2, W = 0.8
    opt.step()  # v = 0.5 * -0.2 - 0.2 = -0.3, W = 0.5
    assert layer.params["W"][0, 0] == pytest.approx(0.5)


def test_fit_with_mse_on_a_regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    net = cc.Sequential([cc.Linear(3, 1, rng=0)])
    hist = cc.fit(net, X, y, epochs=60, lr=0.02, loss="mse", progress=False)
    assert hist["loss"][-1] < 1e-4
    assert np.isnan(hist["accuracy"][-1])


def test_progress_line_in_a_log(capsys, digits):
    cc.fit(small_cnn(), digits[0][:64], digits[1][:64], epochs=2, batch_size=32)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2 [####################] 2/2 loss")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": 0}, "lr > 0"),
        ({"momentum": 1.0}, "momentum < 1"),
        ({"loss": "hinge"}, "loss must be one of"),
    ],
)
def test_fit_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cc.fit(cc.Sequential([cc.Linear(2, 2)]), np.zeros((4, 2)), np.zeros(4, int), progress=False, **kwargs)


def test_fit_length_mismatch():
    with pytest.raises(ValueError, match="same number of examples"):
        cc.fit(cc.Sequential([cc.Linear(2, 2)]), np.zeros((4, 2)), np.zeros(3, int))


def test_weight_decay_update_by_hand():
    layer = cc.Linear(1, 1)
    layer.params["W"][:], layer.params["b"][:] = 1.0, 2.0
    layer.grads["W"], layer.grads["b"] = np.array([[0.0]]), np.array([0.0])
    opt = cc.SGD(layer, lr=0.1, momentum=0.0, weight_decay=0.5)
    opt.step()  # g = 0 + 0.5 * w: W = 1 - 0.1 * 0.5 = 0.95, the bias decays too: 2 - 0.1 = 1.9
    assert layer.params["W"][0, 0] == pytest.approx(0.95) and layer.params["b"][0] == pytest.approx(1.9)


def test_weight_decay_shrinks_the_weights_of_a_trained_net(digits):
    X_tr, y_tr = digits[0][:300], digits[1][:300]
    norms = {}
    for wd in (0.0, 1e-2):
        net = small_cnn(seed=1)
        cc.fit(net, X_tr, y_tr, epochs=2, weight_decay=wd, progress=False)
        norms[wd] = sum(float(np.sum(p**2)) for p in net.params.values())
    assert norms[1e-2] < 0.95 * norms[0.0]


def test_sgd_with_momentum_and_weight_decay_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    net = cc.Sequential([cc.Conv2D(2, 3, 3, rng=1), cc.BatchNorm2D(3), cc.ReLU(), cc.GlobalAvgPool2D(), cc.Linear(3, 4, rng=2)])
    ref = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Linear(3, 4),
    ).double()  # fmt: skip
    pairs = [(ref[0].weight, "0.W"), (ref[0].bias, "0.b"), (ref[1].weight, "1.gamma"), (ref[1].bias, "1.beta")]
    pairs += [(ref[5].weight, "4.W"), (ref[5].bias, "4.b")]
    with torch.no_grad():
        for p, key in pairs:
            p.copy_(torch.from_numpy(net.params[key]))
    opt = cc.SGD(net, lr=0.05, momentum=0.9, weight_decay=0.01)
    opt_t = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)
    for _ in range(5):
        x, y = rng.standard_normal((6, 2, 5, 5)), rng.integers(0, 4, 6)
        loss, dout = cc.softmax_cross_entropy(net.forward(x), y)
        net.backward(dout)
        opt.step()
        opt_t.zero_grad()
        loss_t = torch.nn.functional.cross_entropy(ref(torch.from_numpy(x)), torch.from_numpy(y))
        loss_t.backward()
        opt_t.step()
        assert loss == pytest.approx(loss_t.item(), rel=1e-10)
    for p, key in pairs:
        np.testing.assert_allclose(net.params[key], p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_fit_trains_in_training_mode_and_restores_evaluation_mode(digits):
    X_tr, y_tr = digits[0][:64], digits[1][:64]
    net = cc.Sequential([cc.Conv2D(1, 4, 3, rng=0), cc.BatchNorm2D(4), cc.ReLU(), cc.GlobalAvgPool2D(), cc.Linear(4, 10, rng=1)])
    net.eval()
    bn = net.layers[1]
    cc.fit(net, X_tr, y_tr, epochs=1, progress=False, validation=(X_tr, y_tr))
    assert bn.running_mean.any()  # trained in training mode: the running statistics moved
    assert not bn.training  # and the mode the caller chose is back
