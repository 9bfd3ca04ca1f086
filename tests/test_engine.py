"""The network engine: consensus steps, one full RRR iteration against a numpy reference
written from the paper (section 1, 5.1-5.2, eq 26-31), learning a separable problem, determinism, batch start."""
import numpy as np
import pytest

from lwl._core import ffi, lib, ptr
from lwl._engine import LANES, Engine, init_weights
from lwl.graph import Graph


# ---------------------------------------------------------------- numpy reference (the paper)
def relu_project(x, y, b, a, g2):
    """Nearest point of {x = max(z, 0)}, z = y - b, metric a dx^2 + g2 (dy^2 + db^2)."""
    z, c = y - b, 0.5 * g2
    z1 = np.minimum(z, 0.0)
    d1 = a * x ** 2 + c * (z1 - z) ** 2
    t = np.maximum((a * x + c * z) / (a + c), 0.0)
    d2 = a * (t - x) ** 2 + c * (t - z) ** 2
    first = d1 <= d2
    xp = np.where(first, 0.0, t)
    zp = np.where(first, z1, t)
    return xp, y + 0.5 * (zp - z), b - 0.5 * (zp - z)


def reference_iteration(g, S, data, labels, omega, beta, delta, g2):
    """a = P_A(S), b = P_B(2a - S), S += beta (b - a); returns the new state and RRR_err."""
    x, w, y, b = (S[k].copy() for k in "xwyb")
    K, N, E = y.shape[0], g.n_nodes, g.n_edges
    dst = g.dst
    # ---- A
    wa = w.mean(axis=0)
    for n in range(N):
        sel = dst == n
        if sel.any():
            wa[sel] *= omega / np.linalg.norm(wa[sel])
    xsum = np.zeros((K, N))
    for e in range(E):
        xsum[:, g.src[e]] += x[:, e]
    xa = np.divide(xsum, g.outdeg, out=np.zeros_like(xsum), where=g.outdeg > 0)
    ya, ba = y.copy(), b.copy()
    xa[:, g.data_nodes] = data
    hidden = np.setdiff1d(np.arange(N), np.concatenate([g.data_nodes, g.class_nodes]))
    for n in hidden:
        xa[:, n], ya[:, n], ba[:, n] = relu_project(xa[:, n], y[:, n], b[:, n], g.outdeg[n], g2[n])
    for k in range(K):
        for m, n in enumerate(g.class_nodes):
            z = ya[k, n] - ba[k, n]
            target = max(z, delta) if m == labels[k] else min(z, 0.0)
            ya[k, n] += 0.5 * (target - z)
            ba[k, n] -= 0.5 * (target - z)
    A = {"x": xa[:, g.src], "w": np.broadcast_to(wa, (K, E)), "y": ya, "b": ba}
    # ---- B on the reflection
    R = {k: 2 * A[k] - S[k] for k in "xwyb"}
    B = {k: R[k].copy() for k in "xwyb"}
    for k in range(K):
        for n in range(N):
            sel = np.flatnonzero(dst == n)
            if len(sel) == 0:
                continue
            xe, we = B["x"][k, sel].copy(), B["w"][k, sel].copy()
            yy = ffi.new("double *", B["y"][k, n])
            lib.lwl_bilinear_project(len(sel), ptr(xe), ptr(we), yy, omega, 1.0 / g2[n])
            B["x"][k, sel], B["w"][k, sel], B["y"][k, n] = xe, we, yy[0]
    B["b"] = np.broadcast_to(R["b"].mean(axis=0), (K, N)).copy()
    has_y = g.indeg > 0
    err2 = ((B["x"] - A["x"]) ** 2).sum() + ((B["w"] - A["w"]) ** 2).sum()
    for v in "yb":
        err2 += (g2[has_y] * (B[v] - A[v])[:, has_y] ** 2).sum()
    new = {k: S[k] + beta * (B[k] - A[k]) for k in "xwyb"}
    return new, np.sqrt(err2 / K), A


