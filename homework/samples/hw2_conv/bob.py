"""Sample submission for hw2_conv: partly wrong. Expected: 6 of 10 points.

The naive forward pass ignores the stride (a typical mistake): check_conv_forward fails with
"did you apply the stride?" (0/3), and his gradient check, which calls it with stride 2, crashes
(0/1). Backward (3/3) and the vectorized forward (3/3) are right.
"""

# %% conv_forward_naive
def conv_forward_naive(x, w, b, stride=1, padding=0):
    N, D, H, W = x.shape
    K, _, F, _ = w.shape
    H2 = H + 2 * padding - F + 1
    W2 = W + 2 * padding - F + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((N, K, H2, W2))
    for n in range(N):
        for k in range(K):
            for r in range(H2):
                for c in range(W2):
                    out[n, k, r, c] = np.sum(xp[n, :, r:r + F, c:c + F] * w[k]) + b[k]
    return out
