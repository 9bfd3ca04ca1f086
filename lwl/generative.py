"""The generative model of section 6: an autoencoder with iDE codes, and a classifier with a
false-positive allowance that picks, among samples of the iDE code, those that look like
encodings of data."""
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils import check_scalar
from sklearn.utils.validation import check_is_fitted

from ._persist import PersistMixin
from ._validation import check_random_state
from .autoencoder import RRRAutoencoder
from .classifier import RRRFPAClassifier

GENUINE, FAKE = 1, 0


class RRRGenerator(PersistMixin, BaseEstimator):
    """Generative model from iDE codes (section 6): the trio (C, D, Z).

    ``fit(X)`` trains ``autoencoder`` on X, then ``classifier`` to tell the encodings of X
    (genuine, label 1) from ``n_fake`` samples of the iDE code Z (fake, label 0) with a
    false-positive allowance. ``sample(n)`` draws codes from Z, keeps those the classifier
    accepts as genuine (about ``fpa`` of them) and returns their decodings. float32 data
    train both nets in single precision (their codes are float32).

    Parameters
    ----------
    autoencoder : RRRAutoencoder or None
        Trained on X (a clone); None: ``RRRAutoencoder()``.
    classifier : RRRFPAClassifier or None
        Trained on the labelled codes (a clone); None: the paper's 10 -> 50 -> 50 -> 50 -> 2
        net with fpa 0.25, Omega 5, Delta 0.1, batches of 500 (section 6.3.2).
    n_fake : int or None, default=None
        Fake codes to train the classifier on; None: twice the number of data items (as the
        paper's 2 x 10^4 fakes for 10^4 digits).
    prefit : bool, default=False
        ``autoencoder`` is already fitted (on the data ``fit`` gets): use it as it is and
        train only the classifier.
    random_state : int, Generator or None
        Seeds the fake codes (the two nets keep their own ``random_state``).

    Attributes
    ----------
    autoencoder_, classifier_ : the fitted models.
    acceptance_rate_ : float
        Fraction of the classifier's training fakes that it accepts (its final train fp).
    """

    _parameter_constraints = {
        "autoencoder": [HasMethods(["fit", "transform", "inverse_transform", "sample_codes"]),
                        None],
        "classifier": [HasMethods(["fit", "predict"]), None],
        "n_fake": [Interval(Integral, 1, None, closed="left"), None],
        "prefit": ["boolean"],
        "random_state": ["random_state", np.random.Generator],
    }

    def __init__(self, autoencoder=None, classifier=None, n_fake=None, prefit=False,
                 random_state=None):
        self.autoencoder = autoencoder
        self.classifier = classifier
        self.n_fake = n_fake
        self.prefit = prefit
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    def _labelled_codes(self, X, rng):
        genuine = self.autoencoder_.transform(X)
        n_fake = 2 * len(X) if self.n_fake is None else self.n_fake
        fake = self.autoencoder_.sample_codes(n_fake, random_state=rng)
        return (np.vstack([genuine, fake]),
                np.r_[np.full(len(genuine), GENUINE), np.full(len(fake), FAKE)])

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, X_test=None):
        """Train the autoencoder on X, then the classifier on genuine and fake codes.
        ``X_test``: data whose encodings, with as many new fakes, make the classifier's eval
        set (its history then has test fp and tn, Figs 22-23).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, with values in the autoencoder's activation range. With
            ``prefit=True``, the data the autoencoder was fitted on.
        y : Ignored
            Not used, present for API consistency by convention.
        X_test : array-like of shape (n_test_samples, n_features), default=None
            Test data for the classifier's eval set; None: no eval set.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        rng = check_random_state(self.random_state)
        if self.prefit:
            if self.autoencoder is None:
                raise ValueError("prefit=True needs a fitted autoencoder")
            check_is_fitted(self.autoencoder)
            self.autoencoder_ = self.autoencoder
        else:
            self.autoencoder_ = clone(self.autoencoder if self.autoencoder is not None
                                      else RRRAutoencoder()).fit(X)
        self.n_features_in_ = self.autoencoder_.n_features_in_
        Z, labels = self._labelled_codes(X, rng)
        eval_set = None if X_test is None else self._labelled_codes(X_test, rng)
        clf = (self.classifier if self.classifier is not None else
               RRRFPAClassifier((50, 50, 50), margin=0.1, omega=5.0, upsilon=1.0, beta=1.0,
                                batch_size=500, rrr_iter=1000, fpa=0.25))
        clf = clone(clf)
        if "genuine_class" in clf.get_params():
            clf.set_params(genuine_class=GENUINE)
        self.classifier_ = clf.fit(Z, labels, **({} if eval_set is None else
                                                 {"eval_set": eval_set}))
        fakes = labels == FAKE
        self.acceptance_rate_ = float(np.mean(self.classifier_.predict(Z[fakes]) == GENUINE))
        return self

    def sample_codes(self, n_samples, random_state=None, max_draws=None):
        """``n_samples`` iDE codes the classifier accepts, drawn in rounds; returns the codes
        and the acceptance rate of all draws.  Stops with fewer after ``max_draws`` draws
        (default 100 x n_samples).  ``n_samples=0`` draws nothing: no codes, rate nan.

        Parameters
        ----------
        n_samples : int
            Number of accepted codes wanted (0 or more).
        random_state : int, numpy.random.Generator or None, default=None
            Seeds the draws (not the estimator's ``random_state``); None: fresh entropy.
        max_draws : int or None, default=None
            Most codes to draw in all; None: 100 x ``n_samples``.

        Returns
        -------
        codes : ndarray of shape (n_accepted, n_codes)
            The accepted codes (n_codes: the code nodes of ``autoencoder_``), ``n_accepted =
            n_samples`` unless ``max_draws`` ran out first; in the dtype of the autoencoder's
            codes.
        acceptance_rate : float
            Fraction of all the codes drawn that the classifier accepted (nan when
            ``n_samples=0``).
        """
        check_is_fitted(self, "classifier_")
        check_scalar(n_samples, "n_samples", Integral, min_val=0)
        if max_draws is not None:
            check_scalar(max_draws, "max_draws", Integral, min_val=1)
        rng = check_random_state(random_state)
        if n_samples == 0:
            return np.empty((0, self.autoencoder_.n_codes_)), float("nan")
        max_draws = 100 * n_samples if max_draws is None else max_draws
        kept, drawn = [], 0
        while sum(map(len, kept)) < n_samples and drawn < max_draws:
            m = min(max(2 * n_samples, 1000), max_draws - drawn)
            Z = self.autoencoder_.sample_codes(m, random_state=rng)
            kept.append(Z[self.classifier_.predict(Z) == GENUINE])
            drawn += m
        accepted = np.vstack(kept)
        return accepted[:n_samples], len(accepted) / max(drawn, 1)

    def sample(self, n_samples, random_state=None, max_draws=None):
        """``n_samples`` generated data (decodings of accepted codes) and the acceptance
        rate.

        Parameters
        ----------
        n_samples : int
            Number of accepted codes wanted (0 or more).
        random_state : int, numpy.random.Generator or None, default=None
            Seeds the draws (not the estimator's ``random_state``); None: fresh entropy.
        max_draws : int or None, default=None
            Most codes to draw in all; None: 100 x ``n_samples``.

        Returns
        -------
        X_new : ndarray of shape (n_accepted, n_features)
            The decodings of the accepted codes, ``n_accepted = n_samples`` unless
            ``max_draws`` ran out first (see ``sample_codes``).
        acceptance_rate : float
            Fraction of all the codes drawn that the classifier accepted (nan when
            ``n_samples=0``).
        """
        Z, rate = self.sample_codes(n_samples, random_state, max_draws)
        if not len(Z):  # none asked for, or none accepted within max_draws
            return np.empty((0, self.autoencoder_.n_features_in_)), rate
        return self.autoencoder_.inverse_transform(Z), rate
