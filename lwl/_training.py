"""The one epoch loop of every estimator: history, the per-epoch table, work accounting,
scikit-learn callbacks, early stopping and Ctrl-C.

An estimator's fit (the template of :class:`lwl._estimator.RRREstimator`) builds a
:class:`Trainer` (what one epoch of its model does, over an :class:`lwl._rrr.RRRState`) and
hands it to :func:`fit_epochs`, which owns everything else.
"""
import time
import numpy as np
from sklearn.model_selection import train_test_split

from ._progress import EpochTable, report
from ._validation import warn_caller

try:  # scikit-learn >= 1.9: progress and monitoring through sklearn.callback
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # pragma: no cover - older scikit-learn has no callback API
    class CallbackSupportMixin:
        """The installed scikit-learn has no callback API (``sklearn.callback``)."""

    def with_callbacks(method):
        return method

# Why a fit stopped: the value of every estimator's ``status_``.
STATUSES = {
    "converged": "the last batch reached RRR_err < tol (a fixed point: its A point is a "
                 "solution), or an epoch solved the whole problem (an autoencoder that "
                 "reconstructs every item and code exactly)",
    "max_iter": "every epoch ran; the last batch stopped at its iteration cap",
    "partial_fit": "partial_fit ran its epoch; the last batch stopped at its iteration cap",
    "early_stopping": "the validation error did not improve for n_iter_no_change epochs",
    "callback": "a callback asked to stop",
    "interrupted": "Ctrl-C (KeyboardInterrupt)",
}


class Trainer:
    """One model's training as the epoch loop drives it.

    Subclasses set :attr:`columns` and implement :meth:`train_epoch`, :meth:`parameters`,
    :meth:`set_parameters` and :meth:`fitted_attributes`; :meth:`error` where early stopping
    or keeping the best parameters needs it.  :meth:`run_batch` counts the work of every
    batch as it is done, so the counters hold also when an epoch is interrupted, and
    :meth:`epoch` adds the figures of the epoch's batches to those of :meth:`train_epoch`.
    """

    #: the figures of every epoch's batches: mean iterations run, mean RRR_err (eq 42) at
    #: their first and at their last iteration
    batch_columns = {"iters": "{:6.1f}", "err_first": "{:9.3e}", "err_last": "{:9.3e}"}
    #: the model's own history keys -> format of their columns in the printed table
    columns = {}
    #: further history keys, not printed in the table
    history_only = ()
    #: history key whose lowest value marks the parameters kept when Ctrl-C stops a fit
    #: (None: keep the parameters reached)
    keep_best = None

    def __init__(self, state):
        self.state = state
        self.gwms = 0.0
        self.n_iter = 0
        self.converged = False
        self.rrr_err = []  # RRR_err of every iteration run, batches in order
        self.batch_iters = []  # iterations of every batch run, in order
        self._epoch_batches = []  # (iterations, first and last RRR_err) of the epoch's batches

    def run_batch(self, max_iter, tol, progress=False):
        """Run the batch the state holds; returns its RRR_err series.  The counters and
        ``rrr_err`` take the iterations run even when Ctrl-C stops the batch."""
        errs = []
        try:
            self.converged = self.state.run(max_iter, tol, errs, progress)
        finally:
            self.n_iter += len(errs)
            self.gwms += self.state.gwms(len(errs))
            self.rrr_err.extend(errs)
            if errs:
                self.batch_iters.append(len(errs))
                self._epoch_batches.append((len(errs), errs[0], errs[-1]))
        report(batch_done=True, rrr_err=errs[-1] if errs else None)
        return errs

    def epoch(self):
        """One pass over the training data (:meth:`train_epoch`); returns the row of figures
        named in batch_columns and columns."""
        self._epoch_batches = []
        row = self.train_epoch()
        iters, firsts, lasts = zip(*self._epoch_batches)
        return dict(iters=float(np.mean(iters)), err_first=float(np.mean(firsts)),
                    err_last=float(np.mean(lasts)), **row)

    def train_epoch(self):
        """Run the epoch's batches (each by :meth:`run_batch`); returns the row of figures
        named in columns."""
        raise NotImplementedError

    def solved(self, row):
        """Whether the epoch that gave ``row`` solved the whole problem, so that training
        stops there (status 'converged')."""
        return False

    def parameters(self):
        """A copy of the parameters (what set_parameters takes back)."""
        raise NotImplementedError

    def set_parameters(self, params):
        raise NotImplementedError

    def error(self, X, y=None):
        """The model's error on (X, y) under the current parameters (lower is better)."""
        raise NotImplementedError

    def current_error(self):
        """The keep_best figure for the parameters reached now (on an interruption)."""
        raise NotImplementedError

    def fitted_attributes(self):
        """Fitted attributes that make a copy of the estimator usable as it is now (for the
        ``fitted_estimator`` of scikit-learn callbacks)."""
        raise NotImplementedError


