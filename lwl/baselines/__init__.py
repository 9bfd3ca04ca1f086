"""Gradient-free baselines from the related work.

* :class:`AnalyticReLUClassifier`, :class:`AnalyticReLURegressor`: two-layer leaky-ReLU network
  trained by alternating closed-form least squares (Barbu 2023, arXiv 2304.02972).
* :class:`ConstructiveReLUClassifier`: one-hidden-layer ReLU network built from the class means,
  no training loop (Chen & Muñoz Ewald 2023, arXiv 2309.10370).
"""
from .analytic import AnalyticReLUClassifier, AnalyticReLURegressor
from .constructive import ConstructiveReLUClassifier

__all__ = ["AnalyticReLUClassifier", "AnalyticReLURegressor", "ConstructiveReLUClassifier"]
