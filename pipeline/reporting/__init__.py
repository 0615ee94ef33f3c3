"""Figures, the Markdown report and the draw.io diagrams."""
