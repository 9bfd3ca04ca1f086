"""The single-precision state (csrc/real.h): float32 data give a float32 state whose
projections hold to float precision; training reaches the quality of float64; the same bits
for a seed, any number of threads and any split into calls; no subnormal; every estimator
preserves the float32 dtype and takes anything else as float64."""
import warnings

import numpy as np
import pytest

import lwl
from lwl import RRRNMF, RRRAutoencoder, RRRClassifier, RRRFPAClassifier, RRRGenerator
from lwl._core import ffi, lib, ptr
from lwl._engine import Engine
from lwl._nmf_engine import NMFState
from lwl.datasets import ledm, majority_circuit
from lwl.graph import Graph
from test_engine import _perturbed_engine, _separable, reference_iteration
from test_nmf import _reference_iteration as nmf_reference_iteration

F32 = np.float32
EPS = float(np.finfo(F32).eps)  # 2^-23


def as_f32(a):
    """a rounded to float32, as float64 (the values a float32 state holds)."""
    return np.asarray(a, dtype=F32).astype(np.float64)


@pytest.mark.parametrize("double, single", [("lwl_net_ws", "lwl_net_ws_f32"),
                                            ("lwl_nmf_ws", "lwl_nmf_ws_f32")])
def test_the_float_workspaces_mirror_the_double_ones(double, single):
    """lwl.h spells out both workspaces (cffi takes no macros): the same fields in the same
    order, a field of the float one differing only as float * for double *."""
    a, b = ffi.typeof(double).fields, ffi.typeof(single).fields
    assert [name for name, _ in a] == [name for name, _ in b]
    for (name, fa), (_, fb) in zip(a, b):
        ta, tb = fa.type.cname, fb.type.cname
        assert ta == tb or ta.replace("double", "float") == tb, name
        assert fa.offset == fb.offset, name  # pointers and scalars the same size


# ---------------------------------------------------------------- the network engine
def test_one_iteration_matches_the_numpy_reference_to_float_precision():
    """Every projection (A: weights to the sphere, ReLU, class margins, consensus; B: the
    bilinear projection, bias consensus) as the paper's iteration computes it in float64
    from the same (float32) state."""
    eng, X, labels = _perturbed_engine(omega=1.7, upsilon=0.8, beta=0.7, delta=0.3, dtype=F32)
    assert eng.x.dtype == F32 and eng.weights.dtype == F32 and eng.mult.dtype == np.float64
    s = eng.state()
    S = {k: s[k].astype(np.float64) for k in "xwyb"}
    errs = []
    eng.run(1, 0.0, errs)
    new, err, A = reference_iteration(eng.graph, S, as_f32(X), labels, 1.7, 0.7, 0.3, eng.g2)
    s = eng.state()
    for k in "xwyb":
        assert s[k].dtype == F32
        np.testing.assert_allclose(s[k], new[k], rtol=0, atol=50 * EPS, err_msg=k)
    assert errs[0] == pytest.approx(err, rel=50 * EPS)
    np.testing.assert_allclose(eng.wa, A["w"][0], rtol=0, atol=4 * EPS)


@pytest.mark.parametrize("activation", ["zigmoid", "step"])
def test_one_iteration_of_every_node_kind_matches_float64(activation):
    """A cyclic autoencoder net with clamped data and code items (the node kinds, their
    clamps, the feed-around start): one float32 iteration against float64 from the same
    state."""
    rng = np.random.default_rng(5)
    g = Graph.autoencoder([6, 4, 2, 4], 2, activation)
    clamp = np.full((10, g.n_nodes), np.nan)
    clamp[:6, g.data_nodes] = rng.integers(0, 2, (6, 6))
    clamp[6:, g.code_nodes] = rng.integers(0, 2, (4, 2))
    engines = [Engine(g, 10, omega=3.0, beta=0.8, delta=0.4, rng=1, dtype=dt)
               for dt in (np.float64, F32)]
    for eng in engines:
        eng.start_batch(clamp=clamp)
    state = {k: as_f32(v + rng.normal(scale=0.3, size=v.shape))
             for k, v in engines[0].state().items() if k in "xwyb"}
    errs = []
    for eng in engines:
        eng.set_state(state)
        eng.run(1, 0.0, errs)
    a, b = engines[0].state(), engines[1].state()
    for k in ("x", "w", "y", "b", "xa", "ya", "ba"):
        np.testing.assert_allclose(b[k], a[k], rtol=0, atol=50 * EPS, err_msg=k)
    assert errs[1] == pytest.approx(errs[0], rel=50 * EPS)


