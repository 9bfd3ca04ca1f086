"""Non-negative matrix factorisation by RRR (paper section 4; the published program RRRnmf)."""
import numbers
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._core import ffi, lib, ptr
from ._progress import EpochTable
from ._validation import as_2d_float, check_memory, check_n_features, check_random_state, check_scalar

# Iterations per call into C are chosen so that a call does about this many weight-multiplies
# (~0.1 s): Ctrl-C is then honoured promptly between calls.
_WMS_PER_CALL = 3e7


def encoder(components):
    """The pseudo-inverse encoder of eq 12, ``H^T (H H^T)^-1`` (n_features, n_components).

    Solved from the r x r normal equations; a rank-deficient H (e.g. two equal features)
    falls back to the SVD pseudo-inverse.
    """
    H = components
    gram = H @ H.T
    try:
        if np.linalg.cond(gram) < 1e12:
            return np.linalg.solve(gram, H).T
    except np.linalg.LinAlgError:
        pass
    return np.linalg.pinv(H)


def encode(X, components):
    """Codes of eq 12-13: the pseudo-inverse encoder followed by a ReLU."""
    return np.maximum(X @ encoder(components), 0.0)


def _normalise_rows(H, omega):
    """Rescale every feature (row of H) to norm omega; an all-zero row gets omega on entry 0."""
    H = np.array(H, dtype=np.float64)
    norms = np.linalg.norm(H, axis=1)
    zero = norms == 0
    H[~zero] *= (omega / norms[~zero])[:, None]
    H[zero, 0] = omega
    return H


