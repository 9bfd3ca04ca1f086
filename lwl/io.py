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

Every reader accepts a plain text file or a ``.zip`` holding one text file and reads what the
published programs' readers (C's ``fscanf`` and ``strtod``) read, and nothing more: numbers are
separated by C's whitespace (space, tab, newline, ``\v``, ``\f``, ``\r``; so CRLF files are fine),
values are finite decimal numbers (``-1``, ``.5``, ``2.``, ``1e-3``; not ``1_000``, hexadecimal,
``inf`` or ``nan``), counts, ids and labels are decimal integers within a C ``int``. Anything else
raises :class:`FormatError` (a ValueError) naming the file, the 1-based line of the first problem and
what was expected there. The last line need not end with a newline (the published majority files
do not), as for ``fscanf``. Every reader runs in time linear in the file's size, and a header's
counts are checked against what the file can hold before anything of their size is allocated.

Writers write ``.zip`` when the path ends in ``.zip``, and write floats in their shortest exact form
(which ``strtod`` reads back to the same double), so a round trip reproduces the arrays bit for bit.
"""
from __future__ import annotations

import contextlib
import io
import numbers
import os
import re
import stat
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from sklearn.utils import check_array, check_scalar

__all__ = [
    "FormatError", "find_cycle",
    "read_data_file", "write_data_file", "data_file_text",
    "NetFile", "read_net_file", "write_net_file", "net_file_text",
    "NetParams", "read_param_file", "write_param_file",
    "write_whole",
]

_HEADERS = {
    "classifier": ("n_data", "n_hidden", "n_class"),
    "autoencoder": ("n_data", "n_encode", "n_code", "n_decode"),
}


class FormatError(ValueError):
    """A file that does not follow its format: ``path`` (with the member of a zip), the 1-based
    ``line`` of the first problem (None when the problem is not on a line: an unreadable zip, a
    directory) and ``what`` was wrong or expected.  A ValueError."""

    def __init__(self, name, line, what):
        self.path, self.line, self.what = name, line, what
        super().__init__(f"{name}, line {line}: {what}" if line is not None else f"{name}: {what}")


def _error(name, line, what):
    return FormatError(name, line, what)


# C's isspace in the "C" locale: what fscanf skips between numbers (bytes.split splits on the same)
_SPACE = b" \t\n\v\f\r"
# what strtod reads as a finite decimal number, and fscanf("%d") as an int; nothing more
# (written so that no two repetitions compete for the same digits: a token that fails to match
# costs time linear in its length, not quadratic)
_NUMBER = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(rb"[+-]?[0-9]+")
_NON_FINITE = re.compile(rb"[+-]?(?:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)", re.IGNORECASE)
_C_INT_MAX = 2**31 - 1


def _read_bytes(path):
    """(bytes, name) of a file, or of the single file inside a zip; name is for messages."""
    path = Path(path)
    name = str(path)
    if path.is_dir():
        raise _error(name, None, "is a directory, not a file")
    raw = path.read_bytes()
    if raw[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                members = [m for m in zf.infolist() if not m.is_dir()]
                if len(members) != 1:
                    raise _error(name, None, "a zipped file must hold exactly one file; it holds "
                                             f"{len(members)}")
                m = members[0]
                # zipfile allocates as the data decompress, not from the sizes the zip
                # declares, and checks the CRC: a damaged member is an error, never a huge
                # allocation (deflate expands at most about 1032:1)
                raw = zf.read(m)
                name = f"{path} ({m.filename})"
        except FormatError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
                NotImplementedError, RuntimeError, ValueError) as exc:
            raise _error(name, None, f"not a readable zip file ({type(exc).__name__}: {exc})"
                         ) from None
    return raw, name


def _line_of(raw, offset):
    return raw.count(b"\n", 0, offset) + 1


def _show(token):
    """A token as the messages quote it."""
    text = repr(token.decode("ascii", "backslashreplace"))
    return text if len(text) <= 40 else text[:36] + "...'"


def _number_problem(token):
    """Why a token is not a finite number (None when it is one)."""
    if _NUMBER.fullmatch(token):
        return None if np.isfinite(float(token)) else f"{_show(token)} is not finite"
    if _NON_FINITE.fullmatch(token):
        return f"{_show(token)} is not finite"
    if any(b >= 0x80 for b in token):
        return f"{_show(token)} is not a number (the file is not plain ASCII text)"
    return f"{_show(token)} is not a number"


def _check_not_empty(raw, name):
    if not raw.strip(_SPACE):
        raise _error(name, 1, "the file is empty")


def _int_or_none(token):
    """The value of a decimal integer token, or None; one with more digits than any C int
    (after its sign and leading zeros) is read as out of range without converting it
    (Python refuses long ones, and slowly)."""
    if not _INTEGER.fullmatch(token):
        return None
    digits = token.lstrip(b"+-").lstrip(b"0")
    return int(token) if len(digits) <= 20 else _C_INT_MAX + 1


class _Tokens:
    """The numbers of a file (separated as fscanf separates them), read in sequence; errors
    name the file and the line of the token concerned."""

    def __init__(self, raw, name):
        self.raw, self.name = raw, name
        _check_not_empty(raw, name)
        self.tokens = raw.split()  # splits on C's whitespace, as fscanf does
        self.pos = 0

    def _offset(self, pos):
        """Byte offset of token ``pos`` (found by re-splitting: only for messages)."""
        for i, m in enumerate(re.finditer(rb"[^ \t\n\v\f\r]+", self.raw)):
            if i == pos:
                return m.start()
        return len(self.raw.rstrip(_SPACE))

    def error(self, what, pos=None):
        pos = self.pos if pos is None else pos
        return _error(self.name, _line_of(self.raw, self._offset(pos)), what)

    def remaining(self):
        return len(self.tokens) - self.pos

    def next(self, what):
        if self.pos >= len(self.tokens):
            raise self.error(f"the file ends where {what} was expected")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def next_int(self, what, low, high=_C_INT_MAX):
        tok = self.next(what)
        v = _int_or_none(tok)
        if v is None:
            raise self.error(f"{what} must be an integer; found {_show(tok)}", self.pos - 1)
        if not low <= v <= high:
            raise self.error(f"{what} must be in {low}..{high}; found {_show(tok)}",
                             self.pos - 1)
        return v

    def next_float(self, what):
        tok = self.next(what)
        problem = _number_problem(tok)
        if problem is not None:
            raise self.error(f"{what} must be a finite number; {problem}", self.pos - 1)
        return float(tok)

    def expect_end(self, after):
        if self.pos < len(self.tokens):
            raise self.error(f"unexpected {_show(self.tokens[self.pos])} after {after}")


def write_whole(path, text):
    """Write ``text`` to ``path`` (a zip holding one file named after the path's stem when the
    path ends in ``.zip``) through a temporary file beside it that then replaces it: whoever
    reads ``path`` (or kills the writer) at any moment finds the previous file or the new one,
    never a part.  A symbolic link is followed (its target is replaced and the link kept), an
    existing file keeps its permissions, and what is not a regular file (a pipe, /dev/stdout)
    is written to as it is."""
    path = Path(path)
    if path.suffix.lower() == ".zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(path.stem, text)
        data = buffer.getvalue()
    else:
        data = text.encode()
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        with open(target, "wb") as fh:
            fh.write(data)
        return
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_UMASK
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()  # mkstemp makes files 0600; new files get the usual mode


def _fmt(values):
    return " ".join(map(repr, values))


# ----------------------------------------------------------------------------------- data files

def read_data_file(path, labelled=True):
    """Read a data file of the published programs.

    Returns ``(X, y)`` (float64 ``(n_items, n_values)``, int64 ``(n_items,)``) for labelled data,
    else ``X`` (NMF data, header ``n_values`` only). ``labelled=None`` tells the two apart by the
    header. Blank lines are ignored; every other line after the header is one item: its values
    (finite decimal numbers, as C's ``strtod`` reads them) and, for labelled data, an integer label
    in ``0 .. n_classes-1``. The file carries no item count, so any number of items (at least one)
    is accepted. Parsing is one ``numpy.loadtxt`` call (about 1 s for 10,000 MNIST digits); the
    line-by-line check runs only to name the line of an error.
    """
    raw, name = _read_bytes(path)
    _check_not_empty(raw, name)
    head, _, body = raw.partition(b"\n")
    tokens = head.split()
    if labelled is None:
        labelled = len(tokens) == 2
    form = "`n_values n_classes`" if labelled else "`n_values`"
    header = [_int_or_none(t) for t in tokens]
    if len(header) != (2 if labelled else 1) or any(v is None or not 1 <= v <= _C_INT_MAX
                                                    for v in header):
        hint = ""
        if labelled and len(header) == 1:
            hint = " (unlabelled NMF data? read it with labelled=False)"
        elif not labelled and len(header) == 2:
            hint = " (labelled data? read it with labelled=True)"
        found = head.decode("ascii", "backslashreplace").strip()
        raise _error(name, 1, f"the header must be {form} with positive integers; "
                              f"found {found[:60]!r}{hint}")
    n_values = header[0]
    n_classes = header[1] if labelled else None
    n_cols = n_values + bool(labelled)

    table = _load_fast(body, n_cols, n_classes)
    if table is None:  # something is wrong (or unusual): the strict reader names the line
        table = _parse_lines(name, body, n_values, n_classes)
    if not labelled:
        return table
    return np.ascontiguousarray(table[:, :n_values]), table[:, -1].astype(np.int64)


def _load_fast(body, n_cols, n_classes):
    """The table of a well-formed body in one numpy.loadtxt call, or None when a check fails.
    Only bytes that finite decimal numbers and C's whitespace are made of are let through, so
    that loadtxt reads what strtod reads (no underscores, no inf / nan, no other separators)."""
    if body.translate(None, b"0123456789+-.eE" + _SPACE):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # loadtxt warns about empty input
            table = np.loadtxt(io.StringIO(body.translate(_TO_SPACE).decode("ascii")),
                               dtype=np.float64, comments=None, ndmin=2)
    except ValueError:
        return None
    if table.shape[0] == 0 or table.shape[1] != n_cols or not np.isfinite(table).all():
        return None
    if n_classes is not None:
        lab = table[:, -1]
        if not ((lab >= 0) & (lab < n_classes)).all():
            return None
        if not all(_INTEGER.fullmatch(line.rsplit(None, 1)[-1])
                   for line in body.split(b"\n") if line.strip()):
            return None
    return table


_TO_SPACE = bytes.maketrans(b"\v\f\r", b"   ")


def _parse_lines(name, body, n_values, n_classes):
    """The table of a data file's body read token by token, or the FormatError of its first
    malformed item line (line numbers count the header)."""
    n_cols = n_values + (n_classes is not None)
    what_cols = f"{n_values} values and a label" if n_classes is not None else "values"
    n_rows, lineno = 0, 1
    for lineno, line in enumerate(body.split(b"\n"), start=2):
        tokens = line.split()
        if not tokens:
            continue
        for j, tok in enumerate(tokens[:n_values], start=1):
            problem = _number_problem(tok)
            if problem is not None:
                raise _error(name, lineno, f"value {j} must be a finite number; {problem}")
        if len(tokens) != n_cols:
            raise _error(name, lineno, f"expected {n_cols} numbers ({what_cols}); "
                                       f"found {len(tokens)}")
        if n_classes is not None:
            lab = _int_or_none(tokens[-1])
            if lab is None:
                ascii_ = "" if tokens[-1].isascii() else " (the file is not plain ASCII text)"
                raise _error(name, lineno, f"the label {_show(tokens[-1])} must be an "
                                           f"integer{ascii_}")
            if not 0 <= lab < n_classes:
                raise _error(name, lineno, f"the label {_show(tokens[-1])} is outside "
                                           f"0..{n_classes - 1} (the header declares {n_classes} "
                                           "classes)")
        n_rows += 1
    if not n_rows:
        raise _error(name, lineno, f"no items after the header; expected lines of {n_cols} "
                                   f"numbers ({what_cols})")
    # every token checked: each is a number strtod reads as Python's float does
    tokens = body.split()
    return np.fromiter(map(float, tokens), np.float64, len(tokens)).reshape(n_rows, n_cols)


def write_data_file(path, X, y=None, n_classes=None):
    """Write ``X`` (and labels ``y``) as a data file of the published programs.

    Without ``y`` the header is ``n_values`` (NMF data). ``n_classes`` defaults to ``max(y) + 1``.
    A path ending in ``.zip`` is written as a zip holding one file named after the path's stem.
    """
    write_whole(path, data_file_text(X, y, n_classes))


def data_file_text(X, y=None, n_classes=None):
    """The text :func:`write_data_file` writes."""
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
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ net files

@dataclass(frozen=True, eq=False)
class NetFile:
    """A network as its net file describes it.

    ``kind`` is ``"classifier"`` (``sizes = (n_data, n_hidden, n_class)``) or ``"autoencoder"``
    (``sizes = (n_data, n_encode, n_code, n_decode)``). Edge ``e`` runs from node ``src[e]`` to node
    ``dst[e]`` (0-based ids); edges are grouped by destination in node order, each group in the order
    of the file's source list, which is also the order of the weights in a parameter file.
    A classifier's net is acyclic (any directed acyclic graph: layered or not, sparse or dense) and
    its data nodes have no inputs; every other node, and every autoencoder node, has at least one.
    An autoencoder's net is cyclic: its data nodes take their inputs from the decoder.
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
            cycle = find_cycle(n, src, dst)
            if cycle is not None:
                raise ValueError(f"the net has a cycle ({' -> '.join(map(str, cycle))}); a "
                                 "classifier net must be acyclic (feed-forward)")
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)

    def __repr__(self):
        return f"NetFile({self.kind!r}, sizes={self.sizes}, {self.n_edges} edges)"

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


