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
    m = RRRNMF(5, omega=0.6, beta=0.3, rrr_iter=200_000, tol=1e-10, random_state=0).fit(Y)
    assert m.status_ == "converged"
    assert m.reconstruction_err_ < 1e-8
    W = m.fit_transform(Y)
    assert np.all(W >= 0) and np.all(m.components_ >= 0)
    np.testing.assert_allclose(np.linalg.norm(m.components_, axis=1), 0.6)
    np.testing.assert_allclose(W @ m.components_, Y, atol=1e-7)
    assert m.rrr_err_[-1] < 1e-10 and len(m.rrr_err_) == m.n_rrr_iter_
    assert m.gwms_ == pytest.approx(1e-9 * m.n_rrr_iter_ * 6 * 30)


def test_fixed_point_is_a_solution():
    """At convergence the A point satisfies B: every x.w = y holds on the consensus values."""
    X = planted()
    m = RRRNMF(3, omega=1.0, beta=0.5, rrr_iter=20_000, tol=1e-11, random_state=1)
    W = m.fit_transform(X)
    assert m.status_ == "converged"
    np.testing.assert_allclose(W @ m.components_, X, atol=1e-8)


def test_same_seed_same_result_bit_for_bit():
    X = planted(seed=2)
    a = RRRNMF(3, rrr_iter=500, random_state=5).fit(X)
    b = RRRNMF(3, rrr_iter=500, random_state=5).fit(X)
    assert np.array_equal(a.components_, b.components_)
    assert np.array_equal(a.rrr_err_, b.rrr_err_)
    c = RRRNMF(3, rrr_iter=500, random_state=6).fit(X)
    assert not np.array_equal(a.components_, c.components_)


def test_online_mode_with_warm_starts():
    X = planted(n=200, seed=3)
    m = RRRNMF(3, omega=1.0, beta=1.0, rrr_iter=20, batch_size=50, epochs=15,
               random_state=0).fit(X)
    h = m.history_
    assert len(h["epoch"]) == 15 and m.n_rrr_iter_ == sum(np.array(h["iters"]) * 4)
    assert h["recon_err"][-1] < 0.2 * h["recon_err"][0]
    assert h["recon_err"][-1] < 0.02 * X.std()
    assert m.reconstruction_err_ == pytest.approx(h["recon_err"][-1])
    pinv = m.set_params(encoder="pinv")
    np.testing.assert_allclose(pinv.transform(X), np.maximum(X @ np.linalg.pinv(m.components_), 0),
                               atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_transform_reconstructs_a_solved_ledm_as_fit_transform_does(seed):
    """The exact features of an LEDM are nearly dependent (condition number ~1e9): the
    pseudo-inverse encoder throws the codes away, non-negative least squares does not."""
    Y = ledm(6)
    m = RRRNMF(5, omega=0.6, beta=0.3, rrr_iter=200_000, tol=1e-10, random_state=seed)
    W = m.fit_transform(Y)
    assert m.status_ == "converged"
    fit_err = np.sqrt(np.mean((W @ m.components_ - Y) ** 2))
    W2 = m.transform(Y)
    assert np.all(W2 >= 0)
    assert np.sqrt(np.mean((W2 @ m.components_ - Y) ** 2)) <= max(2 * fit_err, 1e-9)
    pinv_err = np.sqrt(np.mean((m.set_params(encoder="pinv").transform(Y) @ m.components_ - Y) ** 2))
    assert pinv_err > 1e-3  # why the default is not the paper's encoder


def test_partial_fit_is_one_warm_epoch():
    X = planted(n=120, seed=8)
    a = RRRNMF(3, rrr_iter=10, batch_size=40, epochs=3, random_state=0).fit(X)
    b = RRRNMF(3, rrr_iter=10, batch_size=40, random_state=0)
    for _ in range(3):
        b.partial_fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.rrr_err_, b.rrr_err_)
    assert b.history_["epoch"] == [1, 2, 3] and b.n_rrr_iter_ == a.n_rrr_iter_
    assert b.gwms_ == pytest.approx(a.gwms_)
    with pytest.raises(ValueError, match="features"):
        b.partial_fit(X[:, :5])


