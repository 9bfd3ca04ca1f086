"""Network graphs for the RRR engine: nodes, edges and the index arrays the C core reads.

A network is a directed graph (cycles allowed: the autoencoder's decoder feeds back to the
data nodes).  Data nodes D receive the input, output nodes C are the class (or code) nodes,
the rest are hidden.  Edges are stored sorted by destination, so the in-edges of node n are
``in_start[n] .. in_start[n+1]-1`` (contiguous: the bilinear projection reads them in one
run); ``out_edges[out_start[n]:out_start[n+1]]`` lists the edges leaving n (x consensus).
"""
from dataclasses import dataclass, field

import numpy as np

from ._core import lib

# The node kinds, defined in csrc/constraints.c (their sets, clamp rules and activations):
# name -> whether a hidden node may have it as its activation.  Adding a kind means adding
# it there and here.
_KIND_TABLE = {
    "input": False,   # data node: x free unless clamped to the data
    "linear": True,
    "relu": True,
    "step": True,
    "zigmoid": True,
    "class": False,   # output node: constrained by the class step
}


def _kind_code(name):
    code = lib.lwl_node_kind(name.encode())
    if code < 0:
        raise RuntimeError(f"the C core has no node kind {name!r} (csrc/constraints.c)")
    return code


KINDS = {name: _kind_code(name) for name in _KIND_TABLE}  # name -> code of the C core
ACTIVATIONS = tuple(name for name, hidden in _KIND_TABLE.items() if hidden)


def _i32(a):
    return np.ascontiguousarray(a, dtype=np.int32)


