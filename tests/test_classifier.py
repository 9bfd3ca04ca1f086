"""RRRClassifier: learning, sklearn conventions, exemptions, relabeling, bad input, Ctrl-C."""
import pickle

import numpy as np
import pytest

from lwl import RRRClassifier


def blobs(n=200, d=4, n_classes=3, seed=0, labels=None):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(n_classes, d))
    y = rng.integers(0, n_classes, n)
    X = centres[y] + rng.normal(scale=0.5, size=(n, d))
    return X, (np.asarray(labels)[y] if labels is not None else y)


def small(**kw):
    params = dict(hidden_layer_sizes=(8,), batch_size=50, rrr_iter=50, epochs=6, margin=0.2,
                  random_state=0)
    params.update(kw)
    return RRRClassifier(**params)


def test_learns_separable_clusters_with_any_label_type():
    X, y = blobs(labels=np.array(["cat", "dog", "emu"]))
    m = small().fit(X, y)
    assert list(m.classes_) == ["cat", "dog", "emu"]
    assert m.score(X, y) >= 0.97
    assert set(m.predict(X)) <= set(m.classes_)
    h = m.history_
    assert len(h["epoch"]) == 6 and h["test_err"] == [None] * 6
    assert m.gwms_ == pytest.approx(1e-9 * m.n_iter_ * 50 * (4 * 8 + 8 * 3))


def test_eval_set_history_and_layer_parameters_match_predictions():
    X, y = blobs(seed=1)
    m = small().fit(X[:150], y[:150], eval_set=(X[150:], y[150:]))
    assert m.history_["test_err"][-1] == pytest.approx(1 - m.score(X[150:], y[150:]))
    # coefs_/intercepts_ are an ordinary ReLU MLP computing decision_function
    a = X
    for W, b in zip(m.coefs_[:-1], m.intercepts_[:-1]):
        a = np.maximum(a @ W + b, 0)
    z = a @ m.coefs_[-1] + m.intercepts_[-1]
    np.testing.assert_allclose(z, m.decision_function(X), atol=1e-10)


def test_binary_decision_function_is_one_dimensional():
    X, y = blobs(n_classes=2, seed=2)
    m = small().fit(X, y)
    d = m.decision_function(X)
    assert d.shape == (len(X),)
    np.testing.assert_array_equal(m.predict(X), m.classes_[(d > 0).astype(int)])


def test_same_seed_same_result():
    X, y = blobs(seed=3)
    a, b = small().fit(X, y), small().fit(X, y)
    for wa, wb in zip(a.coefs_, b.coefs_):
        assert np.array_equal(wa, wb)
    assert a.history_["err_last"] == b.history_["err_last"]


def test_exemptions_pick_the_mislabelled_items():
    X, y = blobs(n=200, n_classes=2, seed=4)
    bad = np.array([17, 123])              # two flipped labels; any batch of 50 may hold both
    y_noisy = y.copy()
    y_noisy[bad] = 1 - y_noisy[bad]
    m = small(exempt=2, epochs=8, batch_size=50).fit(X, y_noisy)
    assert len(m.exempted_) <= 8           # at most 2 in each of 4 batches
    assert set(bad) <= set(m.exempted_)


def test_relabel_gives_the_flipped_items_their_true_class():
    X, y = blobs(n=200, n_classes=2, seed=4)
    bad = np.array([17, 123])
    y_noisy = y.copy()
    y_noisy[bad] = 1 - y_noisy[bad]
    m = small(exempt=2, relabel=True, epochs=8, batch_size=50).fit(X, y_noisy)
    assert set(m.relabeled_[:, 0]) == set(bad)   # correct labels have no excess distance
    for i, c in m.relabeled_:
        assert c == y[i]


def test_warm_start_continues_the_history():
    X, y = blobs(seed=5)
    m = small(warm_start=True, epochs=2).fit(X, y)
    m.fit(X, y)
    assert m.history_["epoch"] == [1, 2, 3, 4]


def test_pickle_round_trip():
    X, y = blobs(seed=6)
    m = small().fit(X, y)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m2.predict(X), m.predict(X))


def test_sklearn_clone_and_params():
    from sklearn.base import clone
    m = small(margin=0.3)
    assert clone(m).get_params()["margin"] == 0.3


@pytest.mark.parametrize("kw,match", [
    (dict(margin=0.0), "margin"), (dict(margin=-1), "margin"), (dict(batch_size=500), "batch_size"),
    (dict(activation="tanh"), "activation"), (dict(exempt=50), "exempt"),
    (dict(relabel=True), "relabel"), (dict(beta=2.0), "beta"), (dict(omega=0), "omega"),
])
def test_bad_parameters(kw, match):
    X, y = blobs()
    with pytest.raises(ValueError, match=match):
        small(**kw).fit(X, y)


def test_bad_data():
    X, y = blobs()
    with pytest.raises(ValueError, match="single class"):
        small().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="NaN"):
        Xn = X.copy()
        Xn[3, 1] = np.nan
        small().fit(Xn, y)
    with pytest.raises(ValueError, match="one label per row"):
        small().fit(X, y[:-1])
    m = small(epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :3])
    with pytest.raises(ValueError, match="not seen"):
        m.score(X, np.where(y == 0, 7, y))
    with pytest.raises(ValueError, match="not seen"):
        m.score(X, y.astype(str))


def test_ctrl_c_keeps_the_best_parameters(monkeypatch):
    import lwl.classifier as clf
    real = clf.train_epoch
    calls = {"n": 0}

    def interrupting(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(clf, "train_epoch", interrupting)
    X, y = blobs(seed=7)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        m = small(epochs=10).fit(X, y)
    assert m.interrupted_ and len(m.history_["epoch"]) == 3
    assert 1 - m.score(X, y) <= min(m.history_["train_err"]) + 1e-12
