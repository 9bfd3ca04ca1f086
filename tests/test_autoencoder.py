"""RRRAutoencoder: the cyclic net, feed-around, iDE codes, binary encoding, bad input."""
import pickle

import numpy as np
import pytest

from lwl import RRRAutoencoder
from lwl.autoencoder import _binary_codes, feed_around



def zigmoid(z, delta):
    """Fig 17: 0 below -delta/2, 1 above delta/2, linear in between."""
    return np.clip((z + delta / 2) / delta, 0.0, 1.0)


def binary_encoder(n, **kw):
    params = dict(n_codes=n, activation="step", margin=0.4, omega=100.0, beta=0.5,
                  data_batch=2 ** n, code_batch=2 ** n, rrr_iter=200_000, tol=1e-10, epochs=1)
    params.update(kw)
    return RRRAutoencoder((), **params)


def small_images(n=60, d=12, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(rng.uniform(-0.3, 1.3, (n, d)), 0, 1)


def exact_binary_solution(model, n):
    """The weights and biases of appendix C (eq 61, 64 at equality) that encode the 2^n one-hot
    vectors as binary codes and decode them back exactly."""
    g, omega, D = model._graph, model.omega, 2 ** n
    codes = _binary_codes(n)
    w, b = np.zeros(g.n_edges), np.zeros(g.n_nodes)
    for e, (s, d) in enumerate(zip(g.src, g.dst)):
        if d in g.code_nodes:      # data node s -> code node d
            w[e] = omega / np.sqrt(D) * (1 if codes[s, d - g.code_nodes[0]] else -1)
        else:                      # code node s -> data node d
            w[e] = omega / np.sqrt(n) * (1 if codes[d, s - g.code_nodes[0]] else -1)
    b[:D] = (codes.sum(axis=1) - 0.5) / np.sqrt(n)
    return w, b


def test_the_net_is_cyclic_and_numbered_as_the_published_programs():
    m = RRRAutoencoder((5,), n_codes=3, epochs=1, rrr_iter=1, data_batch=10, code_batch=2,
                       random_state=0).fit(small_images(d=8))
    g = m._graph
    assert g.n_nodes == 8 + 5 + 3 + 5 and g.n_edges == 8 * 5 + 5 * 3 + 3 * 5 + 5 * 8
    assert list(g.code_nodes) == [13, 14, 15] and list(g.data_nodes) == list(range(8))
    assert np.all(g.indeg > 0) and np.all(g.outdeg > 0)     # every node has inputs
    assert set(g.src[np.isin(g.dst, g.data_nodes)]) == set(range(16, 21))  # decoder -> data


def test_feed_around_starts_each_item_at_its_clamped_layer():
    """Encode and decode against a plain numpy forward pass of the fitted parameters: a code
    item runs decoder, then encoder (section 6.1.1)."""
    X = small_images()
    m = RRRAutoencoder((4,), n_codes=3, margin=0.4, epochs=2, rrr_iter=5, data_batch=20,
                       code_batch=5, random_state=1).fit(X)
    g, w, b = m._graph, m._weights, m._biases
    f = lambda z: zigmoid(z, 0.4)  # noqa: E731

    def layer(v, src_nodes, dst_nodes):
        W = np.zeros((len(src_nodes), len(dst_nodes)))
        sel = np.isin(g.src, src_nodes) & np.isin(g.dst, dst_nodes)
        W[g.src[sel] - src_nodes[0], g.dst[sel] - dst_nodes[0]] = w[sel]
        return f(v @ W / m.omega - b[dst_nodes])

    L = g.layers
    codes = layer(layer(X, L[0], L[1]), L[1], L[2])
    np.testing.assert_allclose(m.transform(X), codes, atol=1e-12)
    Z = m.sample_codes(7, random_state=0)
    np.testing.assert_allclose(m.inverse_transform(Z), layer(layer(Z, L[2], L[3]), L[3], L[0]),
                               atol=1e-12)
    # f(y - b) at the clamped data nodes is the reconstruction D(E(x)) (eq 40)
    rec = feed_around(m._predict_engine(), g.data_nodes, X, "f", g.data_nodes)
    np.testing.assert_allclose(rec, m.inverse_transform(codes), atol=1e-12)
    assert m.data_err_ == pytest.approx(np.sqrt(np.mean((rec - X) ** 2)))


def test_the_exact_solution_of_appendix_c_is_a_fixed_point():
    n = 3
    m = binary_encoder(n, rrr_iter=1).fit(np.eye(8))
    w, b = exact_binary_solution(m, n)
    eng = m._new_engine(16, None, (w, b))
    g = eng.graph
    clamp = np.full((16, g.n_nodes), np.nan)
    clamp[:8, g.data_nodes] = np.eye(8)
    clamp[8:, g.code_nodes] = _binary_codes(n)
    fv = eng.start_batch(clamp=clamp)
    np.testing.assert_array_equal(fv[:8, g.data_nodes], np.eye(8))       # D(E(x)) = x
    np.testing.assert_array_equal(fv[8:, g.code_nodes], _binary_codes(n))  # E(D(z)) = z
    errs = []
    eng.run(3, 0.0, errs)
    assert max(errs) < 1e-12
    np.testing.assert_allclose(eng.weights, w, atol=1e-12)


def test_binary_encoding_n3_is_solved_from_a_random_start():
    """Section 6.3.1: 8 one-hot vectors through 3 step nodes and back, all 8 binary codes in
    every batch; success = exact reconstruction of every vector and every code."""
    n = 3
    m = binary_encoder(n, random_state=5).fit(np.eye(8))
    assert m.status_ == "converged" and m.rrr_err_[-1] < 1e-10
    Z = _binary_codes(n)
    np.testing.assert_array_equal(m.inverse_transform(m.transform(np.eye(8))), np.eye(8))
    np.testing.assert_array_equal(m.transform(m.inverse_transform(Z)), Z)
    assert m.data_err_ == 0 and m.code_err_ == 0
    assert sorted(map(tuple, m.transform(np.eye(8)))) == sorted(map(tuple, Z))  # a bijection
    assert len(m.rrr_err_) == m.n_rrr_iter_
    assert m.gwms_ == pytest.approx(1e-9 * m.n_rrr_iter_ * 16 * 48)


def test_codes_come_from_the_product_of_the_code_nodes_distributions():
    X = small_images(n=80)
    m = RRRAutoencoder((6,), n_codes=4, epochs=2, rrr_iter=5, data_batch=20, code_batch=5,
                       random_state=2).fit(X)
    np.testing.assert_allclose(m.code_distribution_, m.transform(X))
    Z = m.sample_codes(500, random_state=0)
    for i in range(4):
        assert set(Z[:, i]) <= set(m.code_distribution_[:, i])
    # independent columns: rows of Z are not (mostly) rows of the distribution
    rows = set(map(tuple, m.code_distribution_))
    assert sum(tuple(r) in rows for r in Z) < 100
    np.testing.assert_array_equal(Z, m.sample_codes(500, random_state=0))


def test_same_seed_same_result_and_pickle():
    X = small_images(seed=3)
    kw = dict(n_codes=3, epochs=2, rrr_iter=5, data_batch=16, code_batch=4, random_state=7)
    a, b = RRRAutoencoder((5,), **kw).fit(X), RRRAutoencoder((5,), **kw).fit(X)
    np.testing.assert_array_equal(a._weights, b._weights)
    assert a.history_["data_err"] == b.history_["data_err"]
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.transform(X), a.transform(X))


