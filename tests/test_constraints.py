"""Node side-constraint projections (csrc/constraints.c) against a brute-force minimiser of
the 3-variable problem  wx (x'-x)^2 + g2 ((y'-y)^2 + (b'-b)^2)  over each convex piece of the
constraint set (scipy SLSQP), plus the batch-level class step variants."""
import zlib

import numpy as np
import pytest
from scipy.optimize import minimize

from lwl._core import ffi, lib
from lwl._engine import Engine
from lwl.graph import ACTIVATIONS, KINDS, Graph

NAN = float("nan")


def c_project(kind, delta, wx, g2, clamp, x, y, b):
    px, py, pb = ffi.new("double *", x), ffi.new("double *", y), ffi.new("double *", b)
    lib.lwl_project_node(kind, delta, wx, g2, clamp, px, py, pb)
    return np.array([px[0], py[0], pb[0]])


def pieces(name, delta, clamp=None):
    """The constraint set as a list of convex pieces, each a list of SLSQP constraints on
    v = (x', y', b'); z = y' - b'."""
    h = delta / 2
    z = lambda v: v[1] - v[2]  # noqa: E731
    eq = lambda f: {"type": "eq", "fun": f}  # noqa: E731
    ge = lambda f: {"type": "ineq", "fun": f}  # noqa: E731
    if name == "relu":
        return [[eq(lambda v: v[0]), ge(lambda v: -z(v))],
                [eq(lambda v: v[0] - z(v)), ge(lambda v: z(v))]]
    if name == "step":
        return [[eq(lambda v: v[0]), ge(lambda v: -h - z(v))],
                [eq(lambda v: v[0] - 1), ge(lambda v: z(v) - h)]]
    if name == "zigmoid":
        return [[eq(lambda v: v[0]), ge(lambda v: -h - z(v))],
                [eq(lambda v: v[0] - (z(v) + h) / delta), ge(lambda v: z(v) + h), ge(lambda v: h - z(v))],
                [eq(lambda v: v[0] - 1), ge(lambda v: z(v) - h)]]
    if name == "linear":
        return [[eq(lambda v: v[0] - z(v))]]
    if name == "data":
        return [[eq(lambda v: v[0] - clamp)]]
    if name == "code_step":  # step node clamped to 0 or 1
        return [[eq(lambda v: v[0] - clamp), ge(lambda v: (z(v) - h) if clamp == 1 else (-h - z(v)))]]
    if name == "code_zigmoid":  # zigmoid node clamped to a value in (0, 1)
        return [[eq(lambda v: v[0] - clamp), eq(lambda v: (z(v) + h) / delta - clamp)]]
    if name == "code_relu":
        return [[eq(lambda v: v[0] - clamp), eq(lambda v: z(v) - clamp)]]
    raise ValueError(name)


def brute(name, delta, wx, g2, p0, clamp=None):
    f = lambda v: wx * (v[0] - p0[0]) ** 2 + g2 * ((v[1] - p0[1]) ** 2 + (v[2] - p0[2]) ** 2)  # noqa: E731
    best = np.inf
    for cons in pieces(name, delta, clamp):
        for start in (p0, p0 + 0.3, np.zeros(3), np.array([1.0, 1.0, -1.0])):
            r = minimize(f, start, constraints=cons, method="SLSQP",
                         options={"ftol": 1e-14, "maxiter": 500})
            viol = max([abs(c["fun"](r.x)) if c["type"] == "eq" else max(0, -c["fun"](r.x))
                        for c in cons])
            if viol < 1e-11:
                best = min(best, r.fun)
    return best


def satisfies(name, delta, p, clamp=None, tol=1e-12):
    x, z, h = p[0], p[1] - p[2], delta / 2
    if name == "relu":
        return abs(x - max(z, 0)) < tol
    if name == "linear":
        return abs(x - z) < tol
    if name == "step":
        return (x == 0 and z <= -h + tol) or (x == 1 and z >= h - tol)
    if name == "zigmoid":
        return abs(x - np.clip((z + h) / delta, 0, 1)) < tol
    if name == "data":
        return x == clamp
    if name == "code_step":
        return x == clamp and ((z >= h - tol) if clamp == 1 else (z <= -h + tol))
    if name == "code_zigmoid":
        return x == clamp and abs((z + h) / delta - clamp) < tol
    if name == "code_relu":
        return x == clamp and abs(z - clamp) < tol
    raise ValueError(name)


KIND = {"relu": KINDS["relu"], "step": KINDS["step"], "zigmoid": KINDS["zigmoid"],
        "linear": KINDS["linear"], "data": KINDS["input"],
        "code_step": KINDS["step"], "code_zigmoid": KINDS["zigmoid"],
        "code_relu": KINDS["relu"]}