def _perturbed_engine(sizes=(3, 4, 2), K=5, seed=1, **kw):
    rng = np.random.default_rng(seed)
    g = Graph.layered(list(sizes))
    eng = Engine(g, K, rng=rng, **kw)
    X = rng.uniform(-1, 1, (K, sizes[0]))
    labels = rng.integers(0, sizes[-1], K).astype(np.int32)
    eng.start_batch(X, labels)
    s = eng.state()
    for name in "xwyb":  # move off the initial point so every constraint is active
        s[name] += rng.normal(scale=0.5, size=s[name].shape)
    s["y"][:, g.data_nodes] = 0.0
    s["b"][:, g.data_nodes] = 0.0
    eng.set_state(s)
    return eng, X, labels


def test_one_iteration_matches_numpy_reference():
    eng, X, labels = _perturbed_engine(omega=1.7, upsilon=0.8, beta=0.7, delta=0.3)
    g = eng.graph
    s = eng.state()
    S = {k: s[k].copy() for k in "xwyb"}
    errs = []
    eng.run(1, 0.0, errs)
    new, err, A = reference_iteration(g, S, X, labels, 1.7, 0.7, 0.3, eng.g2)
    s = eng.state()
    for k in "xwyb":
        np.testing.assert_allclose(s[k], new[k], rtol=0, atol=1e-12, err_msg=k)
    assert abs(errs[0] - err) < 1e-12
    np.testing.assert_allclose(eng.wa, A["w"][0], atol=1e-12)


def test_iteration_after_set_state_uses_the_new_state():
    # a call carries its consensus sums to the next; writing x, w must drop them
    eng, X, labels = _perturbed_engine(omega=1.7, beta=0.7, delta=0.3)
    eng.run(3, 0.0, [])
    s = eng.state()
    rng = np.random.default_rng(3)
    for name in "xw":
        s[name] += rng.normal(scale=0.5, size=s[name].shape)
    eng.set_state(s)
    S = {k: s[k].copy() for k in "xwyb"}
    errs = []
    eng.run(1, 0.0, errs)
    new, err, _ = reference_iteration(eng.graph, S, X, labels, 1.7, 0.7, 0.3, eng.g2)
    for k in "xwyb":
        np.testing.assert_allclose(eng.state()[k], new[k], rtol=0, atol=1e-12, err_msg=k)
    assert abs(errs[0] - err) < 1e-12


def test_two_iterations_match_reference_with_warm_start():
    eng, X, labels = _perturbed_engine(sizes=(3, 5, 4, 3), K=4, seed=7, omega=2.0, beta=1.0)
    g = eng.graph
    s = eng.state()
    S = {k: s[k].copy() for k in "xwyb"}
    errs = []
    eng.run(2, 0.0, errs)
    for t in range(2):
        S, err, _ = reference_iteration(g, S, X, labels, 2.0, 1.0, 0.1, eng.g2)
        assert abs(errs[t] - err) < 1e-10
    for k in "xwyb":
        np.testing.assert_allclose(eng.state()[k], S[k], atol=1e-10, err_msg=k)


def test_consensus_steps_against_numpy():
    """After one iteration the A projection (xa, wa) and b_B are the numpy consensus values
    of the state it started from."""
    eng, X, labels = _perturbed_engine(sizes=(4, 6, 3), K=7, seed=3, omega=1.3)
    g = eng.graph
    s = eng.state()
    x0, w0, b0 = s["x"].copy(), s["w"].copy(), s["b"].copy()
    eng.run(1, 0.0, [])
    s = eng.state()
    # weights: mean over items, each node's incoming vector of norm omega
    wa = w0.mean(axis=0)
    for n in range(g.n_nodes):
        sel = g.dst == n
        if sel.any():
            wa[sel] *= 1.3 / np.linalg.norm(wa[sel])
            assert abs(np.linalg.norm(eng.wa[sel]) - 1.3) < 1e-12
    np.testing.assert_allclose(eng.wa, wa, atol=1e-13)
    # x consensus at the data nodes is the clamp; at class nodes none; hidden: projected mean
    np.testing.assert_allclose(s["xa"][:, g.data_nodes], X, atol=0)
    # bias consensus: b_B = mean over items of the reflected biases 2 b_A - b
    np.testing.assert_allclose(eng.bb, (2 * s["ba"] - b0).mean(axis=0), atol=1e-13)
    # x consensus: the hidden nodes' x_A is the ReLU projection of the out-edge means
    xs = np.zeros((x0.shape[0], g.n_nodes))
    np.add.at(xs.T, g.src, x0.T)
    mean = xs / np.maximum(g.outdeg, 1)
    hidden = g.layers[1]
    yb0 = _perturbed_engine(sizes=(4, 6, 3), K=7, seed=3, omega=1.3)[0].state()
    xp, _, _ = relu_project(mean[:, hidden], yb0["y"][:, hidden], yb0["b"][:, hidden],
                            g.outdeg[hidden], eng.g2[hidden])
    np.testing.assert_allclose(s["xa"][:, hidden], xp, atol=1e-13)


