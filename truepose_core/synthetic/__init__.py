"""Procedural people with exact keypoints and parsing: sample inputs and test data we control."""

from .dataset import SyntheticPairs, random_pose, random_style
from .figure import FigureStyle, default_pose, draw_figure

__all__ = ["FigureStyle", "SyntheticPairs", "default_pose", "draw_figure", "random_pose", "random_style"]