def find_cycle(n_nodes, src, dst):
    """A directed cycle of the graph with edges ``src[e] -> dst[e]`` as a list of node ids
    (first == last), or None when the graph is acyclic."""
    n = int(n_nodes)
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    remaining = np.bincount(dst, minlength=n)
    order = np.argsort(src, kind="stable")
    start = np.searchsorted(src[order], np.arange(n + 1))
    ready = list(np.flatnonzero(remaining == 0))
    while ready:  # Kahn's algorithm: what is left afterwards lies on or after a cycle
        i = ready.pop()
        for j in dst[order[start[i]:start[i + 1]]].tolist():
            remaining[j] -= 1
            if remaining[j] == 0:
                ready.append(j)
    if not remaining.any():
        return None
    # every node left has a predecessor left: walk back until a node repeats
    left = remaining > 0
    pred = np.full(n, -1)
    pred[dst[left[src] & left[dst]]] = src[left[src] & left[dst]]
    node, seen = int(np.flatnonzero(left)[0]), {}
    while node not in seen:
        seen[node] = len(seen)
        node = int(pred[node])
    walk = list(seen)[seen[node]:] + [node]
    return walk[::-1]


def read_net_file(path, kind=None):
    """Read a net file into a :class:`NetFile`.

    With ``kind=None`` the kind is told by the header: the numbers before the first blank line,
    3 for a classifier, 4 for an autoencoder (the published ``completenet`` and ``autonet`` write
    that blank line). Pass ``kind`` for a file without it. Node records must come in node order.
    A classifier's net must be acyclic (a cycle is reported with the line of the record that
    closes it); an autoencoder's is cyclic.
    """
    raw, name = _read_bytes(path)
    if kind is None:
        n_head = 0
        for line in raw.split(b"\n"):
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
    tok = _Tokens(raw, name)
    sizes = tuple(tok.next_int(f"the header's {n}", 1 if n in ("n_data", "n_class", "n_code")
                               else 0) for n in _HEADERS[kind])
    n_nodes = sum(sizes)
    first = sizes[0] if kind == "classifier" else 0
    # refuse a header that declares more nodes than the file can hold records of (each needs
    # at least 3 numbers), before anything of their size is made
    if n_nodes > _C_INT_MAX or n_nodes - first > tok.remaining():
        raise tok.error(f"the header declares {n_nodes} nodes, {n_nodes - first} of them with "
                        f"inputs, each needing a record of at least 3 numbers; the file holds "
                        f"only {tok.remaining()} numbers after the header", 0)
    # a classifier's data nodes have no records: each the net can use is a source id in one,
    # so more data nodes than the file has numbers means a header that does not fit its file
    if first > tok.remaining():
        raise tok.error(f"the header declares {first} data nodes, but the file holds only "
                        f"{tok.remaining()} numbers after the header: most of those data nodes "
                        "could not be the source of any edge", 0)
    src, dst, at = [], [], []
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
            seen.add(s)
            src.append(s)
            dst.append(node)
            at.append(tok.pos - 1)
    tok.expect_end(f"the record of the last node ({n_nodes - 1})")
    if kind == "classifier":
        cycle = find_cycle(n_nodes, src, dst)
        if cycle is not None:
            e = next(i for i, (a, b) in enumerate(zip(src, dst))
                     if a == cycle[-2] and b == cycle[-1])
            raise tok.error(f"the net has a cycle ({' -> '.join(map(str, cycle))}); a classifier "
                            "net must be acyclic (feed-forward)", at[e])
    return NetFile(kind, sizes, np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64))


