"""Figures, animations and ipywidgets explorers for the book, one module per chapter idea.

Each explorer and its static twin (figure or animation for the online book)
come from the same plotting function, so they never disagree.
"""
