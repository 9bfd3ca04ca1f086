"""The numpy state of the network RRR engine for one batch, over ``lwl_net_iterate``.

Owns every array the C core reads or writes (csrc/lwl.h, ``lwl_net_ws``):

* per item k and edge e (edges sorted by destination): ``x``, ``w``;
* per item and node: ``y``, ``b`` (the RRR iterate) and ``xa``, ``ya``, ``ba`` (its last A
  projection); ``mult`` (bilinear multipliers, warm starts), ``clamp``;
* consensus parameters: ``weights`` (w_A, per edge) and ``biases`` (b_B, per node).

The per-item arrays are stored in the C core's layout: blocks of ``LANES`` items, the block's
values of one edge (node) side by side (csrc/lwl.h).

The state (and so the consensus parameters and the forward pass) is float64 or, with
``dtype=np.float32``, float32: half the memory traffic per iteration, the C core's ``_f32``
functions (csrc/engine.c says which sums, norms and searches stay double).  The multipliers
``mult`` are float64 either way.  :meth:`Engine.state` and
:meth:`Engine.set_state` convert to and from plain (items, edges) / (items, nodes) arrays.

Metric (eq 27, 30, 31): g2 = outdeg for hidden nodes, ``upsilon`` for class nodes.  Delta
(full gap / ramp width of the activation, and the class margin) is one number here, stored
per node in ``delta`` (change entries for per-node values).
"""
import numpy as np

from ._core import aligned_zeros, c_suffix, ffi, lib, ptr
from ._rrr import RRRState
from ._validation import check_memory
from .graph import Graph