def test_float32_fixed_point_satisfies_every_constraint_to_float_precision():
    rng = np.random.default_rng(1)
    g = Graph.layered([4, 8, 2])
    X, labels = _separable(rng)
    eng = Engine(g, 64, omega=2.0, upsilon=1.0, beta=1.0, delta=0.1, rng=rng, dtype=F32)
    eng.start_batch(X, labels)
    errs = []
    assert eng.run(3000, 1e-5, errs), f"RRR_err {errs[-1]:.3g}"
    assert np.all(eng.predict(X) == labels)
    for n in range(g.n_nodes):
        sel = g.dst == n
        if sel.any():
            assert abs(np.linalg.norm(eng.weights[sel].astype(np.float64)) - 2.0) < 4 * EPS
    out = eng.decision_function(X).astype(np.float64)
    assert out.dtype == np.float64
    correct, wrong = out[np.arange(64), labels], out[np.arange(64), 1 - labels]
    assert correct.min() >= 0.1 - 1e-4 and wrong.max() <= 1e-4
    v, y = eng.forward(X)
    assert v.dtype == F32
    np.testing.assert_allclose(eng.state()["ya"], y, atol=1e-4)


def _train(chunks, n_jobs=1, dtype=F32):
    rng = np.random.default_rng(21)
    g = Graph.layered([5, 9, 3])
    X = rng.uniform(-1, 1, (70, 5))  # 70 items: five blocks in two chunks, the last partial
    labels = rng.integers(0, 3, 70).astype(np.int32)
    eng = Engine(g, 70, rng=rng, n_jobs=n_jobs, dtype=dtype)
    eng.start_batch(X, labels)
    errs = []
    for n in chunks:
        eng.run(n, 0.0, errs)
    return eng.weights, eng.state()["x"], errs


def test_float32_same_bits_in_one_call_or_many_and_with_two_threads():
    a = _train([12])
    for b in (_train([5, 1, 6]), _train([12], n_jobs=2)):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    assert a[0].dtype == F32
    # and float32 follows float64 closely over the same iterations
    c = _train([12], dtype=np.float64)
    np.testing.assert_allclose(a[0], c[0], atol=1e-4)


def _nmf_state(K, D, C, omega, beta, X, H, dtype=F32):
    state = NMFState(K, D, C, omega, beta, dtype)
    state.start_batch(X, H)
    return state


def test_nmf_float32_iteration_matches_the_numpy_reference():
    rng = np.random.default_rng(3)
    K, C, D = 5, 3, 29
    Y = as_f32(rng.uniform(0.0, 1.0, (K, D)))
    x, w = as_f32(rng.normal(0.3, 0.5, (K, C, D))), as_f32(rng.normal(0.3, 0.5, (K, C, D)))
    state = _nmf_state(K, D, C, 1.5, 0.5, Y, np.ones((C, D)))
    state.x[:], state.w[:] = x.ravel(), w.ravel()
    out = np.empty(1)
    assert lib.lwl_nmf_iterate_f32(state.ws, 1, 0.0, ptr(out)) == 1
    xr, wr, code_r, feat_r, _, err_r = nmf_reference_iteration(x, w, Y, 1.5, 0.5)
    np.testing.assert_allclose(state.x.reshape(K, C, D), xr, atol=50 * EPS)
    np.testing.assert_allclose(state.w.reshape(K, C, D), wr, atol=50 * EPS)
    np.testing.assert_allclose(state.features(), feat_r, atol=4 * EPS)
    np.testing.assert_allclose(state.codes(), code_r, atol=4 * EPS)
    assert out[0] == pytest.approx(err_r, rel=50 * EPS)


def test_nmf_float32_same_bits_however_split_into_calls_and_no_subnormal():
    X = ledm(16)
    H = np.abs(np.random.default_rng(0).normal(size=(8, 16))) + 0.1
    runs = []
    for calls in ([3000], [1000, 1, 1999]):
        state = _nmf_state(16, 16, 8, 0.9, 0.3, X, H)
        errs = []
        for n in calls:
            out = np.empty(n)
            assert lib.lwl_nmf_iterate_f32(state.ws, n, 0.0, ptr(out)) == n
            errs.extend(out)
            assert state.ws.fp_flags == 0
        runs.append((errs, state.x.copy(), state.features()))
    assert runs[0][0] == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])
    tiny = np.finfo(F32).tiny
    for a in (state.x, state.w, state.code, state.feature):
        assert a.dtype == F32 and np.all((a == 0) | (np.abs(a) >= tiny))
    assert np.sum(state.x == 0) > 0  # the LEDM's zeros drive iterates to 0 (flushed there)


def test_nmf_float32_solves_ledm6_to_float_precision():
    X = ledm(6)
    model = RRRNMF(5, omega=0.6, beta=0.3, rrr_iter=200_000, tol=1e-7, random_state=0)
    with pytest.warns(UserWarning, match="levels off"):  # here it is reached all the same
        W = model.fit_transform(X.astype(F32))
    assert W.dtype == F32 and model.components_.dtype == F32 and model.status_ == "converged"
    assert model.reconstruction_err_ < 1e-6
    assert np.all(model.components_ >= 0) and np.all(W >= 0)
    np.testing.assert_allclose(np.linalg.norm(model.components_.astype(np.float64), axis=1),
                               0.6, rtol=4 * EPS)
    again = RRRNMF(5, omega=0.6, beta=0.3, rrr_iter=200_000, tol=1e-7, random_state=0)
    with pytest.warns(UserWarning, match="levels off"):
        assert np.array_equal(again.fit_transform(X.astype(F32)), W)


