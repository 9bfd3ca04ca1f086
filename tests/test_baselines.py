"""Tests for the gradient-free baselines (lwl.baselines)."""
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from lwl.baselines import AnalyticReLUClassifier, AnalyticReLURegressor, ConstructiveReLUClassifier


def planted_teacher(seed=0, n=400, d=5, h=4):
    """y = v . relu(W x + b) with Gaussian inputs: a two-layer ReLU teacher."""
    rng = np.random.default_rng(seed)
    W, b, v = rng.standard_normal((h, d)), 0.5 * rng.standard_normal(h), rng.standard_normal(h)
    X = rng.standard_normal((2 * n, d))
    y = np.maximum(X @ W.T + b, 0) @ v
    return X[:n], y[:n], X[n:], y[n:]


def gaussian_clusters(seed=1, q=4, m=10, n=100, sep=5.0):
    """q unit-variance clusters in R^m with centres ~ N(0, sep^2 I); string labels."""
    rng = np.random.default_rng(seed)
    centres = sep * rng.standard_normal((q, m))
    X = np.vstack([c + rng.standard_normal((n, m)) for c in centres])
    y = np.repeat(np.array([f"class{j}" for j in range(q)]), n)
    return X, y


def fit_quiet(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning when max_iter is reached
        return est.fit(X, y)


def is_non_increasing(curve):
    c = np.asarray(curve)
    return bool(np.all(np.diff(c) <= 1e-12 * c[:-1]))


@pytest.mark.parametrize("solver", ["joint", "unit"])
def test_analytic_fits_planted_teacher(solver):
    X, y, Xt, yt = planted_teacher()
    # the teacher is genuinely nonlinear: the best affine fit leaves > 10% of the variance
    A = np.hstack([X, np.ones((len(X), 1))])
    lin = A @ np.linalg.lstsq(A, y, rcond=None)[0]
    assert np.mean((lin - y) ** 2) > 0.1 * y.var()
    reg = fit_quiet(AnalyticReLURegressor(hidden_layer_size=8, alpha=1e-6, tol=1e-8, max_iter=100,
                                          hidden_solver=solver, random_state=0), X, y)
    assert reg.hidden_solver_ == solver
    # measured on 20 teachers (seeds 0-19): joint <= 1e-5, unit <= 4.2e-3 of var(y); bound 1%
    assert np.mean((reg.predict(X) - y) ** 2) < 0.01 * y.var()
    assert np.mean((reg.predict(Xt) - yt) ** 2) < 0.05 * yt.var()
    # the output solve is an exact minimiser and the hidden step is safeguarded by step halving
    assert is_non_increasing(reg.loss_curve_)
    assert reg.n_iter_ == len(reg.loss_curve_) and reg.loss_ == reg.loss_curve_[-1]
    assert [c.shape for c in reg.coefs_] == [(5, 8), (8, 1)]
    assert [b.shape for b in reg.intercepts_] == [(8,), (1,)]
    assert reg.predict(Xt).shape == yt.shape


def test_analytic_regressor_multi_output_and_clone():
    X, y, _, _ = planted_teacher(seed=3)
    Y = np.column_stack([y, -2 * y + 1])
    reg = fit_quiet(AnalyticReLURegressor(hidden_layer_size=6, max_iter=10, random_state=0), X, Y)
    assert reg.predict(X).shape == Y.shape
    assert clone(reg).get_params() == reg.get_params()


def test_both_classifiers_separate_gaussian_clusters():
    X, y = gaussian_clusters()
    ana = fit_quiet(AnalyticReLUClassifier(hidden_layer_size=10, max_iter=30, random_state=0), X, y)
    assert ana.score(X, y) == 1.0
    assert is_non_increasing(ana.loss_curve_)
    assert list(ana.classes_) == ["class0", "class1", "class2", "class3"]
    assert ana.predict(X).dtype == y.dtype
    for center in (False, True):
        con = ConstructiveReLUClassifier(center=center).fit(X, y)
        assert con.score(X, y) == 1.0
        # a constant output 1/Q costs (1 - 1/Q)/2 = 0.375; measured 0.024 (center=False), 0.010
        assert con.cost_ < 0.05
        assert con.coefs_[0].shape == (10, 3 if center else 4)


def test_constructive_realises_the_construction():
    X, y = gaussian_clusters(q=3, m=6)
    con = ConstructiveReLUClassifier().fit(X, y)
    W1, W2 = con.coefs_
    b1, b2 = con.intercepts_
    # Q hidden units with orthonormal incoming weights; the ReLU is the identity on the data
    assert W1.shape == (6, 3) and np.allclose(W1.T @ W1, np.eye(3))
    assert (X @ W1 + b1 > 0).all()
    # the class means are mapped exactly onto the one-hot targets
    means = np.stack([X[y == c].mean(axis=0) for c in con.classes_])
    assert np.allclose(con.decision_function(means), np.eye(3), atol=1e-10)
    # the training cost is the L2 cost of the network outputs against one-hot targets
    F = con.decision_function(X) - (y[:, None] == con.classes_[None, :])
    assert np.isclose(con.cost_, np.sum(F ** 2) / (2 * len(X)))
    # extra hidden units carry nothing; the function is unchanged
    wide = ConstructiveReLUClassifier(hidden_layer_size=6).fit(X, y)
    assert np.allclose(wide.decision_function(X), con.decision_function(X))


def test_constructive_center_handles_opposite_means():
    # majority of 3 out of 13 +-1 inputs: the two class means are nearly opposite vectors
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(1000, 13))
    y = (X[:, :3].sum(axis=1) > 0).astype(int)
    assert ConstructiveReLUClassifier(center=True).fit(X, y).score(X, y) == 1.0
    # each of the 8 patterns of 3 inputs twice: means exactly +-(1/2, 1/2, 1/2), collinear
    X = np.tile(np.array(np.meshgrid(*[[-1.0, 1.0]] * 3)).reshape(3, -1).T, (2, 1))
    y = (X.sum(axis=1) > 0).astype(int)
    with pytest.raises(ValueError, match="not linearly independent"):
        ConstructiveReLUClassifier().fit(X, y)
    assert ConstructiveReLUClassifier(center=True).fit(X, y).score(X, y) == 1.0


