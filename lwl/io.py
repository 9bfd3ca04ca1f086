"""The file formats of the paper's published C programs, for compatibility.

Data files: a header line (``n_values n_classes``, or just ``n_values`` for NMF data), a blank line,
then one item per line: its values and, for labelled data, an integer label in ``0 .. n_classes-1``.
Net files: a header (``n_data n_hidden n_class`` for a classifier, ``n_data n_encode n_code n_decode``
for an autoencoder), a blank line, then for every node that has inputs, in node order, ``node_id
indegree`` and the ids of its source nodes. Node ids are 0-based and numbered data, hidden / encoder,
class / code, decoder (this is how the published ``completenet`` and ``autonet`` number them). In a
classifier the data nodes have no inputs; in the cyclic autoencoder of §6.1 every node has inputs, the
data nodes' coming from the last decoder layer. Parameter files: for every node with inputs, in node
order, its bias then its incoming weights in the order of the net file's sources; an autoencoder's
starts with ``Omega margin zig``.

Every reader accepts a plain text file or a ``.zip`` holding one text file, and raises ValueError
naming the file and the 1-based line of the first problem. Writers write ``.zip`` when the path ends
in ``.zip``, and write floats in their shortest exact form, so a round trip reproduces the arrays.
"""
from __future__ import annotations

import io
import numbers
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from sklearn.utils import check_array, check_scalar

__all__ = [
    "read_data_file", "write_data_file",
    "NetFile", "read_net_file", "write_net_file",
    "NetParams", "read_param_file", "write_param_file",
]

_HEADERS = {
    "classifier": ("n_data", "n_hidden", "n_class"),
    "autoencoder": ("n_data", "n_encode", "n_code", "n_decode"),
}


def _error(name, line, what):
    return ValueError(f"{name}, line {line}: {what}")


def _read_text(path):
    """(text, name) of a plain text file or of the single file inside a zip; name is for messages."""
    path = Path(path)
    raw = path.read_bytes()
    name = str(path)
    if raw[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise ValueError(f"{name}: a zipped file must hold exactly one file; "
                                 f"it holds {len(members)}")
            raw = zf.read(members[0])
            name = f"{path} ({members[0].filename})"
    try:
        return raw.decode("ascii"), name
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _error(name, line, f"not a text file (byte {raw[exc.start]:#04x})") from None


def _write_text(path, text):
    path = Path(path)
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(path.stem, text)
    else:
        path.write_text(text)


def _as_int(token):
    """The int a token spells (decimal digits with an optional sign), or None."""
    t = token[1:] if token[:1] in "+-" else token
    return int(token) if t.isdigit() and t.isascii() else None


def _fmt(values):
    return " ".join(map(repr, values))


# ----------------------------------------------------------------------------------- data files

def read_data_file(path, labelled=True):
    """Read a data file of the published programs.

    Returns ``(X, y)`` (float64 ``(n_items, n_values)``, int64 ``(n_items,)``) when ``labelled``,
    else ``X`` (NMF data, header ``n_values`` only). Blank lines between items are ignored. Values must
    be finite; labels integers in ``0 .. n_classes-1``. The file carries no item count, so any number
    of items (at least one) is accepted. Parsing is one ``numpy.loadtxt`` call (about 1 s for 10,000
    MNIST digits); the line-by-line check runs only to name the line of an error.
    """
    text, name = _read_text(path)
    head, _, body = text.partition("\n")
    form = "`n_values n_classes`" if labelled else "`n_values`"
    header = [_as_int(t) for t in head.split()]
    if len(header) != (2 if labelled else 1) or any(v is None or v < 1 for v in header):
        hint = ""
        if labelled and len(header) == 1:
            hint = " (unlabelled NMF data? read it with labelled=False)"
        elif not labelled and len(header) == 2:
            hint = " (labelled data? read it with labelled=True)"
        raise _error(name, 1, f"the header must be {form} with positive integers; "
                              f"found {head.strip()!r}{hint}")
    n_values = header[0]
    n_classes = header[1] if labelled else None
    n_cols = n_values + bool(labelled)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # loadtxt warns about empty input; checked below
            table = np.loadtxt(io.StringIO(body), dtype=np.float64, comments=None, ndmin=2)
    except ValueError as exc:
        table, reason = None, str(exc)
    else:
        reason = "inconsistent contents"
        if table.shape[0] == 0:
            raise _error(name, text.count("\n") + 1, "no items after the header")
    ok = table is not None and table.shape[1] == n_cols and np.isfinite(table).all()
    if ok and labelled:
        lab = table[:, -1]
        ok = bool(((lab == np.floor(lab)) & (lab >= 0) & (lab < n_classes)).all())
    if not ok:
        _raise_first_bad_line(name, body, n_values, n_classes)
        raise ValueError(f"{name}: could not be read: {reason}")
    if not labelled:
        return table
    return np.ascontiguousarray(table[:, :n_values]), table[:, -1].astype(np.int64)


def _raise_first_bad_line(name, body, n_values, n_classes):
    """Raise the ValueError for the first malformed item line (line numbers count the header)."""
    n_cols = n_values + (n_classes is not None)
    what_cols = f"{n_values} values and a label" if n_classes is not None else "values"
    for lineno, line in enumerate(body.split("\n"), start=2):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) != n_cols:
            raise _error(name, lineno, f"expected {n_cols} numbers ({what_cols}); "
                                       f"found {len(tokens)}")
        for j, tok in enumerate(tokens, start=1):
            try:
                v = float(tok)
            except ValueError:
                raise _error(name, lineno, f"entry {j} ({tok!r}) is not a number") from None
            if not np.isfinite(v):
                raise _error(name, lineno, f"entry {j} ({tok!r}) is not finite")
        if n_classes is not None:
            lab = float(tokens[-1])
            if lab != int(lab):
                raise _error(name, lineno, f"the label {tokens[-1]!r} is not an integer")
            if not 0 <= lab < n_classes:
                raise _error(name, lineno, f"the label {int(lab)} is outside 0..{n_classes - 1} "
                                           f"(the header declares {n_classes} classes)")


