"""Sample submission for hw2_conv: crashes and loops forever. Expected: 3 of 10 points.

The forward pass is right (3/3). The backward pass indexes past the edge of an array
(IndexError, 0/3), so her gradient check crashes too (0/1); the vectorized forward never
returns (an infinite loop: the cell times out, 0/3) -- and grading goes on.
"""

# %% conv_backward_naive
def conv_backward_naive(dout, x, w, stride=1, padding=0):
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for r in range(dout.shape[2] + 5):
        dx[:, :, r] += 1
    return dx, dw, db

# %% conv_forward_fast
def conv_forward_fast(x, w, b, stride=1, padding=0):
    while True:
        pass
