"""Net files and parameter files of the published programs on the estimators: graphs from net
files and back, estimators on any net (``net=``), parameter files written and read bit for bit,
the self-describing model file."""
import re

import numpy as np
import pytest

import lwl
from lwl import RRRAutoencoder, RRRClassifier, RRRFPAClassifier, RRRGenerator, RRRNMF
from lwl.graph import Graph
from lwl.io import FormatError, read_net_file, read_param_file, write_net_file


def blobs(n=120, d=4, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(n_classes, d))
    y = rng.integers(0, n_classes, n)
    return centres[y] + rng.normal(scale=0.5, size=(n, d)), y


def sparse_net():
    """4 data, 3 hidden, 3 class nodes: sparse, a skip connection (data 1 -> class 8), sources
    listed out of order, a hidden node reading another: not layered."""
    text = "4 3 3\n\n4 2\n1 0\n5 3\n3 2 0\n6 2\n5 4\n7 2\n6 4\n8 3\n5 1 6\n9 2\n6 5\n"
    return text


def binary(n=40, d=6, seed=0):
    return (np.random.default_rng(seed).random((n, d)) > 0.5).astype(float)


# ----------------------------------------------------------------------- net file <-> graph

@pytest.mark.parametrize("text", [
    sparse_net(),
    "2 2 1\n\n2 2\n1 0\n3 2\n0 2\n4 2\n3 2\n",                 # layered? no: 3 reads 0 and 2
    "3 1\n1 0\n\n0 1\n4\n1 1\n4\n2 1\n4\n3 3\n2 0 1\n4 1\n3\n",  # autoencoder 3-1-1-0
])
def test_net_file_to_graph_to_net_file_is_exact(tmp_path, text):
    (tmp_path / "a.net").write_text(text)
    net = read_net_file(tmp_path / "a.net")
    g = Graph.from_net(tmp_path / "a.net")
    back = g.to_net()
    assert back.kind == net.kind and back.sizes == net.sizes
    assert np.array_equal(back.src, net.src) and np.array_equal(back.dst, net.dst)
    write_net_file(tmp_path / "b.net", back)
    write_net_file(tmp_path / "c.net", net)
    assert (tmp_path / "b.net").read_bytes() == (tmp_path / "c.net").read_bytes()


def test_layered_graphs_give_the_published_numbering():
    net = Graph.layered([3, 2, 2]).to_net()
    assert net.sizes == (3, 2, 2) and net.src.tolist() == [0, 1, 2, 0, 1, 2, 3, 4, 3, 4]
    auto = Graph.autoencoder([3, 2, 1, 2], code_layer=2).to_net()
    assert auto.kind == "autoencoder" and auto.sizes == (3, 2, 1, 2)
    g = Graph.from_net(auto)
    assert g.code_nodes.tolist() == [5] and g.order.tolist() == list(range(8))
    assert Graph.from_net(Graph.layered([3, 2, 2]).to_net()).layers is not None


# ----------------------------------------------------------------------- estimators on nets

def test_classifier_on_a_sparse_non_layered_net(tmp_path):
    (tmp_path / "s.net").write_text(sparse_net())
    X, y = blobs()
    m = RRRClassifier(net=tmp_path / "s.net", hidden_layer_sizes=(99,), batch_size=40,
                      rrr_iter=50, epochs=4, margin=0.2, random_state=0).fit(X, y)
    assert m._graph.n_edges == 14 and m.coefs_ is None
    assert m.score(X, y) > 0.6
    # the forward pass by hand, from the parameter file: y = x.w / Omega, x = relu(y - b)
    m.save_params(tmp_path / "s.dat")
    p = read_param_file(tmp_path / "s.dat", read_net_file(tmp_path / "s.net"))
    net = read_net_file(tmp_path / "s.net")
    v = np.zeros((len(X), 10))
    v[:, :4] = X
    e = 0
    for node in range(4, 10):
        k = int(np.sum(net.dst == node))
        z = v[:, net.src[e:e + k]] @ p.weights[e:e + k] / m.omega - p.bias[node]
        v[:, node] = np.maximum(z, 0) if node < 7 else z
        e += k
    assert np.allclose(v[:, 7:], m.decision_function(X), atol=1e-12)


