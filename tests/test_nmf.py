"""RRRNMF: solutions, determinism, online mode, sklearn conventions, bad input, Ctrl-C."""
import numpy as np
import pytest

import lwl
from lwl import RRRNMF
from lwl.datasets import ledm


def planted(n=60, d=12, r=3, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.uniform(0, 1, (n, r)) * (rng.uniform(size=(n, r)) < 0.6)
    H = rng.uniform(0, 1, (r, d)) * (rng.uniform(size=(r, d)) < 0.6)
    return W @ H


def test_ledm():
    Y = ledm(6)
    assert Y.shape == (6, 6) and np.allclose(Y, Y.T) and np.all(np.diag(Y) == 0)
    assert Y[0, 5] == 1.0 and np.linalg.matrix_rank(Y) == 3


def test_ledm6_is_solved_exactly():
    Y = ledm(6)
    m = RRRNMF(5, omega=0.6, beta=0.3, max_iter=200_000, tol=1e-10, random_state=0).fit(Y)
    assert m.converged_
    assert m.reconstruction_err_ < 1e-8
    W = m.fit_transform(Y)
    assert np.all(W >= 0) and np.all(m.components_ >= 0)
    np.testing.assert_allclose(np.linalg.norm(m.components_, axis=1), 0.6)
    np.testing.assert_allclose(W @ m.components_, Y, atol=1e-7)
    assert m.rrr_err_[-1] < 1e-10 and len(m.rrr_err_) == m.n_iter_
    assert m.gwms_ == pytest.approx(1e-9 * m.n_iter_ * 6 * 30)


def test_fixed_point_is_a_solution():
    """At convergence the A point satisfies B: every x.w = y holds on the consensus values."""
    X = planted()
    m = RRRNMF(3, omega=1.0, beta=0.5, max_iter=20_000, tol=1e-11, random_state=1)
    W = m.fit_transform(X)
    assert m.converged_
    np.testing.assert_allclose(W @ m.components_, X, atol=1e-8)


def test_same_seed_same_result_bit_for_bit():
    X = planted(seed=2)
    a = RRRNMF(3, max_iter=500, random_state=5).fit(X)
    b = RRRNMF(3, max_iter=500, random_state=5).fit(X)
    assert np.array_equal(a.components_, b.components_)
    assert np.array_equal(a.rrr_err_, b.rrr_err_)
    c = RRRNMF(3, max_iter=500, random_state=6).fit(X)
    assert not np.array_equal(a.components_, c.components_)


def test_online_mode_with_warm_starts():
    X = planted(n=200, seed=3)
    m = RRRNMF(3, omega=1.0, beta=1.0, max_iter=20, batch_size=50, epochs=15,
               random_state=0).fit(X)
    h = m.history_
    assert len(h["epoch"]) == 15 and m.n_iter_ == sum(np.array(h["iters"]) * 4)
    assert h["recon_err"][-1] < 0.2 * h["recon_err"][0]
    assert h["recon_err"][-1] < 0.02 * X.std()
    assert m.reconstruction_err_ == pytest.approx(h["recon_err"][-1])
    np.testing.assert_allclose(m.transform(X), np.maximum(X @ np.linalg.pinv(m.components_), 0),
                               atol=1e-10)


def test_custom_init_and_inverse_transform():
    X = planted(seed=4)
    H0 = np.random.default_rng(0).uniform(size=(3, X.shape[1]))
    m = RRRNMF(3, init="custom", max_iter=50).fit(X, H=H0)
    W = m.transform(X)
    assert W.shape == (X.shape[0], 3)
    np.testing.assert_allclose(m.inverse_transform(W), W @ m.components_)


def test_sklearn_conventions():
    from sklearn.base import clone
    m = RRRNMF(4, omega=2.0, random_state=3)
    assert m.get_params()["omega"] == 2.0
    assert clone(m).get_params() == m.get_params()
    assert not hasattr(m, "components_")


@pytest.mark.parametrize("X,match", [
    (-np.ones((4, 4)), "non-negative"),
    (np.full((4, 4), np.nan), "NaN"),
    (np.full((4, 4), np.inf), "NaN or infinite"),
    (np.ones(4), "2-D"),
    (np.ones((0, 4)), "empty"),
])
def test_bad_data(X, match):
    with pytest.raises(ValueError, match=match):
        RRRNMF(2).fit(X)


@pytest.mark.parametrize("params,match", [
    (dict(n_components=0), "n_components"),
    (dict(n_components=7), "n_components"),
    (dict(n_components=None), "n_components"),
    (dict(n_components=2, omega=0.0), "omega"),
    (dict(n_components=2, beta=1.5), "beta"),
    (dict(n_components=2, beta=0), "beta"),
    (dict(n_components=2, batch_size=0), "batch_size"),
    (dict(n_components=2, batch_size=100), "batch_size"),
    (dict(n_components=2, max_iter=0), "max_iter"),
    (dict(n_components=2, init="nndsvd"), "init"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        RRRNMF(**params).fit(np.ones((6, 6)))


def test_transform_checks_shape_and_sign():
    m = RRRNMF(2, max_iter=10).fit(planted(d=8))
    with pytest.raises(ValueError, match="features"):
        m.transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match="non-negative"):
        m.transform(-np.ones((3, 8)))


def test_too_large_a_batch_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(lwl._validation, "available_memory_bytes", lambda: 1e6)
    with pytest.raises(MemoryError, match="GiB"):
        RRRNMF(20, max_iter=1).fit(np.ones((100, 100)))


def test_ctrl_c_keeps_the_features_reached(monkeypatch):
    import lwl.nmf as nmf_mod
    real = nmf_mod.lib
    calls = {"n": 0}

    class Interrupting:
        def __getattr__(self, name):
            return getattr(real, name)

        def lwl_nmf_iterate(self, *args):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return real.lwl_nmf_iterate(*args)

    monkeypatch.setattr(nmf_mod, "lib", Interrupting())
    monkeypatch.setattr(nmf_mod, "_WMS_PER_CALL", 1)  # one iteration per call
    X = planted()
    with pytest.warns(RuntimeWarning, match="interrupted"):
        m = RRRNMF(3, max_iter=100, random_state=0).fit(X)
    assert m.interrupted_ and not m.converged_ and m.n_iter_ == 2
    assert np.all(np.isfinite(m.transform(X)))
    np.testing.assert_allclose(np.linalg.norm(m.components_, axis=1), 1.0)
