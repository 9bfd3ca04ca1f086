"""Linear Euclidean distance matrices, the exact-NMF benchmark of paper §4.4.1."""
import numpy as np


def ledm(m):
    """The m x m LEDM of eq 25: ``Y[i, k] = ((i - k) / (m - 1))**2``.

    Its ordinary rank is 3 (m >= 3); its non-negative rank is 5, 6, 7, 8 for m = 6, 8, 12, 16.
    """
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise ValueError(f"ledm needs an integer size m >= 2; got {m!r}")
    i = np.arange(m, dtype=np.float64)
    return ((i[:, None] - i[None, :]) / (m - 1)) ** 2