def test_autoencoder_on_a_net_file(tmp_path):
    write_net_file(tmp_path / "a.net", Graph.autoencoder([6, 4, 3, 4], 2).to_net())
    X = binary()
    m = RRRAutoencoder(net=str(tmp_path / "a.net"), n_codes=99, activation="step",
                       margin=0.2, omega=10.0, data_batch=20, code_batch=8, rrr_iter=20,
                       epochs=2, random_state=0).fit(X)
    assert m.n_codes_ == 3 and m.transform(X).shape == (40, 3)
    ref = RRRAutoencoder((4,), n_codes=3, activation="step", margin=0.2, omega=10.0,
                         data_batch=20, code_batch=8, rrr_iter=20, epochs=2,
                         random_state=0).fit(X)
    assert np.array_equal(m._weights, ref._weights)  # the same net, the same run


@pytest.mark.parametrize("est, text, match", [
    (RRRClassifier, "3 1\n1 0\n\n0 1\n4\n1 1\n4\n2 1\n4\n3 3\n2 0 1\n4 1\n3\n",
     "needs an acyclic .*classifier net.*autoencoder net"),
    (RRRAutoencoder, "2 1 1\n\n2 2\n0 1\n3 1\n2\n", "needs a cyclic autoencoder net"),
    (RRRAutoencoder, "2 1\n1 0\n\n0 1\n2\n1 1\n2\n2 2\n0 1\n3 1\n2\n",
     "does not close its cycle: data node 0 reads node 2"),
    (RRRAutoencoder, "2 0\n1 1\n\n0 1\n3\n1 1\n3\n2 1\n3\n3 1\n0\n",
     "does not go round: node 2 reads node 3"),
])
def test_a_net_of_the_wrong_shape_is_a_clear_error(tmp_path, est, text, match):
    (tmp_path / "x.net").write_text(text)
    X = binary(d=int(text[0]))
    y = np.arange(len(X)) % 2
    with pytest.raises(ValueError, match=match):
        est(net=tmp_path / "x.net", epochs=1).fit(X, y)


def test_a_net_that_does_not_fit_the_data_is_a_clear_error(tmp_path):
    write_net_file(tmp_path / "n.net", Graph.layered([5, 3, 3]).to_net())
    X, y = blobs()
    with pytest.raises(ValueError, match="5 data nodes and 3 class nodes; the data have 4 "
                                         "features and 3 classes"):
        RRRClassifier(net=tmp_path / "n.net").fit(X, y)


# ----------------------------------------------------------------------- parameter files

def fitted_classifier(**kw):
    X, y = blobs()
    return RRRClassifier((5,), batch_size=40, rrr_iter=20, epochs=2, random_state=0,
                         **kw).fit(X, y), X


def test_parameter_file_round_trip_is_bit_for_bit(tmp_path):
    m, X = fitted_classifier()
    m.save_params(tmp_path / "p.dat", tmp_path / "p.net")
    back = RRRClassifier.load_params(tmp_path / "p.dat", tmp_path / "p.net")
    assert np.array_equal(back._weights, m._weights) and np.array_equal(back._biases, m._biases)
    assert np.array_equal(back.decision_function(X), m.decision_function(X))
    back.save_params(tmp_path / "q.dat")
    assert (tmp_path / "q.dat").read_bytes() == (tmp_path / "p.dat").read_bytes()
    for c in (m.coefs_, back.coefs_):
        assert [a.shape for a in c] == [(4, 5), (5, 3)]
    assert all(np.array_equal(a, b) for a, b in zip(m.coefs_, back.coefs_))


def test_parameter_file_is_laid_out_as_the_published_programs_read_it(tmp_path):
    """Per node with inputs: its bias alone on a line, its weights on the next, a blank line;
    every number one that C's strtod reads to the same double."""
    m, _ = fitted_classifier()
    m.save_params(tmp_path / "p.dat", tmp_path / "p.net")
    lines = (tmp_path / "p.dat").read_text().split("\n")
    net = read_net_file(tmp_path / "p.net")
    strtod = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    w = m._weights[m._graph.net_order()]
    e = 0
    for i, node in enumerate(net.receiving_nodes):
        bias, weights, blank = lines[3 * i:3 * i + 3]
        assert strtod.match(bias) and float(bias) == m._biases[node]
        toks = weights.split()
        assert len(toks) == np.sum(net.dst == node) and all(strtod.match(t) for t in toks)
        assert [float(t) for t in toks] == w[e:e + len(toks)].tolist()
        assert blank == ""
        e += len(toks)


