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
    assert m.gwms_ == pytest.approx(1e-9 * m.n_rrr_iter_ * 50 * (4 * 8 + 8 * 3))


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
    (dict(margin=0.0), "margin"), (dict(margin=-1), "margin"), (dict(batch_size=0), "batch_size"),
    (dict(activation="tanh"), "activation"), (dict(exempt=50), "exempt"),
    (dict(exempt=0.999, batch_size=16), "exempts 16 items of a batch of 16"),
    (dict(relabel=True), "relabel"), (dict(beta=2.0), "beta"), (dict(omega=0), "omega"),
    (dict(omega=np.inf), "omega"), (dict(hidden_layer_sizes=(4, 0)), "hidden_layer_sizes"),
])
def test_bad_parameters(kw, match):
    X, y = blobs()
    with pytest.raises(ValueError, match=match):
        small(**kw).fit(X, y)


def test_bad_data():
    from scipy import sparse
    X, y = blobs()
    with pytest.raises(ValueError, match="one class only"):
        small().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="NaN"):
        Xn = X.copy()
        Xn[3, 1] = np.nan
        small().fit(Xn, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        small().fit(X, y[:-1])
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        small().fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError, match="Complex data not supported"):
        small().fit(X + 1j, y)
    with pytest.raises(TypeError, match="[Ss]parse"):
        small().fit(sparse.csr_matrix(X), y)
    m = small(epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :3])
    with pytest.raises(ValueError, match="not seen"):
        m.score(X, np.where(y == 0, 7, y))
    with pytest.raises(ValueError, match="not seen"):
        m.score(X, y.astype(str))


def test_batch_size_larger_than_the_data_is_clipped_with_a_warning():
    X, y = blobs(n=40)
    with pytest.warns(UserWarning, match="clipping it to 40"):
        m = small(batch_size=128, epochs=2).fit(X, y)
    ref = small(batch_size=40, epochs=2).fit(X, y)
    assert m.history_["err_last"] == ref.history_["err_last"]


def test_a_huge_net_is_refused_before_it_is_built():
    X, y = blobs(n=20)
    with pytest.raises(MemoryError, match="C core addresses|GiB"):
        small(hidden_layer_sizes=(10**8,), batch_size=20).fit(X, y)


def test_ctrl_c_keeps_the_best_parameters(interrupt_at_call):
    interrupt_at_call(4 * 3 + 2)   # 4 batches per epoch: in epoch 4
    X, y = blobs(seed=7)
    with pytest.warns(RuntimeWarning, match="interrupted") as rec:
        m = small(epochs=10).fit(X, y)
    assert rec[0].filename == __file__
    assert m.status_ == "interrupted" and len(m.history_["epoch"]) == 3
    assert 1 - m.score(X, y) <= min(m.history_["train_err"]) + 1e-12


def test_ctrl_c_in_the_first_epoch_counts_the_work_done(interrupt_at_call):
    interrupt_at_call(3)
    X, y = blobs(seed=7)
    with pytest.warns(RuntimeWarning, match="interrupted after 100 RRR iterations"):
        m = small(epochs=10).fit(X, y)
    assert m.status_ == "interrupted" and m.history_["epoch"] == []
    assert m.n_rrr_iter_ == 100 and m.gwms_ == pytest.approx(1e-9 * 100 * 50 * (4 * 8 + 8 * 3))
    assert m.score(X, y) > 0  # usable


def test_partial_fit_is_one_epoch_of_fit():
    X, y = blobs(seed=8)
    a = small(epochs=3).fit(X, y)
    b = small()
    for _ in range(3):
        b.partial_fit(X, y, classes=np.unique(y))
    for wa, wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(wa, wb)
    assert b.history_["epoch"] == [1, 2, 3] and b.n_rrr_iter_ == a.n_rrr_iter_
    assert b.history_["gwms"] == a.history_["gwms"]       # cumulative over the calls
    with pytest.raises(ValueError, match="classes must be passed"):
        small().partial_fit(X, y)
    with pytest.raises(ValueError, match="not seen"):
        b.partial_fit(X, y + 10)


def test_early_stopping_keeps_the_best_validation_epoch():
    X, y = blobs(n=300, seed=9)
    y[::7] = (y[::7] + 1) % 3            # label noise: the validation error wanders
    m = small(epochs=40, early_stopping=True, n_iter_no_change=3).fit(X, y)
    val = m.history_["val_err"]
    assert m.status_ == "early_stopping" and len(val) < 40
    assert len(val) - 1 - int(np.argmin(val)) == 4     # stopped 3 + 1 epochs after the best
    # the kept parameters are the best epoch's: recompute its validation error
    from sklearn.model_selection import train_test_split
    seed = np.random.default_rng(0).integers(2**31)
    labels = np.searchsorted(m.classes_, y)
    _, X_val, _, y_val = train_test_split(X, labels, test_size=0.1, stratify=labels,
                                          random_state=int(seed))
    assert 1 - m.score(X_val, m.classes_[y_val]) == pytest.approx(min(val))


def test_callbacks_see_every_epoch():
    pytest.importorskip("sklearn.callback")

    class Recorder:
        def __init__(self):
            self.events = []

        def setup(self, estimator, context):
            self.events.append("setup")

        def on_fit_task_begin(self, estimator, context):
            self.events.append(("begin", context.task_name))

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            self.events.append(("end", context.task_name,
                                None if fitted_estimator is None else fitted_estimator.score(X, y)))

        def teardown(self, estimator, context):
            self.events.append("teardown")

    X, y = blobs(seed=10)
    rec = Recorder()
    m = small(epochs=3).set_callbacks(rec).fit(X, y)
    ends = [e for e in rec.events if e[0] == "end" and e[1] == "epoch"]
    assert rec.events[0] == "setup" and rec.events[-1] == "teardown"
    assert len(ends) == 3
    assert ends[-1][2] == pytest.approx(1 - m.history_["train_err"][-1])

    class StopAfterTwo(Recorder):
        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            super().on_fit_task_end(estimator, context)
            return len([e for e in self.events if e[0] == "end"]) == 2

    m = small(epochs=5).set_callbacks(StopAfterTwo()).fit(X, y)
    assert m.status_ == "callback" and len(m.history_["epoch"]) == 2


def test_status_after_partial_fit_says_an_epoch_ran():
    from lwl._training import STATUSES
    X, y = blobs()
    clf = RRRClassifier((8,), batch_size=64, rrr_iter=5, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.status_ == "partial_fit" and "partial_fit ran its epoch" in STATUSES[clf.status_]
    clf.set_params(epochs=2).fit(X, y)
    assert clf.status_ == "max_iter"
