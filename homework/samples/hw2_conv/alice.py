"""Sample submission for hw2_conv: every answer right. Expected: 10 of 10 points.

A sample file lists answer cells as blocks `# %% <grade_id>`; cells it does not list are
filled with the source's solution (`python homework/hw.py samples hw2_conv DEST`).
"""