def test_zero_incoming_weight_consensus_gets_uniform_vector():
    eng, X, labels = _perturbed_engine(K=2, seed=4, omega=2.0)
    g = eng.graph
    s = eng.state()
    n = g.class_nodes[0]
    sel = g.dst == n
    s["w"][1, sel] = -s["w"][0, sel]  # item mean exactly 0
    eng.set_state(s)
    eng.run(1, 0.0, [])
    np.testing.assert_allclose(eng.wa[sel], 2.0 / np.sqrt(sel.sum()))


def test_start_batch_violates_only_class_constraints():
    rng = np.random.default_rng(5)
    g = Graph.layered([5, 7, 6, 3])
    eng = Engine(g, 9, rng=rng, omega=2.0, delta=0.2)
    eng.biases = rng.normal(scale=0.3, size=g.n_nodes)
    eng.biases[g.data_nodes] = 0.0
    X = rng.uniform(0, 1, (9, 5))
    labels = rng.integers(0, 3, 9).astype(np.int32)
    eng.start_batch(X, labels)
    s = eng.state()
    S = {k: s[k].copy() for k in "xwyb"}
    _, _, A = reference_iteration(g, S, X, labels, 2.0, 1.0, 0.2, eng.g2)
    diff_nodes = np.flatnonzero((np.abs(A["y"] - S["y"]) + np.abs(A["b"] - S["b"])).max(axis=0) > 1e-12)
    assert set(diff_nodes) <= set(g.class_nodes.tolist()) and len(diff_nodes) > 0
    np.testing.assert_allclose(A["x"], S["x"], atol=1e-12)
    np.testing.assert_allclose(A["w"], S["w"], atol=1e-12)
    # and the B constraints hold exactly: x.w = omega y, biases at consensus
    for n in range(g.n_nodes):
        sel = g.dst == n
        if sel.any():
            np.testing.assert_allclose((S["x"][:, sel] * S["w"][:, sel]).sum(1), 2.0 * S["y"][:, n], atol=1e-12)


def _separable(rng, n=64):
    X = rng.uniform(-1, 1, (n, 4))
    labels = (X @ np.array([1.0, -2.0, 0.5, 1.0]) > 0).astype(np.int32)
    return X, labels


def test_learns_separable_problem_and_fixed_point_satisfies_constraints():
    rng = np.random.default_rng(1)
    g = Graph.layered([4, 8, 2])
    X, labels = _separable(rng)
    eng = Engine(g, 64, omega=2.0, upsilon=1.0, beta=1.0, delta=0.1, rng=rng)
    eng.start_batch(X, labels)
    assert np.any(eng.predict(X) != labels)  # not learned before training
    errs = []
    converged = eng.run(3000, 1e-9, errs)
    assert converged, f"RRR_err {errs[-1]:.3g} after {len(errs)} iterations"
    assert np.all(eng.predict(X) == labels)
    # The A point of the fixed point: consensus weights of norm omega, node values from a
    # forward pass through (w_A, b_B) satisfy the class constraints with the margin.
    for n in range(g.n_nodes):
        sel = g.dst == n
        if sel.any():
            assert abs(np.linalg.norm(eng.weights[sel]) - 2.0) < 1e-9
    out = eng.decision_function(X)
    correct = out[np.arange(64), labels]
    wrong = out[np.arange(64), 1 - labels]
    assert correct.min() >= 0.1 - 1e-7 and wrong.max() <= 1e-7
    s = eng.state()
    v, y = eng.forward(X)
    np.testing.assert_allclose(s["ya"], y, atol=1e-6)
    np.testing.assert_allclose(s["xa"][:, g.layers[1]], v[:, g.layers[1]], atol=1e-6)