def test_decision_function_shapes_and_predict_agree():
    X, y = gaussian_clusters(q=2, m=4, n=30)
    for est in (AnalyticReLUClassifier(hidden_layer_size=4, max_iter=5, random_state=0),
                ConstructiveReLUClassifier()):
        fit_quiet(est, X, y)
        d = est.decision_function(X)
        assert d.shape == (60,)
        assert (est.predict(X) == est.classes_[(d > 0).astype(int)]).all()


def test_fixed_seed_gives_identical_results():
    X, y, _, _ = planted_teacher(seed=2)
    params = dict(hidden_layer_size=6, max_iter=15, hidden_solver="unit")
    a, b, c = (fit_quiet(AnalyticReLURegressor(random_state=s, **params), X, y) for s in (7, 7, 8))
    assert a.loss_curve_ == b.loss_curve_
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert np.array_equal(u, v)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    Xc, yc = gaussian_clusters()
    p = ConstructiveReLUClassifier(random_state=0).fit(Xc, yc).decision_function(Xc)
    assert np.array_equal(p, ConstructiveReLUClassifier(random_state=1).fit(Xc, yc).decision_function(Xc))


X_OK, Y_OK = gaussian_clusters(q=2, m=4, n=20)
X_NAN = X_OK.copy()
X_NAN[3, 1] = np.nan
X_INF = X_OK.copy()
X_INF[0, 0] = np.inf
ESTIMATORS = [AnalyticReLUClassifier(max_iter=2), ConstructiveReLUClassifier()]


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("X, y, match", [
    (X_NAN, Y_OK, "NaN"),
    (X_INF, Y_OK, "infinity"),
    (X_OK[:, 0], Y_OK, "Expected 2D array, got 1D array"),
    (X_OK[:, :, None], Y_OK, "dim 3"),
    (X_OK[:, :0], Y_OK, r"0 feature\(s\)"),
    (X_OK, Y_OK[:-1], r"inconsistent numbers of samples: \[40, 39\]"),
    (X_OK, np.full(40, "a"), "only one class"),
    (X_OK, None, "requires y"),
    (X_OK, np.linspace(0, 1, 40), "continuous"),
], ids=["nan", "inf", "1d", "3d", "empty", "length", "one-class", "y-none", "continuous"])
def test_classifier_bad_input_raises(est, X, y, match):
    with pytest.raises(ValueError, match=match):
        fit_quiet(clone(est), X, y)


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_predict_checks_features(est):
    fitted = fit_quiet(clone(est), X_OK, Y_OK)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X_OK[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(X_NAN)


def test_regressor_bad_input_raises():
    X, y, _, _ = planted_teacher()
    with pytest.raises(ValueError, match="NaN"):
        AnalyticReLURegressor().fit(X, np.where(np.arange(len(y)) == 5, np.nan, y))
    with pytest.raises(ValueError, match="samples"):
        AnalyticReLURegressor().fit(X, y[:-1])
    with pytest.raises(ValueError, match="dim 3"):
        AnalyticReLURegressor().fit(X, y[:, None, None])


def test_analytic_alpha_zero_and_memory_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="at least 11 samples"):  # d + 1 weights per unit
        AnalyticReLURegressor(alpha=0, hidden_layer_size=2, hidden_solver="unit").fit(
            rng.standard_normal((8, 10)), rng.standard_normal(8))
    X = rng.standard_normal((200, 3))
    X = np.hstack([X, X[:, :1]])  # duplicated feature: every hidden Gram is singular
    y = np.abs(X[:, 0])
    with pytest.raises(ValueError, match="singular.*alpha=0"):
        AnalyticReLURegressor(alpha=0, hidden_layer_size=3).fit(X, y)
    fit_quiet(AnalyticReLURegressor(alpha=1e-3, hidden_layer_size=3, max_iter=3), X, y)  # regularised
    # MNIST-sized joint solve: 20 * 785 = 15700 unknowns, a 1.8 GiB normal matrix
    big = np.zeros((10000, 784))
    with pytest.raises(ValueError, match=r"15700 x 15700 normal matrix.*MB > max_memory_mb=1024"):
        AnalyticReLUClassifier(hidden_solver="joint").fit(big, np.arange(10000) % 10)
    with pytest.raises(ValueError, match="max_memory_mb"):
        AnalyticReLUClassifier(max_memory_mb=1).fit(big, np.arange(10000) % 10)


@pytest.mark.parametrize("params, match", [
    (dict(hidden_layer_size=0), "hidden_layer_size"),
    (dict(leak=1.0), "leak"),
    (dict(alpha=-1.0), "alpha"),
    (dict(max_iter=0), "max_iter"),
    (dict(hidden_solver="lsqr"), "hidden_solver"),
    (dict(random_state="seed"), "random_state"),
])
def test_analytic_bad_hyperparameters(params, match):
    with pytest.raises(ValueError, match=match):
        AnalyticReLUClassifier(**params).fit(X_OK, Y_OK)


def test_constructive_construction_limits():
    X, y = gaussian_clusters(q=3, m=6, n=20)
    with pytest.raises(ValueError, match="hidden_layer_size=2 is too small"):
        ConstructiveReLUClassifier(hidden_layer_size=2).fit(X, y)
    with pytest.raises(ValueError, match="3 classes and n_features=2"):
        ConstructiveReLUClassifier().fit(X[:, :2], y)
    assert ConstructiveReLUClassifier(center=True).fit(X[:, :2], y).coefs_[0].shape == (2, 2)
    with pytest.raises(ValueError, match="center"):
        ConstructiveReLUClassifier(center="yes").fit(X, y)