def test_early_stopping_keeps_the_best_validation_epoch():
    X = planted(n=200, seed=9)
    m = RRRNMF(3, rrr_iter=2, batch_size=20, epochs=60, early_stopping=True,
               n_iter_no_change=2, random_state=0).fit(X)
    val = m.history_["val_err"]
    assert m.status_ in ("early_stopping", "max_iter")
    if m.status_ == "early_stopping":
        # the last n_iter_no_change + 1 epochs brought no strict improvement (a run that
        # reaches a fixed point repeats its validation error exactly)
        assert len(val) < 60 and min(val[:-3]) <= min(val[-3:])
    best = int(np.argmin(val))
    # the kept features give the best validation error: re-evaluate it on the same split
    from sklearn.model_selection import train_test_split
    seed = np.random.default_rng(0).integers(2**31)
    _, X_val = train_test_split(X, test_size=0.1, random_state=int(seed))
    err = np.sqrt(np.mean((m.transform(X_val) @ m.components_ - X_val) ** 2))
    assert err == pytest.approx(val[best], rel=1e-9)


@pytest.mark.parametrize("params", [dict(epochs=3), dict(epochs=6, early_stopping=True,
                                                         n_iter_no_change=1)])
def test_fit_transform_gives_the_codes_of_transform_under_the_final_features(params):
    """With batches, fit_transform's codes and reconstruction_err_ are those of transform
    under the features fit keeps: the last epoch's (its codes reused, not computed again),
    or with early stopping an earlier epoch's, restored."""
    X = planted(n=120, seed=8)
    m = RRRNMF(3, rrr_iter=3, batch_size=40, random_state=0, **params)
    W = m.fit_transform(X)
    np.testing.assert_array_equal(W, m.transform(X))
    if not params.get("early_stopping"):
        assert m.reconstruction_err_ == m.history_["recon_err"][-1]
        assert m.reconstruction_err_ == np.sqrt(np.mean((X - W @ m.components_) ** 2))


def test_custom_init_and_inverse_transform():
    X = planted(seed=4)
    H0 = np.random.default_rng(0).uniform(size=(3, X.shape[1]))
    m = RRRNMF(3, init="custom", rrr_iter=50).fit(X, H=H0)
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
    (-np.ones((4, 4)), "Negative values in data passed to RRRNMF"),
    (np.full((4, 4), np.nan), "NaN"),
    (np.full((4, 4), np.inf), "infinity"),
    (np.ones(4), "Expected 2D array"),
    (np.ones((0, 4)), "0 sample"),
    (np.ones((4, 4)) + 1j, "Complex data not supported"),
])
def test_bad_data(X, match):
    with pytest.raises(ValueError, match=match):
        RRRNMF(2).fit(X)


def test_sparse_input_is_refused_by_name():
    from scipy import sparse
    with pytest.raises(TypeError, match="[Ss]parse"):
        RRRNMF(2).fit(sparse.random(6, 6, density=0.5, format="csr"))


def test_a_batch_larger_than_the_data_is_clipped_with_a_warning():
    X = planted(n=30)
    with pytest.warns(UserWarning, match="clipping it to 30"):
        m = RRRNMF(3, rrr_iter=5, batch_size=100, random_state=0).fit(X)
    ref = RRRNMF(3, rrr_iter=5, random_state=0).fit(X)
    np.testing.assert_array_equal(m.components_, ref.components_)


