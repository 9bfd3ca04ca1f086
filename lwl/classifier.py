"""Layered classifiers trained by RRR (paper section 5; programs RRRclass and RRRclass_x)."""
import numbers
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._engine import Engine, train_epoch
from ._progress import EpochTable
from ._validation import as_2d_float, check_n_features, check_random_state, check_scalar
from .graph import Graph

_HISTORY_KEYS = ("epoch", "gwms", "iters", "err_first", "err_last", "batch_err", "train_err",
                 "test_err", "seconds")


class RRRClassifier(ClassifierMixin, BaseEstimator):
    """A layered network classifier trained by RRR: no loss function, no gradients.

    Training finds weights and biases that satisfy, for every item of a batch, the constraints
    of eq 26: ``x·w = Omega y`` at every neuron, consensus of the replicated variables, the
    activation as a constraint set, and the class encoding ``y - b >= margin`` on the labelled
    class node and ``y - b <= 0`` on the others. Batches run ``rrr_iter`` RRR iterations each,
    warm-started from the previous batch's parameters (section 5.4).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(20,)
    activation : {'relu', 'step'}, default='relu'
        'step' is the step with a gap of width ``margin`` (Fig 2, section 6.3.1).
    margin : float > 0, default=0.1
        Delta: the class margin of eq 26d (and the step's gap).
    omega : float > 0, default=2.0
        Norm of every node's incoming weights (eq 26g); ``y = x·w / Omega`` (eq 26h).
    upsilon : float > 0, default=1.0
        Metric weight g2 of the class nodes' y and b (eq 31).
    beta : float in (0, 1], default=1.0
        RRR step size.
    batch_size : int, default=128
    rrr_iter : int, default=100
        RRR iterations per batch (the cap); ``tol`` may stop a batch earlier.
    tol : float, default=1e-9
        A batch stops as soon as RRR_err < tol.
    epochs : int, default=10
    exempt : int or float, default=0
        Eccentric exemptions EE per batch (section 5.3.1, eq 32): the items with the largest
        class-projection distance are left unconstrained at the class nodes. A float in (0, 1)
        is a fraction of the batch (0.005 with batches of 1000 is EE = 5).
    relabel : bool, default=False
        With ``exempt`` > 0: instead of exempting, let up to EE items per batch take the class
        nearest to them rather than their label (wrong labels only, section 5.3.2, eq 33).
    warm_start : bool, default=False
        Continue from the fitted parameters on the next ``fit``.
    n_jobs : int or None, default=None
        OpenMP threads over blocks of items (None = 1). Results do not depend on it.
    random_state : int, Generator or None
        Initial weights and the shuffling before every epoch.
    verbose : int, default=0
        Print the per-epoch table with the time left.

    Attributes
    ----------
    classes_ : ndarray
    coefs_, intercepts_ : lists of ndarray
        Per layer, as MLPClassifier: the layer computes ``f(a @ coefs_[l] + intercepts_[l])``
        (``coefs_ = w / Omega`` and ``intercepts_ = -b`` of the paper's variables).
    history_ : dict of lists
        Per epoch: ``epoch``, ``gwms`` (cumulative), ``iters`` (mean RRR iterations per batch),
        ``err_first`` and ``err_last`` (mean RRR_err, eq 42, at the first and last iteration of
        a batch), ``batch_err`` (mean error on each batch just trained, exempted items not
        counted), ``train_err``, ``test_err`` (with ``eval_set``; else None), ``seconds``.
    gwms_ : float
        Work, 1e-9 x iterations x |K| x |E| (eq 24).
    n_iter_ : int
        RRR iterations over all batches.
    exempted_ : ndarray of int
        Indices of the training items exempted in the last epoch.
    relabeled_ : ndarray (n, 2)
        In relabel mode: training item index and the class (a value of ``classes_``) it was
        given instead of its label, in the last epoch.
    interrupted_ : bool
        True when Ctrl-C stopped ``fit``; the parameters are then the best reached (lowest
        training error among the epoch ends and the moment of the interruption).
    """

    def __init__(self, hidden_layer_sizes=(20,), activation="relu", margin=0.1, omega=2.0,
                 upsilon=1.0, beta=1.0, batch_size=128, rrr_iter=100, tol=1e-9, epochs=10,
                 exempt=0, relabel=False, warm_start=False, n_jobs=None, random_state=None,
                 verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.margin = margin
        self.omega = omega
        self.upsilon = upsilon
        self.beta = beta
        self.batch_size = batch_size
        self.rrr_iter = rrr_iter
        self.tol = tol
        self.epochs = epochs
        self.exempt = exempt
        self.relabel = relabel
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ validation
    def _check_params(self, n_samples):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes)
        for s in sizes:
            check_scalar(s, "hidden_layer_sizes entries", numbers.Integral, low=1)
        if self.activation not in ("relu", "step"):
            raise ValueError(f"activation must be 'relu' or 'step'; got {self.activation!r}")
        check_scalar(self.margin, "margin", low=0, low_inclusive=False)
        check_scalar(self.omega, "omega", low=0, low_inclusive=False)
        check_scalar(self.upsilon, "upsilon", low=0, low_inclusive=False)
        check_scalar(self.beta, "beta", low=0, high=1, low_inclusive=False)
        check_scalar(self.batch_size, "batch_size", numbers.Integral, low=1)
        if self.batch_size > n_samples:
            raise ValueError(f"batch_size={self.batch_size} is larger than the training data "
                             f"({n_samples} items)")
        check_scalar(self.rrr_iter, "rrr_iter", numbers.Integral, low=1)
        check_scalar(self.tol, "tol", low=0)
        check_scalar(self.epochs, "epochs", numbers.Integral, low=1)
        ee = self.exempt
        if isinstance(ee, numbers.Integral) and not isinstance(ee, bool):
            check_scalar(ee, "exempt", numbers.Integral, low=0, high=self.batch_size - 1)
        else:
            check_scalar(ee, "exempt", low=0, high=1, high_inclusive=False)
            ee = int(round(ee * self.batch_size))
        if self.relabel and ee == 0:
            raise ValueError("relabel=True needs exempt > 0 (how many labels a batch may change)")
        n_jobs = 1 if self.n_jobs is None else check_scalar(self.n_jobs, "n_jobs", numbers.Integral, low=1)
        return sizes, ee, n_jobs

    def _encode_labels(self, y, n_samples):
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n_samples:
            raise ValueError(f"y must be 1-D with one label per row of X ({n_samples}); "
                             f"got shape {y.shape}")
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite labels")
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"y has a single class ({classes[0]!r}); a classifier needs at least 2")
        return classes, codes.astype(np.int32)

    def _labels_to_codes(self, y, n_samples):
        """Codes of labels the model has seen; ValueError naming the ones it has not."""
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n_samples:
            raise ValueError(f"y must be 1-D with {n_samples} labels; got shape {y.shape}")
        try:
            codes = np.searchsorted(self.classes_, y)
            codes = np.clip(codes, 0, len(self.classes_) - 1)
            ok = self.classes_[codes] == y
        except TypeError:
            ok = np.zeros(len(y), bool)
            codes = np.zeros(len(y), int)
        if not np.all(ok):
            unseen = np.unique(np.asarray(y[~ok], dtype=object).astype(str))[:5]
            raise ValueError(f"y has labels the model has not seen: {', '.join(unseen)} "
                             f"(classes_ are {list(self.classes_)})")
        return codes.astype(np.int32)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, eval_set=None):
        """Train on X (n_samples, n_features) with labels y.

        ``eval_set=(X_test, y_test)`` adds the test error of every epoch to ``history_``, so
        one call gives the published program's per-epoch log.
        """
        X = as_2d_float(X)
        sizes, ee, n_jobs = self._check_params(X.shape[0])
        continuing = self.warm_start and hasattr(self, "_weights")
        if continuing:
            check_n_features(self, X)
            codes = self._labels_to_codes(y, X.shape[0])
        else:
            self.classes_, codes = self._encode_labels(y, X.shape[0])
            self.n_features_in_ = X.shape[1]
        if eval_set is not None:
            X_test = as_2d_float(eval_set[0], "eval_set X")
            check_n_features(self, X_test)
            codes_test = self._labels_to_codes(eval_set[1], X_test.shape[0])
        rng = check_random_state(self.random_state)

        layer_sizes = [X.shape[1], *sizes, len(self.classes_)]
        graph = Graph.layered(layer_sizes, self.activation)
        mode = "relabel" if self.relabel else ("ee" if ee > 0 else "plain")
        engine = Engine(graph, self.batch_size, omega=self.omega, upsilon=self.upsilon,
                        beta=self.beta, delta=self.margin, class_mode=mode, ee=ee,
                        n_jobs=n_jobs, rng=rng)
        if continuing:
            if len(self._weights) != graph.n_edges:
                raise ValueError("warm_start: the network shape changed since the last fit")
            engine.weights, engine.biases = self._weights.copy(), self._biases.copy()
            history, gwms, n_iter = self.history_, self.gwms_, self.n_iter_
        else:
            history, gwms, n_iter = {k: [] for k in _HISTORY_KEYS}, 0.0, 0
        self._graph, self._layer_sizes = graph, layer_sizes

        table = EpochTable({"gwms": "{:9.4f}", "iters": "{:6.1f}", "err_first": "{:9.3e}",
                            "err_last": "{:9.3e}", "batch_err": "{:9.4f}", "train_err": "{:9.4f}",
                            "test_err": "{:9.4f}"}, self.epochs, self.verbose)
        best = (np.inf, engine.weights.copy(), engine.biases.copy())
        first_epoch = len(history["epoch"]) + 1
        start = time.perf_counter() - (history["seconds"][-1] if history["seconds"] else 0.0)
        exempted, relabeled, interrupted = np.array([], int), np.empty((0, 2), int), False
        try:
            for epoch in range(first_epoch, first_epoch + self.epochs):
                out = train_epoch(engine, X, codes, self.rrr_iter, self.tol, rng)
                gwms += out["gwms"]
                n_iter += int(np.sum(out["iters"]))
                train_err = float(np.mean(engine.predict(X) != codes))
                test_err = (float(np.mean(engine.predict(X_test) != codes_test))
                            if eval_set is not None else None)
                row = dict(epoch=epoch, gwms=gwms, iters=float(np.mean(out["iters"])),
                           err_first=float(np.mean(out["err_first"])),
                           err_last=float(np.mean(out["err_last"])),
                           batch_err=float(np.mean(out["batch_err"])), train_err=train_err,
                           test_err=test_err, seconds=time.perf_counter() - start)
                for k in _HISTORY_KEYS:
                    history[k].append(row[k])
                table.row(epoch - first_epoch + 1, row)
                exempted = np.sort(np.asarray(out["exempt"], int))
                relabeled = np.asarray(out["relabeled"], int).reshape(-1, 2)
                if train_err < best[0]:
                    best = (train_err, engine.weights.copy(), engine.biases.copy())
        except KeyboardInterrupt:
            interrupted = True
            now = float(np.mean(engine.predict(X) != codes))
            if best[0] < now:
                engine.weights, engine.biases = best[1], best[2]
            warnings.warn(f"fit interrupted after {n_iter} RRR iterations; keeping the parameters "
                          f"with the lowest training error so far ({min(now, best[0]):.4f})",
                          RuntimeWarning, stacklevel=2)

        self._weights, self._biases = engine.weights.copy(), engine.biases.copy()
        self._predictor = engine
        self.history_, self.gwms_, self.n_iter_ = history, gwms, n_iter
        self.exempted_ = exempted
        self.relabeled_ = np.column_stack([relabeled[:, 0], self.classes_[relabeled[:, 1]]]) \
            if len(relabeled) else np.empty((0, 2), dtype=object)
        self.interrupted_ = interrupted
        self._set_layer_parameters()
        return self

    def _set_layer_parameters(self):
        g, w, b = self._graph, self._weights, self._biases
        self.coefs_, self.intercepts_ = [], []
        for lo, hi in zip(g.layers[:-1], g.layers[1:]):
            coef = np.zeros((len(lo), len(hi)))
            sel = np.isin(g.dst, hi)
            coef[g.src[sel] - lo[0], g.dst[sel] - hi[0]] = w[sel] / self.omega
            self.coefs_.append(coef)
            self.intercepts_.append(-b[hi])

    # ------------------------------------------------------------------ inference
    def _engine_for_predict(self):
        """The fitted engine; after unpickling, a one-item engine rebuilt from the parameters."""
        if getattr(self, "_predictor", None) is None:
            self._predictor = Engine(self._graph, 1, omega=self.omega, delta=self.margin)
            self._predictor.weights, self._predictor.biases = self._weights, self._biases
        return self._predictor

    def decision_function(self, X):
        """``y - b`` of the class nodes after a forward pass (n_samples, n_classes); for two
        classes, as scikit-learn, the 1-D score of ``classes_[1]`` minus that of ``classes_[0]``."""
        check_is_fitted(self, "_weights")
        X = as_2d_float(X)
        check_n_features(self, X)
        z = self._engine_for_predict().decision_function(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict(self, X):
        check_is_fitted(self, "_weights")
        X = as_2d_float(X)
        check_n_features(self, X)
        return self.classes_[self._engine_for_predict().predict(X)]

    def score(self, X, y, sample_weight=None):
        """Accuracy; labels the model has not seen raise ValueError."""
        check_is_fitted(self, "_weights")
        X = as_2d_float(X)
        check_n_features(self, X)
        codes = self._labels_to_codes(y, X.shape[0])
        pred = self._engine_for_predict().predict(X)
        return float(np.average(pred == codes, weights=sample_weight))

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_predictor"] = None  # cffi state is rebuilt on demand
        return state
