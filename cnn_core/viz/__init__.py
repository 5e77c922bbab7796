"""Figures, animations and ipywidgets explorers for the book, one module per chapter idea.

Each explorer and its static twin (figure or animation for the online book)
come from the same plotting function, so they never disagree.
"""

from cnn_core.viz.readability import register_png_display

# In a notebook (the book's build included), every Figure shown carries its smallest text size.
register_png_display()