@pytest.mark.parametrize("params,match", [
    (dict(n_components=0), "n_components"),
    (dict(n_components=2.5), "n_components"),
    (dict(n_components=2, omega=0.0), "omega"),
    (dict(n_components=2, beta=1.5), "beta"),
    (dict(n_components=2, beta=0), "beta"),
    (dict(n_components=2, batch_size=0), "batch_size"),
    (dict(n_components=2, rrr_iter=0), "rrr_iter"),
    (dict(n_components=2, init="nndsvd"), "init"),
    (dict(n_components=2, encoder="svd"), "encoder"),
    (dict(n_components=2, omega=np.inf), "omega"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        RRRNMF(**params).fit(np.ones((6, 6)))


def test_transform_checks_shape_and_sign():
    m = RRRNMF(2, rrr_iter=10).fit(planted(d=8))
    with pytest.raises(ValueError, match="5 features, but RRRNMF is expecting 8"):
        m.transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match="Negative values"):
        m.transform(-np.ones((3, 8)))


def test_too_large_a_batch_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(lwl._validation, "available_memory_bytes", lambda: 1e6)
    with pytest.raises(MemoryError, match="GiB"):
        RRRNMF(20, rrr_iter=1).fit(np.ones((100, 100)))


def test_ctrl_c_keeps_the_features_reached(monkeypatch):
    import lwl._rrr
    from lwl._nmf_engine import NMFState
    real = NMFState._iterate
    calls = {"n": 0}

    def interrupting(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(NMFState, "_iterate", interrupting)
    monkeypatch.setattr(lwl._rrr, "WMS_PER_CALL", 1)  # one iteration per call
    X = planted()
    with pytest.warns(RuntimeWarning, match="interrupted after 2 RRR iterations") as rec:
        m = RRRNMF(3, rrr_iter=100, random_state=0).fit(X)
    assert rec[0].filename == __file__  # attributed to the caller, not to a library frame
    assert m.status_ == "interrupted" and m.n_rrr_iter_ == 2 and len(m.rrr_err_) == 2
    assert m.gwms_ == pytest.approx(1e-9 * 2 * X.shape[0] * X.shape[1] * 3)
    assert np.all(np.isfinite(m.transform(X)))
    np.testing.assert_allclose(np.linalg.norm(m.components_, axis=1), 1.0)


# ---------------------------------------------------------------- the C iteration itself
# lwl_nmf_iterate works on blocks of 16 data nodes and solves the bilinear problems of
# several blocks (of one or several items) in one root search; these compare its iterates
# with a plain numpy RRR iteration (section 1, eq 14, 19) on states that are not fixed points.

def _reference_iteration(x, w, Y, omega, beta, degenerate=()):
    """One RRR iteration on x, w of shape (K, C, D); returns the new x, w, the A point
    (codes (K, C), features (C, D)), the multipliers u (K, D) and RRR_err."""
    from scipy.optimize import brentq
    K, C, D = x.shape
    code = np.maximum(x.mean(axis=2), 0.0)
    cons = w.mean(axis=0)
    feat = np.maximum(cons, 0.0)
    norms = np.linalg.norm(feat, axis=1)
    for i in range(C):
        if norms[i] > 0:
            feat[i] *= omega / norms[i]
        else:
            feat[i] = 0.0
            feat[i, np.argmax(cons[i])] = omega
    xr = 2 * code[:, :, None] - x
    wr = 2 * feat[None] - w
    xb, wb, mult = np.empty_like(x), np.empty_like(w), np.empty((K, D))
    for k in range(K):
        for j in range(D):
            a, b, y = xr[k, :, j], wr[k, :, j], Y[k, j]
            if (k, j) in degenerate:  # x = w, |x + w|^2 >= 16 y: the choice of bilinear.c
                s = a + b
                d = np.sqrt(s @ s / 4 - 4 * y)
                xb[k, :, j] = s / 4 + d / 2 * s / np.linalg.norm(s)
                wb[k, :, j] = s / 4 - d / 2 * s / np.linalg.norm(s)
                mult[k, j] = -1.0
                continue
            A, B = (a + b) @ (a + b) / 4, (a - b) @ (a - b) / 4
            u = brentq(lambda u: A / (1 - u) ** 2 - B / (1 + u) ** 2 - y, -1 + 1e-15,
                       1 - 1e-15, xtol=1e-15, rtol=1e-15)
            xb[k, :, j] = (a + u * b) / (1 - u * u)
            wb[k, :, j] = (b + u * a) / (1 - u * u)
            mult[k, j] = u
    dx, dw = xb - code[:, :, None], wb - feat[None]
    err = np.sqrt((np.sum(dx ** 2) + np.sum(dw ** 2)) / (K * C * D))
    return x + beta * dx, w + beta * dw, code, feat, mult, err


def _c_iterations(x, w, Y, omega, beta, n_iter):
    """n_iter iterations of lwl_nmf_iterate from the state x, w (K, C, D), warm starts 0."""
    from lwl._core import lib, ptr
    from lwl._nmf_engine import NMFState
    K, C, D = x.shape
    buf = NMFState(K, D, C, omega, beta)
    buf.start_batch(Y, np.ones((C, D)))
    buf.x[:] = x.ravel()
    buf.w[:] = w.ravel()
    out = np.empty(n_iter)
    assert lib.lwl_nmf_iterate(buf.ws, n_iter, 0.0, ptr(out)) == n_iter
    return (buf.x.reshape(K, C, D), buf.w.reshape(K, C, D), buf.codes(), buf.features(),
            buf.mult[:K * D].reshape(K, D), out)


@pytest.mark.parametrize("K,C,D", [(5, 3, 29),   # 2 blocks per item, the second short
                                   (3, 4, 77),   # D >= 64: groups cross items mid-way
                                   (15, 2, 5),   # D < 8: short blocks, 12 per root search
                                   (4, 8, 16)])  # full blocks, 4 items per root search
def test_iterations_match_a_plain_numpy_rrr(K, C, D):
    rng = np.random.default_rng(K * 1000 + D)
    Y = rng.uniform(0.0, 1.0, (K, D))
    x = rng.normal(0.3, 0.5, (K, C, D))
    w = rng.normal(0.3, 0.5, (K, C, D))
    xc, wc, code, feat, mult, errs = _c_iterations(x, w, Y, 0.8, 0.4, 2)
    xr, wr = x, w
    for t in range(2):
        xr, wr, code_r, feat_r, mult_r, err_r = _reference_iteration(xr, wr, Y, 0.8, 0.4)
        assert errs[t] == pytest.approx(err_r, rel=1e-10)
    np.testing.assert_allclose(xc, xr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(wc, wr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(code, code_r, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(feat, feat_r, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mult, mult_r, rtol=1e-9, atol=1e-12)
    assert np.all(np.abs(mult) < 1)


def test_a_feature_with_no_positive_consensus_goes_to_its_largest_entry():
    rng = np.random.default_rng(3)
    K, C, D = 3, 2, 11
    Y = rng.uniform(0.0, 1.0, (K, D))
    x = rng.normal(0.3, 0.5, (K, C, D))
    w = rng.normal(0.3, 0.5, (K, C, D))
    w[:, 1] = -rng.uniform(0.1, 1.0, (K, D))
    _, _, _, feat, _, _ = _c_iterations(x, w, Y, 1.5, 0.5, 1)
    feat_r = _reference_iteration(x, w, Y, 1.5, 0.5)[3]
    assert np.count_nonzero(feat[1]) == 1 and feat[1].max() == 1.5
    np.testing.assert_allclose(feat, feat_r, rtol=1e-12)


@pytest.mark.parametrize("y", [0.0, 0.1])
def test_degenerate_lane_in_a_full_block(y):
    """At (item 0, node 3) the reflected point has x = w exactly and no root inside (eq 18
    fails): that lane takes the degenerate projection of bilinear.c, the other 15 lanes of
    its block and the 16 of the other item's block the ordinary one."""
    rng = np.random.default_rng(7)
    K, C, D, j0 = 2, 2, 16, 3
    # multiples of 1/1024: every sum the iteration forms on them is exact
    dyadic = lambda lo, hi, shape: rng.integers(128 * lo, 128 * hi, shape) / 1024
    row = dyadic(1, 9, D)
    cons = np.stack([row, row[::-1]])              # both rows of the same norm
    omega = float(np.sqrt(np.sum(row ** 2)))       # so the features are cons, exactly
    v = dyadic(1, 9, C)                            # the reflected x = w at (0, :, j0)
    dw = dyadic(-4, 5, (C, D))
    dw[:, j0] = cons[:, j0] - v                    # w[0] = 2 feature - v at j0
    w = np.stack([cons + dw, cons - dw])
    code = dyadic(4, 12, (K, C))
    dx = dyadic(-4, 5, (K, C, D))
    dx[0, :, j0] = code[0] - v                     # x[0] = 2 code - v at j0
    dx[:, :, -1] = 0.0
    dx[:, :, -1] = -dx.sum(axis=2)                 # rows of x keep their means
    x = code[:, :, None] + dx
    Y = rng.uniform(0.2, 1.0, (K, D))
    Y[0, j0] = y * (v @ v)                         # |x + w|^2 = 4 |v|^2 >= 16 y
    xc, wc, _, _, mult, errs = _c_iterations(x, w, Y, omega, 0.5, 1)
    xr, wr, _, _, mult_r, err_r = _reference_iteration(x, w, Y, omega, 0.5, degenerate={(0, j0)})
    assert mult[0, j0] == -1.0 and np.all(np.abs(np.delete(mult.ravel(), j0)) < 1)
    np.testing.assert_allclose(xc, xr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(wc, wr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mult, mult_r, rtol=1e-9, atol=1e-12)
    assert errs[0] == pytest.approx(err_r, rel=1e-10)


def test_iterations_do_not_depend_on_how_they_are_split_into_calls():
    """The warm starts and the sums for P_A carry over between calls bit for bit."""
    from lwl._core import lib, ptr
    from lwl._nmf_engine import NMFState
    rng = np.random.default_rng(0)
    X, H = rng.uniform(size=(20, 45)), rng.uniform(size=(7, 45))
    runs = []
    for calls in ([30], [1] * 30, [7, 16, 7]):
        buf = NMFState(20, 45, 7, 0.8, 0.3)
        buf.start_batch(X, H)
        errs = []
        for n in calls:
            out = np.empty(n)
            lib.lwl_nmf_iterate(buf.ws, n, 0.0, ptr(out))
            errs.extend(out)
        runs.append((np.array(errs), buf.x.copy(), buf.features()))
    for errs, x, feat in runs[1:]:
        assert np.array_equal(errs, runs[0][0]) and np.array_equal(x, runs[0][1])
        assert np.array_equal(feat, runs[0][2])


def test_a_long_epoch_of_a_verbose_fit_is_not_silent(monkeypatch, capsys):
    """verbose=1: besides a row per epoch, a line every HEARTBEAT seconds within the epoch (here
    every call into C), so a one-batch factorisation of minutes says where it is."""
    import lwl._progress
    monkeypatch.setattr(lwl._progress, "HEARTBEAT", 0.0)
    RRRNMF(5, omega=0.6, beta=0.3, rrr_iter=3000, tol=1e-10, random_state=0,
           verbose=1).fit(ledm(6))
    lines = capsys.readouterr().out.splitlines()
    within = [l for l in lines if l.startswith("  epoch 1: batch 1, iteration")]
    assert within and "RRR_err" in within[0] and "into the epoch" in within[0]
    RRRNMF(5, omega=0.6, beta=0.3, rrr_iter=3000, tol=1e-10, random_state=0).fit(ledm(6))
    assert capsys.readouterr().out == ""                 # verbose=0 stays silent


def test_max_iter_still_works_for_one_release_with_a_future_warning():
    with pytest.warns(FutureWarning, match="max_iter was renamed rrr_iter"):
        old = RRRNMF(3, max_iter=7, random_state=0).fit(ledm(6))
    new = RRRNMF(3, rrr_iter=7, random_state=0).fit(ledm(6))
    assert old.n_rrr_iter_ == new.n_rrr_iter_ == 7
    np.testing.assert_array_equal(old.components_, new.components_)
