"""The false-positive-allowance classifier (section 6.2) and the generative model (section 6)."""
import numpy as np
import pytest

from lwl import RRRAutoencoder, RRRFPAClassifier, RRRGenerator


def genuine_and_fakes(n=300, seed=0):
    """Genuine codes in a ball, fakes uniform in the box: some fakes look genuine."""
    rng = np.random.default_rng(seed)
    G = np.clip(rng.normal(0.5, 0.1, (n, 3)), 0, 1)
    F = rng.uniform(0, 1, (2 * n, 3))
    return G, F


def fpa_classifier(**kw):
    params = dict(hidden_layer_sizes=(10,), margin=0.1, batch_size=100, rrr_iter=100, epochs=8,
                  fpa=0.25, random_state=0)
    params.update(kw)
    return RRRFPAClassifier(**params)


@pytest.mark.parametrize("genuine,fake", [("real", "fake"), ("a", "z")])
def test_fakes_are_accepted_at_about_the_allowance_and_genuine_kept(genuine, fake):
    """Either order of the labels: genuine_class names the genuine one."""
    G, F = genuine_and_fakes()
    X, y = np.vstack([G, F]), np.array([genuine] * len(G) + [fake] * len(F))
    m = fpa_classifier(genuine_class=genuine).fit(X, y, eval_set=(X, y))
    fp = np.mean(m.predict(F) == genuine)
    tn = np.mean(m.predict(G) == fake)
    assert fp == pytest.approx(m.history_["train_fp"][-1]) and tn == pytest.approx(m.history_["train_tn"][-1])
    assert 0.1 < fp < 0.45 and tn < 0.05
    assert m.history_["test_fp"] == m.history_["train_fp"]
    assert set(m.history_) >= {"batch_fp", "batch_tn", "train_fp", "train_tn", "test_fp", "test_tn"}
    # the fakes projected as genuine in the last epoch are fakes, given the genuine class
    assert len(m.relabeled_) and set(m.relabeled_[:, 1]) == {genuine}
    assert np.all(m.relabeled_[:, 0].astype(int) >= len(G))


def test_without_allowance_fakes_are_pushed_out():
    G, F = genuine_and_fakes(seed=1)
    X, y = np.vstack([G, F]), np.r_[np.ones(len(G)), np.zeros(len(F))]
    loose = fpa_classifier(fpa=0.4).fit(X, y)
    strict = fpa_classifier(fpa=0.0).fit(X, y)
    assert np.mean(strict.predict(F) == 1) < np.mean(loose.predict(F) == 1)


def test_more_than_two_classes_are_refused():
    G, F = genuine_and_fakes()
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        fpa_classifier().fit(np.vstack([G, F]), np.arange(len(G) + len(F)) % 3)
    with pytest.raises(ValueError, match="genuine_class='x'"):
        fpa_classifier(genuine_class="x").fit(np.vstack([G, F]),
                                              np.r_[["g"] * len(G), ["f"] * len(F)])


def bars(n=120, seed=0):
    """4x4 images of one horizontal or one vertical bar, blurred into [0, 1]."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 4, 4))
    for k, (axis, i) in enumerate(zip(rng.integers(0, 2, n), rng.integers(0, 4, n))):
        if axis:
            X[k, i, :] = 1
        else:
            X[k, :, i] = 1
    return np.clip(X.reshape(n, 16) + rng.uniform(0, 0.1, (n, 16)), 0, 1)


def small_generator(**kw):
    ae = RRRAutoencoder((8,), n_codes=3, margin=0.4, omega=10.0, data_batch=30, code_batch=6,
                        rrr_iter=20, epochs=4, random_state=0)
    clf = fpa_classifier(hidden_layer_sizes=(8,), batch_size=60, rrr_iter=50, epochs=3)
    return RRRGenerator(ae, clf, random_state=0, **kw)


def test_generator_samples_decodings_of_accepted_codes():
    X = bars()
    gen = small_generator().fit(X, X_test=bars(seed=1))
    assert gen.classifier_.history_["test_fp"][-1] is not None
    images, rate = gen.sample(25, random_state=0)
    assert images.shape == (25, 16) and np.all((0 <= images) & (images <= 1))
    assert 0 < rate <= 1
    Z, _ = gen.sample_codes(25, random_state=0)
    assert np.all(gen.classifier_.predict(Z) == 1)                 # every kept code accepted
    np.testing.assert_allclose(images, gen.autoencoder_.inverse_transform(Z))
    for i in range(3):                                              # codes of the iDE code
        assert set(Z[:, i]) <= set(gen.autoencoder_.code_distribution_[:, i])
    images2, rate2 = small_generator().fit(X).sample(25, random_state=0)
    np.testing.assert_array_equal(images, images2)                 # deterministic
    assert rate == rate2


def test_generator_trains_on_twice_as_many_fakes_by_default():
    X = bars(n=60)
    gen = small_generator().fit(X)
    assert gen.classifier_.n_rrr_iter_ > 0
    # the fakes of the classifier's training set that it accepts: its final train fp
    assert gen.acceptance_rate_ == gen.classifier_.history_["train_fp"][-1]
    n_batches = -(-(3 * len(X)) // 60)       # genuine + 2x fakes in batches of 60
    assert gen.classifier_.n_rrr_iter_ == 3 * n_batches * 50
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        small_generator().fit(X * 2)


def test_a_prefit_autoencoder_is_used_as_it_is():
    X = bars(n=60)
    ae = small_generator().autoencoder.fit(X)
    gen = RRRGenerator(ae, small_generator().classifier, prefit=True, random_state=0).fit(X)
    assert gen.autoencoder_ is ae
    with pytest.raises(ValueError, match="prefit=True needs"):
        RRRGenerator(prefit=True).fit(X)
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        RRRGenerator(RRRAutoencoder(), prefit=True).fit(X)


def test_sample_counts_are_checked():
    gen = small_generator().fit(bars(n=60))
    images, rate = gen.sample(0)
    assert images.shape == (0, 16) and np.isnan(rate)
    for kwargs, match in (({"n_samples": -2}, "n_samples"), ({"n_samples": 2.5}, "n_samples"),
                          ({"n_samples": 3, "max_draws": 0}, "max_draws")):
        with pytest.raises((ValueError, TypeError), match=match):
            gen.sample(**kwargs)
    images, _ = gen.sample(3, max_draws=1)     # at most one draw: fewer than asked
    assert len(images) <= 1