def test_published_six_decimal_parameter_file_is_read(tmp_path):
    """A parameter file as RRRclass_fp prints it (%lf, trailing spaces) and its net."""
    (tmp_path / "n.net").write_text("2 1 2\n\n2 2\n0 1\n3 1\n2\n4 1\n2\n")
    (tmp_path / "id.param").write_text("0.125000\n1.000000 -2.500000 \n\n-0.500000\n3.000000 \n\n"
                                       "-0.750000\n-3.000000 \n\n")
    m = RRRFPAClassifier.load_params(tmp_path / "id.param", tmp_path / "n.net", omega=2.0)
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    h = np.maximum((X @ [1.0, -2.5]) / 2 - 0.125, 0)
    z = np.column_stack([3 * h / 2 + 0.5, -3 * h / 2 + 0.75])
    assert np.allclose(m.decision_function(X), z[:, 1] - z[:, 0])
    assert m.predict(X).tolist() == [0, 1] and list(m.classes_) == [0, 1]


def test_autoencoder_parameter_file_carries_omega_margin_zig(tmp_path):
    X = binary()
    m = RRRAutoencoder((4,), n_codes=3, activation="step", margin=0.3, omega=7.0,
                       data_batch=20, code_batch=8, rrr_iter=10, epochs=1,
                       random_state=0).fit(X)
    m.save_params(tmp_path / "a.dat", tmp_path / "a.net")
    assert (tmp_path / "a.dat").read_text().startswith("7.0 0.15 0\n\n")
    back = RRRAutoencoder.load_params(tmp_path / "a.dat", tmp_path / "a.net", X=X)
    assert (back.omega, back.margin, back.activation) == (7.0, 0.3, "step")
    assert np.array_equal(back.transform(X), m.transform(X))
    assert np.array_equal(back.code_distribution_, m.code_distribution_)


# ----------------------------------------------------------------------- the model file

@pytest.mark.parametrize("make", ["classifier", "fpa", "autoencoder", "nmf", "generator"])
def test_model_file_round_trip(tmp_path, make):
    X, y = blobs()
    Xb = binary(60)
    if make == "classifier":
        m = RRRClassifier((5,), batch_size=40, rrr_iter=10, epochs=2, random_state=0,
                          exempt=2).fit(X, y.astype(str))
        data = (X, y.astype(str))
    elif make == "fpa":
        m = RRRFPAClassifier((5,), batch_size=40, rrr_iter=10, epochs=2, random_state=0,
                             fpa=0.2).fit(X, y % 2)
        data = (X, y % 2)
    elif make == "autoencoder":
        m = RRRAutoencoder((4,), n_codes=3, data_batch=20, code_batch=5, rrr_iter=5,
                           epochs=2, random_state=0).fit(Xb)
        data = (Xb,)
    elif make == "nmf":
        m = RRRNMF(3, rrr_iter=30, random_state=0).fit(Xb)
        data = (Xb,)
    else:
        m = RRRGenerator(RRRAutoencoder((4,), n_codes=3, data_batch=20, code_batch=5,
                                        rrr_iter=5, epochs=1, random_state=0),
                         RRRFPAClassifier((4,), batch_size=20, rrr_iter=5, epochs=1,
                                          random_state=0), random_state=0).fit(Xb)
        data = None
    m.save(tmp_path / "m")                       # no suffix is added
    back = type(m).load(tmp_path / "m")
    assert back.get_params().keys() == m.get_params().keys()
    assert repr(back) == repr(m)
    if make == "generator":
        a, _ = m.sample(5, random_state=1)
        b, _ = back.sample(5, random_state=1)
        assert np.array_equal(a, b)
        return
    out = (lambda e: e.transform(data[0])) if make in ("autoencoder", "nmf") else \
        (lambda e: e.predict(data[0]))
    assert np.array_equal(out(back), out(m))
    assert back.history_ == m.history_ and back.status_ == m.status_
    if make in ("classifier", "fpa", "autoencoder"):
        # a warm start continues exactly as it would have without the save
        for e in (m, back):
            e.set_params(warm_start=True, epochs=1).fit(*data)
        assert np.array_equal(back._weights, m._weights)


