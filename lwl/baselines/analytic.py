"""Analytic alternating training of a two-layer leaky-ReLU network (Barbu 2023, arXiv 2304.02972).

The network is ``f(x) = V^T s(W x + b) + c`` with ``s(z) = z`` for ``z > 0`` and ``leak * z``
otherwise, fitted to the square loss.  Writing ``D`` for the activation pattern (``D[i, k] = 1`` if
unit ``k`` is active on sample ``i``, else ``leak``), each iteration

1. solves for the output layer ``(V, c)`` in closed form with ``(W, b)`` fixed (ridge least squares);
2. solves for the hidden layer ``(W, b)`` in closed form with ``(V, c)`` and ``D`` fixed: the output
   ``sum_k V[k] D[i, k] (w_k . x_i + b_k)`` is linear in ``(W, b)``, so this is a linear least-squares
   problem with ``h (d + 1)`` unknowns;
3. updates ``D`` from the new pre-activations.

Choices that are ours, not the paper's (the abstract leaves them open):

* the activation is leaky ReLU with slope ``leak`` (0.1 by default; ``leak=0`` is plain ReLU);
* ridge term: the objective is ``(sum_i |f(x_i) - y_i|^2 + alpha |(W, b, V)|^2) / (2 n)``: the hidden
  biases are penalised, the output intercept is not, so every closed form is a positive-definite
  system when ``alpha > 0``;
* the hidden step is either the joint normal equations of all ``h (d + 1)`` unknowns
  (``hidden_solver='joint'``, an exact minimiser for the fixed pattern) or one Gauss-Seidel sweep over
  the units in index order (``'unit'``): each unit's ``d + 1`` weights are set to their exact
  closed-form minimiser with the other units fixed, reusing ``X^T X`` so a unit costs one Gram over
  its active (or its inactive) rows.  ``'auto'`` takes the joint solve when it fits in
  ``max_memory_mb``.  For MNIST-sized data (n = 10000, d = 784, h = 20) the joint normal matrix is
  15700 x 15700 (1.8 GiB, plus 1.2 GiB of pattern-scaled copies of X), while a unit's is 785 x 785;
* safeguard: the hidden solve assumes the old pattern, so the true loss after the pattern update can
  rise.  We then halve the step from the old to the new hidden weights (at most 30 times); for small
  steps the pattern does not change, so the loss cannot rise, and ``loss_curve_`` is non-increasing.
  If no halving helps, training stops;
* initialisation: random unit directions scaled by the data spread, each unit's bias placing its
  hyperplane through a random training sample (so no unit starts dead);
* stopping: relative decrease of the objective below ``tol`` over one iteration.
"""
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_random_state

_MAX_HALVINGS = 30


def _check_predict_X(estimator, X):
    """X for predict / decision_function, checked against what ``estimator`` was fitted on."""
    check_is_fitted(estimator)
    return validate_data(estimator, X, reset=False, dtype=np.float64)