@dataclass
class Graph:
    """A network in the layout of ``lwl_net_ws`` (csrc/lwl.h).

    Build it with :meth:`layered` or :meth:`from_edges`; the constructor arguments are the
    derived arrays (edges already sorted by destination).

    Attributes
    ----------
    n_nodes, n_edges : int
    src, dst : int32 arrays (n_edges,)  source and destination of each edge (sorted by dst)
    edge_index : int array (n_edges,)  position of each stored edge in the edge list given
    in_start, out_start : int32 arrays (n_nodes + 1,)
    out_edges : int32 array (n_edges,)  edge ids grouped by source
    indeg, outdeg : int32 arrays (n_nodes,)
    kind : int32 array (n_nodes,)  the kind code (:data:`KINDS`) of every node
    data_nodes, class_nodes : int32 arrays  (labels index class_nodes)
    order : int32 array (n_nodes,)  node order of the forward pass
    """
    n_nodes: int
    src: np.ndarray
    dst: np.ndarray
    edge_index: np.ndarray
    in_start: np.ndarray
    out_start: np.ndarray
    out_edges: np.ndarray
    indeg: np.ndarray
    outdeg: np.ndarray
    kind: np.ndarray
    data_nodes: np.ndarray
    class_nodes: np.ndarray
    order: np.ndarray
    layers: list = field(default=None)
    code_nodes: np.ndarray = field(default=None)

    @property
    def n_edges(self):
        return len(self.src)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def layered(cls, sizes, activation="relu"):
        """Fully connected layered net, e.g. ``layered([13, 26, 26, 2])``: the first layer
        holds the data nodes, the last the class nodes, the others ``activation`` nodes."""
        layers, edges = _layers_and_edges(sizes, closed=False)
        n = int(layers[-1][-1]) + 1
        kinds = np.full(n, KINDS[_check_activation(activation)], dtype=np.int32)
        kinds[layers[0]] = KINDS["input"]
        kinds[layers[-1]] = KINDS["class"]
        # node order = layer order, which is also the default (Kahn's, ties by node id)
        g = cls.from_edges(n, edges, layers[0], layers[-1], kind=kinds, order=np.arange(n))
        g.layers = layers
        return g

    @classmethod
    def autoencoder(cls, sizes, code_layer, activation="zigmoid"):
        """The cyclic autoencoder net of section 6.1: fully connected layers ``sizes`` (data,
        encoder layers, codes, decoder layers; numbered in that order, as the published
        programs number them), the last layer feeding back to the data nodes.  Every node has
        the ``activation``; ``layers[code_layer]`` are the code nodes.  The node order starts
        at the data nodes and goes round (feed-around); a code item starts at the codes."""
        layers, edges = _layers_and_edges(sizes, closed=True)
        if not 0 < code_layer < len(layers):
            raise ValueError(f"code_layer must be in [1, {len(layers)}); got {code_layer}")
        n = int(layers[-1][-1]) + 1
        kinds = np.full(n, KINDS[_check_activation(activation)], dtype=np.int32)
        g = cls.from_edges(n, edges, layers[0], np.empty(0, int), kind=kinds,
                           order=np.arange(n))
        g.layers = layers
        g.code_nodes = _i32(layers[code_layer])
        return g

    @classmethod
    def from_net(cls, net, activation=None):
        """The graph a net file describes (a :class:`lwl.io.NetFile` or a path to read), any
        shape: layered or not, sparse or dense, or the cyclic autoencoder.

        A classifier net gives data nodes (no kind), ``activation`` hidden nodes (default
        'relu') and class nodes, in the net's numbering; ``layers`` is set when the net is
        layered (every edge joins consecutive depths, layers numbered in order).  An
        autoencoder net gives ``activation`` nodes everywhere (default 'zigmoid'), the code
        nodes in ``code_nodes``, and a forward pass in node-id order going round from the first
        clamped node (the published programs' order); it must go round: see
        :func:`check_autoencoder_net`.  The edges keep the net file's order in
        ``edge_index`` (:meth:`to_net` gives it back).
        """
        from .io import NetFile, read_net_file
        if not isinstance(net, NetFile):
            net = read_net_file(net)
        n = net.n_nodes
        edges = np.column_stack([net.src, net.dst])
        if net.kind == "classifier":
            n_data, _, n_class = net.sizes
            g = cls.from_edges(n, edges, np.arange(n_data), np.arange(n - n_class, n),
                               kind=_check_activation(activation or "relu"))
            g.layers = _layers_of(g)
            return g
        check_autoencoder_net(net)
        n_data, n_encode, n_code, _ = net.sizes
        kinds = np.full(n, KINDS[_check_activation(activation or "zigmoid")], dtype=np.int32)
        g = cls.from_edges(n, edges, np.arange(n_data), np.empty(0, int), kind=kinds,
                           order=np.arange(n))
        g.code_nodes = _i32(np.arange(n_data + n_encode, n_data + n_encode + n_code))
        return g

    def net_order(self):
        """Permutation of the stored edges into the order of the net file they came from
        (grouped by destination, each group in the order its sources were listed)."""
        return np.lexsort((self.edge_index, self.dst))

    def to_net(self):
        """The :class:`lwl.io.NetFile` of this graph: a classifier (data, hidden, class nodes
        numbered in that order) or, with ``code_nodes``, an autoencoder (data, encoder, code,
        decoder).  Edges in :meth:`net_order`."""
        from .io import NetFile
        n = self.n_nodes
        nd = len(self.data_nodes)

        def block(nodes, start):
            return len(nodes) > 0 and np.array_equal(np.sort(nodes), np.arange(start, start + len(nodes)))

        if not block(self.data_nodes, 0):
            raise ValueError("a net file numbers the data nodes first (0 .. n_data-1); this "
                             "graph does not")
        perm = self.net_order()
        src, dst = self.src[perm], self.dst[perm]
        if self.code_nodes is None:
            nc = len(self.class_nodes)
            if not block(self.class_nodes, n - nc):
                raise ValueError("a classifier net file numbers the class nodes last; this "
                                 "graph does not")
            return NetFile("classifier", (nd, n - nd - nc, nc), src, dst)
        codes = np.sort(self.code_nodes)
        if not block(codes, int(codes[0])):
            raise ValueError("an autoencoder net file numbers the code nodes in one block")
        start = int(codes[0])
        return NetFile("autoencoder", (nd, start - nd, len(codes), n - start - len(codes)),
                       src, dst)

    @classmethod
    def from_edges(cls, n_nodes, edges, data_nodes, class_nodes, kind="relu", order=None):
        """Graph from an explicit edge list ``[(i, j), ...]`` (edge i -> j).

        ``kind`` is an activation name (:data:`ACTIVATIONS`) for every non-data, non-class
        node, or an array of kind codes (:data:`KINDS` values) for every node.  ``order`` is the forward-pass order; by default a
        topological order, or for a cyclic graph the breadth-first order from the data
        nodes ("feed-around").
        """
        n = int(n_nodes)
        e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        if n < 1:
            raise ValueError("a graph needs at least one node")
        if len(e) == 0:
            raise ValueError("a graph needs at least one edge")
        if e.min() < 0 or e.max() >= n:
            raise ValueError(f"edge endpoints must be in [0, {n}); got {e.min()}..{e.max()}")
        if (e[:, 0] == e[:, 1]).any():
            raise ValueError(f"self-loop at node {int(e[e[:, 0] == e[:, 1], 0][0])}")
        key = e[:, 1] * n + e[:, 0]
        perm = np.argsort(key, kind="stable")  # by destination, then source
        key = key[perm]
        if (key[1:] == key[:-1]).any():
            raise ValueError("duplicate edges")
        data_nodes = _i32(np.atleast_1d(data_nodes))
        class_nodes = _i32(np.atleast_1d(class_nodes))
        if isinstance(kind, str):
            k = np.full(n, KINDS[_check_activation(kind)], dtype=np.int32)
            k[data_nodes] = KINDS["input"]
            k[class_nodes] = KINDS["class"]
        else:
            k = _i32(kind)
            if k.shape != (n,):
                raise ValueError(f"kind must have one entry per node ({n}); got shape {k.shape}")
            unknown = ~np.isin(k, list(KINDS.values()))
            if unknown.any():
                raise ValueError(f"node {int(np.flatnonzero(unknown)[0])} has kind code "
                                 f"{int(k[unknown][0])}, which is none of {KINDS}")

        src, dst = _i32(e[perm, 0]), _i32(e[perm, 1])
        indeg = _i32(np.bincount(dst, minlength=n))
        outdeg = _i32(np.bincount(src, minlength=n))
        in_start = _i32(np.concatenate([[0], np.cumsum(indeg)]))
        out_start = _i32(np.concatenate([[0], np.cumsum(outdeg)]))
        out_edges = _i32(np.argsort(src, kind="stable"))

        is_data = np.zeros(n, bool)
        is_data[data_nodes] = True
        is_class = np.zeros(n, bool)
        is_class[class_nodes] = True
        no_in = np.flatnonzero((indeg == 0) & ~is_data)
        if len(no_in):
            raise ValueError(f"node {int(no_in[0])} is not a data node but has no inputs "
                             f"({len(no_in)} such node(s)); every hidden and output node needs "
                             "at least one in-edge")
        no_out = np.flatnonzero((outdeg == 0) & ~is_class)
        if len(no_out):
            raise ValueError(f"node {int(no_out[0])} is not an output node but has no out-edges "
                             f"({len(no_out)} such node(s)); its metric weight outdeg would be 0")
        if (is_data & is_class).any():
            raise ValueError("a node cannot be both a data node and a class node")

        if order is None:
            order = _topological(n, src, dst, out_start, out_edges, indeg, data_nodes)
        order = _i32(order)
        if sorted(order.tolist()) != list(range(n)):
            raise ValueError("order must be a permutation of the nodes")
        return cls(n, src, dst, _i32(perm), in_start, out_start, out_edges, indeg, outdeg, k,
                   data_nodes, class_nodes, order)