class RRRNMF(TransformerMixin, BaseEstimator):
    """Non-negative matrix factorisation ``X ≈ W H`` found by the RRR algorithm.

    No loss is minimised: RRR searches for a point that satisfies two sets of constraints,
    A (consensus of the replicated variables, non-negativity, every feature of norm
    ``omega``; eq 14a-c) and B (``x·w = y`` for every data value; eq 14d), by the iteration
    ``x += beta (P_B(2 P_A(x) - x) - P_A(x))``. A fixed point is a factorisation.

    Parameters
    ----------
    n_components : int
        Number of features (code nodes), the rank r of the factorisation.
    omega : float, default=1.0
        Norm Omega of every feature (row of ``components_``, eq 14c). It sets the balance
        between W and H in the projections; the paper uses 0.6-0.9 on LEDMs, 2 on letters.
    beta : float in (0, 1], default=1.0
        RRR step size; 1 is Douglas-Rachford. The paper uses 0.3 for the hard LEDM instances.
    max_iter : int, default=1000
        RRR iterations per batch (``RRR_iter``).
    tol : float, default=1e-7
        A batch stops as soon as RRR_err < tol.
    batch_size : int or None, default=None
        Items per batch; None puts all data in one batch. With batches ("online NMF") every
        batch starts from the features of the previous one (warm start, section 4.3).
    epochs : int, default=1
        Passes over the data (batches in data order).
    init : {'random', 'custom'}, default='random'
        'random': feature entries uniform on [0, 1], rescaled to norm omega (section 4.3).
        'custom': the ``H`` passed to ``fit`` (rows rescaled to norm omega).
    random_state : int, Generator or None
    verbose : int, default=0
        Print the per-epoch table (1) and, within long batches, progress (2).

    Attributes
    ----------
    components_ : ndarray (n_components, n_features)
        The features H (consensus weights w_A), each row of norm omega.
    n_iter_ : int
        RRR iterations run over all batches.
    reconstruction_err_ : float
        Root-mean-square of ``X - W H`` over all data (eq 23; not sklearn's Frobenius norm).
        W is the consensus code of the RRR solution for one batch, the encoder's otherwise.
    rrr_err_ : ndarray
        RRR_err of every iteration, all batches in order (Fig 4, 6). RRR_err is the rms over
        all item-edge pairs of the A-B difference, as the published program prints it; eq 22
        of the paper is this times sqrt(n_components * n_features).
    gwms_ : float
        Work in giga-weight-multiplies, 1e-9 * iterations * |K| * |E| (eq 24).
    converged_ : bool
        Whether the last batch reached RRR_err < tol.
    history_ : dict of lists
        Per epoch: ``epoch``, ``gwms`` (cumulative), ``iters`` (mean per batch),
        ``err_first`` and ``err_last`` (mean RRR_err at the first and last iteration of a
        batch), ``recon_err``, ``seconds`` (cumulative).
    interrupted_ : bool
        True when ``fit`` was stopped by Ctrl-C; the attributes then hold the state reached.
    """

    def __init__(self, n_components=None, *, omega=1.0, beta=1.0, max_iter=1000, tol=1e-7,
                 batch_size=None, epochs=1, init="random", random_state=None, verbose=0):
        self.n_components = n_components
        self.omega = omega
        self.beta = beta
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.epochs = epochs
        self.init = init
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ validation
    def _check_params(self, n_samples, n_features):
        if self.n_components is None:
            raise ValueError("n_components must be given (the rank of the factorisation)")
        check_scalar(self.n_components, "n_components", numbers.Integral, low=1,
                     high=min(n_samples, n_features) if self.batch_size is None else n_features)
        check_scalar(self.omega, "omega", low=0, low_inclusive=False)
        check_scalar(self.beta, "beta", low=0, high=1, low_inclusive=False)
        check_scalar(self.max_iter, "max_iter", numbers.Integral, low=1)
        check_scalar(self.tol, "tol", low=0)
        check_scalar(self.epochs, "epochs", numbers.Integral, low=1)
        if self.batch_size is not None:
            check_scalar(self.batch_size, "batch_size", numbers.Integral, low=1, high=n_samples)
        if self.init not in ("random", "custom"):
            raise ValueError(f"init must be 'random' or 'custom'; got {self.init!r}")

    def _initial_features(self, H, n_features, rng):
        r = self.n_components
        if self.init == "custom":
            if H is None:
                raise ValueError("init='custom' needs the initial H passed to fit(X, H=...)")
            H = as_2d_float(H, "H", allow_negative=False)
            if H.shape != (r, n_features):
                raise ValueError(f"H must have shape {(r, n_features)}; got {H.shape}")
            return _normalise_rows(H, self.omega)
        if H is not None:
            raise ValueError("H is used only with init='custom'")
        return _normalise_rows(rng.uniform(0.0, 1.0, size=(r, n_features)), self.omega)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, H=None):
        """Learn the features of X (n_samples, n_features), non-negative. Returns self."""
        self._fit(X, H)
        return self

    def fit_transform(self, X, y=None, H=None):
        """Fit and return the codes W (n_samples, n_components).

        For one batch these are the consensus codes of the RRR solution; with batches, the
        encoder's codes (eq 13) under the final features.
        """
        return self._fit(X, H)

    def _fit(self, X, H):
        X = as_2d_float(X, allow_negative=False)
        n, D = X.shape
        self._check_params(n, D)
        rng = check_random_state(self.random_state)
        C = self.n_components
        K = n if self.batch_size is None else self.batch_size
        # x, w; code; feature; two multipliers per data value; the C scratch (lane sums)
        check_memory(8 * (2 * K * D * C + K * C + D * C + 2 * K * D
                          + lib.lwl_nmf_scratch_size(K, D, C)), "the RRR state of one batch")

        features = self._initial_features(H, D, rng)
        self.n_features_in_ = D
        buffers = _NMFBuffers(K, D, C, self.omega, self.beta)
        batches = [(s, min(s + K, n)) for s in range(0, n, K)]
        single = len(batches) == 1

        history = {k: [] for k in ("epoch", "gwms", "iters", "err_first", "err_last",
                                   "recon_err", "seconds")}
        table = EpochTable({"gwms": "{:10.4f}", "iters": "{:7.1f}", "err_first": "{:10.3e}",
                            "err_last": "{:10.3e}", "recon_err": "{:10.3e}"},
                           self.epochs, self.verbose)
        errs, n_iter, gwms, converged, interrupted = [], 0, 0.0, False, False
        codes = None
        start = time.perf_counter()
        try:
            for epoch in range(1, self.epochs + 1):
                firsts, lasts, iters = [], [], []
                for lo, hi in batches:
                    batch_errs = []
                    buffers.start_batch(X[lo:hi], features)
                    try:
                        converged = buffers.run(self.max_iter, self.tol, batch_errs, self.verbose > 1)
                    finally:
                        errs.extend(batch_errs)
                        n_iter += len(batch_errs)
                        gwms += 1e-9 * len(batch_errs) * (hi - lo) * D * C
                        if batch_errs:
                            features = buffers.features()
                            codes = buffers.codes() if single else None
                    firsts.append(batch_errs[0])
                    lasts.append(batch_errs[-1])
                    iters.append(len(batch_errs))
                recon = _rms(X - (codes if single else encode(X, features)) @ features)
                for key, v in zip(history, (epoch, gwms, np.mean(iters), np.mean(firsts),
                                            np.mean(lasts), recon, time.perf_counter() - start)):
                    history[key].append(float(v))
                table.row(epoch, {k: v[-1] for k, v in history.items()})
        except KeyboardInterrupt:
            interrupted = True
            warnings.warn(f"fit interrupted after {n_iter} RRR iterations: components_ hold "
                          "the features reached so far", RuntimeWarning, stacklevel=3)

        self.components_ = features
        self._encoder = encoder(features)
        if codes is None:
            codes = np.maximum(X @ self._encoder, 0.0)
        self.n_components_ = C
        self.n_iter_ = n_iter
        self.rrr_err_ = np.asarray(errs)
        self.gwms_ = gwms
        self.converged_ = bool(converged) and not interrupted
        self.history_ = history
        self.interrupted_ = interrupted
        self.reconstruction_err_ = _rms(X - codes @ features)
        return codes

    # ------------------------------------------------------------------ inference
    def transform(self, X):
        """Codes of X under the learned features: ``ReLU(X H^T (H H^T)^-1)`` (eq 12-13)."""
        check_is_fitted(self, "components_")
        X = as_2d_float(X, allow_negative=False)
        check_n_features(self, X)
        return np.maximum(X @ self._encoder, 0.0)

    def inverse_transform(self, X):
        """Data from codes: ``X @ components_``."""
        check_is_fitted(self, "components_")
        W = as_2d_float(X, "codes")
        if W.shape[1] != self.n_components_:
            raise ValueError(f"codes have {W.shape[1]} columns; the model has {self.n_components_}")
        return W @ self.components_


