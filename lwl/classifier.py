"""Layered classifiers trained by RRR (paper section 5; programs RRRclass and RRRclass_x)."""
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ._core import STATE_DTYPES
from ._network import NETWORK_PARAMETERS, NetworkEstimator, NetworkTrainer, batches, layer_sizes
from ._training import with_callbacks
from ._validation import clip_batch
from .graph import ACTIVATIONS, Graph


class RRRClassifier(ClassifierMixin, NetworkEstimator):
    """A layered network classifier trained by RRR: no loss function, no gradients.

    Training finds weights and biases that satisfy, for every item of a batch, the constraints
    of eq 26: ``x·w = Omega y`` at every neuron, consensus of the replicated variables, the
    activation as a constraint set, and the class encoding ``y - b >= margin`` on the labelled
    class node and ``y - b <= 0`` on the others. Batches run ``rrr_iter`` RRR iterations each,
    warm-started from the previous batch's parameters (section 5.4).

    float32 data train on a single-precision state (half the memory traffic per iteration;
    ``coefs_``, ``intercepts_`` and decision functions in float32, a little less accurate);
    data of any other dtype train in float64.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(20,)
        Nodes of every hidden layer, from the data to the class nodes (empty: none).
    activation : {'relu', 'step', 'zigmoid', 'linear'}, default='relu'
        Activation of the hidden nodes, as a constraint set; 'step' has a gap and 'zigmoid' a
        ramp of width ``margin`` (Fig 2, 17).
    margin : float > 0, default=0.1
        Delta: the class margin of eq 26d (and the step's gap).
    omega : float > 0, default=2.0
        Norm of every node's incoming weights (eq 26g); ``y = x·w / Omega`` (eq 26h).
    upsilon : float > 0, default=1.0
        Metric weight g2 of the class nodes' y and b (eq 31).
    beta : float in (0, 1], default=1.0
        RRR step size.
    batch_size : int, default=128
        Items per batch ``|K|``; clipped, with a warning, to the training data's size.
    rrr_iter : int, default=100
        RRR iterations per batch (the cap); ``tol`` may stop a batch earlier.
    tol : float, default=1e-9
        A batch stops as soon as RRR_err < tol.
    epochs : int, default=10
        Passes over the training data (shuffled before each).
    exempt : int or float, default=0
        Eccentric exemptions EE per batch (section 5.3.1, eq 32): the items with the largest
        class-projection distance are left unconstrained at the class nodes. A float in (0, 1)
        is a fraction of the batch (0.005 with batches of 1000 is EE = 5). At least one item of
        every batch stays constrained.
    relabel : bool, default=False
        With ``exempt`` > 0: instead of exempting, let up to EE items per batch take the class
        nearest to them rather than their label (wrong labels only, section 5.3.2, eq 33).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified) and stop when its
        error has not improved for ``n_iter_no_change`` epochs; the parameters of the best
        validation epoch are kept.
    validation_fraction : float in (0, 1), default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping stops.
    warm_start : bool, default=False
        Continue from the fitted parameters on the next ``fit``.
    n_jobs : int or None, default=None
        OpenMP threads over blocks of items (None = 1). Results do not depend on it.
    random_state : int, Generator or None
        Initial weights and the shuffling before every epoch.
    verbose : int, default=0
        Print the per-epoch table with the time left.
    net : str, path or lwl.io.NetFile, default=None
        A net file of the published programs (a path, read at ``fit``, or a NetFile): any
        acyclic net, layered or not, sparse or dense, numbered data, hidden, class nodes.
        It replaces ``hidden_layer_sizes``; its data and class nodes must match the data's
        features and classes.
    comm : mpi4py communicator or None, default=None
        Processes that train together (``pip install "lwl[mpi]"``; run under ``mpiexec``):
        every process calls ``fit`` with the same data and parameters, holds the RRR state of
        its share of every batch's items, and the sums over items are added over the
        processes every iteration (data parallelism: P processes hold a batch P times
        larger than one of them could). Every process ends with the same fitted model; results
        equal one process's to rounding and are deterministic for a given number of
        processes. The class steps that select across a batch (``exempt``, ``relabel``, the
        FPA classifier) are not yet done across processes. Not saved with the model.

    Attributes
    ----------
    classes_ : ndarray
    coefs_, intercepts_ : lists of ndarray, or None
        Per layer, as MLPClassifier: the layer computes ``f(a @ coefs_[l] + intercepts_[l])``
        (``coefs_ = w / Omega`` and ``intercepts_ = -b`` of the paper's variables); None for
        a net that is not layered.
    history_ : dict of lists
        Per epoch: ``epoch``, ``gwms`` (cumulative), ``iters`` (mean RRR iterations per batch),
        ``err_first`` and ``err_last`` (mean RRR_err, eq 42, at the first and last iteration of
        a batch), ``batch_err`` (the error on every batch just after it was trained, pooled over
        the epoch's batches, exempted items not counted), ``train_err``, ``test_err`` (with
        ``eval_set``; else None), ``val_err`` (with early stopping), ``seconds``.
    gwms_ : float
        Work, 1e-9 x iterations x ``|K|`` x ``|E|`` (eq 24), that of an interrupted fit included.
    n_rrr_iter_ : int
        RRR iterations over all batches, those of an interrupted fit included; under its old
        name ``n_iter_`` with a FutureWarning until lwl 0.3, when ``n_iter_`` becomes the
        epochs run.
    rrr_err_ : ndarray
        RRR_err (eq 42) of every iteration, all batches in order.
    batch_iters_ : ndarray of int
        RRR iterations of every batch, in order (they split ``rrr_err_`` by batch).
    status_ : str
        Why the last fit stopped: 'converged' (the last batch reached RRR_err < tol),
        'max_iter' (every epoch ran), 'partial_fit' (its one epoch ran), 'early_stopping',
        'callback' or 'interrupted' (Ctrl-C: the parameters are the best reached, lowest
        training error among the epoch ends and the moment of the interruption).
    exempted_ : ndarray of int
        Indices of the training items exempted in the last epoch.
    relabeled_ : ndarray (n, 2)
        In relabel mode: training item index and the class (a value of ``classes_``) it was
        given instead of its label, in the last epoch.
    n_features_in_ : int
    """

    _parameter_constraints = {
        **NETWORK_PARAMETERS,
        "hidden_layer_sizes": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "margin": [Interval(Real, 0, None, closed="neither")],
        "upsilon": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "exempt": [Interval(Integral, 0, None, closed="left"),
                   Interval(RealNotInt, 0, 1, closed="left")],
        "relabel": ["boolean"],
    }

    def __init__(self, hidden_layer_sizes=(20,), activation="relu", margin=0.1, omega=2.0,
                 upsilon=1.0, beta=1.0, batch_size=128, rrr_iter=100, tol=1e-9, epochs=10,
                 exempt=0, relabel=False, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, warm_start=False, n_jobs=None, random_state=None,
                 verbose=0, net=None, comm=None):
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
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.net = net
        self.comm = comm

    # ------------------------------------------------------------------ set-up
    def _layer_sizes(self):
        hidden = layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
        return [self.n_features_in_, *hidden, len(self.classes_)]

    def _batch_size(self, n_samples):
        return clip_batch("batch_size", self.batch_size, n_samples)

    def _exemptions(self, K):
        """EE per batch of K items (section 5.3.1): a count, or a fraction of the batch."""
        ee = self.exempt
        ee = int(ee) if isinstance(ee, Integral) else int(round(ee * K))
        if ee >= K:
            raise ValueError(f"exempt={self.exempt!r} exempts {ee} items of a batch of {K}: "
                             f"at most {K - 1}, so that every batch keeps a constrained item")
        if self.relabel and ee == 0:
            raise ValueError("relabel=True needs exempt > 0 (how many labels a batch may "
                             "change)")
        return ee

    def _graph_for(self, sizes):
        return Graph.layered(sizes, self.activation)

    def _check_net(self, net):
        n_data, _, n_class = net.sizes
        if n_data != self.n_features_in_ or n_class != len(self.classes_):
            raise ValueError(f"the net has {n_data} data nodes and {n_class} class nodes; the "
                             f"data have {self.n_features_in_} features and "
                             f"{len(self.classes_)} classes")

    def _class_step(self, K):
        """The engine's class-step options for batches of K items (section 5.3)."""
        ee = self._exemptions(K)
        return dict(class_mode="relabel" if self.relabel else ("ee" if ee > 0 else "plain"),
                    ee=ee)

    # ------------------------------------------------------------------ fitting
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, eval_set=None):
        """Train on X (n_samples, n_features) with labels y.

        ``eval_set=(X_test, y_test)`` adds the test error of every epoch to ``history_``, so
        one call gives the published program's per-epoch log.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. float32 data train on a single-precision state; data of any other
            dtype train in float64.
        y : array-like of shape (n_samples,)
            Class labels, of at least two classes.
        eval_set : tuple of (X_test, y_test) or None, default=None
            Test data, array-like of shape (n_test_samples, n_features), and their labels,
            every one a class of y; the error of every epoch on them goes to ``history_``
            (``test_err``; ``test_fp`` and ``test_tn`` for :class:`RRRFPAClassifier`).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, eval_set=eval_set)

    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y), starting from the parameters learnt so far. The first call
        needs ``classes``, every label that any call will see (as MLPClassifier).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels, every one among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every label that any call will see. Needed on the first call; on a later call it
            may be omitted, and when given it must hold the classes of the first call.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if classes is None and not hasattr(self, "_weights"):
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, partial=True, classes=classes)

    def _check_fit_data(self, X, y, reset, classes=None, eval_set=None):
        X, y = validate_data(self, X, y, reset=reset, dtype=STATE_DTYPES, order="C")
        check_classification_targets(y)
        if reset:
            self.classes_ = unique_labels(y if classes is None else classes)
            if len(self.classes_) < 2:
                raise ValueError(f"y has one class only ({self.classes_[0]!r}); a classifier "
                                 "needs at least 2 classes")
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"classes={list(unique_labels(classes))} differs from the classes "
                             f"of the first call to partial_fit ({list(self.classes_)})")
        nodes = self._class_order()
        labels = nodes[self._label_indices(y, "y")]
        if eval_set is not None:
            X_test = validate_data(self, eval_set[0], reset=False, dtype=X.dtype, order="C")
            eval_set = (X_test, nodes[self._label_indices(np.asarray(eval_set[1]), "eval_set y")])
        return X, labels, {"eval_set": eval_set}

    def _trainer(self, X, labels, rng, reset, eval_set):
        K = self._batch_size(len(X))
        engine = self._new_engine(K, rng, None if reset else (self._weights, self._biases),
                                  dtype=X.dtype, upsilon=self.upsilon, **self._class_step(K))
        return _ClassifierTrainer(self, engine, X, labels, rng, eval_set)

    def _set_fitted(self, trainer, status, X, X_all, eval_set):
        self.exempted_ = np.sort(np.asarray(trainer.exempted, dtype=int))
        rel = np.asarray(trainer.relabeled, dtype=int).reshape(-1, 2)
        class_of_node = np.argsort(self._class_order())
        self.relabeled_ = (np.column_stack([rel[:, 0], self.classes_[class_of_node[rel[:, 1]]]])
                           if len(rel) else np.empty((0, 2), dtype=object))
        self._set_parameters(trainer.state)
        return self

    _RATES = ("err",)  # figures of every epoch, on batches, training and eval sets

    def _class_order(self):
        """The class node of each class of ``classes_``."""
        return np.arange(len(self.classes_))

    @staticmethod
    def _rates(pred, labels):
        """Error rate of predicted class-node indices against label indices."""
        return {"err": float(np.mean(pred != labels)) if len(labels) else 0.0}

    def _error(self, pred, labels):
        """The error early stopping minimises."""
        return self._rates(pred, labels)["err"]

    def _label_indices(self, y, name):
        """Indices into classes_ of the labels y; ValueError naming labels not in classes_."""
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        seen = self.classes_[idx] == y
        if not np.all(seen):
            unseen = np.unique(np.asarray(y)[~seen])[:5]
            raise ValueError(f"{name} has labels the model has not seen: "
                             f"{', '.join(map(str, unseen))} (classes_ are "
                             f"{list(self.classes_)})")
        return idx.astype(np.int32)

    def _set_parameters(self, engine):
        self._keep_parameters(engine)
        self._set_coefs()

    def _set_coefs(self):
        g, w, b = self._graph, self._weights, self._biases
        if g.layers is None:
            self.coefs_ = self.intercepts_ = None
            return
        self.coefs_, self.intercepts_ = [], []
        for lo, hi in zip(g.layers[:-1], g.layers[1:]):
            coef = np.zeros((len(lo), len(hi)), dtype=w.dtype)
            sel = np.isin(g.dst, hi)
            coef[g.src[sel] - lo[0], g.dst[sel] - hi[0]] = w[sel] / self.omega
            self.coefs_.append(coef)
            self.intercepts_.append(-b[hi])

    # ------------------------------------------------------------------ files
    @classmethod
    def load_params(cls, path, net, classes=None, **params):
        """A fitted classifier from a parameter file of the published programs (RRRclass's
        ``id.dat``, RRRclass_fp's ``id.param``) and its net file (a path or a NetFile).

        ``classes``: the label of each class node in order (default ``0 .. n_class-1``, the
        published programs' labels). ``omega`` must be the Omega the parameters were trained
        with (RRRclass's ``wnorm``: the forward pass divides by it); ``activation`` that of
        the hidden nodes. Other ``params`` are hyperparameters for later fits (a warm start
        continues from the file's parameters).

        Parameters
        ----------
        path : str or path-like
            The parameter file.
        net : str, path-like or lwl.io.NetFile
            The net file the parameters belong to (a classifier's net), or the NetFile read
            from it.
        classes : array-like of shape (n_class_nodes,), default=None
            The label of each class node, in node order; None: ``0 .. n_class-1``.
        **params : dict
            Further hyperparameters of the estimator (``omega``, ``activation``, ...).

        Returns
        -------
        estimator : RRRClassifier
            A fitted estimator, ready to predict, of the class this method is called on
            (``RRRFPAClassifier.load_params`` gives an RRRFPAClassifier).
        """
        est = super().load_params(path, net, **params)
        n_class = len(est._graph.class_nodes)
        est.classes_ = (np.arange(n_class) if classes is None
                        else unique_labels(np.asarray(classes)))
        if len(est.classes_) != n_class:
            raise ValueError(f"classes has {len(est.classes_)} distinct labels; the net has "
                             f"{n_class} class nodes")
        est._class_order()  # the genuine class of a false-positive classifier must be one
        est._set_coefs()
        return est

    def _check_loaded(self):
        super()._check_loaded()
        if hasattr(self, "_weights"):
            if len(self.classes_) != len(self._graph.class_nodes):
                raise ValueError(f"{len(self.classes_)} classes but {len(self._graph.class_nodes)} "
                                 "class nodes")
            self._set_coefs()

    # ------------------------------------------------------------------ inference
    def _decision(self, X):
        check_is_fitted(self, "_weights")
        X = validate_data(self, X, reset=False, dtype=STATE_DTYPES, order="C")
        return self._predict_engine(X.dtype).decision_function(X)[:, self._class_order()]

    def decision_function(self, X):
        """``y - b`` of the class nodes after a forward pass (n_samples, n_classes); for two
        classes, as scikit-learn, the 1-D score of ``classes_[1]`` minus that of ``classes_[0]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The class nodes' ``y - b``, a column per class of ``classes_``; for two classes
            the 1-D difference (positive: ``classes_[1]``). In X's dtype (float32 for float32
            X, else float64).
        """
        z = self._decision(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict(self, X):
        """The class of every item: that of the class node with the largest ``y - b``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The predicted labels, values of ``classes_``.
        """
        z = self._decision(X)
        return self.classes_[np.argmax(z, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy; labels the model has not seen raise ValueError.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test data.
        y : array-like of shape (n_samples,)
            True labels of X, every one a class of ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights; None weighs every item alike.

        Returns
        -------
        score : float
            The (weighted) fraction of the items of X whose predicted class is their label.
        """
        pred = np.argmax(self._decision(X), axis=1)
        return float(np.average(pred == self._label_indices(np.asarray(y), "y"),
                                weights=sample_weight))


class RRRFPAClassifier(RRRClassifier):
    """A two-class genuine/fake classifier with a false-positive allowance, trained by RRR
    (section 6.2; the published program RRRclass_fp).

    Genuine items must be classified genuine; of the fake items of a batch whose nearer class
    constraint is the genuine one, up to ``fpa`` times the batch's fakes (those nearer by the
    most) are projected as genuine, the rest as fake. Trained on encodings of data (genuine)
    and samples of an iDE code (fake), it is the filter of the generative model
    (:class:`lwl.RRRGenerator`). float32 data train in single precision, as in
    :class:`RRRClassifier`.

    Parameters
    ----------
    fpa : float in [0, 1), default=0.25
        False-positive allowance: the fraction of a batch's fakes that may be classified
        genuine.
    genuine_class : label or None, default=None
        The genuine class; None takes ``classes_[1]`` (scikit-learn's positive class).
    hidden_layer_sizes, activation, margin, omega, upsilon, beta, batch_size, rrr_iter, tol,
    epochs, early_stopping, validation_fraction, n_iter_no_change, warm_start, n_jobs,
    random_state, verbose, net, comm :
        As :class:`RRRClassifier`. Early stopping minimises ``tn + max(0, fp - fpa)`` (our
        choice: the paper judges training by tn near 0 and fp near fpa).

    Attributes
    ----------
    history_ : dict of lists
        Per epoch, as the published program logs it: ``epoch``, ``gwms``, ``iters``,
        ``err_first``, ``err_last``, ``batch_fp``, ``batch_tn`` (on every batch just after it
        was trained, pooled over the epoch), ``train_fp``, ``train_tn``, ``test_fp``, ``test_tn``
        (with ``eval_set``), ``seconds``;
        fp is the fraction of fakes classified genuine, tn of genuine items classified fake.
    relabeled_ : ndarray (n, 2)
        Training fakes projected as genuine in the last epoch, with the genuine class.
    Other attributes as :class:`RRRClassifier`.
    """

    _parameter_constraints = {
        **{k: v for k, v in RRRClassifier._parameter_constraints.items()
           if k not in ("exempt", "relabel")},
        "fpa": [Interval(Real, 0, 1, closed="left")],
        "genuine_class": "no_validation",
    }
    _RATES = ("fp", "tn")

    def __init__(self, hidden_layer_sizes=(20,), activation="relu", margin=0.1, omega=2.0,
                 upsilon=1.0, beta=1.0, batch_size=128, rrr_iter=100, tol=1e-9, epochs=10,
                 fpa=0.25, genuine_class=None, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, warm_start=False, n_jobs=None, random_state=None,
                 verbose=0, net=None, comm=None):
        # scikit-learn's convention: __init__ stores exactly its own parameters
        for name, value in locals().items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _class_order(self):
        """Class node 1 is the genuine class, 0 the fake one (the class step's convention)."""
        if len(self.classes_) != 2:
            raise ValueError(f"Only binary classification is supported: "
                             f"{type(self).__name__} tells genuine from fake; y has "
                             f"{len(self.classes_)} classes: {list(self.classes_)}")
        genuine = self.classes_[1] if self.genuine_class is None else self.genuine_class
        if genuine not in self.classes_:
            raise ValueError(f"genuine_class={genuine!r} is not a class of y "
                             f"({list(self.classes_)})")
        return np.array([1, 0]) if genuine == self.classes_[0] else np.array([0, 1])

    def _class_step(self, K):
        return dict(class_mode="fpa", fpa=self.fpa)

    @staticmethod
    def _rates(pred, labels):
        """fp: fakes (node 0) classified genuine (node 1); tn: genuine classified fake."""
        fake, genuine = labels == 0, labels == 1
        return {"fp": float(np.mean(pred[fake] == 1)) if fake.any() else 0.0,
                "tn": float(np.mean(pred[genuine] == 0)) if genuine.any() else 0.0}

    def _error(self, pred, labels):
        r = self._rates(pred, labels)
        return r["tn"] + max(0.0, r["fp"] - self.fpa)


class _ClassifierTrainer(NetworkTrainer):
    """Epochs of the classifier (section 5.4): shuffle, then every batch starts from a forward
    pass through the current parameters and runs ``rrr_iter`` RRR iterations.  The figures
    of every epoch are the estimator's ``_rates`` on the batches (each under the parameters
    just found, exempted items not counted), the training set and the eval set."""

    def __init__(self, est, engine, X, labels, rng, eval_set):
        super().__init__(engine)
        self.est, self.X, self.labels, self.rng, self.eval_set = est, X, labels, rng, eval_set
        self.exempted, self.relabeled = [], []
        self.columns = {f"{where}_{rate}": "{:9.4f}" for where in ("batch", "train", "test")
                        for rate in est._RATES}
        self.keep_best = "train_err" if "err" in est._RATES else None

    def train_epoch(self):
        eng, X, labels, rates = self.state, self.X, self.labels, self.est._rates
        batch_pred, batch_labels, exempted, relabeled = [], [], [], []
        for idx in batches(self.rng, len(X), eng.K):
            eng.start_batch(X[idx], labels[idx])
            self.run_batch(self.est.rrr_iter, self.est.tol)
            ex, assigned = eng.batch_outcome()
            ex = ex.astype(bool)
            batch_pred.append(eng.predict(X[idx])[~ex])
            batch_labels.append(labels[idx][~ex])
            exempted.extend(idx[ex].tolist())
            moved = (assigned >= 0) & (assigned != labels[idx])
            relabeled.extend(zip(idx[moved].tolist(), assigned[moved].tolist()))
        self.exempted, self.relabeled = exempted, relabeled
        row = {}
        # the batch figures pool the epoch's batches, as the published programs count them
        batch = rates(np.concatenate(batch_pred), np.concatenate(batch_labels))
        train = rates(eng.predict(X), labels)
        test = None if self.eval_set is None else rates(eng.predict(self.eval_set[0]),
                                                        self.eval_set[1])
        for rate in self.est._RATES:
            row[f"batch_{rate}"] = batch[rate]
            row[f"train_{rate}"] = train[rate]
            row[f"test_{rate}"] = None if test is None else test[rate]
        return row

    def error(self, X, y=None):
        return self.est._error(self.state.predict(X), y)

    def current_error(self):
        return self.error(self.X, self.labels)