def write_net_file(path, net):
    """Write a :class:`NetFile` byte for byte as the published ``completenet`` and ``autonet``
    write one: the header (a classifier's on one line, an autoencoder's as ``n_data n_encode``
    and ``n_code n_decode`` on two), a blank line, then every node's ``node_id indegree`` line
    and its sources' line, each source followed by a space."""
    write_whole(path, net_file_text(net))


def net_file_text(net):
    """The text :func:`write_net_file` writes."""
    s = net.sizes
    header = (f"{s[0]} {s[1]} {s[2]}" if net.kind == "classifier"
              else f"{s[0]} {s[1]}\n{s[2]} {s[3]}")
    bounds = np.searchsorted(net.dst, np.arange(net.n_nodes + 1))
    lines = [header, ""]
    for node in net.receiving_nodes:
        sources = net.src[bounds[node]:bounds[node + 1]]
        lines += [f"{node} {sources.size}", "".join(f"{s} " for s in sources.tolist())]
    return "\n".join(lines) + "\n"


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
    raw, name = _read_bytes(path)
    tok = _Tokens(raw, name)
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


def write_param_file(path, net, params, exact=True):
    """Write ``params`` (NetParams) for ``net`` (NetFile) in the published programs' layout: an
    autoencoder's ``Omega margin zig`` line and a blank line, then for every node with inputs its
    bias on one line, its weights (each followed by a space) on the next, and a blank line.
    ``exact=True`` writes every number in its shortest exact form (read back bit for bit);
    ``exact=False`` as the published programs print them (C's ``%lf``, six decimals)."""
    bias = np.asarray(params.bias, dtype=np.float64)
    weights = np.asarray(params.weights, dtype=np.float64)
    if bias.shape != (net.n_nodes,) or weights.shape != (net.n_edges,):
        raise ValueError(f"the net needs bias of shape ({net.n_nodes},) and weights of shape "
                         f"({net.n_edges},); got {bias.shape} and {weights.shape}")
    if not (np.isfinite(bias).all() and np.isfinite(weights).all()):
        raise ValueError("bias and weights must be finite")
    num = repr if exact else "{:f}".format
    parts = []
    if net.kind == "autoencoder":
        if params.omega is None or params.margin is None or params.zig is None:
            raise ValueError("an autoencoder's parameter file needs omega, margin and zig")
        check_scalar(params.omega, "omega", numbers.Real, min_val=0, include_boundaries="neither")
        check_scalar(params.margin, "margin", numbers.Real, min_val=0)
        parts.append(f"{num(float(params.omega))} {num(float(params.margin))} "
                     f"{int(bool(params.zig))}\n\n")
    bounds = np.searchsorted(net.dst, np.arange(net.n_nodes + 1))
    for node in net.receiving_nodes:
        row = "".join(num(v) + " " for v in weights[bounds[node]:bounds[node + 1]].tolist())
        parts.append(f"{num(float(bias[node]))}\n{row}\n\n")
    write_whole(path, "".join(parts))
