"""Non-negative matrix factorisation by RRR (paper section 4; the published program RRRnmf)."""
from numbers import Integral

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

from ._core import STATE_DTYPES
from ._estimator import RRR_PARAMETERS, RRREstimator
from ._mpi import process_group
from ._nmf_engine import NMFState, memory_bytes, nnls_codes, normalise_rows, pinv_codes
from ._training import Trainer, rms, with_callbacks
from ._validation import check_memory, clip_batch, warn_caller

_ENCODERS = {"nnls": nnls_codes, "pinv": pinv_codes}
# In float32 a solved factorisation's RRR_err levels off near FLOAT32_RRR_ERR; FLOAT32_TOL is
# a tol such runs reach.
FLOAT32_RRR_ERR, FLOAT32_TOL = 1e-7, 1e-6


class RRRNMF(ClassNamePrefixFeaturesOutMixin, TransformerMixin, RRREstimator):
    """Non-negative matrix factorisation ``X ≈ W H`` found by the RRR algorithm.

    No loss is minimised: RRR searches for a point that satisfies two sets of constraints,
    A (consensus of the replicated variables, non-negativity, every feature of norm
    ``omega``; eq 14a-c) and B (``x·w = y`` for every data value; eq 14d), by the iteration
    ``x += beta (P_B(2 P_A(x) - x) - P_A(x))`` (eq 3-4). A fixed point is a factorisation.

    float32 data run on a single-precision state (``components_`` and codes in float32; RRR_err
    then levels off near 1e-7, so ``tol`` should be above that: fit warns of a smaller one);
    data of any other dtype run in float64.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of features (code nodes), the rank r of the factorisation; None: n_features.
    omega : float > 0, default=1.0
        Norm Omega of every feature (row of ``components_``, eq 14c). It sets the balance
        between W and H in the projections; the paper uses 0.6-0.9 on LEDMs, 2 on letters.
    beta : float in (0, 1], default=1.0
        RRR step size; 1 is Douglas-Rachford. The paper uses 0.3 for the hard LEDM instances.
    rrr_iter : int, default=1000
        RRR iterations per batch (``RRR_iter``), as in the network estimators.
    tol : float, default=1e-7
        A batch stops as soon as RRR_err < tol.
    batch_size : int or None, default=None
        Items per batch; None puts all data in one batch. With batches ("online NMF", section
        4.4.2) every batch starts from the features of the previous one (warm start). A batch
        larger than the data is clipped to it, with a warning.
    epochs : int, default=1
        Passes over the data (batches in data order).
    init : {'random', 'custom'}, default='random'
        'random': feature entries uniform on [0, 1], rescaled to norm omega (section 4.3).
        'custom': the ``H`` passed to ``fit`` (rows rescaled to norm omega).
    encoder : {'nnls', 'pinv'}, default='nnls'
        How ``transform`` finds the codes of data under the learned features. 'nnls': the
        non-negative codes that reconstruct X best (non-negative least squares, H fixed), so a
        solved factorisation's ``fit(X).transform(X)`` reconstructs X as ``fit_transform``
        does. 'pinv': the paper's pseudo-inverse encoder followed by a ReLU (eq 12-13), cheap
        but lossy when the features are nearly dependent. Batches always start from the
        paper's encoder (section 4.3).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its reconstruction error
        (rms, with ``encoder``) has not improved for ``n_iter_no_change`` epochs; the features
        of the best validation epoch are kept.
    validation_fraction : float in (0, 1), default=0.1
        Fraction of the data held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping stops.
    random_state : int, Generator or None
        Seed of the initial features.
    verbose : int, default=0
        Print the per-epoch table (1) and, within long batches, progress (2).
    comm : mpi4py communicator or None, default=None
        Processes that factorise together (``pip install "lwl[mpi]"``; run under
        ``mpiexec``): every process calls ``fit`` with the same data and parameters, holds
        the RRR state of its share of every batch's items, and the sums over items are added
        over the processes every iteration (data parallelism: P processes hold a batch P
        times larger than one of them could). Every process ends with the same features;
        results equal one process's to rounding and are deterministic for a given number of
        processes. Not saved with the model.

    Attributes
    ----------
    components_ : ndarray (n_components, n_features)
        The features H (consensus weights w_A), each row of norm omega.
    n_components_ : int
    n_rrr_iter_ : int
        RRR iterations run over all batches (those of an interrupted fit included); under its
        old name ``n_iter_`` with a FutureWarning until lwl 0.3, when ``n_iter_`` becomes the
        epochs run.
    reconstruction_err_ : float
        Root-mean-square of ``X - W H`` over the training data (eq 23; not sklearn's Frobenius
        norm), W as ``fit_transform`` returns it.
    rrr_err_ : ndarray
        RRR_err of every iteration, all batches in order (Fig 4, 6). RRR_err is the rms over
        all item-edge pairs of the A-B difference, as the published program prints it; eq 22
        of the paper is this times sqrt(n_components * n_features).
    batch_iters_ : ndarray of int
        RRR iterations of every batch, in order (they split ``rrr_err_`` by batch).
    gwms_ : float
        Work in giga-weight-multiplies, 1e-9 * iterations * ``|K|`` * ``|E|`` (eq 24).
    status_ : str
        Why the last fit stopped: 'converged' (the last batch reached RRR_err < tol: a
        solution), 'max_iter', 'partial_fit' (its one epoch ran), 'early_stopping',
        'callback' or 'interrupted' (Ctrl-C; the attributes then hold the features reached,
        usable by ``transform``).
    history_ : dict of lists
        Per epoch: ``epoch``, ``gwms`` (cumulative), ``iters`` (mean per batch),
        ``err_first`` and ``err_last`` (mean RRR_err at the first and last iteration of a
        batch), ``recon_err``, ``val_err`` (with early stopping), ``seconds`` (cumulative).
    last_batch_codes_ : ndarray (n_items, n_components)
        Codes (the consensus x_A) of the items of the last batch run, as RRR left them (the
        published RRRnmf writes them after the features).
    n_features_in_ : int
    """

    _fitted_attribute = "components_"
    _parameter_constraints = {
        **RRR_PARAMETERS,
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "rrr_iter": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"),
                     Hidden(StrOptions({"deprecated"}))],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "init": [StrOptions({"random", "custom"})],
        "encoder": [StrOptions(set(_ENCODERS))],
    }

    def __init__(self, n_components=None, *, omega=1.0, beta=1.0, rrr_iter=1000, tol=1e-7,
                 batch_size=None, epochs=1, init="random", encoder="nnls", early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, random_state=None, verbose=0,
                 max_iter="deprecated", comm=None):
        self.n_components = n_components
        self.omega = omega
        self.beta = beta
        self.rrr_iter = rrr_iter
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.epochs = epochs
        self.init = init
        self.encoder = encoder
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.comm = comm

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    # ------------------------------------------------------------------ fitting
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, H=None):
        """Learn the features of X (n_samples, n_features), non-negative. Returns self.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Non-negative training data. float32 data run on a single-precision state (and
            give float32 ``components_``); data of any other dtype run in float64.
        y : Ignored
            Not used, present for API consistency by convention.
        H : array-like of shape (n_components, n_features), default=None
            The initial features, with ``init='custom'`` only (it then needs them); every
            row is rescaled to norm ``omega``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit(X, H=H)
        return self

    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, H=None):
        """Fit and return the codes W (n_samples, n_components).

        When one batch was solved (``status_ == 'converged'``) these are the consensus codes
        of the RRR solution; otherwise those of ``transform`` under the final features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Non-negative training data. float32 data run on a single-precision state; data
            of any other dtype run in float64.
        y : Ignored
            Not used, present for API consistency by convention.
        H : array-like of shape (n_components, n_features), default=None
            The initial features, with ``init='custom'`` only (it then needs them); every
            row is rescaled to norm ``omega``.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
            The codes of X, in X's dtype (float32 for float32 X, else float64). With
            ``early_stopping`` they are the codes of all of X (the held-out items included)
            by ``encoder`` under the features kept.
        """
        return self._fit(X, H=H)

    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch over X (batches of ``batch_size``), starting from the features learnt so
        far (the first call starts as ``fit`` does). Returns self.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Non-negative training data, with the features of the earlier calls.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit(X, partial=True)
        return self

    def _iterations_per_batch(self):
        """rrr_iter, or the deprecated max_iter when it is given (with a FutureWarning)."""
        if isinstance(self.max_iter, str):
            return self.rrr_iter
        warn_caller("max_iter was renamed rrr_iter (RRR iterations per batch, as in the other "
                    "estimators; scikit-learn's max_iter counts epochs); max_iter will be "
                    "removed in lwl 0.3: pass rrr_iter", FutureWarning)
        return self.max_iter

    def _check_fit_data(self, X, y, reset, H=None):
        X = validate_data(self, X, reset=reset, dtype=STATE_DTYPES, order="C")
        check_non_negative(X, f"{type(self).__name__} (input X)")
        if X.dtype == np.float32 and 0 < self.tol <= FLOAT32_RRR_ERR:
            warn_caller(f"in float32 RRR_err levels off near {FLOAT32_RRR_ERR:g}, so "
                        f"tol={self.tol:g} may never be reached and every batch run to "
                        f"rrr_iter; pass tol={FLOAT32_TOL:g}", UserWarning)
        return X, None, {"H": H}

    def _trainer(self, X, targets, rng, reset, H):
        n, D = X.shape
        C = D if self.n_components is None else self.n_components
        K = n if self.batch_size is None else clip_batch("batch_size", self.batch_size, n)
        group = process_group(self.comm)  # each process holds the state of its share
        K_held = K if group is None else group.largest_share(K)
        check_memory(memory_bytes(K_held, D, C, X.dtype),
                     f"the RRR state of a batch of {K_held} items", n_addressed=K_held * D * C)
        features = (self._initial_features(H, C, D, rng) if reset
                    else self.components_).astype(X.dtype, copy=False)
        return _NMFTrainer(self, X, features, K)

    def _set_fitted(self, trainer, status, X, X_all, H):
        """Sets the fitted attributes; returns the codes of X_all (what fit_transform gives)."""
        self.components_, self.n_components_ = trainer.features, len(trainer.features)
        self.last_batch_codes_ = trainer.batch_codes
        # a solved single batch returns its consensus codes (the solution); otherwise those
        # of transform, so that fit_transform(X) and fit(X).transform(X) agree
        if status == "converged" and trainer.codes is not None:
            codes = trainer.codes
        else:
            codes = trainer.encoded(trainer.features)
        self.reconstruction_err_ = _recon_err(X, codes, self.components_)
        return codes if X_all is X else self._encode(X_all)

    def _initial_features(self, H, C, D, rng):
        if self.init == "custom":
            if H is None:
                raise ValueError("init='custom' needs the initial H passed to fit(X, H=...)")
            H = np.asarray(H, dtype=np.float64)
            if H.shape != (C, D):
                raise ValueError(f"H must have shape {(C, D)}; got {H.shape}")
            if not np.all(np.isfinite(H)):
                raise ValueError("H contains NaN or infinity")
            check_non_negative(H, f"{type(self).__name__} (initial H)")
            return normalise_rows(H, self.omega)
        if H is not None:
            raise ValueError("H is used only with init='custom'")
        return normalise_rows(rng.uniform(0.0, 1.0, size=(C, D)), self.omega)

    def _check_loaded(self):
        if hasattr(self, "components_"):
            H = self.components_
            if H.shape != (self.n_components_, self.n_features_in_) \
                    or H.dtype not in STATE_DTYPES:
                raise ValueError(f"components_ has shape {H.shape}; expected "
                                 f"({self.n_components_}, {self.n_features_in_})")
            check_non_negative(H, "components_")

    # ------------------------------------------------------------------ inference
    def _encode(self, X):
        return _codes(self.encoder, X, self.components_)

    def transform(self, X):
        """Codes W (n_samples, n_components) of X under the learned features, by ``encoder``:
        non-negative least squares (default) or the pseudo-inverse encoder of eq 12-13.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Non-negative data to encode.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
            The non-negative codes of X, in X's dtype (float32 for float32 X, else float64).
        """
        check_is_fitted(self, "components_")
        X = validate_data(self, X, reset=False, dtype=STATE_DTYPES, order="C")
        check_non_negative(X, f"{type(self).__name__}.transform (input X)")
        return self._encode(X)

    def inverse_transform(self, X):
        """Data from codes: ``X @ components_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes W, as ``transform`` returns them.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The data the codes stand for, in the codes' dtype (float32 for float32 codes,
            else float64).
        """
        check_is_fitted(self, "components_")
        W = check_array(X, dtype=STATE_DTYPES, input_name="W")
        if W.shape[1] != self.n_components_:
            raise ValueError(f"W has {W.shape[1]} columns; the model has {self.n_components_} "
                             "components")
        return W @ self.components_.astype(W.dtype, copy=False)


def _codes(encoder, X, H):
    """The codes of X under H by ``encoder`` (which computes in float64), in X's dtype."""
    return _ENCODERS[encoder](X, H).astype(X.dtype, copy=False)


