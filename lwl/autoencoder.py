"""Autoencoders with iDE codes trained by RRR (paper section 6.1; the published program
RRRauto)."""
import itertools
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

from ._core import STATE_DTYPES
from ._network import NETWORK_PARAMETERS, NetworkEstimator, NetworkTrainer, batches, layer_sizes
from ._training import rms, with_callbacks
from ._validation import check_random_state, clip_batch, warn_caller
from .graph import Graph

_RANGE = {"step": "{0, 1}", "zigmoid": "[0, 1]"}


def check_activation_range(A, activation, name):
    """Data and codes must lie in the image of the activation (section 6.1): {0, 1} for the
    step, [0, 1] for the zigmoid."""
    check_non_negative(A, f"RRRAutoencoder ({name})")
    bad = (A != 0) & (A != 1) if activation == "step" else (A < 0) | (A > 1)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"{name} must lie in {_RANGE[activation]}, the range of the "
                         f"{activation} activation; {int(bad.sum())} value(s) outside, first "
                         f"{A[i, j]!r} at [{i}, {j}]")


class RRRAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, NetworkEstimator):
    """An autoencoder with iDE codes trained by RRR: no loss function, no gradients.

    The net is cyclic (section 6.1): encoder layers lead from the data nodes to the code
    nodes, decoder layers from the code nodes back to the *same* data nodes, and every node
    carries the activation as a constraint set (eq 38d). A batch holds ``data_batch`` data
    items, clamped to the data at the data nodes (eq 38b: ``D(E(x)) = x``), and
    ``code_batch`` code items, clamped to codes at the code nodes (eq 38c: ``E(D(z)) = z``).
    The codes are drawn from the product of the code nodes' empirical distributions on the
    data batch under the current encoder (eq 37), which makes the code invertible,
    data-enveloping and disentangled (iDE); with the step activation and ``code_batch ==
    2**n_codes`` they are all binary codes instead (section 6.3.1).

    float32 data train on a single-precision state (half the memory traffic per iteration;
    parameters, codes and decodings in float32); data of any other dtype train in float64.

    Parameters
    ----------
    encoder_layer_sizes : tuple of int, default=()
        Hidden layers from the data to the codes (``()``: data straight to codes).
    n_codes : int, default=10
        Code nodes ``|C|``.
    decoder_layer_sizes : tuple of int or None, default=None
        Hidden layers from the codes back to the data; None mirrors the encoder.
    activation : {'zigmoid', 'step'}, default='zigmoid'
        Activation of every node: the zigmoid (Fig 17) for data in [0, 1], the step with a gap
        (Fig 2) for data in {0, 1}.
    margin : float > 0, default=0.8
        Delta, the *full* width of the zigmoid's ramp or of the step's gap, centred on 0.
        The published RRRauto's ``margin`` argument (and ``lwl RRRauto``'s) is half of it.
        The default is the paper's MNIST setting: its "Delta = 0.4" is RRRauto's margin
        argument, full width 0.8 (side by side on 2000 MNIST digits, RRRauto at margin 0.2
        and lwl at 0.4 both stall near the mean image's error, at 0.4 and 0.8 both learn).
        For binary encoding (section 6.3.1) the paper's Delta 0.4 is the full width.
    omega : float > 0, default=10.0
        Norm of every node's incoming weights (eq 38f).
    beta : float in (0, 1], default=1.0
        RRR step size.
    data_batch, code_batch : int, default=200, 20
        ``|K_d|`` and ``|K_c|`` (section 6.1); a data batch larger than the data is clipped.
    rrr_iter : int, default=50
        RRR iterations per batch.
    tol : float, default=1e-9
        A batch stops as soon as RRR_err < tol.
    epochs : int, default=10
        Passes over the data (shuffled before each).
    early_stopping, validation_fraction, n_iter_no_change :
        As in the other estimators: stop when data_err on held-out data has not improved.
    warm_start : bool, default=False
        Continue from the fitted parameters on the next ``fit``.
    n_jobs : int or None, default=None
        OpenMP threads over blocks of items (results do not depend on it).
    random_state : int, Generator or None
        Initial weights, the shuffling before every epoch and the code samples.
    verbose : int, default=0
        Print the per-epoch table with the time left.
    net : str, path or lwl.io.NetFile, default=None
        An autoencoder net file of the published programs (a path, read at ``fit``, or a
        NetFile; header ``n_data n_encode n_code n_decode``, nodes numbered data, encoder,
        code, decoder, the data nodes fed by the decoder). It replaces
        ``encoder_layer_sizes``, ``n_codes`` and ``decoder_layer_sizes``. The net must go
        round: encoder and code nodes read lower ids, decoder nodes read code or lower decoder
        nodes, data nodes read code or decoder nodes (anything else is a ValueError).
    comm : mpi4py communicator or None, default=None
        Processes that train together (``pip install "lwl[mpi]"``; run under ``mpiexec``):
        every process calls ``fit`` with the same data and parameters, holds the RRR state of
        its share of every batch's items, and the sums over items are added over the
        processes every iteration (data parallelism: P processes hold a batch P times
        larger than one of them could). Every process ends with the same fitted model; results
        equal one process's to rounding and are deterministic for a given number of
        processes. Not saved with the model.

    Attributes
    ----------
    n_codes_ : int
        Code nodes ``|C|`` of the fitted net.
    code_distribution_ : ndarray (n_samples, n_codes)
        The training data's codes under the final encoder; column i is the empirical
        distribution Z_i of code node i (eq 37, Fig 20), which ``sample_codes`` draws from.
    data_err_, code_err_ : float
        Reconstruction errors (eq 40-41: one rms over all items and nodes) of the training
        data through encoder and decoder, and of as many code samples through decoder and
        encoder (all binary codes in the exhaustive case).
    history_ : dict of lists
        Per epoch: ``epoch``, ``gwms``, ``iters``, ``err_first``, ``err_last`` (RRR_err,
        eq 42), ``data_err`` and ``code_err`` (eq 40-41, as ``data_err_`` and ``code_err_``,
        measured after the epoch with its parameters over all the training data), ``val_err``
        (with early stopping), ``seconds``; not printed: ``data_err_items`` and
        ``code_err_items``, the same errors as the published RRRauto logs its dataerr and
        codeerr: the mean over the items of each item's rms error. A fit stops (status
        'converged') after an epoch in which both are exactly 0.
    rrr_err_ : ndarray
        RRR_err (eq 42) of every iteration, all batches in order (Fig 19).
    batch_iters_ : ndarray of int
        RRR iterations of every batch, in order (they split ``rrr_err_`` by batch).
    gwms_, n_rrr_iter_, status_ : as in the other estimators (``|K|`` = data_batch + code_batch).
    n_features_in_ : int
    """

    _closed_net = True
    _parameter_constraints = {
        **NETWORK_PARAMETERS,
        "encoder_layer_sizes": ["array-like"],
        "n_codes": [Interval(Integral, 1, None, closed="left")],
        "decoder_layer_sizes": ["array-like", None],
        "activation": [StrOptions(set(_RANGE))],
        "margin": [Interval(Real, 0, None, closed="neither")],
        "data_batch": [Interval(Integral, 1, None, closed="left")],
        "code_batch": [Interval(Integral, 1, None, closed="left")],
    }
    _net_kind = "autoencoder"

    def __init__(self, encoder_layer_sizes=(), n_codes=10, decoder_layer_sizes=None,
                 activation="zigmoid", margin=0.8, omega=10.0, beta=1.0, data_batch=200,
                 code_batch=20, rrr_iter=50, tol=1e-9, epochs=10, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, warm_start=False, n_jobs=None,
                 random_state=None, verbose=0, net=None, comm=None):
        self.encoder_layer_sizes = encoder_layer_sizes
        self.n_codes = n_codes
        self.decoder_layer_sizes = decoder_layer_sizes
        self.activation = activation
        self.margin = margin
        self.omega = omega
        self.beta = beta
        self.data_batch = data_batch
        self.code_batch = code_batch
        self.rrr_iter = rrr_iter
        self.tol = tol
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.net = net
        self.comm = comm

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self):
        return self.n_codes_

    # ------------------------------------------------------------------ the net
    def _layer_sizes(self):
        enc = layer_sizes(self.encoder_layer_sizes, "encoder_layer_sizes")
        dec = (enc[::-1] if self.decoder_layer_sizes is None
               else layer_sizes(self.decoder_layer_sizes, "decoder_layer_sizes"))
        return [self.n_features_in_, *enc, self.n_codes, *dec]

    def _code_layer(self):
        return 1 + len(layer_sizes(self.encoder_layer_sizes, "encoder_layer_sizes"))

    def _graph_for(self, sizes):
        return Graph.autoencoder(sizes, self._code_layer(), self.activation)

    def _check_net(self, net):
        if net.sizes[0] != self.n_features_in_:
            raise ValueError(f"the net has {net.sizes[0]} data nodes; the data have "
                             f"{self.n_features_in_} features")

    def _n_code_nodes(self):
        """|C| of the net being fitted (the net file's, else n_codes)."""
        net = self._net_file()
        return self.n_codes if net is None else net.sizes[2]

    def _exhaustive(self):
        """All binary codes in every batch (section 6.3.1)?"""
        return self.activation == "step" and self.code_batch == 2 ** self._n_code_nodes()

    def _warn_margin(self):
        """Appendix C: a perfect step encoder/decoder of one-hot data (no hidden layers) needs
        Delta <= 2 / sqrt(|D|) at the code nodes and <= 1 / sqrt(|C|) at the data nodes
        (eq 43, 60, 66), whatever Omega."""
        if self.activation != "step" or self.net is not None or len(self._layer_sizes()) != 2:
            return
        bound = min(2 / np.sqrt(self.n_features_in_), 1 / np.sqrt(self.n_codes))
        if self.margin > bound:
            warn_caller(f"margin={self.margin} exceeds {bound:.4g}, the bound of the paper's "
                        "appendix C (eq 43) for a step autoencoder of one-hot data: no weights "
                        "of norm omega encode and decode them with this gap", UserWarning)

    # ------------------------------------------------------------------ fitting
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train on X (n_samples, n_features) with values in the activation's range.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, with values in the activation's range ({0, 1} for the step, [0, 1]
            for the zigmoid). float32 data train on a single-precision state; data of any
            other dtype train in float64.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X)

    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch over X, starting from the parameters learnt so far.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, with values in the activation's range ({0, 1} for the step, [0, 1]
            for the zigmoid). float32 data train on a single-precision state; data of any
            other dtype train in float64.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, partial=True)

    def _check_fit_data(self, X, y, reset):
        X = validate_data(self, X, reset=reset, dtype=STATE_DTYPES, order="C")
        check_activation_range(X, self.activation, "X")
        if reset:
            self._warn_margin()
        return X, None, {}

    def _trainer(self, X, targets, rng, reset):
        Kd = clip_batch("data_batch", self.data_batch, len(X))
        engine = self._new_engine(Kd + self.code_batch, rng,
                                  None if reset else (self._weights, self._biases), dtype=X.dtype)
        return _AutoencoderTrainer(self, engine, X, Kd, rng)

    def _set_fitted(self, trainer, status, X, X_all):
        self._keep_parameters(trainer.state)
        self.n_codes_ = len(self._graph.code_nodes)
        # the last epoch measured them under the parameters kept, unless others were restored
        errors = (dict(trainer.last_errors)
                  if trainer.last_errors is not None and status not in ("interrupted",
                                                                        "early_stopping")
                  else reconstruction_errors(self._predict_engine(X.dtype), X,
                                             self._exhaustive()))
        self.code_distribution_ = errors.pop("codes")
        self.data_err_, self.code_err_ = errors["data_err"], errors["code_err"]
        return self

    # ------------------------------------------------------------------ inference
    def _encode(self, X):
        g = self._graph
        return feed_around(self._predict_engine(X.dtype), g.data_nodes, X, "v", g.code_nodes)

    def _decode(self, Z):
        g = self._graph
        return feed_around(self._predict_engine(Z.dtype), g.code_nodes, Z, "v", g.data_nodes)

    def _reconstruct(self, X):
        g = self._graph
        return feed_around(self._predict_engine(X.dtype), g.data_nodes, X, "f", g.data_nodes)

    def transform(self, X):
        """The encoder E: codes (n_samples, n_codes) of X (a forward pass, section 6.1.1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with values in the activation's range.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_codes)
            The values of the ``n_codes_`` code nodes, in X's dtype (float32 for float32 X,
            else float64).
        """
        check_is_fitted(self, "_weights")
        X = validate_data(self, X, reset=False, dtype=STATE_DTYPES, order="C")
        check_activation_range(X, self.activation, "X")
        return self._encode(X)

    def inverse_transform(self, X):
        """The decoder D: data (n_samples, n_features) decoded from codes X (n_samples,
        n_codes) in the activation's range.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_codes)
            Codes, a column per code node (``n_codes_`` of them), with values in the
            activation's range.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The values of the data nodes, in the codes' dtype (float32 for float32 codes,
            else float64).
        """
        check_is_fitted(self, "_weights")
        Z = check_array(X, dtype=STATE_DTYPES, input_name="codes")
        if Z.shape[1] != self.n_codes_:
            raise ValueError(f"codes have {Z.shape[1]} columns; the model has "
                             f"{self.n_codes_} code nodes")
        check_activation_range(Z, self.activation, "codes")
        return self._decode(Z)

    def score(self, X, y=None):
        """Minus data_err (eq 40) of X through encoder and decoder (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with values in the activation's range.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            ``-data_err``: minus the rms, over all items and data nodes, of the difference
            between X and its reconstruction through encoder and decoder (0 is perfect).
        """
        check_is_fitted(self, "_weights")
        X = validate_data(self, X, reset=False, dtype=STATE_DTYPES, order="C")
        check_activation_range(X, self.activation, "X")
        return -rms(self._reconstruct(X) - X)

    # ------------------------------------------------------------------ files
    def _param_header(self):
        return self.omega, self.margin / 2, self.activation == "zigmoid"

    def _params_from_file(self, net, params):
        self.omega = params.omega
        self.margin = 2 * params.margin
        self.activation = "zigmoid" if params.zig else "step"
        return super()._params_from_file(net, params)

    @classmethod
    def load_params(cls, path, net, X=None, **params):
        """A fitted autoencoder from a parameter file of the published RRRauto (its
        ``id.dat``: ``Omega margin zig`` then every node's bias and weights) and the net file
        it belongs to (a path or a NetFile). Omega, Delta (twice the file's margin) and the
        activation (zigmoid when zig is 1, else the step) come from the file. ``X``: data
        whose codes become ``code_distribution_``, which ``sample_codes`` draws from (a
        parameter file does not carry it). Other ``params`` are hyperparameters for later
        fits.

        Parameters
        ----------
        path : str or path-like
            The parameter file.
        net : str, path-like or lwl.io.NetFile
            The autoencoder net file the parameters belong to, or the NetFile read from it.
        X : array-like of shape (n_samples, n_features), default=None
            Data with values in the activation's range whose codes become
            ``code_distribution_``; None leaves it unset (``sample_codes`` then raises
            NotFittedError).
        **params : dict
            Further hyperparameters of the estimator, for later fits.

        Returns
        -------
        estimator : RRRAutoencoder
            A fitted autoencoder, ready to encode and decode.
        """
        est = super().load_params(path, net, **params)
        est.n_codes_ = len(est._graph.code_nodes)
        if X is not None:
            est.code_distribution_ = est.transform(X)
        return est

    def _check_loaded(self):
        super()._check_loaded()
        if hasattr(self, "_weights"):
            g = self._graph
            if g.code_nodes is None or self.n_codes_ != len(g.code_nodes):
                raise ValueError("the graph's code nodes do not match n_codes_")
            Z = getattr(self, "code_distribution_", None)
            if Z is not None and (Z.ndim != 2 or Z.shape[1] != self.n_codes_):
                raise ValueError(f"code_distribution_ has shape {Z.shape}; {self.n_codes_} "
                                 "code nodes")

    def sample_codes(self, n_samples, random_state=None):
        """``n_samples`` codes of the iDE code: every code node's value drawn independently
        from its empirical distribution on the training data (eq 37).

        Parameters
        ----------
        n_samples : int
            Number of codes to draw.
        random_state : int, numpy.random.Generator or None, default=None
            Seeds the draws (not the estimator's ``random_state``); None: fresh entropy.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_codes)
            The codes, a column per code node, with values of ``code_distribution_`` and
            its dtype (float32 for a model trained on float32 data, else float64).
        """
        check_is_fitted(self, "code_distribution_")
        rng = check_random_state(random_state)
        Z = self.code_distribution_
        return Z[rng.integers(0, len(Z), size=(int(n_samples), Z.shape[1])),
                 np.arange(Z.shape[1])]