def test_partial_fit_is_one_warm_epoch():
    X = small_images(seed=4)
    kw = dict(n_codes=3, rrr_iter=5, data_batch=16, code_batch=4, random_state=0)
    a = RRRAutoencoder((5,), epochs=3, **kw).fit(X)
    b = RRRAutoencoder((5,), **kw)
    for _ in range(3):
        b.partial_fit(X)
    np.testing.assert_array_equal(a._weights, b._weights)
    np.testing.assert_array_equal(a.rrr_err_, b.rrr_err_)
    assert b.history_["epoch"] == [1, 2, 3]


def test_history_holds_the_published_columns():
    X = small_images(seed=5)
    m = RRRAutoencoder((5,), n_codes=3, epochs=3, rrr_iter=4, data_batch=20, code_batch=5,
                       random_state=0).fit(X)
    h = m.history_
    assert [len(h[k]) for k in ("iters", "err_first", "err_last", "data_err", "code_err")] == [3] * 5
    assert h["iters"] == [4.0] * 3
    assert m.gwms_ == pytest.approx(1e-9 * m.n_rrr_iter_ * 25 * m._graph.n_edges)


@pytest.mark.parametrize("X,kw,match", [
    (np.full((8, 4), 1.5), {}, r"must lie in \[0, 1\]"),
    (np.full((8, 4), -0.5), {}, "Negative values"),
    (np.full((8, 4), 0.5), dict(activation="step"), r"\{0, 1\}"),
    (np.full((8, 4), np.nan), {}, "NaN"),
])
def test_data_outside_the_activation_range_is_refused(X, kw, match):
    with pytest.raises(ValueError, match=match):
        RRRAutoencoder(n_codes=2, epochs=1, rrr_iter=1, data_batch=8, code_batch=2, **kw).fit(X)