def write_data_file(path, X, y=None, n_classes=None):
    """Write ``X`` (and labels ``y``) as a data file of the published programs.

    Without ``y`` the header is ``n_values`` (NMF data). ``n_classes`` defaults to ``max(y) + 1``.
    A path ending in ``.zip`` is written as a zip holding one file named after the path's stem.
    """
    X = check_array(X, dtype=np.float64)
    if y is None:
        if n_classes is not None:
            raise ValueError("n_classes is given but there are no labels y")
        lines = [f"{X.shape[1]}", ""] + [_fmt(row) for row in X.tolist()]
    else:
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X; got {y.shape}")
        if not (np.issubdtype(y.dtype, np.integer)
                or (np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)))):
            raise ValueError("labels y must be integers")
        y = y.astype(np.int64)
        if y.min() < 0:
            raise ValueError(f"labels y must be >= 0; found {y.min()}")
        if n_classes is None:
            n_classes = int(y.max()) + 1
        check_scalar(n_classes, "n_classes", numbers.Integral, min_val=int(y.max()) + 1)
        lines = [f"{X.shape[1]} {n_classes}", ""] + [
            f"{_fmt(row)} {label}" for row, label in zip(X.tolist(), y.tolist())]
    _write_text(path, "\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------ net files

@dataclass(frozen=True, eq=False)
class NetFile:
    """A network as its net file describes it.

    ``kind`` is ``"classifier"`` (``sizes = (n_data, n_hidden, n_class)``) or ``"autoencoder"``
    (``sizes = (n_data, n_encode, n_code, n_decode)``). Edge ``e`` runs from node ``src[e]`` to node
    ``dst[e]`` (0-based ids); edges are grouped by destination in node order, each group in the order
    of the file's source list, which is also the order of the weights in a parameter file.
    A classifier must be feed-forward in node order (every source id below its destination's, as the
    published programs evaluate nodes in id order) and its data nodes have no inputs; every other
    node, and every autoencoder node, has at least one.
    """

    kind: str
    sizes: tuple
    src: np.ndarray
    dst: np.ndarray

    def __post_init__(self):
        if self.kind not in _HEADERS:
            raise ValueError(f"kind must be 'classifier' or 'autoencoder'; got {self.kind!r}")
        names = _HEADERS[self.kind]
        if len(self.sizes) != len(names):
            raise ValueError(f"a {self.kind} net has sizes ({', '.join(names)}); got {self.sizes!r}")
        for n, v in zip(names, self.sizes):
            check_scalar(v, n, numbers.Integral,
                         min_val=0 if n in ("n_hidden", "n_encode", "n_decode") else 1)
        object.__setattr__(self, "sizes", tuple(int(v) for v in self.sizes))
        src = np.asarray(self.src)
        dst = np.asarray(self.dst)
        if src.ndim != 1 or src.shape != dst.shape:
            raise ValueError(f"src and dst must be 1-D of equal length; got {src.shape}, {dst.shape}")
        if src.size and not (np.issubdtype(src.dtype, np.integer)
                             and np.issubdtype(dst.dtype, np.integer)):
            raise ValueError("src and dst must be integer node ids")
        src = src.astype(np.int64)
        dst = dst.astype(np.int64)
        n = self.n_nodes
        for arr, label in ((src, "src"), (dst, "dst")):
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise ValueError(f"{label} ids must be in 0..{n - 1}")
        if np.any(np.diff(dst) < 0):
            raise ValueError("edges must be grouped by destination in increasing node order")
        if np.any(src == dst):
            raise ValueError(f"self-edge on node {int(src[src == dst][0])}")
        if np.unique(dst * n + src).size != src.size:
            raise ValueError("duplicate edge")
        indeg = np.bincount(dst, minlength=n)
        receiving = self.receiving_nodes
        if np.any(indeg[receiving] == 0):
            raise ValueError(f"node {int(receiving[indeg[receiving] == 0][0])} has no inputs")
        if self.kind == "classifier":
            if np.any(dst < self.sizes[0]):
                raise ValueError("data nodes of a classifier cannot have inputs")
            if np.any(src >= dst):
                raise ValueError("a classifier net must be feed-forward in node order "
                                 "(every source id below its destination's)")
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)

    @property
    def n_nodes(self):
        return sum(self.sizes)

    @property
    def n_edges(self):
        return int(self.src.size)

    @property
    def receiving_nodes(self):
        """Ids of the nodes that have inputs (a net / parameter file record each), in order."""
        return np.arange(self.sizes[0] if self.kind == "classifier" else 0, self.n_nodes)

    @property
    def indegree(self):
        return np.bincount(self.dst, minlength=self.n_nodes)