def _layers_and_edges(sizes, closed):
    """Node ids of consecutive layers of the given sizes, and the edges joining every node
    of a layer to every node of the next (and of the last layer to the first if ``closed``),
    grouped by destination layer, within it by destination, then source."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"a layered net needs at least 2 layers of >= 1 node; got {sizes}")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    layers = [np.arange(starts[i], starts[i + 1]) for i in range(len(sizes))]
    pairs = list(zip(layers[:-1], layers[1:])) + ([(layers[-1], layers[0])] if closed else [])
    edges = np.concatenate([np.column_stack([np.tile(a, len(b)), np.repeat(b, len(a))])
                            for a, b in pairs])
    return layers, edges


def check_autoencoder_net(net):
    """The cyclic net of section 6.1 in the published numbering (data, encoder, code, decoder)
    must go round: encoder and code nodes read lower ids, decoder nodes read code or lower
    decoder nodes, and the data nodes read the code or decoder nodes (the decoder closes the
    cycle), so that a forward pass in node-id order from the data nodes, or from the code
    nodes round to the data nodes, meets every node's inputs before the node."""
    n_data, n_encode, n_code, _ = net.sizes
    code_start = n_data + n_encode
    src, dst = net.src, net.dst
    into_data = dst < n_data
    bad = into_data & (src < code_start)
    if bad.any():
        e = int(np.flatnonzero(bad)[0])
        raise ValueError(f"the autoencoder net does not close its cycle: data node {dst[e]} "
                         f"reads node {src[e]}, which is not a code or decoder node (the "
                         "decoder must feed the data nodes)")
    bad = ~into_data & ((src >= dst) | ((dst >= code_start + n_code) & (src < code_start)))
    if bad.any():
        e = int(np.flatnonzero(bad)[0])
        raise ValueError(f"the autoencoder net does not go round: node {dst[e]} reads node "
                         f"{src[e]} (encoder and code nodes must read lower ids, decoder nodes "
                         "code or lower decoder nodes)")