def test_codes_of_the_wrong_width_or_range_are_refused():
    m = RRRAutoencoder(n_codes=2, epochs=1, rrr_iter=1, data_batch=8, code_batch=2,
                       random_state=0).fit(small_images(d=4))
    with pytest.raises(ValueError, match="has 2 code nodes"):
        m.inverse_transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"codes must lie in \[0, 1\]"):
        m.inverse_transform(np.full((3, 2), 2.0))
    with pytest.raises(ValueError, match="4 features"):
        m.transform(np.zeros((3, 5)))


def test_a_margin_beyond_the_appendix_c_bound_warns():
    with pytest.warns(UserWarning, match="appendix C"):
        binary_encoder(5, rrr_iter=1, margin=0.4).fit(np.eye(32))   # bound 2/sqrt(32) = 0.354
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        binary_encoder(5, rrr_iter=1, margin=0.34).fit(np.eye(32))


def test_a_huge_net_is_refused_before_it_is_built():
    with pytest.raises(MemoryError):
        RRRAutoencoder((10**6,), n_codes=10, data_batch=200, code_batch=20).fit(small_images(d=784))


def test_ctrl_c_keeps_the_parameters_reached_and_counts_the_work(monkeypatch):
    from lwl._engine import Engine
    real, calls = Engine._iterate, {"n": 0}

    def interrupting(self, *args):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(Engine, "_iterate", interrupting)
    X = small_images(seed=6)
    with pytest.warns(RuntimeWarning, match="interrupted after 15 RRR iterations"):
        m = RRRAutoencoder((5,), n_codes=3, epochs=5, rrr_iter=5, data_batch=20, code_batch=5,
                           random_state=0).fit(X)
    assert m.status_ == "interrupted" and m.n_rrr_iter_ == 15 and len(m.history_["epoch"]) == 1
    assert np.all(np.isfinite(m.transform(X)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_fitted_errors_are_those_of_the_kept_parameters(dtype):
    """data_err_, code_err_ and code_distribution_ come from the last epoch's measurement
    (not a second pass over the data): they are what the fitted model gives, to the rounding
    of the state's precision (the training engine keeps float32 parameters in its float32
    state, the model float64 ones)."""
    rel = 1e-12 if dtype == np.float64 else 1e-6
    X = small_images().astype(dtype)
    m = RRRAutoencoder((6,), n_codes=3, data_batch=20, code_batch=6, rrr_iter=10, epochs=2,
                       random_state=0).fit(X)
    assert m.data_err_ == m.history_["data_err"][-1]
    assert m.data_err_ == pytest.approx(-m.score(X), rel=rel)
    np.testing.assert_allclose(m.code_distribution_, m.transform(X), rtol=rel, atol=rel)
    Z = m.code_distribution_[np.random.default_rng(0).integers(0, len(X), size=(len(X), 3)),
                             np.arange(3)]
    code_err = float(np.sqrt(np.mean((feed_around(m._predict_engine(X.dtype),
                                                  m._graph.code_nodes, Z, "f",
                                                  m._graph.code_nodes) - Z) ** 2)))
    assert m.code_err_ == pytest.approx(code_err, rel=rel)