@pytest.mark.parametrize("name", list(KIND))
def test_node_projection_is_nearest_point(name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # the same seed in every process
    for _ in range(60):
        p0 = rng.normal(scale=1.0, size=3)
        wx, g2 = float(rng.integers(1, 6)), float(rng.choice([rng.integers(1, 6), rng.uniform(0.2, 3)]))
        delta = float(rng.uniform(0.05, 1.0))
        clamp = None
        if name == "data":
            clamp = float(rng.uniform(-1, 1))
        elif name == "code_step":
            clamp = float(rng.integers(0, 2))
        elif name == "code_zigmoid":
            clamp = float(rng.uniform(0.05, 0.95))
        elif name == "code_relu":
            clamp = float(rng.uniform(0.05, 2))
        c = NAN if clamp is None else clamp
        g2_c = 0.0 if name == "data" else g2  # a data node has no y, b
        p = c_project(KIND[name], delta, wx, g2_c, c, *p0)
        assert satisfies(name, delta, p, clamp), (name, p0, p)
        # idempotent
        np.testing.assert_allclose(c_project(KIND[name], delta, wx, g2_c, c, *p), p, atol=1e-14)
        d = wx * (p[0] - p0[0]) ** 2 + g2 * ((p[1] - p0[1]) ** 2 + (p[2] - p0[2]) ** 2)
        d_brute = brute(name, delta, wx, g2_c if g2_c > 0 else 1e-300, p0, clamp)
        if name == "data":
            d_brute = wx * (clamp - p0[0]) ** 2
        assert d <= d_brute + 1e-8 * (1 + d_brute), (name, p0, wx, g2, delta, d, d_brute)
        assert d >= d_brute - 1e-6 * (1 + d_brute), (name, p0, d, d_brute)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("delta", [0.0, 0.4])
def test_forward_activation_agrees_with_the_projection(name, delta):
    """f(z) of the forward pass (lwl_node_activation) is the x of the kind's set at z: with
    x free (wx = 0) the projection of any (x, z) puts x at f(z), and moves z only in the
    step's gap, to the branch f(z) names; outside the gap (f(z), z) is a fixed point."""
    kind, h = KINDS[name], delta / 2
    rng = np.random.default_rng(7)
    zs = np.concatenate([[-1.3, -h, -0.1, 0.1, h, 1.3], rng.uniform(-1.5, 1.5, 40)])
    for z in zs[zs != 0.0]:  # z = 0 is the step's tie (f takes the upper branch)
        f = lib.lwl_node_activation(kind, delta, z)
        p = c_project(kind, delta, 0.0, 1.0, NAN, rng.normal(), z, 0.0)
        assert p[0] == pytest.approx(f, abs=1e-12), (name, delta, z)
        if name == "step" and abs(z) < h:
            assert p[1] - p[2] == pytest.approx(h if z > 0 else -h, abs=1e-12)
        else:
            assert p[1] - p[2] == pytest.approx(z, abs=1e-12)
            q = c_project(kind, delta, 2.0, 1.0, NAN, f, z, 0.0)
            np.testing.assert_allclose(q, [f, z, 0.0], atol=1e-14)


def test_kind_table_matches_the_c_core():
    assert len(set(KINDS.values())) == len(KINDS)
    assert set(ACTIVATIONS) <= set(KINDS) and not {"input", "class"} & set(ACTIVATIONS)
    for name, code in KINDS.items():
        assert lib.lwl_node_kind(name.encode()) == code
    assert lib.lwl_node_kind(b"tanh") == -1
    with pytest.raises(ValueError, match="kind code"):
        Graph.from_edges(2, [(0, 1)], [0], [1], kind=np.array([KINDS["input"], 99]))


def test_relu_weighting_in_xz_plane():
    """With g2 = wx the (x, z) metric is dx^2 + dz^2 / 2: a point on the ReLU diagonal's
    normal is projected to the piece that this (not the isotropic) metric says."""
    # (x, z) = (0.5, -0.3): to {x=0,z<=0}: 0.25;  to diagonal t=(x + z/2)/(1.5) = 0.2333:
    # (0.2667^2) + 0.5333^2/2 = 0.2133 -> diagonal.  Isotropic would give 0.32 vs 0.25.
    p = c_project(KINDS["relu"], 0.0, 1.0, 1.0, NAN, 0.5, -0.15, 0.15)
    assert p[0] == pytest.approx(0.7 / 3) and p[1] - p[2] == pytest.approx(0.7 / 3)


@pytest.mark.parametrize("labelled", [0, 1])
def test_margin(labelled):
    rng = np.random.default_rng(labelled)
    for _ in range(100):
        y, b, delta = rng.normal(size=3)
        delta = abs(delta)
        py, pb = ffi.new("double *", y), ffi.new("double *", b)
        d = lib.lwl_project_margin(labelled, delta, py, pb)
        z = py[0] - pb[0]
        assert (z >= delta - 1e-12) if labelled else (z <= 1e-12)
        assert py[0] - y == pytest.approx(-(pb[0] - b), abs=1e-14)  # equal and opposite
        assert d == pytest.approx((py[0] - y) ** 2 + (pb[0] - b) ** 2, abs=1e-14)
        z0 = y - b
        nearest = max(z0, delta) if labelled else min(z0, 0.0)
        assert z == pytest.approx(nearest, abs=1e-12)


def test_class_kind_untouched_by_node_step():
    p = c_project(KINDS["class"], 0.1, 0.0, 1.0, NAN, 0.3, 0.4, -0.5)
    np.testing.assert_array_equal(p, [0.3, 0.4, -0.5])


# ---------------------------------------------------------------- class step variants
def _engine(mode, K=12, n_class=3, seed=0, **kw):
    rng = np.random.default_rng(seed)
    g = Graph.layered([3, 4, n_class])
    eng = Engine(g, K, rng=rng, class_mode=mode, delta=0.3, **kw)
    X = rng.uniform(-1, 1, (K, 3))
    labels = rng.integers(0, n_class, K).astype(np.int32)
    eng.start_batch(X, labels)
    s = eng.state()
    s["y"][:, g.class_nodes] += rng.normal(scale=1.0, size=(K, n_class))
    eng.set_state(s)
    return eng, labels


def _class_z_before_after(eng):
    g = eng.graph
    s = eng.state()
    z0 = (s["y"] - s["b"])[:, g.class_nodes].copy()
    # run the node + class step alone: one iteration, then read the A projection
    eng.run(1, 0.0, [])
    s = eng.state()
    return z0, (s["ya"] - s["ba"])[:, g.class_nodes]


def _cost(z, c, delta=0.3, g2=1.0):
    viol = np.where(np.arange(len(z)) == c, np.maximum(delta - z, 0), np.maximum(z, 0))
    return float((g2 * viol ** 2 / 2).sum())


def test_relabel_takes_nearest_class_for_largest_excess():
    eng, labels = _engine("relabel", ee=3)
    z0, z = _class_z_before_after(eng)
    K = len(labels)
    assigned = eng.assigned[:K]
    excess = np.array([_cost(z0[k], labels[k]) - min(_cost(z0[k], c) for c in range(3))
                       for k in range(K)])
    changed = np.flatnonzero(assigned != labels)
    assert 0 < len(changed) <= 3
    assert np.all(excess[changed] > 0)
    others = np.delete(excess, changed)
    assert excess[changed].min() >= others.max() or (others <= 0).all()
    for k in range(K):  # every item is projected to its assigned class
        if k in changed:  # the relabelled take their nearest class
            assert assigned[k] == np.argmin([_cost(z0[k], c) for c in range(3)])
        assert z[k, assigned[k]] >= 0.3 - 1e-12
        assert np.all(np.delete(z[k], assigned[k]) <= 1e-12)
    assert eng.exempt[:K].sum() == 0


def test_fpa_projects_nearest_fakes_as_genuine():
    eng, labels = _engine("fpa", K=20, n_class=2, seed=3, fpa=0.25)
    z0, z = _class_z_before_after(eng)
    K = len(labels)
    fakes = np.flatnonzero(labels == 0)
    gain = np.array([_cost(z0[k], 0) - _cost(z0[k], 1) for k in range(K)])
    flipped = np.flatnonzero(eng.assigned[:K] != labels)
    assert set(flipped) <= set(fakes)
    cand = [k for k in fakes if gain[k] > 0]
    assert len(flipped) == min(len(cand), int(np.floor(0.25 * len(fakes))))
    if len(flipped):
        rest = [gain[k] for k in cand if k not in flipped]
        assert not rest or gain[flipped].min() >= max(rest)
    for k in range(K):
        a = eng.assigned[k]
        assert z[k, a] >= 0.3 - 1e-12 and z[k, 1 - a] <= 1e-12


def test_plain_projects_every_item_to_its_label():
    eng, labels = _engine("plain")
    z0, z = _class_z_before_after(eng)
    for k in range(len(labels)):
        assert z[k, labels[k]] >= 0.3 - 1e-12 and np.all(np.delete(z[k], labels[k]) <= 1e-12)
        assert eng.class_dist[k] == pytest.approx(_cost(z0[k], labels[k]), abs=1e-12)