def test_nmf_float32_warns_of_a_tol_below_where_rrr_err_levels_off():
    X = ledm(6)
    params = dict(n_components=5, omega=0.6, beta=0.3, rrr_iter=20, random_state=0)
    with pytest.warns(UserWarning, match="tol=1e-07 may never be reached"):
        RRRNMF(**params).fit(X.astype(F32))  # the default tol
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for tol, dtype in ((1e-6, F32), (0.0, F32), (1e-7, np.float64)):
            RRRNMF(tol=tol, **params).fit(X.astype(dtype))


# ---------------------------------------------------------------- estimators
def test_float32_classifier_reaches_the_quality_of_float64_and_is_deterministic():
    X, y, Xt, yt, _ = majority_circuit(depth=2, random_state=0)
    X, y = X[:1024], y[:1024]
    params = dict(hidden_layer_sizes=(26,), margin=0.1, batch_size=128, rrr_iter=100,
                  epochs=12, random_state=0)
    f64 = RRRClassifier(**params).fit(X, y)
    f32 = RRRClassifier(**params).fit(X.astype(F32), y)
    assert f32.score(Xt.astype(F32), yt) >= f64.score(Xt, yt) - 0.03
    again = RRRClassifier(**params).fit(X.astype(F32), y)
    assert np.array_equal(again._weights, f32._weights)
    assert np.array_equal(again.rrr_err_, f32.rrr_err_)


def test_classifiers_preserve_float32():
    X, y = majority_circuit(2, random_state=0)[:2]
    X, y = X[:200], y[:200]
    for cls in (RRRClassifier, RRRFPAClassifier):
        clf = cls((6,), batch_size=64, rrr_iter=10, epochs=2, random_state=0)
        clf.fit(X.astype(F32), y)
        assert clf._weights.dtype == clf._biases.dtype == F32
        assert all(c.dtype == F32 for c in clf.coefs_ + clf.intercepts_)
        assert clf.decision_function(X.astype(F32)).dtype == F32
        # float64 data through the float32 model: a float64 forward pass, the same classes
        assert clf.decision_function(X).dtype == np.float64
        assert np.mean(clf.predict(X) == clf.predict(X.astype(F32))) > 0.98
        ints = cls((6,), batch_size=64, rrr_iter=10, epochs=2, random_state=0).fit(
            (X > 0.5).astype(np.int64), y)
        assert ints._weights.dtype == np.float64


def test_autoencoder_and_generator_preserve_float32(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (80, 12)).astype(F32)
    ae = RRRAutoencoder((5,), n_codes=3, data_batch=20, code_batch=4, rrr_iter=10, epochs=2,
                        random_state=0).fit(X)
    assert ae._weights.dtype == F32
    Z = ae.transform(X)
    assert Z.dtype == F32 and ae.inverse_transform(Z).dtype == F32
    assert ae.code_distribution_.dtype == F32 and ae.sample_codes(5).dtype == F32
    assert ae.transform(X.astype(np.float64)).dtype == np.float64
    ae.save(tmp_path / "ae.npz")
    loaded = lwl.load(tmp_path / "ae.npz")
    assert np.array_equal(loaded.transform(X), Z)
    gen = RRRGenerator(RRRAutoencoder((5,), n_codes=3, data_batch=20, code_batch=4, rrr_iter=10,
                                      epochs=2, random_state=0),
                       RRRFPAClassifier((4,), batch_size=32, rrr_iter=10, epochs=2,
                                        random_state=0), random_state=0).fit(X)
    assert gen.classifier_._weights.dtype == F32
    assert gen.sample(3, random_state=0)[0].dtype == F32


def test_nmf_preserves_float32_in_every_method():
    X = np.random.default_rng(0).uniform(0, 1, (30, 8))
    for encoder in ("nnls", "pinv"):
        model = RRRNMF(3, rrr_iter=50, tol=1e-6, encoder=encoder, random_state=0)
        W = model.fit_transform(X.astype(F32))
        assert W.dtype == model.components_.dtype == F32
        assert model.transform(X.astype(F32)).dtype == F32
        assert model.inverse_transform(W).dtype == F32
        assert model.transform(X).dtype == np.float64
    model = RRRNMF(3, rrr_iter=20, tol=1e-6, batch_size=10, epochs=2,
                   random_state=0).fit(X.astype(F32))
    model.partial_fit(X.astype(F32))
    assert model.components_.dtype == F32
