"""The base of every estimator trained by RRR, and the fit template they all follow.

A model is two pieces on this base: what its data must satisfy (``_check_fit_data``) and a
trainer builder (``_trainer``: the graph or factorisation state and what one epoch of it
does, a :class:`lwl._training.Trainer`), plus the fitted attributes it leaves behind
(``_set_fitted``). The base owns the rest: the parameter constraints every RRR model shares,
warm starts and ``partial_fit``'s continuation, the random stream, the held-out validation
set, the epoch loop (:func:`lwl._training.fit_epochs`: history, progress, callbacks, early
stopping, Ctrl-C) and the registry of models that ``lwl.load`` reads (every subclass is
registered by its name, :class:`lwl._persist.PersistMixin`).
"""
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from ._persist import PersistMixin
from ._training import CallbackSupportMixin, fit_epochs, split_validation
from ._validation import check_random_state, warn_caller

#: parameter constraints every RRR estimator shares: the RRR iteration's (eq 3-4) and the
#: epoch loop's
RRR_PARAMETERS = {
    "omega": [Interval(Real, 0, None, closed="neither")],
    "beta": [Interval(Real, 0, 1, closed="right")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state", np.random.Generator],
    "verbose": ["verbose"],
    "comm": "no_validation",  # lwl._mpi checks it when a fit uses it
}


class RRREstimator(PersistMixin, CallbackSupportMixin, BaseEstimator, abstract=True):
    """Base of the estimators trained by RRR epochs (the network estimators and RRRNMF).

    Subclasses set ``_fitted_attribute`` (the attribute a fit sets and warm starts read) and
    implement:

    - ``_check_fit_data(X, y, reset, **fit_params)`` -> ``(X, targets, context)``: the
      validated training data, the targets that the validation split stratifies by (labels,
      or None) and what the trainer and the fitted attributes need besides (a dict);
    - ``_trainer(X, targets, rng, reset, **context)`` -> the model's Trainer, started from the
      fitted parameters unless ``reset``;
    - ``_set_fitted(trainer, status, X, X_all, **context)``: the fitted attributes; what it
      returns ``_fit`` returns (``X``: the items trained on, ``X_all``: also those held out).
    """

    _parameter_constraints = dict(RRR_PARAMETERS)
    _fitted_attribute = None
    #: fitted attributes of model files saved by earlier versions -> their names now
    _renamed_attributes = {"n_iter_": "n_rrr_iter_"}

    @property
    def n_iter_(self):
        """RRR iterations run, under its old name: read ``n_rrr_iter_``. From lwl 0.3,
        ``n_iter_`` counts epochs, as MLPClassifier's and MiniBatchNMF's do."""
        n = self.n_rrr_iter_  # AttributeError (hasattr: False) before the first fit
        warn_caller("n_iter_ counts RRR iterations until lwl 0.3, then epochs (as "
                    "MLPClassifier's n_iter_); read n_rrr_iter_ for RRR iterations and "
                    "len(history_['epoch']) for epochs", FutureWarning)
        return n

    def _fit(self, X, y=None, *, partial=False, **fit_params):
        """The fit template: ``fit`` (all ``epochs``, from scratch unless ``warm_start``) or,
        with ``partial``, ``partial_fit`` (one epoch, from the parameters learnt so far)."""
        fitted = hasattr(self, self._fitted_attribute)
        reset = not fitted if partial else not (getattr(self, "warm_start", False) and fitted)
        X_all, targets, context = self._check_fit_data(X, y, reset, **fit_params)
        # a fresh stream from random_state; a continued fit draws on where the last one ended
        rng = check_random_state(self.random_state) if reset else self._rng
        X, targets, validation = split_validation(self, X_all, targets, rng)
        trainer = self._trainer(X, targets, rng, reset, **context)
        status = fit_epochs(self, trainer, reset=reset, rng=rng, validation=validation,
                            n_epochs=1 if partial else None, X=X, y=y)
        return self._set_fitted(trainer, status, X, X_all, **context)

    def _check_fit_data(self, X, y, reset, **fit_params):
        raise NotImplementedError

    def _trainer(self, X, targets, rng, reset, **context):
        raise NotImplementedError

    def _set_fitted(self, trainer, status, X, X_all, **context):
        raise NotImplementedError