def test_deterministic():
    def train(seed):
        rng = np.random.default_rng(seed)
        g = Graph.layered([4, 8, 2])
        X, labels = _separable(rng)
        eng = Engine(g, 16, rng=rng, beta=0.5)
        errs = []
        for lo in range(0, len(X), 16):
            eng.start_batch(X[lo:lo + 16], labels[lo:lo + 16])
            eng.run(30, 1e-9, errs)
        return eng.weights, eng.biases, errs
    a, b = train(11), train(11)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    assert not np.array_equal(a[0], train(12)[0])


def test_ee_exempts_largest_class_distances():
    eng, X, labels = _perturbed_engine(sizes=(3, 4, 3), K=8, seed=9, class_mode="ee", ee=2)
    eng.run(1, 0.0, [])
    g = eng.graph
    ex = np.flatnonzero(eng.exempt[:8])
    assert len(ex) == 2
    d = eng.class_dist[:8]
    assert d[ex].min() >= np.delete(d, ex).max()
    # exempted items' class nodes are left at y, b; the others satisfy the margin
    ya, ba = eng.state()["ya"], eng.state()["ba"]
    z = (ya - ba)[:, g.class_nodes]
    for k in range(8):
        if k in ex:
            continue
        assert z[k, labels[k]] >= eng.delta[0] - 1e-12
        assert np.all(np.delete(z[k], labels[k]) <= 1e-12)


def test_graph_validation():
    with pytest.raises(ValueError, match="no inputs"):
        Graph.from_edges(4, [(0, 2), (2, 3)], [0], [3])  # node 1: no inputs
    with pytest.raises(ValueError, match="no out-edges"):
        Graph.from_edges(4, [(0, 1), (0, 2), (1, 3)], [0], [3])  # node 2 dangles
    with pytest.raises(ValueError, match="duplicate"):
        Graph.from_edges(3, [(0, 1), (0, 1), (1, 2)], [0], [2])
    g = Graph.from_edges(4, [(0, 1), (1, 2), (2, 1), (1, 3)], [0], [3])  # a cycle
    assert sorted(g.order.tolist()) == [0, 1, 2, 3] and g.order[0] == 0


def test_layered_index_arrays():
    g = Graph.layered([3, 4, 2])
    assert g.n_edges == 3 * 4 + 4 * 2
    assert np.all(np.diff(g.dst) >= 0)
    for n in range(g.n_nodes):
        assert np.all(g.dst[g.in_start[n]:g.in_start[n + 1]] == n)
        assert np.all(g.src[g.out_edges[g.out_start[n]:g.out_start[n + 1]]] == n)
    assert list(g.outdeg) == [4] * 3 + [2] * 4 + [0] * 2


@pytest.mark.parametrize("sizes", [[3, 4, 2], [1, 1], [5, 1, 3, 2], [2, 7, 1]])
def test_layered_is_from_edges_of_all_layer_pairs(sizes):
    """The vectorised layered net is the graph of its explicit edge list, order included."""
    g = Graph.layered(sizes)
    starts = np.cumsum([0] + sizes)
    layers = [range(starts[i], starts[i + 1]) for i in range(len(sizes))]
    edges = [(i, j) for a, b in zip(layers[:-1], layers[1:]) for j in b for i in a]
    ref = Graph.from_edges(starts[-1], edges, list(layers[0]), list(layers[-1]))
    for name in ("src", "dst", "edge_index", "in_start", "out_start", "out_edges", "indeg",
                 "outdeg", "kind", "data_nodes", "class_nodes", "order"):
        assert np.array_equal(getattr(g, name), getattr(ref, name)), name
        assert getattr(g, name).dtype == getattr(ref, name).dtype, name


def test_init_weights_norm_and_mean():
    g = Graph.layered([5, 3, 2])
    w = init_weights(g, 2.5, np.random.default_rng(0))
    for n in range(5, 10):
        v = w[g.in_start[n]:g.in_start[n + 1]]
        assert abs(np.linalg.norm(v) - 2.5) < 1e-12 and abs(v.mean()) < 1e-12