class _OneHotOutputs(ClassifierMixin):
    """Label handling, decision_function and predict of a classifier whose ``_network`` gives
    one output per class (trained on one-hot targets)."""

    def _validate_fit_data(self, X, y):
        """Float X and the integer class codes of y; sets ``classes_`` and ``n_features_in_``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.shape[0] < 2:
            raise ValueError(f"y has only one class ({self.classes_[0]}); "
                             f"{type(self).__name__} needs at least 2")
        return X, codes

    def decision_function(self, X):
        """Network outputs (n, Q); for two classes, output 1 minus output 0 (n,) as sklearn.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data (converted to float64).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The network's outputs, a column per class of ``classes_``; for two classes the
            1-D difference (positive: ``classes_[1]``). float64.
        """
        F = self._network(_check_predict_X(self, X))
        return F[:, 1] - F[:, 0] if self.classes_.shape[0] == 2 else F

    def predict(self, X):
        """The class of every item: that of the largest network output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data (converted to float64).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The predicted labels, values of ``classes_``.
        """
        F = self._network(_check_predict_X(self, X))
        return self.classes_[np.argmax(F, axis=1)]


def _solve_spd(G, B, alpha, what):
    """Solve G X = B for symmetric positive (semi)definite G; ValueError if singular."""
    try:
        factor = linalg.cho_factor(G, lower=True, check_finite=False)
        diag = np.abs(np.diag(factor[0]))
        singular = diag.min() ** 2 <= G.shape[0] * np.finfo(float).eps * diag.max() ** 2
    except linalg.LinAlgError:
        singular = True
    if singular:
        hint = "set alpha > 0 (ridge regularisation)" if alpha == 0 else "increase alpha"
        raise ValueError(f"the closed-form {what} is a singular ({G.shape[0]} x {G.shape[0]}) "
                         f"system with alpha={alpha!r}; {hint} or use more / more varied samples")
    return linalg.cho_solve(factor, B, check_finite=False)


class _AnalyticReLU(BaseEstimator):
    """Shared fitting code; see the module docstring for the algorithm and our choices."""

    _parameter_constraints = {
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left")],
        "leak": [Interval(Real, 0, 1, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "hidden_solver": [StrOptions({"auto", "joint", "unit"})],
        "max_memory_mb": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
    }

    def __init__(self, hidden_layer_size=20, leak=0.1, alpha=1e-4, max_iter=200, tol=1e-4,
                 hidden_solver="auto", max_memory_mb=1024, random_state=None, verbose=False):
        self.hidden_layer_size = hidden_layer_size
        self.leak = leak
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.hidden_solver = hidden_solver
        self.max_memory_mb = max_memory_mb
        self.random_state = random_state
        self.verbose = verbose

    def _choose_solver(self, n_samples, n_features, n_outputs):
        """The hidden solver to use; ValueError if the problem exceeds the memory budget or, with
        alpha=0, has too few samples for a closed form."""
        h, alpha, budget = self.hidden_layer_size, self.alpha, self.max_memory_mb
        p = n_features + 1
        mb = {  # working memory of the hidden solve besides X itself, in MB
            "joint": 8.0 * ((h * p) ** 2 + n_samples * h * p) / 2**20,  # normal matrix + D-scaled X's
            "unit": 8.0 * (3 * p * p + n_samples * p / 2) / 2**20,  # X^T X, one unit's Gram + factor, rows
        }
        solver = self.hidden_solver
        if solver == "auto":
            solver = "joint" if mb["joint"] <= budget else "unit"
        if mb[solver] > budget:
            size = f"{h * p} x {h * p}" if solver == "joint" else f"{p} x {p}"
            alt = f"; hidden_solver='unit' needs {mb['unit']:.1f} MB" if solver == "joint" else ""
            raise ValueError(
                f"the {solver} hidden-layer closed form ({size} normal matrix, {h} units x {p} "
                f"weights) needs about {mb[solver]:.1f} MB > max_memory_mb={budget}{alt}")
        if alpha == 0:
            need = {"joint": -(-h * p // n_outputs), "unit": p}[solver]
            for what, k in (("output layer", h + 1), (f"{solver} hidden layer", need)):
                if n_samples < k:
                    raise ValueError(f"with alpha=0 the closed-form {what} needs at least {k} "
                                     f"samples; got {n_samples}. Set alpha > 0 or add samples")
        return solver

    def _objective(self, Z, W, V, c, T):
        """Penalised loss (module docstring) for pre-activations Z = X1 @ W.T."""
        H = np.where(Z > 0, Z, self.leak * Z)
        R = H @ V + c - T
        pen = np.sum(W * W) + np.sum(V * V)
        return (np.sum(R * R) + self.alpha * pen) / (2 * T.shape[0])

    def _output_step(self, H, T):
        """Closed-form ridge least squares for the output layer (intercept not penalised)."""
        A = np.hstack([H, np.ones((H.shape[0], 1))])
        G = A.T @ A
        G[np.arange(H.shape[1]), np.arange(H.shape[1])] += self.alpha
        Vc = _solve_spd(G, A.T @ T, self.alpha, "output-layer solve")
        return Vc[:-1], Vc[-1]

    def _joint_step(self, X1, D, V, T):
        """Exact minimiser over all hidden weights for the fixed pattern D (normal equations)."""
        n, p = X1.shape
        h = V.shape[0]
        B = (D[:, :, None] * X1[:, None, :]).reshape(n, h * p)  # column (k, j) = D[:, k] * X1[:, j]
        G = B.T @ B
        G.reshape(h, p, h, p)[...] *= (V @ V.T)[:, None, :, None]
        G[np.diag_indices_from(G)] += self.alpha
        rhs = (((T @ V.T) * D).T @ X1).ravel()
        return _solve_spd(G, rhs, self.alpha, "joint hidden-layer solve").reshape(h, p)

    def _unit_step(self, X1, XtX, D, W, V, T):
        """One Gauss-Seidel sweep: each unit's exact minimiser with the others (and D) fixed."""
        W = W.copy()
        a2 = self.leak ** 2
        H = (X1 @ W.T) * D
        R = T - H @ V  # residual without the output intercept (already subtracted from T)
        for k in range(W.shape[0]):
            v = V[k]
            nv = v @ v
            active = D[:, k] == 1
            if 2 * active.sum() <= active.size:  # Gram over the smaller row set
                Xa = X1[active]
                G = a2 * XtX + (1 - a2) * (Xa.T @ Xa)
            else:
                Xi = X1[~active]
                G = XtX - (1 - a2) * (Xi.T @ Xi)
            G *= nv
            G[np.diag_indices_from(G)] += self.alpha
            rhs = X1.T @ (D[:, k] * (R @ v + H[:, k] * nv))
            W[k] = _solve_spd(G, rhs, self.alpha, f"hidden-unit {k} solve")
            h_new = (X1 @ W[k]) * D[:, k]
            R -= np.outer(h_new - H[:, k], v)
            H[:, k] = h_new
        return W

    def _init_weights(self, X, rng):
        """Random unit directions / data spread; each hyperplane through a random sample."""
        n, d = X.shape
        h = self.hidden_layer_size
        spread = np.sqrt(np.mean(np.sum((X - X.mean(axis=0)) ** 2, axis=1)))
        Wd = rng.standard_normal((h, d))
        Wd /= np.linalg.norm(Wd, axis=1, keepdims=True) * (spread if spread > 0 else 1.0)
        b = -np.einsum("kd,kd->k", Wd, X[rng.integers(0, n, size=h)])
        return np.hstack([Wd, b[:, None]])

    def _fit(self, X, T):
        n, d = X.shape
        solver = self._choose_solver(n, d, T.shape[1])
        rng = check_random_state(self.random_state)
        X1 = np.hstack([X, np.ones((n, 1))])
        XtX = X1.T @ X1 if solver == "unit" else None
        W = self._init_weights(X, rng)
        Z = X1 @ W.T
        curve, converged = [], False
        for it in range(1, self.max_iter + 1):
            D = np.where(Z > 0, 1.0, self.leak)
            V, c = self._output_step(Z * D, T)
            J_old = self._objective(Z, W, V, c, T)
            Tc = T - c
            W_new = (self._joint_step(X1, D, V, Tc) if solver == "joint"
                     else self._unit_step(X1, XtX, D, W, V, Tc))
            for halvings in range(_MAX_HALVINGS + 1):
                Z_new = X1 @ W_new.T
                J = self._objective(Z_new, W_new, V, c, T)
                if J <= J_old:
                    W, Z = W_new, Z_new
                    break
                W_new = 0.5 * (W + W_new)
            else:
                J, converged = J_old, True  # no step helps: a fixed point of the iteration
            curve.append(J)
            if self.verbose:
                print(f"Iteration {it}, loss = {J:.8g}, step halvings = {halvings}")
            prev = curve[-2] if len(curve) > 1 else J_old
            if converged or prev - J <= self.tol * prev:
                converged = True
                break
        if not converged:
            warnings.warn(f"{type(self).__name__}: max_iter={self.max_iter} reached before the "
                          f"relative loss decrease fell below tol={self.tol}", ConvergenceWarning)
        self.coefs_ = [np.ascontiguousarray(W[:, :d].T), V.copy()]
        self.intercepts_ = [W[:, d].copy(), np.asarray(c, dtype=float).copy()]
        self.loss_curve_ = curve
        self.loss_ = curve[-1]
        self.n_iter_ = it
        self.hidden_solver_ = solver
        return self

    def _network(self, X):
        Z = X @ self.coefs_[0] + self.intercepts_[0]
        return np.where(Z > 0, Z, self.leak * Z) @ self.coefs_[1] + self.intercepts_[1]


