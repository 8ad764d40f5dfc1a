"""Procedural people with exact keypoints and parsing: sample inputs and test data we control."""

from .figure import FigureStyle, default_pose, draw_figure

__all__ = ["FigureStyle", "default_pose", "draw_figure"]