def test_model_file_errors_name_the_file(tmp_path):
    m, _ = fitted_classifier()
    m.save(tmp_path / "m.npz")
    with pytest.raises(FormatError, match="holds a RRRClassifier, not a RRRNMF"):
        RRRNMF.load(tmp_path / "m.npz")
    raw = bytearray((tmp_path / "m.npz").read_bytes())
    raw[len(raw) // 2] ^= 0x55
    (tmp_path / "bad.npz").write_bytes(bytes(raw))
    with pytest.raises(FormatError, match=re.escape(str(tmp_path / "bad.npz"))):
        lwl.load(tmp_path / "bad.npz")
    (tmp_path / "t.npz").write_text("hello\n")
    with pytest.raises(FormatError, match="t.npz"):
        lwl.load(tmp_path / "t.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(FormatError, match="no __lwl__ member"):
        lwl.load(tmp_path / "other.npz")
    # a member whose .npy header does not parse (its checksum right): numpy's reader raises
    # SyntaxError or tokenize's TokenError, which must come out as a FormatError
    import zipfile
    header = b"{'descr': '<i8', 'fortran_order': False, 'shape': (3, }".ljust(117) + b"\n"
    with zipfile.ZipFile(tmp_path / "hdr.npz", "w") as zf:
        zf.writestr("__lwl__.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                    + header + bytes(24))
    with pytest.raises(FormatError, match="hdr.npz: the array '__lwl__' is damaged"):
        lwl.load(tmp_path / "hdr.npz")


class WiderClassifier(RRRClassifier):
    """A model of a user's own, defined by subclassing: no registration step."""


def test_a_subclass_is_saved_and_loaded_without_registering_it(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    m = WiderClassifier((4,), batch_size=20, rrr_iter=5, epochs=2, random_state=0).fit(X, y)
    m.save(tmp_path / "w.npz")
    back = lwl.load(tmp_path / "w.npz")
    assert type(back) is WiderClassifier and np.array_equal(back.predict(X), m.predict(X))
    # an abstract base is not a class a model file may name
    from lwl._persist import _CLASSES
    assert "NetworkEstimator" not in _CLASSES and _CLASSES["WiderClassifier"] is WiderClassifier


def test_a_users_class_named_as_one_of_lwls_does_not_replace_it(tmp_path):
    namespace = {}
    exec("from lwl import RRRClassifier as Base\n"
         "class RRRClassifier(Base):\n    pass\n", {"__name__": "users_module"}, namespace)
    mine = namespace["RRRClassifier"]
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    theirs = RRRClassifier((4,), batch_size=20, rrr_iter=5, epochs=1, random_state=0).fit(X, y)
    ours = mine((4,), batch_size=20, rrr_iter=5, epochs=1, random_state=0).fit(X, y)
    theirs.save(tmp_path / "a.npz")
    ours.save(tmp_path / "b.npz")
    assert type(lwl.load(tmp_path / "a.npz")) is RRRClassifier
    assert type(lwl.load(tmp_path / "b.npz")) is mine


def test_n_iter_is_the_old_name_of_n_rrr_iter_with_a_future_warning(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    assert not hasattr(RRRClassifier(), "n_iter_")            # unfitted: no attribute, no warning
    m = RRRClassifier((4,), batch_size=20, rrr_iter=5, epochs=2, random_state=0).fit(X, y)
    assert m.n_rrr_iter_ == 2 * 2 * 5
    with pytest.warns(FutureWarning, match="read n_rrr_iter_ for RRR iterations"):
        assert m.n_iter_ == m.n_rrr_iter_
    # a model file of an earlier version holds the count under its old name
    import json
    m.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as npz:
        members = {k: npz[k] for k in npz.files}
    doc = json.loads(str(members["__lwl__"]))
    attrs = doc["estimator"]["attrs"]
    attrs["n_iter_"] = attrs.pop("n_rrr_iter_")
    members["__lwl__"] = np.array(json.dumps(doc))
    np.savez(tmp_path / "old.npz", **members)
    assert lwl.load(tmp_path / "old.npz").n_rrr_iter_ == 20