class AnalyticReLUClassifier(_OneHotOutputs, _AnalyticReLU):
    """Two-layer leaky-ReLU classifier trained by analytic alternating least squares (Barbu 2023).

    Fits one-hot targets with the square loss; the predicted class is the largest output.
    Singular closed forms are regularised by the ridge term ``alpha``; with ``alpha=0`` a singular
    system or too few samples raise ValueError.  Algorithm and our own choices: module docstring.

    Parameters
    ----------
    hidden_layer_size : int, number of hidden units h.
    leak : float in [0, 1), slope of the activation for negative inputs.
    alpha : float >= 0, ridge penalty (see module docstring for the objective).
    max_iter : int, maximum number of (output solve, hidden solve, pattern update) iterations.
    tol : float, stop when the objective decreases by less than ``tol`` times itself.
    hidden_solver : 'auto', 'joint' or 'unit' (module docstring).
    max_memory_mb : float, budget for the hidden solve's dense normal matrices and scaled copies of
        X; if even ``hidden_solver='unit'`` (or the one requested) exceeds it, ValueError.
    random_state : None, int, numpy RandomState or Generator, for the initialisation.
    verbose : bool, print the loss after each iteration.

    Attributes
    ----------
    classes_, n_features_in_, coefs_ ([(d, h), (h, Q)]), intercepts_ ([(h,), (Q,)]),
    loss_curve_ (objective after each iteration), loss_, n_iter_, hidden_solver_.
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network to the one-hot encoding of y by analytic alternating least squares.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (converted to float64).
        y : array-like of shape (n_samples,)
            Class labels, of at least two classes.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, codes = self._validate_fit_data(X, y)
        return self._fit(X, np.eye(self.classes_.shape[0])[codes])


class AnalyticReLURegressor(RegressorMixin, _AnalyticReLU):
    """Two-layer leaky-ReLU regressor trained by analytic alternating least squares (Barbu 2023).

    Same parameters and attributes as :class:`AnalyticReLUClassifier` (without ``classes_``);
    ``y`` may be (n,) or (n, n_outputs) and ``predict`` returns the same shape.  Singular closed
    forms are regularised by ``alpha``; with ``alpha=0`` they raise ValueError.
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network to y by analytic alternating least squares.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (converted to float64).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        self._y_1d = y.ndim == 1
        return self._fit(X, y.reshape(y.shape[0], -1).astype(np.float64))

    def predict(self, X):
        """The network's outputs for X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data (converted to float64).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted targets, float64, of the shape of the y given to ``fit``
            (1-D for a 1-D y).
        """
        F = self._network(_check_predict_X(self, X))
        return F[:, 0] if self._y_1d else F

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