def rms(a):
    """Root mean square of the entries of ``a`` (0 for an empty array), summed in float64
    whatever a's dtype: the reconstruction errors of eq 23 and eq 40-41."""
    return float(np.sqrt(np.mean(np.square(a), dtype=np.float64))) if np.size(a) else 0.0


def new_history(trainer, validation):
    keys = (["epoch", "gwms", *trainer.batch_columns, *trainer.columns, *trainer.history_only]
            + (["val_err"] if validation else []) + ["seconds"])
    return {k: [] for k in keys}


def split_validation(estimator, X, labels, rng):
    """(X, labels, validation): with ``early_stopping``, ``validation_fraction`` of the data
    held out (stratified by the labels when there are labels) as ``(X_val, labels_val)``."""
    if not estimator.early_stopping:
        return X, labels, None
    seed = int(rng.integers(2**31))
    if labels is None:
        X, X_val = train_test_split(X, test_size=estimator.validation_fraction, random_state=seed)
        return X, None, (X_val, None)
    X, X_val, labels, l_val = train_test_split(X, labels, test_size=estimator.validation_fraction,
                                               stratify=labels, random_state=seed)
    return X, labels, (X_val, l_val)


def fit_epochs(estimator, trainer, *, reset, rng, validation, n_epochs=None, X=None, y=None):
    """Run ``n_epochs`` (default ``estimator.epochs``) epochs of ``trainer`` and record what
    every fit records: ``status_``, ``history_``, ``n_rrr_iter_``, ``gwms_`` and ``rrr_err_``
    (counting the earlier fits' unless ``reset``), ``batch_iters_`` (the iterations of every
    batch, which split ``rrr_err_`` by batch), and the random stream that the next
    ``partial_fit`` or warm start continues."""
    # a model read from a parameter file has no history yet
    history = (estimator.history_ if not reset and getattr(estimator, "history_", None)
               else new_history(trainer, validation))
    if not reset:  # the history's work figures are cumulative over fits
        trainer.n_iter, trainer.gwms = estimator.n_rrr_iter_, estimator.gwms_
    status = run_epochs(estimator, trainer, estimator.epochs if n_epochs is None else n_epochs,
                        history, validation=validation,
                        n_iter_no_change=estimator.n_iter_no_change, X=X, y=y)
    if n_epochs is not None and status == "max_iter":  # partial_fit: one epoch of many
        status = "partial_fit"
    errs = np.asarray(trainer.rrr_err)
    iters = np.asarray(trainer.batch_iters, dtype=np.int64)
    if not reset:
        errs = np.concatenate([estimator.rrr_err_, errs])
        iters = np.concatenate([estimator.batch_iters_, iters])
    estimator.batch_iters_ = iters
    estimator._rng, estimator.status_, estimator.history_ = rng, status, history
    estimator.n_rrr_iter_, estimator.gwms_ = trainer.n_iter, trainer.gwms
    estimator.rrr_err_ = errs
    return status


