"""Sample submission for hw2_conv that kills its process. Expected: 7 of 10 points.

His vectorized-forward cell calls os._exit, so the notebook's process dies there. The grader
keeps the 7 points his earlier cells earned, restarts his process for the remaining check, and
the feedback says which cell died; the submissions graded beside his are not affected.
"""

# %% conv_forward_fast
import os

os._exit(1)
