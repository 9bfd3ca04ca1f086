"""The numpy state of the network RRR engine for one batch, over ``lwl_net_iterate``.

Owns every array the C core reads or writes (csrc/lwl.h, ``lwl_net_ws``):

* per item k and edge e (edges sorted by destination): ``x``, ``w``;
* per item and node: ``y``, ``b`` (the RRR iterate) and ``xa``, ``ya``, ``ba`` (its last A
  projection); ``mult`` (bilinear multipliers, warm starts), ``clamp``;
* consensus parameters: ``weights`` (w_A, per edge) and ``biases`` (b_B, per node).

The per-item arrays are stored in the C core's layout: blocks of ``LANES`` items, the block's
values of one edge (node) side by side (csrc/lwl.h).  :meth:`Engine.state` and
:meth:`Engine.set_state` convert to and from plain (items, edges) / (items, nodes) arrays.

Metric (eq 27, 30, 31): g2 = outdeg for hidden nodes, ``upsilon`` for class nodes.  Delta
(full gap / ramp width of the activation, and the class margin) is one number here, stored
per node in ``delta`` (change entries for per-node values).
"""
import numpy as np

from ._core import ffi, lib, ptr
from ._validation import check_memory
from .graph import Graph

# Iterations per call into C are chosen so that a call does about this many weight-multiplies
# (~0.1 s): Ctrl-C is then honoured promptly between calls.
_WMS_PER_CALL = 3e7

LANES = lib.LWL_LANES
_EDGE_ARRAYS = ("x", "w")
_NODE_ARRAYS = ("y", "b", "xa", "ya", "ba", "mult", "clamp")