def run_epochs(estimator, trainer, n_epochs, history, *, validation=None, n_iter_no_change=10,
               X=None, y=None):
    """Run up to ``n_epochs`` epochs of ``trainer``, appending to ``history`` (a dict of lists,
    possibly holding earlier epochs), and return the ``status_`` (a key of STATUSES).

    ``validation=(X_val, y_val)`` turns on early stopping: training stops when the
    validation error has not improved for ``n_iter_no_change`` epochs, and the parameters of
    the best validation epoch are kept.  Without it the parameters of the last epoch are kept;
    after Ctrl-C, those with the lowest ``trainer.keep_best`` figure.
    """
    if validation is not None and "val_err" not in history:
        history["val_err"] = [None] * len(history["epoch"])
    criterion = "val_err" if validation is not None else trainer.keep_best
    table_columns = {"gwms": "{:9.4f}", **trainer.batch_columns, **trainer.columns}
    if validation is not None:
        table_columns["val_err"] = "{:9.4f}"
    comm = getattr(estimator, "comm", None)  # processes training together: the first prints
    verbose = getattr(estimator, "verbose", 0) if comm is None or comm.Get_rank() == 0 else 0
    table = EpochTable(table_columns, n_epochs, verbose)
    ctx = (estimator._init_callback_context(max_subtasks=n_epochs)
           if hasattr(estimator, "_init_callback_context") else None)
    if ctx is not None:
        ctx.call_on_fit_task_begin(estimator=estimator, X=X, y=y)

    first = len(history["epoch"]) + 1
    start = time.perf_counter() - (history["seconds"][-1] if history["seconds"] else 0.0)
    best = (np.inf, trainer.parameters())
    since_best, status = 0, "max_iter"
    try:
        for epoch in range(first, first + n_epochs):
            sub = ctx.subcontext(task_name="epoch") if ctx is not None else None
            if sub is not None:
                sub.call_on_fit_task_begin(estimator=estimator, X=X, y=y)
            with table.within(epoch - first + 1):
                row = dict(trainer.epoch(), epoch=epoch, gwms=trainer.gwms)
            if validation is not None:
                row["val_err"] = trainer.error(*validation)
            row["seconds"] = time.perf_counter() - start
            for key, values in history.items():
                values.append(row.get(key))
            table.row(epoch - first + 1, row)
            status = "converged" if trainer.converged else "max_iter"
            if criterion is not None:
                if row[criterion] < best[0]:
                    best, since_best = (row[criterion], trainer.parameters()), 0
                else:
                    since_best += 1
            if sub is not None and sub.call_on_fit_task_end(
                    estimator=estimator, X=X, y=y,
                    reconstruction_attributes=trainer.fitted_attributes):
                status = "callback"
                break
            if trainer.solved(row):
                status = "converged"
                table.note(f"epoch {epoch - first + 1} solved the problem: stopping")
                break
            if validation is not None and since_best > n_iter_no_change:
                status = "early_stopping"
                table.note(f"validation error not improved for {n_iter_no_change} epochs: "
                           f"stopping, keeping the parameters of epoch {epoch - since_best}")
                break
    except KeyboardInterrupt:
        status = "interrupted"
        now = (None if criterion is None else trainer.error(*validation)
               if validation is not None else trainer.current_error())
        if now is not None and now <= best[0]:
            best = (now, trainer.parameters())
        kept = ("the parameters reached" if criterion is None else
                f"the parameters with the lowest {criterion} so far ({best[0]:.4g})")
        warn_caller(f"fit interrupted after {trainer.n_iter} RRR iterations "
                    f"({trainer.gwms:.4g} GWMs); keeping {kept}", RuntimeWarning)
    if criterion is not None and (validation is not None or status == "interrupted") \
            and np.isfinite(best[0]):
        trainer.set_parameters(best[1])
    if ctx is not None and status != "interrupted":
        ctx.call_on_fit_task_end(estimator=estimator, X=X, y=y,
                                 reconstruction_attributes=trainer.fitted_attributes)
    return status
