"""Sample submission for hw2_conv that kills its kernel. Expected: 0 of 10 points.

His vectorized-forward cell calls os._exit, so the kernel dies: nbgrader cannot run the
notebook to the end and grades it 0 (the score table says why); the submissions graded after
his (bob, carol) are not affected.
"""

# %% conv_forward_fast
import os

os._exit(1)
