"""Constructively trained shallow ReLU classifier (Chen & Muñoz Ewald 2023, arXiv 2309.10370).

No iterative training: the weights come from the class means ``m_j`` of the training inputs.  Let
``P`` be the orthogonal projector onto ``S = span{m_1, ..., m_Q}`` (dimension Q <= M), ``U`` (M x Q)
an orthonormal basis of S and ``A = [U^T m_1 ... U^T m_Q]``.  The paper's upper-bound construction
takes ``W1 = R P`` (``R`` orthogonal), a bias ``b1`` large enough that the ReLU acts as the identity
on every training input, and an output layer mapping the hidden images of the means onto the
one-hot targets ``Y``: ``W2 = Y A^{-1}``, ``b2 = -W2 b1``.  On the data the network is the linear map
``x -> Y A^{-1} U^T x``, and ``predict`` picks the class ``j`` nearest to ``x`` in the metric
``|A^{-1} U^T (x - m_j)|`` on S ("metrizes" S).  The cost is the L2 (Hilbert-Schmidt) cost of the
training set, here ``sum_i |f(x_i) - y_i|^2 / (2 N)``.

Choices that are ours:

* ``R P`` has M - Q zero rows once ``R`` maps ``S`` onto the first Q axes; we drop them, so the hidden
  layer has Q units, ``coefs_[0] = U`` (an orthonormal basis of S from an SVD).  ``hidden_layer_size``
  larger than that adds units with zero weights (``hidden_layer_size=M`` has the paper's width);
* ``b1 = beta`` on every unit with ``beta = 2 max |U^T x_i|``, so training pre-activations lie in
  ``[beta/2, 3 beta/2]`` and test inputs up to twice as far out still see the identity;
* ``center=True`` (not in the paper) uses the affine hull of the means instead: inputs are shifted by
  the mean ``mu`` of the class means, S = span{m_j - mu} has dimension Q - 1 (so Q - 1 hidden units),
  ``W2`` is the pseudo-inverse of the hidden centred means and ``b2`` adds the target mean.  This needs
  only affinely independent means, is invariant to translating the inputs, and works when the means
  are (nearly) collinear, e.g. two classes with opposite means;
* the sample counts per class may differ; each class mean uses its own samples.
"""
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval

from .analytic import _OneHotOutputs


class ConstructiveReLUClassifier(_OneHotOutputs, BaseEstimator):
    """One-hidden-layer ReLU classifier built from the class means (Chen & Muñoz Ewald 2023).

    Parameters
    ----------
    hidden_layer_size : None or int.  The construction fixes the width at Q units (Q - 1 with
        ``center=True``); None means that, fewer raises ValueError, more adds zero-weight units.
    center : bool, default False: the paper's construction.  True uses the affine hull of the
        class means instead (ours, see module docstring), which also handles Q = M + 1 classes
        and means collinear with the origin.
    random_state : accepted for API uniformity; the construction is deterministic.

    Attributes
    ----------
    classes_, n_features_in_, coefs_ ([(M, h), (h, Q)]), intercepts_ ([(h,), (Q,)]),
    cost_ (training L2 cost ``sum_i |f(x_i) - y_i|^2 / (2 N)`` with one-hot ``y_i``).

    The class means must be linearly independent (affinely with ``center=True``), which needs
    Q <= M (Q - 1 <= M); otherwise ``fit`` raises ValueError.
    """

    _parameter_constraints = {
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left"), None],
        "center": ["boolean"],
        "random_state": ["random_state", np.random.Generator],
    }

    def __init__(self, hidden_layer_size=None, center=False, random_state=None):
        self.hidden_layer_size = hidden_layer_size
        self.center = center
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Build the network from the class means of X (no iterative training).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (converted to float64).
        y : array-like of shape (n_samples,)
            Class labels, of at least two classes; the class means of X must be linearly
            (with ``center=True`` affinely) independent.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, codes = self._validate_fit_data(X, y)
        n, M = X.shape
        Q = self.classes_.shape[0]
        means = np.stack([X[codes == j].mean(axis=0) for j in range(Q)])  # (Q, M)
        mu = means.mean(axis=0) if self.center else np.zeros(M)
        C = means - mu
        width = Q - 1 if self.center else Q
        what = "affinely" if self.center else "linearly"
        if width > M:
            raise ValueError(f"the construction needs {width} {what} independent class means in "
                             f"R^{M}, impossible with {Q} classes and n_features={M}")
        U, s, _ = np.linalg.svd(C.T, full_matrices=False)
        rank = int(np.sum(s > max(M, Q) * np.finfo(float).eps * s[0])) if s[0] > 0 else 0
        if rank < width:
            hint = "" if self.center else "; center=True needs them only affinely independent"
            raise ValueError(f"the {Q} class means are not {what} independent (they span "
                             f"{rank} < {width} dimensions){hint}")
        U = U[:, :width]
        h = width if self.hidden_layer_size is None else self.hidden_layer_size
        if h < width:
            raise ValueError(f"hidden_layer_size={h} is too small: the construction needs "
                             f"{width} hidden units (one per dimension of the class-mean subspace)")
        proj = (X - mu) @ U
        beta = 2.0 * np.abs(proj).max()
        A = C @ U  # hidden images of the class means, minus beta
        W2 = np.linalg.pinv(A)  # inverse when center=False (A is Q x Q and invertible)
        b2 = (1.0 / Q if self.center else 0.0) - beta * W2.sum(axis=0)
        W1 = np.zeros((M, h))
        W1[:, :width] = U
        b1 = np.zeros(h)
        b1[:width] = beta - mu @ U
        W2_full = np.zeros((h, Q))
        W2_full[:width] = W2
        self.coefs_ = [W1, W2_full]
        self.intercepts_ = [b1, b2]
        F = self._network(X)
        F[np.arange(n), codes] -= 1.0
        self.cost_ = float(np.sum(F * F) / (2 * n))
        return self

    def _network(self, X):
        H = np.maximum(X @ self.coefs_[0] + self.intercepts_[0], 0.0)
        return H @ self.coefs_[1] + self.intercepts_[1]