def _recon_err(X, W, H):
    """rms of X - W H (eq 23), in float64 whatever the dtype of X (numpy promotes X and W)."""
    return rms(X - W @ H.astype(np.float64, copy=False))


class _NMFTrainer(Trainer):
    """Epochs of RRR NMF: the batches in data order, each warm-started from the features of
    the one before (section 4.3)."""

    columns = {"recon_err": "{:10.3e}"}

    def __init__(self, est, X, features, batch_size):
        n, D = X.shape
        super().__init__(NMFState(batch_size, D, len(features), est.omega, est.beta, X.dtype,
                                  comm=est.comm))
        self.est, self.X, self.features = est, X, features
        self.rrr_iter = est._iterations_per_batch()
        self.batches = [(lo, min(lo + batch_size, n)) for lo in range(0, n, batch_size)]
        self.codes = None  # consensus codes of the whole data (one batch only)
        self.batch_codes = None  # consensus codes of the last batch run
        self._encoded = (None, None)  # (features, the codes of X under them)

    def train_epoch(self):
        est = self.est
        single = len(self.batches) == 1
        for lo, hi in self.batches:
            self.state.start_batch(self.X[lo:hi], self.features)
            n_before = self.n_iter
            try:
                self.run_batch(self.rrr_iter, est.tol, est.verbose > 1)
            finally:
                if self.n_iter > n_before:
                    self.features = self.state.features()
                    self.batch_codes = self.state.codes()
                    self.codes = self.batch_codes if single else None
        codes = self.codes if single else self.encoded(self.features)
        return {"recon_err": _recon_err(self.X, codes, self.features)}

    def encoded(self, features):
        """The codes of the training data under ``features`` by the estimator's encoder,
        kept for the last features asked (the end of fit asks again for the last epoch's)."""
        if self._encoded[0] is not features:
            self._encoded = (features, _codes(self.est.encoder, self.X, features))
        return self._encoded[1]

    def parameters(self):
        return self.features.copy(), None if self.codes is None else self.codes.copy()

    def set_parameters(self, params):
        self.features, self.codes = params

    def error(self, X, y=None):
        return _recon_err(X, _codes(self.est.encoder, X, self.features), self.features)

    def fitted_attributes(self):
        return {"components_": self.features.copy(), "n_components_": len(self.features)}