def test_memory_refusal(monkeypatch):
    import lwl._validation as val
    monkeypatch.setattr(val, "available_memory_bytes", lambda: 1000)
    with pytest.raises(MemoryError, match="GiB"):
        Engine(Graph.layered([3, 4, 2]), 1000)


def _train_weights(chunks, n_jobs=1):
    rng = np.random.default_rng(21)
    g = Graph.layered([5, 9, 3])
    X = rng.uniform(-1, 1, (70, 5))  # 70 items: three item blocks, the last partial
    labels = rng.integers(0, 3, 70).astype(np.int32)
    eng = Engine(g, 70, rng=rng, n_jobs=n_jobs)
    eng.start_batch(X, labels)
    for n in chunks:
        eng.run(n, 0.0, [])
    return eng.weights, eng.state()["x"].copy()


def test_same_bits_in_one_call_or_many():
    a, b = _train_weights([12]), _train_weights([5, 1, 6])
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_same_bits_with_two_threads():
    """Item blocks are summed in a fixed order, so threads (n_jobs) do not change the bits."""
    a, b = _train_weights([12], n_jobs=1), _train_weights([12], n_jobs=2)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_cyclic_graph_runs_with_clamps():
    """An autoencoder-like cycle 3 -> 2 -> 3 (decoder feeds the data nodes): every node has
    the step activation, data items clamp the data nodes, code items the code nodes."""
    from lwl.graph import KINDS
    enc = [(i, 3 + j) for i in range(3) for j in range(2)]
    dec = [(3 + j, i) for j in range(2) for i in range(3)]
    kind = np.full(5, KINDS["step"], dtype=np.int32)
    g = Graph.from_edges(5, enc + dec, data_nodes=[0, 1, 2], class_nodes=[], kind=kind)
    assert g.order[:3].tolist() == [0, 1, 2]
    eng = Engine(g, 6, rng=np.random.default_rng(0), delta=0.4, omega=3.0, beta=0.5)
    X = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], float)
    eng.start_batch(np.vstack([X, np.zeros((2, 3))]))
    clamp = eng.state()["clamp"]
    clamp[4:, :3] = np.nan  # code items: data nodes free, code nodes clamped
    clamp[4:, 3:] = [[0, 1], [1, 0]]
    eng.set_state({"clamp": clamp})
    errs = []
    eng.run(50, 0.0, errs)
    assert np.all(np.isfinite(errs))
    s = eng.state()
    np.testing.assert_array_equal(s["xa"][:4, :3], X)
    np.testing.assert_array_equal(s["xa"][4:, 3:], [[0, 1], [1, 0]])
    z = (s["ya"] - s["ba"])[4:, 3:]
    assert z[0, 0] <= -0.2 + 1e-12 and z[0, 1] >= 0.2 - 1e-12