class _Tokens:
    """Whitespace tokens of a text with their 1-based line numbers, read in sequence."""

    def __init__(self, text, name):
        self.name = name
        self.tokens, self.lines = [], []
        for lineno, line in enumerate(text.split("\n"), start=1):
            for tok in line.split():
                self.tokens.append(tok)
                self.lines.append(lineno)
        self.last_line = text.count("\n") + 1 - text.endswith("\n")
        self.pos = 0

    def error(self, what, pos=None):
        pos = self.pos if pos is None else pos
        line = self.lines[pos] if pos < len(self.lines) else self.last_line
        return _error(self.name, line, what)

    def next(self, what):
        if self.pos >= len(self.tokens):
            raise self.error(f"the file ends where {what} was expected")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def next_int(self, what, low, high=None):
        tok = self.next(what)
        v = _as_int(tok)
        if v is None:
            raise self.error(f"{what} must be an integer; found {tok!r}", self.pos - 1)
        if v < low or (high is not None and v > high):
            rng = f"{low}..{high}" if high is not None else f">= {low}"
            raise self.error(f"{what} must be in {rng}; found {v}", self.pos - 1)
        return v

    def next_float(self, what):
        tok = self.next(what)
        try:
            v = float(tok)
        except ValueError:
            raise self.error(f"{what} must be a number; found {tok!r}", self.pos - 1) from None
        if not np.isfinite(v):
            raise self.error(f"{what} must be finite; found {tok!r}", self.pos - 1)
        return v

    def expect_end(self, after):
        if self.pos < len(self.tokens):
            raise self.error(f"unexpected {self.tokens[self.pos]!r} after {after}")


def read_net_file(path, kind=None):
    """Read a net file into a :class:`NetFile`.

    With ``kind=None`` the kind is told by the header: the numbers before the first blank line,
    3 for a classifier, 4 for an autoencoder (the published ``completenet`` and ``autonet`` write that
    blank line). Pass ``kind`` for a file without it. Node records must come in node order.
    """
    text, name = _read_text(path)
    if kind is None:
        lines = text.split("\n")
        n_head = 0
        for line in lines:
            if not line.split():
                break
            n_head += len(line.split())
        kinds = {len(v): k for k, v in _HEADERS.items()}
        if n_head not in kinds:
            raise _error(name, 1, "the header must be `n_data n_hidden n_class` (classifier) or "
                                  "`n_data n_encode n_code n_decode` (autoencoder) followed by a "
                                  f"blank line; found {n_head} numbers before the first blank line "
                                  "(pass kind= for a file without that blank line)")
        kind = kinds[n_head]
    elif kind not in _HEADERS:
        raise ValueError(f"kind must be None, 'classifier' or 'autoencoder'; got {kind!r}")
    tok = _Tokens(text, name)
    sizes = tuple(tok.next_int(f"the header's {n}", 1 if n in ("n_data", "n_class", "n_code")
                               else 0) for n in _HEADERS[kind])
    n_nodes = sum(sizes)
    first = sizes[0] if kind == "classifier" else 0
    src, dst = [], []
    for node in range(first, n_nodes):
        start = tok.pos
        node_id = tok.next_int(f"the id of node {node}", 0)
        if node_id != node:
            raise tok.error(f"expected the record of node {node} (records go in node order); "
                            f"found node id {node_id}", start)
        indeg = tok.next_int(f"the indegree of node {node}", 1, n_nodes - 1)
        seen = set()
        for _ in range(indeg):
            s = tok.next_int(f"a source id of node {node}", 0, n_nodes - 1)
            if s == node:
                raise tok.error(f"node {node} lists itself as a source", tok.pos - 1)
            if s in seen:
                raise tok.error(f"node {node} lists source {s} twice", tok.pos - 1)
            if kind == "classifier" and s > node:
                raise tok.error(f"source {s} of node {node} is a later node; a classifier net "
                                "must be feed-forward in node order", tok.pos - 1)
            seen.add(s)
            src.append(s)
            dst.append(node)
    tok.expect_end(f"the record of the last node ({n_nodes - 1})")
    return NetFile(kind, sizes, np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64))