def _layers_of(g):
    """Layers of an acyclic graph by depth (longest path from a data node) when every edge
    joins consecutive depths, the data nodes are depth 0, the class nodes the last depth,
    and each depth's nodes are consecutive ids; else None."""
    depth = np.zeros(g.n_nodes, dtype=np.int64)
    for j in g.order:
        lo, hi = g.in_start[j], g.in_start[j + 1]
        if hi > lo:
            depth[j] = depth[g.src[lo:hi]].max() + 1
    if not (np.all(depth[g.dst] == depth[g.src] + 1) and np.all(depth[g.data_nodes] == 0)):
        return None
    layers = [np.flatnonzero(depth == d) for d in range(int(depth.max()) + 1)]
    if not (np.array_equal(np.sort(g.class_nodes), layers[-1])
            and all(np.array_equal(l, np.arange(l[0], l[0] + len(l))) for l in layers)):
        return None
    return layers


def _check_activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}; "
                         f"got {name!r}")
    return name


def _topological(n, src, dst, out_start, out_edges, indeg, data_nodes):
    """Kahn's order (sources first, ties by node id); for a cyclic graph, the
    breadth-first order from the data nodes, unreached nodes appended."""
    remaining = indeg.astype(np.int64).copy()
    ready = sorted(np.flatnonzero(remaining == 0).tolist())
    out = []
    import heapq
    heapq.heapify(ready)
    while ready:
        i = heapq.heappop(ready)
        out.append(i)
        for e in out_edges[out_start[i]:out_start[i + 1]]:
            j = int(dst[e])
            remaining[j] -= 1
            if remaining[j] == 0:
                heapq.heappush(ready, j)
    if len(out) == n:
        return out
    seen = np.zeros(n, bool)
    out = []
    queue = [int(d) for d in data_nodes]
    seen[queue] = True
    while queue:
        i = queue.pop(0)
        out.append(i)
        for e in out_edges[out_start[i]:out_start[i + 1]]:
            j = int(dst[e])
            if not seen[j]:
                seen[j] = True
                queue.append(j)
    out.extend(np.flatnonzero(~seen).tolist())
    return out