def forward_reference(eng, clamp):
    """One item at a time as section 6.1.1 describes it (feed-around from the item's first
    clamped node in the order), every sum in double in the order of the in-edges, each
    value rounded to the engine's dtype where the C core stores it: v, y, f(y - b)."""
    g, dt = eng.graph, eng.dtype.type
    N = g.n_nodes
    V, Y, F = (np.zeros(clamp.shape, dtype=eng.dtype) for _ in range(3))
    has_in = [g.in_start[n + 1] > g.in_start[n] for n in range(N)]

    def node_input(v, n):
        s = 0.0
        for e in range(g.in_start[n], g.in_start[n + 1]):
            s += float(v[g.src[e]]) * float(eng.weights[e])
        return dt(s / eng.omega)

    def f(n, y):
        return dt(lib.lwl_node_activation(int(g.kind[n]), float(eng.delta[n]),
                                          float(y) - float(eng.biases[n])))

    for k, c in enumerate(clamp):
        v, y = V[k], Y[k]
        start = next((i for i in range(N) if not np.isnan(c[g.order[i]])), 0)
        for i in range(N):
            n = g.order[(start + i) % N]
            if has_in[n]:
                y[n] = node_input(v, n)
                v[n] = f(n, y[n])
            if not np.isnan(c[n]):
                v[n] = c[n]
        for n in range(N):
            if has_in[n] and not np.isnan(c[n]):
                y[n] = node_input(v, n)
        F[k] = [f(n, y[n]) if has_in[n] else v[n] for n in range(N)]
    return V, Y, F


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("net", ["layered", "autoencoder"])
def test_forward_in_lanes_gives_each_item_its_pass_alone_to_the_bit(net, dtype):
    """The forward pass takes up to LWL_LANES consecutive items that start at the same node
    side by side: every item's outputs are, bit for bit, those of a pass of that item alone
    (the reference above), in a batch that mixes data items, code items (feed-around from
    the codes) and partial clamps, whose length is no multiple of the lanes, and through
    nodes without in-edges (the layered net's inputs: f(y - b) is v there)."""
    rng = np.random.default_rng(5)
    if net == "layered":
        g = Graph.layered([6, 5, 3])
        starts = [g.layers[0]]
    else:
        g = Graph.autoencoder([6, 5, 3, 5, 6], code_layer=2)
        starts = [g.layers[0], g.code_nodes]
    eng = Engine(g, 8, omega=2.0, rng=rng, dtype=dtype)
    eng.biases = rng.normal(0, 0.3, g.n_nodes).astype(dtype)
    n = 3 * LANES + 5
    clamp = np.full((n, g.n_nodes), np.nan, dtype=dtype)
    kind = rng.integers(0, 2 * len(starts), n)  # which nodes; even: all of them, odd: some
    kind[:LANES + 2] = 0                        # a full block of one start, then a mixed tail
    for k in range(n):
        at = starts[kind[k] // 2]
        clamp[k, at] = rng.uniform(0, 1, len(at))
        if kind[k] % 2:
            clamp[k, at[:2]] = np.nan
    batch = eng.forward(clamp=clamp, reconstruct=True)
    for i, (out, expect) in enumerate(zip(batch, forward_reference(eng, clamp))):
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, expect, err_msg=("v", "y", "f(y - b)")[i])


def test_forward_at_takes_items_in_chunks_with_the_values_of_one_call(monkeypatch):
    """decision_function (and the autoencoder's feed-around) keep a few nodes' outputs of
    the forward pass, taken in chunks of items so that memory stays bounded: the same bits
    as one call, for chunks of one block of lanes."""
    import lwl._engine as engine_module
    rng = np.random.default_rng(2)
    g = Graph.layered([5, 4, 3])
    eng = Engine(g, 8, rng=rng)
    X = rng.uniform(0, 1, (3 * LANES + 7, 5))
    whole = eng.forward(X)[0][:, g.class_nodes]
    monkeypatch.setattr(engine_module, "FORWARD_CHUNK_BYTES", 1)  # LANES items per call
    calls = []
    forward = eng.forward
    monkeypatch.setattr(eng, "forward", lambda **kw: calls.append(1) or forward(**kw))
    assert np.array_equal(eng.decision_function(X), whole)
    assert len(calls) == 4
    assert eng.decision_function(X[:0]).shape == (0, 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_state_arrays_start_on_cache_lines(dtype):
    # the hot loops read and write the state a vector of lanes at a time; on a line no vector
    # is split across two (numpy alone starts arrays on 16 bytes)
    from lwl._core import CACHE_LINE
    from lwl._nmf_engine import NMFState
    eng = Engine(Graph.layered([13, 26, 26, 2]), 40, rng=np.random.default_rng(0), dtype=dtype)
    nmf = NMFState(16, 16, 8, 0.9, 0.3, dtype)
    arrays = {n: getattr(eng, n) for n in ("x", "w", "y", "b", "xa", "ya", "ba", "mult",
                                           "clamp", "wa", "bb", "scratch")}
    arrays.update({"nmf " + n: getattr(nmf, n) for n in ("x", "w", "code", "feature", "mult",
                                                          "scratch")})
    for name, a in arrays.items():
        assert a.ctypes.data % CACHE_LINE == 0, name
        assert a.dtype == (np.float64 if name.endswith(("mult", "scratch")) else dtype), name
        assert a.flags.c_contiguous and not a.any(), name