def _rms(a):
    return float(np.sqrt(np.mean(np.square(a))))


class _NMFBuffers:
    """The numpy state of one batch, laid out for ``lwl_nmf_iterate`` (csrc/lwl.h).

    Allocated once for the largest batch; a smaller batch uses a prefix of each buffer.
    """

    def __init__(self, K, D, C, omega, beta):
        self.D, self.C = D, C
        self.x = np.zeros(K * D * C)
        self.w = np.zeros(K * D * C)
        self.code = np.zeros(K * C)
        self.feature = np.zeros(D * C)
        self.mult = np.zeros(2 * K * D)
        self.scratch = np.zeros(lib.lwl_nmf_scratch_size(K, D, C))
        self.data = None
        self.ws = ffi.new("lwl_nmf_ws *")
        self.ws.n_data, self.ws.n_code = D, C
        self.ws.omega, self.ws.beta = float(omega), float(beta)
        for name in ("x", "w", "code", "feature", "mult", "scratch"):
            setattr(self.ws, name, ptr(getattr(self, name)))

    def start_batch(self, Xb, features):
        """Initialise every variable at its consensus value (eq 20-21): A holds exactly."""
        K, D, C = Xb.shape[0], self.D, self.C
        self.data = np.ascontiguousarray(Xb)
        self.ws.n_items = K
        self.ws.data = ptr(self.data)
        codes = encode(Xb, features)
        self.x[:K * C * D].reshape(K, C, D)[:] = codes[:, :, None]
        self.w[:K * C * D].reshape(K, C, D)[:] = features[None, :, :]
        self.code[:K * C] = codes.ravel()
        self.feature[:] = features.ravel()
        self.mult[:] = 0.0  # root searches start at u = 0 (appendix B)

    def run(self, max_iter, tol, errs, progress=False):
        """Iterate in calls of about _WMS_PER_CALL work, appending RRR_err to ``errs``.

        Returns True when RRR_err < tol was reached."""
        K, D, C = self.ws.n_items, self.D, self.C
        chunk = int(max(1, _WMS_PER_CALL // (K * D * C)))
        out = np.empty(min(chunk, max_iter))
        last_print = time.perf_counter()
        while len(errs) < max_iter:
            todo = min(chunk, max_iter - len(errs))
            done = lib.lwl_nmf_iterate(self.ws, todo, tol, ptr(out))
            errs.extend(out[:done].tolist())
            if errs[-1] < tol:
                return True
            if progress and time.perf_counter() - last_print > 2.0:
                last_print = time.perf_counter()
                print(f"  iteration {len(errs):8d}  RRR_err {errs[-1]:.3e}", flush=True)
        return False

    def features(self):
        return self.feature.reshape(self.C, self.D).copy()

    def codes(self):
        return self.code[:self.ws.n_items * self.C].reshape(-1, self.C).copy()