def write_net_file(path, net):
    """Write a :class:`NetFile` in the published programs' layout (header, blank line, records)."""
    s = net.sizes
    header = (f"{s[0]} {s[1]} {s[2]}" if net.kind == "classifier"
              else f"{s[0]} {s[1]}\n{s[2]} {s[3]}")
    bounds = np.searchsorted(net.dst, np.arange(net.n_nodes + 1))
    lines = [header, ""]
    for node in net.receiving_nodes:
        sources = net.src[bounds[node]:bounds[node + 1]]
        lines += [f"{node} {sources.size}", " ".join(map(str, sources.tolist()))]
    _write_text(path, "\n".join(lines) + "\n")


# ------------------------------------------------------------------------------ parameter files

@dataclass(eq=False)
class NetParams:
    """Parameters of a net: ``bias`` per node (0 on nodes without inputs), ``weights`` per edge in
    the :class:`NetFile` edge order; for an autoencoder also the file's ``omega``, ``margin`` (as
    RRRauto writes it: the half-width Delta/2 of the step gap or zigmoid ramp) and ``zig`` (zigmoid
    rather than step activation)."""

    bias: np.ndarray
    weights: np.ndarray
    omega: Optional[float] = None
    margin: Optional[float] = None
    zig: Optional[bool] = None


def read_param_file(path, net):
    """Read a parameter file for the net ``net`` (a :class:`NetFile`) into NetParams."""
    text, name = _read_text(path)
    tok = _Tokens(text, name)
    params = NetParams(np.zeros(net.n_nodes), np.empty(net.n_edges))
    if net.kind == "autoencoder":
        params.omega = tok.next_float("Omega (first number of an autoencoder's parameter file)")
        if params.omega <= 0:
            raise tok.error(f"Omega must be positive; found {params.omega!r}", tok.pos - 1)
        params.margin = tok.next_float("margin (second number)")
        if params.margin < 0:
            raise tok.error(f"margin must be >= 0; found {params.margin!r}", tok.pos - 1)
        params.zig = bool(tok.next_int("zig (third number, 0 or 1)", 0, 1))
    indeg = net.indegree
    e = 0
    for node in net.receiving_nodes:
        params.bias[node] = tok.next_float(f"the bias of node {node}")
        for d in range(indeg[node]):
            params.weights[e] = tok.next_float(f"weight {d + 1} of {indeg[node]} of node {node}")
            e += 1
    tok.expect_end(f"the parameters of the last node ({net.n_nodes - 1}); the net has "
                   f"{net.receiving_nodes.size} biases and {net.n_edges} weights")
    return params


def write_param_file(path, net, params):
    """Write ``params`` (NetParams) for ``net`` (NetFile): per node its bias line, weight line, blank."""
    bias = np.asarray(params.bias, dtype=np.float64)
    weights = np.asarray(params.weights, dtype=np.float64)
    if bias.shape != (net.n_nodes,) or weights.shape != (net.n_edges,):
        raise ValueError(f"the net needs bias of shape ({net.n_nodes},) and weights of shape "
                         f"({net.n_edges},); got {bias.shape} and {weights.shape}")
    if not (np.isfinite(bias).all() and np.isfinite(weights).all()):
        raise ValueError("bias and weights must be finite")
    lines = []
    if net.kind == "autoencoder":
        if params.omega is None or params.margin is None or params.zig is None:
            raise ValueError("an autoencoder's parameter file needs omega, margin and zig")
        check_scalar(params.omega, "omega", numbers.Real, min_val=0, include_boundaries="neither")
        check_scalar(params.margin, "margin", numbers.Real, min_val=0)
        lines += [f"{float(params.omega)!r} {float(params.margin)!r} {int(bool(params.zig))}", ""]
    bounds = np.searchsorted(net.dst, np.arange(net.n_nodes + 1))
    for node in net.receiving_nodes:
        lines += [repr(float(bias[node])), _fmt(weights[bounds[node]:bounds[node + 1]].tolist()), ""]
    _write_text(path, "\n".join(lines))