def feed_around(engine, at, values, output, nodes):
    """Feed-around (section 6.1.1) of items clamped at the nodes ``at`` to the rows of
    ``values``: ``output`` at ``nodes``, 'v' (node values), 'y' (pre-activations) or 'f'
    (f(y - b), the reconstruction)."""
    values = np.asarray(values, dtype=engine.dtype)
    return engine.forward_at(nodes, output, len(values),
                             lambda lo, hi: engine.clamp_rows(values[lo:hi], at))


def reconstruction_errors(engine, X, exhaustive):
    """The errors of section 6.1.2 under the engine's parameters: ``data_err`` (eq 40) of the
    data X through encoder and decoder and ``code_err`` (eq 41) of as many code samples (all
    binary codes when ``exhaustive``) through decoder and encoder, each one rms over all
    items and nodes; ``data_err_items`` and ``code_err_items``, the mean over the items of
    each item's rms error (as the published RRRauto measures them); and ``codes``, the
    codes of X. The code samples are a draw of their own (seed 0) from the codes of X
    (eq 37), so that the training stream does not depend on these figures."""
    g = engine.graph
    D, C = g.data_nodes, g.code_nodes
    codes = feed_around(engine, D, X, "v", C)
    if exhaustive:
        Z = _binary_codes(len(C)).astype(engine.dtype)
    else:
        pick = np.random.default_rng(0).integers(0, len(codes), size=codes.shape)
        Z = codes[pick, np.arange(codes.shape[1])]
    data_sq = np.mean(np.square(feed_around(engine, D, X, "f", D) - X), axis=1, dtype=np.float64)
    code_sq = np.mean(np.square(feed_around(engine, C, Z, "f", C) - Z), axis=1, dtype=np.float64)
    return dict(data_err=float(np.sqrt(np.mean(data_sq))),
                code_err=float(np.sqrt(np.mean(code_sq))),
                data_err_items=float(np.mean(np.sqrt(data_sq))),
                code_err_items=float(np.mean(np.sqrt(code_sq))), codes=codes)


