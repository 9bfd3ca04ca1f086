"""lwl -- learning without loss.

Networks and factorisations trained by the RRR (relaxed-reflect-reflect, Douglas-Rachford)
algorithm as constraint satisfaction problems: no loss function, no gradients
(V. Elser, "Learning Without Loss", arXiv 1911.00493).
"""
from . import datasets
from .autoencoder import RRRAutoencoder
from .classifier import RRRClassifier, RRRFPAClassifier
from .generative import RRRGenerator
from .nmf import RRRNMF

from ._persist import load
from ._version import __version__

__all__ = ["RRRAutoencoder", "RRRClassifier", "RRRFPAClassifier", "RRRGenerator", "RRRNMF",
           "datasets", "load", "__version__"]