def _padded(n_items):
    """Items rounded up to whole blocks of LANES."""
    return -(-n_items // LANES) * LANES


def to_lanes(rows, out):
    """Write rows (n_items, width) into ``out`` in the blocked layout; the padding lanes of
    the last block repeat the last item (finite values that no sum over items sees)."""
    n, width = rows.shape
    kp = _padded(n)
    if kp > n:
        rows = np.concatenate([rows, np.repeat(rows[-1:], kp - n, axis=0)])
    out[:kp * width].reshape(kp // LANES, width, LANES)[:] = (
        rows.reshape(kp // LANES, LANES, width).transpose(0, 2, 1))


def from_lanes(flat, n_items, width):
    """The (n_items, width) array held in the blocked layout of ``flat`` (a copy)."""
    kp = _padded(n_items)
    blocks = flat[:kp * width].reshape(kp // LANES, width, LANES)
    return blocks.transpose(0, 2, 1).reshape(kp, width)[:n_items].copy()

CLASS_MODES = {"plain": lib.LWL_CLASS_PLAIN, "ee": lib.LWL_CLASS_EE,
               "relabel": lib.LWL_CLASS_RELABEL, "fpa": lib.LWL_CLASS_FPA}


def init_weights(graph, omega, rng):
    """SPEC §4: each node's incoming weights uniform on [-1, 1], mean removed, rescaled to
    norm omega (a node with one input gets +-omega: removing the mean would leave 0)."""
    w = rng.uniform(-1.0, 1.0, size=graph.n_edges)
    for n in range(graph.n_nodes):
        lo, hi = graph.in_start[n], graph.in_start[n + 1]
        if hi == lo:
            continue
        v = w[lo:hi]
        if hi - lo > 1:
            v -= v.mean()
        nrm = np.linalg.norm(v)
        w[lo:hi] = v * (omega / nrm) if nrm > 0 else omega / np.sqrt(hi - lo)
    return w


def memory_bytes(graph, batch_size):
    """Bytes of the state of one batch (x, w dominate: 16 |K| |E|), scratch included."""
    K, N, E = batch_size, graph.n_nodes, graph.n_edges
    Kp = _padded(K)
    scratch = lib.lwl_net_scratch_doubles(K, N, E, int(graph.indeg.max()))
    return 8 * (2 * Kp * E + 7 * Kp * N + 3 * E + K + scratch) + 4 * 3 * K


class Engine:
    """RRR state of one batch on ``graph`` (a :class:`lwl.graph.Graph`).

    Parameters
    ----------
    graph : Graph
    batch_size : int  largest batch (smaller batches use a prefix of every buffer)
    omega, upsilon, beta, delta : float  (SPEC §4)
    class_mode : 'plain' | 'ee' | 'relabel' | 'fpa'
    ee : int  exemptions per batch ('ee', 'relabel');  fpa : float  ('fpa')
    n_jobs : int  OpenMP threads over blocks of items (1, the default, is serial)
    rng : numpy Generator for the initial weights
    """

    def __init__(self, graph, batch_size, *, omega=2.0, upsilon=1.0, beta=1.0, delta=0.1,
                 class_mode="plain", ee=0, fpa=0.0, n_jobs=1, rng=None):
        if not isinstance(graph, Graph):
            raise TypeError("graph must be an lwl.graph.Graph")
        if class_mode not in CLASS_MODES:
            raise ValueError(f"class_mode must be one of {sorted(CLASS_MODES)}; got {class_mode!r}")
        if class_mode == "fpa" and len(graph.class_nodes) != 2:
            raise ValueError("class_mode='fpa' needs exactly 2 class nodes (0 = fake, 1 = genuine)")
        K, N, E = int(batch_size), graph.n_nodes, graph.n_edges
        check_memory(memory_bytes(graph, K), "the RRR state of one batch")
        self.graph, self.K = graph, K
        self.omega, self.beta = float(omega), float(beta)
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng

        self.g2 = graph.outdeg.astype(np.float64)
        self.g2[graph.class_nodes] = float(upsilon)
        self.delta = np.full(N, float(delta))
        self.weights = init_weights(graph, self.omega, rng)
        self.biases = np.zeros(N)

        Kp = _padded(K)
        for name in _EDGE_ARRAYS:
            setattr(self, name, np.zeros(Kp * E))
        for name in _NODE_ARRAYS:
            setattr(self, name, np.zeros(Kp * N))
        self.label = np.full(K, -1, dtype=np.int32)
        self.exempt = np.zeros(K, dtype=np.int32)
        self.assigned = np.full(K, -1, dtype=np.int32)
        self.class_dist = np.zeros(K)
        self.wa = np.zeros(E)
        self.bb = np.zeros(N)

        ws = self.ws = ffi.new("lwl_net_ws *")
        ws.n_nodes, ws.n_edges = N, E
        ipt = lambda a: ffi.cast("int *", ffi.from_buffer(a))  # noqa: E731
        for name in ("in_start", "src", "out_start", "out_edges", "outdeg", "kind", "order"):
            setattr(ws, name, ipt(getattr(graph, name)))
        ws.n_class = len(graph.class_nodes)
        ws.class_nodes = ipt(graph.class_nodes)
        ws.delta, ws.g2 = ptr(self.delta), ptr(self.g2)
        ws.omega, ws.beta = self.omega, self.beta
        ws.class_mode, ws.ee, ws.fpa = CLASS_MODES[class_mode], int(ee), float(fpa)
        ws.n_threads = max(1, int(n_jobs))
        ws.n_items = K
        ws.clamp, ws.label = ptr(self.clamp), ipt(self.label)
        for name in ("x", "w", "y", "b", "xa", "ya", "ba", "wa", "bb", "mult", "class_dist"):
            setattr(ws, name, ptr(getattr(self, name)))
        ws.exempt, ws.assigned = ipt(self.exempt), ipt(self.assigned)
        self.scratch = np.zeros(lib.lwl_net_scratch_size(ws))
        ws.scratch = ptr(self.scratch)
        self._ipt = ipt

    # ------------------------------------------------------------------ batches
    @property
    def n_items(self):
        return self.ws.n_items

    def _clamp_rows(self, X):
        g = self.graph
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(g.data_nodes):
            raise ValueError(f"X must have shape (n, {len(g.data_nodes)}); got {X.shape}")
        c = np.full((X.shape[0], g.n_nodes), np.nan)
        c[:, g.data_nodes] = X
        return c

    def forward(self, X, weights=None, biases=None):
        """Node values v (x_A; y - b at class nodes) and pre-activations y, each (n, N),
        of a forward pass of the items X through the given (default: consensus) parameters."""
        w = self.weights if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
        bias = self.biases if biases is None else np.ascontiguousarray(biases, dtype=np.float64)
        clamp = self._clamp_rows(X)
        n = clamp.shape[0]
        v = np.empty((n, self.graph.n_nodes))
        y = np.empty((n, self.graph.n_nodes))
        if n:
            lib.lwl_net_forward(self.ws, n, ptr(clamp), ptr(w), ptr(bias), ptr(v), ptr(y))
        return v, y

    def decision_function(self, X):
        """y - b at the class nodes after a forward pass (n, n_class)."""
        return self.forward(X)[0][:, self.graph.class_nodes]

    def predict(self, X):
        """Index (into class_nodes) of the class node with the largest y - b."""
        return np.argmax(self.decision_function(X), axis=1)

    def start_batch(self, X, labels=None):
        """Initialise the RRR state from a forward pass of the batch through the consensus
        parameters (SPEC §4): every variable set from it, so only the class (and data /
        code) constraints are violated."""
        g = self.graph
        K = len(X)
        if not 1 <= K <= self.K:
            raise ValueError(f"a batch must have 1..{self.K} items; got {K}")
        N, E = g.n_nodes, g.n_edges
        self.ws.n_items = K
        to_lanes(self._clamp_rows(X), self.clamp)
        if labels is None:
            self.label[:K] = -1
        else:
            labels = np.asarray(labels)
            if labels.shape != (K,) or labels.min() < -1 or labels.max() >= len(g.class_nodes):
                raise ValueError(f"labels must be {K} ints in [-1, {len(g.class_nodes)})")
            self.label[:K] = labels
        v, y = self.forward(X)
        to_lanes(v[:, g.src], self.x)
        to_lanes(np.broadcast_to(self.weights, (K, E)), self.w)
        to_lanes(y, self.y)
        to_lanes(np.broadcast_to(self.biases, (K, N)), self.b)
        self.mult[:] = 0.0  # root searches start at u = 0 (appendix B)

    def run(self, max_iter, tol, errs):
        """Iterate in calls of about _WMS_PER_CALL work, appending RRR_err to ``errs``;
        afterwards ``weights`` and ``biases`` hold the consensus parameters w_A and b_B of
        the last iteration.  Returns True when RRR_err < tol was reached."""
        K, E = self.ws.n_items, self.graph.n_edges
        chunk = int(max(1, _WMS_PER_CALL // (K * E)))
        out = np.empty(max(1, min(chunk, max_iter)))
        done_total = 0
        try:
            while done_total < max_iter:
                todo = min(chunk, max_iter - done_total)
                done = lib.lwl_net_iterate(self.ws, todo, tol, ptr(out))
                errs.extend(out[:done].tolist())
                done_total += done
                if out[done - 1] < tol:
                    return True
            return False
        finally:
            if done_total:
                self.weights = self.wa.copy()
                self.biases = self.bb.copy()

    def state(self):
        """Copies (K, E) / (K, N) of the iterate, its last A projection, the multipliers
        and the clamps of the current batch, for inspection (see :meth:`set_state`)."""
        K, N, E = self.ws.n_items, self.graph.n_nodes, self.graph.n_edges
        s = {n: from_lanes(getattr(self, n), K, E) for n in _EDGE_ARRAYS}
        s.update({n: from_lanes(getattr(self, n), K, N) for n in _NODE_ARRAYS})
        return s

    def set_state(self, state):
        """Write arrays of the shapes :meth:`state` returns back into the engine."""
        K = self.ws.n_items
        for name, value in state.items():
            if name not in _EDGE_ARRAYS + _NODE_ARRAYS:
                raise KeyError(f"unknown state array {name!r}")
            width = self.graph.n_edges if name in _EDGE_ARRAYS else self.graph.n_nodes
            value = np.asarray(value, dtype=np.float64)
            if value.shape != (K, width):
                raise ValueError(f"{name} must have shape {(K, width)}; got {value.shape}")
            to_lanes(value, getattr(self, name))


def train_epoch(engine, X, labels, max_iter, tol, rng, batch_size=None):
    """One epoch: shuffle, then for every batch start_batch + run.  Returns a dict with
    ``iters`` (per batch), ``err_first``, ``err_last`` (RRR_err at the first and last
    iteration of each batch), ``batch_err`` (error of each batch under the parameters just
    found, exempted items not counted), ``gwms`` (work) and ``exempt`` (indices into X of
    the items exempted in each batch's last iteration) and ``relabeled`` ((index into X,
    class) of the items given a class other than their label, in relabel mode)."""
    K = engine.K if batch_size is None else batch_size
    perm = rng.permutation(len(X))
    E = engine.graph.n_edges
    out = {"iters": [], "err_first": [], "err_last": [], "batch_err": [], "gwms": 0.0,
           "exempt": [], "relabeled": []}
    for lo in range(0, len(X), K):
        idx = perm[lo:lo + K]
        engine.start_batch(X[idx], labels[idx])
        errs = []
        engine.run(max_iter, tol, errs)
        ex = engine.exempt[:len(idx)].astype(bool)
        pred = engine.predict(X[idx])
        keep = ~ex
        out["iters"].append(len(errs))
        out["err_first"].append(errs[0])
        out["err_last"].append(errs[-1])
        out["batch_err"].append(float(np.mean(pred[keep] != labels[idx][keep])) if keep.any() else 0.0)
        out["gwms"] += 1e-9 * len(errs) * len(idx) * E
        out["exempt"].extend(idx[ex].tolist())
        assigned = engine.assigned[:len(idx)]
        moved = (assigned >= 0) & (assigned != labels[idx])
        out["relabeled"].extend(zip(idx[moved].tolist(), assigned[moved].tolist()))
    return out