def _binary_codes(n):
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


class _AutoencoderTrainer(NetworkTrainer):
    """Epochs of the autoencoder (section 6.1.1): shuffle the data; every batch joins its
    data items with code items drawn from the current encoder's codes of those data (eq 37),
    starts from a feed-around and runs ``rrr_iter`` RRR iterations."""

    columns = {"data_err": "{:9.4f}", "code_err": "{:9.4f}"}
    history_only = ("data_err_items", "code_err_items")

    def __init__(self, est, engine, X, data_batch, rng):
        super().__init__(engine)
        g = engine.graph
        self.est, self.X, self.Kd, self.rng = est, X, data_batch, rng
        self.D, self.C = g.data_nodes, g.code_nodes
        self.exhaustive = (_binary_codes(len(g.code_nodes)) if est._exhaustive() else None)
        self.last_errors = None  # reconstruction_errors of the last epoch, codes included

    def codes_for(self, Xb):
        """The code batch: all binary codes, or draws from the product of the code nodes'
        empirical distributions on Xb under the current encoder (eq 37)."""
        if self.exhaustive is not None:
            return self.exhaustive
        Z = feed_around(self.state, self.D, Xb, "v", self.C)
        pick = self.rng.integers(0, len(Z), size=(self.est.code_batch, Z.shape[1]))
        return Z[pick, np.arange(Z.shape[1])]

    def train_epoch(self):
        eng, N = self.state, self.state.graph.n_nodes
        for idx in batches(self.rng, len(self.X), self.Kd):
            Xb, Zb = self.X[idx], self.codes_for(self.X[idx])
            clamp = np.full((len(Xb) + len(Zb), N), np.nan, dtype=eng.dtype)
            clamp[:len(Xb), self.D] = Xb
            clamp[len(Xb):, self.C] = Zb
            eng.start_batch(clamp=clamp)
            self.run_batch(self.est.rrr_iter, self.est.tol)
        self.last_errors = reconstruction_errors(eng, self.X, self.exhaustive is not None)
        return {k: v for k, v in self.last_errors.items() if k != "codes"}

    def solved(self, row):
        """Every training item and code sample reconstructed exactly (section 6.3.1)."""
        return row["data_err_items"] == 0 and row["code_err_items"] == 0

    def error(self, X, y=None):
        return rms(feed_around(self.state, self.D, X, "f", self.D) - X)
