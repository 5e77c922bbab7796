"""Sample submission for hw3_pool with two typical mistakes. Expected: 7 of 11 points.

relu_backward lets the gradient through where x <= 0 (0/1), and the max-pool gradient goes to
every position of a window (0/2); her gradient check then shows large errors (0/1). The rest
is right.
"""

# %% relu
def relu_forward(x):
    return np.maximum(x, 0)


def relu_backward(dout, x):
    return dout.copy()

# %% pool_backward
def pool_backward(dout, x, pool_size=2, stride=2, mode="max"):
    N, D, H2, W2 = dout.shape
    F, S = pool_size, stride
    dx = np.zeros_like(x)
    for r in range(H2):
        for c in range(W2):
            g = dout[:, :, r, c][:, :, None, None]
            window = x[:, :, r * S:r * S + F, c * S:c * S + F]
            if mode == "max":
                dx[:, :, r * S:r * S + F, c * S:c * S + F] += g
            elif mode == "avg":
                dx[:, :, r * S:r * S + F, c * S:c * S + F] += g / (F * F)
            else:
                norm = np.sqrt(np.sum(window ** 2, axis=(2, 3), keepdims=True))
                dx[:, :, r * S:r * S + F, c * S:c * S + F] += g * window / np.where(norm > 0, norm, 1)
    return dx