LANES = lib.LWL_LANES
# Items per call of the forward pass when only some of its outputs are kept (forward_at):
# the (items, n_nodes) clamp and outputs of a call then take about this many bytes, whatever
# the number of items.
FORWARD_CHUNK_BYTES = 32 * 2**20
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
    """Section 5.4: each node's incoming weights uniform on [-1, 1], mean removed, rescaled to
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


def check_state_size(batch_size, n_nodes, n_edges, max_indegree, dtype=np.float64):
    """Refuse, from the sizes alone and so before the graph or the state is built, a batch
    whose state would not fit in memory or a net larger than the C core addresses (int
    indices).  The state: x and w (2 |K| |E| values of ``dtype`` dominate), node arrays,
    scratch."""
    K, N, E = int(batch_size), int(n_nodes), int(n_edges)
    Kp, size = _padded(K), np.dtype(dtype).itemsize
    what = f"the RRR state of a batch of {K} items on a net of {N} nodes and {E} edges"
    advice = "use a smaller batch_size or a smaller net"
    check_memory(0, what, advice, n_addressed=Kp * max(E, N))  # before C sizes its scratch
    scratch = lib.lwl_net_scratch_doubles(K, N, E, int(max_indegree))
    check_memory(size * (2 * Kp * E + 6 * Kp * N + 2 * E + N) + 8 * (Kp * N + E + K + scratch)
                 + 4 * 3 * K, what, advice)


class Engine(RRRState):
    """RRR state of one batch on ``graph`` (a :class:`lwl.graph.Graph`).

    Parameters
    ----------
    graph : Graph
    batch_size : int  largest batch (smaller batches use a prefix of every buffer)
    omega, upsilon, beta, delta : float  (eq 26-31; delta is the class margin and the
        activation's gap or ramp width)
    class_mode : 'plain' | 'ee' | 'relabel' | 'fpa'
    ee : int  exemptions per batch ('ee', 'relabel');  fpa : float  ('fpa')
    n_jobs : int  OpenMP threads over blocks of items (1, the default, is serial)
    rng : numpy Generator for the initial weights
    parameters : (weights, biases) to start from instead (a warm start; rng is then unused)
    dtype : np.float64 or np.float32  of the state, the parameters and the forward pass
    comm : mpi4py communicator or None  processes that share every batch (lwl._mpi): each
        holds the state of its share of the items; ``start_batch`` takes the whole batch on
        every process
    """

    def __init__(self, graph, batch_size, *, omega=2.0, upsilon=1.0, beta=1.0, delta=0.1,
                 class_mode="plain", ee=0, fpa=0.0, n_jobs=1, rng=None, parameters=None,
                 dtype=np.float64, comm=None):
        if not isinstance(graph, Graph):
            raise TypeError("graph must be an lwl.graph.Graph")
        if class_mode not in CLASS_MODES:
            raise ValueError(f"class_mode must be one of {sorted(CLASS_MODES)}; got {class_mode!r}")
        if class_mode == "fpa" and len(graph.class_nodes) != 2:
            raise ValueError("class_mode='fpa' needs exactly 2 class nodes (0 = fake, 1 = genuine)")
        K, N, E = int(batch_size), graph.n_nodes, graph.n_edges
        suffix = c_suffix(dtype)
        self.dtype = dt = np.dtype(dtype)
        self.graph, self.K = graph, K
        ws = self.ws = ffi.new(f"lwl_net_ws{suffix} *")
        K = self._join(comm, K)  # this process's state holds its share of a batch
        if self.group is not None and class_mode != "plain":
            raise ValueError(f"class_mode={class_mode!r} selects items across the whole batch, "
                             "which is not done across processes yet: train it without comm")
        check_state_size(K, N, E, graph.indeg.max(), dt)
        self.omega, self.beta = float(omega), float(beta)

        self.g2 = graph.outdeg.astype(np.float64)
        self.g2[graph.class_nodes] = float(upsilon)
        self.delta = np.full(N, float(delta))
        if parameters is None:
            rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
            self.weights = init_weights(graph, self.omega, rng).astype(dt)
            self.biases = np.zeros(N, dtype=dt)
        else:
            self.weights, self.biases = (np.array(p, dtype=dt) for p in parameters)
            if self.weights.shape != (E,) or self.biases.shape != (N,):
                raise ValueError(f"parameters must be weights ({E},) and biases ({N},); got "
                                 f"{self.weights.shape} and {self.biases.shape}")

        Kp = _padded(K)
        for name in _EDGE_ARRAYS:
            setattr(self, name, aligned_zeros(Kp * E, dt))
        for name in _NODE_ARRAYS:
            setattr(self, name, aligned_zeros(Kp * N, np.float64 if name == "mult" else dt))
        self.label = np.full(K, -1, dtype=np.int32)
        self.exempt = np.zeros(K, dtype=np.int32)
        self.assigned = np.full(K, -1, dtype=np.int32)
        self.class_dist = np.zeros(K)
        self.wa = aligned_zeros(E, dt)
        self.bb = aligned_zeros(N, dt)
        self._iterate_c = getattr(lib, "lwl_net_iterate" + suffix)
        self._forward_c = getattr(lib, "lwl_net_forward" + suffix)
        self._start_batch_c = getattr(lib, "lwl_net_start_batch" + suffix)

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
        self.scratch = aligned_zeros(getattr(lib, "lwl_net_scratch_size" + suffix)(ws))
        ws.scratch = ptr(self.scratch)

    # ------------------------------------------------------------------ batches
    @property
    def n_weights(self):
        return self.graph.n_edges


    def clamp_rows(self, X, at=None):
        """The clamp matrix (n, N) of items whose nodes ``at`` (default: the data nodes) take
        the rows of X (NaN: free)."""
        g = self.graph
        at = g.data_nodes if at is None else at
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != len(at):
            raise ValueError(f"X must have shape (n, {len(at)}); got {X.shape}")
        c = np.full((X.shape[0], g.n_nodes), np.nan, dtype=self.dtype)
        c[:, at] = X
        return c

    def forward(self, X=None, *, clamp=None, weights=None, biases=None, reconstruct=False):
        """Node values v (x_A; y - b at class nodes) and pre-activations y, each (n, N), of a
        forward pass through the given (default: consensus) parameters of the items whose
        data nodes take the rows of X, or of items clamped by ``clamp`` (n, N; NaN: free),
        each starting at its first clamped node (feed-around, section 6.1.1).  With
        ``reconstruct``, also f(y - b) at every node with in-edges: at a clamped node, what
        the net reconstructs there (eq 40-41).  In and out in the engine's dtype."""
        dt = self.dtype
        w = self.weights if weights is None else np.ascontiguousarray(weights, dtype=dt)
        bias = self.biases if biases is None else np.ascontiguousarray(biases, dtype=dt)
        clamp = self.clamp_rows(X) if clamp is None else np.ascontiguousarray(clamp, dt)
        n, N = clamp.shape[0], self.graph.n_nodes
        v, y = np.empty((n, N), dtype=dt), np.empty((n, N), dtype=dt)
        fv = np.empty((n, N), dtype=dt) if reconstruct else None
        if n:
            scratch = aligned_zeros(3 * N * LANES, dt)
            self._forward_c(self.ws, n, ptr(clamp), ptr(w), ptr(bias), ptr(v), ptr(y),
                            ptr(fv) if reconstruct else ffi.NULL, ptr(scratch))
        return (v, y, fv) if reconstruct else (v, y)

    def forward_at(self, nodes, output, n_items, clamp_of):
        """One output of :meth:`forward` at ``nodes`` (n_items, len(nodes)): 'v', 'y' or 'f'
        (f(y - b), the reconstruction), for the items whose clamp rows ``clamp_of(lo, hi)``
        gives.  Taken in chunks of items, so that memory stays bounded however many items;
        the same values as one call (each item's pass is its own)."""
        which = "vyf".index(output)
        per_item = 4 * self.dtype.itemsize * self.graph.n_nodes
        rows = max(1, FORWARD_CHUNK_BYTES // per_item // LANES) * LANES
        parts = [self.forward(clamp=clamp_of(lo, min(n_items, lo + rows)),
                              reconstruct=which == 2)[which][:, nodes]
                 for lo in range(0, n_items, rows)]
        return np.concatenate(parts) if parts else np.empty((0, len(nodes)), dtype=self.dtype)

    def decision_function(self, X):
        """y - b at the class nodes after a forward pass (n, n_class)."""
        X = np.asarray(X, dtype=self.dtype)
        return self.forward_at(self.graph.class_nodes, "v", len(X),
                               lambda lo, hi: self.clamp_rows(X[lo:hi]))

    def predict(self, X):
        """Index (into class_nodes) of the class node with the largest y - b."""
        return np.argmax(self.decision_function(X), axis=1)

    def start_batch(self, X=None, labels=None, *, clamp=None):
        """Initialise the RRR state from a forward pass of the batch (the rows of X at the
        data nodes, or the clamp matrix ``clamp``) through the consensus parameters (section
        5.4, 6.1.1): every variable set from it, so only the class (and data / code)
        constraints are violated.  ``labels``: class-node index per item, -1 for none.
        With ``comm``, every process passes the whole batch and keeps its share.
        Returns f(y - b) of the forward pass (n, N) of this process's items: at a clamped
        node, what the net reconstructs there (eq 40-41)."""
        g = self.graph
        clamp = self.clamp_rows(X) if clamp is None else np.asarray(clamp, dtype=self.dtype)
        K = len(clamp)
        if not 1 <= K <= self.K or clamp.shape != (K, g.n_nodes):
            raise ValueError(f"a batch must have 1..{self.K} items of {g.n_nodes} clamp values; "
                             f"got shape {clamp.shape}")
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (K,) or labels.min() < -1 or labels.max() >= len(g.class_nodes):
                raise ValueError(f"labels must be {K} ints in [-1, {len(g.class_nodes)})")
        mine = self._share(K)
        clamp = clamp[mine]
        labels = None if labels is None else labels[mine]
        K = len(clamp)
        self.ws.n_items = K
        to_lanes(clamp, self.clamp)
        self.label[:K] = -1 if labels is None else labels
        v, y, fv = self.forward(clamp=clamp, reconstruct=True)
        self.wa[:], self.bb[:] = self.weights, self.biases
        self._start_batch_c(self.ws, ptr(v), ptr(y))
        return fv

    def batch_outcome(self):
        """(exempt, assigned) of the class step's last iteration for every item of the batch
        (gathered from every process's share with ``comm``): 1 where an item was left
        unprojected, and the class node an item was projected to (-1: none)."""
        K = self.ws.n_items
        return self._gather(self.exempt[:K].copy()), self._gather(self.assigned[:K].copy())

    def _iterate(self, n, tol, out):
        return self._iterate_c(self.ws, n, tol, ptr(out))

    def _after_run(self):
        """``weights`` and ``biases`` take the consensus parameters w_A and b_B of the last
        iteration run."""
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
            value = np.asarray(value, dtype=getattr(self, name).dtype)
            if value.shape != (K, width):
                raise ValueError(f"{name} must have shape {(K, width)}; got {value.shape}")
            to_lanes(value, getattr(self, name))
        self.ws.sums_ready = 0  # the C core's consensus sums no longer match x and w

