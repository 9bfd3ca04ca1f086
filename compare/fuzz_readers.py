"""Fuzz every file reader of lwl with mutated copies of well-formed files.

    python compare/fuzz_readers.py --files 10000          # 10,000 mutated files per reader
    python compare/fuzz_readers.py --files 300 --seed 1   # the form the test suite runs

Each mutated file (truncations, byte flips, inserted and deleted bytes, control characters,
non-ASCII bytes, numbers replaced by huge counts, `inf`, `1_000`, duplicated or dropped lines) is
given to its reader, and the outcome is judged against a reference written here independently,
straight from the published programs' rules (numbers as C's ``fscanf`` / ``strtod`` read them,
separated by C's whitespace, the last line with or without a newline; counts as the headers
declare them, and no more of them than the file could hold):

* the reader must return what the reference reads, exactly, when the reference accepts;
* it must raise ``lwl.io.FormatError`` (a ValueError) naming the file (and, for a text file,
  the line) when the reference refuses;
* any other exception is a crash; a read that takes longer than ``--timeout`` s is a hang.

Prints one line per reader and a total; exits 1 when any file was mishandled.
"""
import argparse
import io
import re
import signal
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from lwl.io import (FormatError, NetFile, NetParams, read_data_file, read_net_file,
                    read_param_file, write_data_file, write_net_file, write_param_file)

# ------------------------------------------------------------------ the reference rules

SPACE = b" \t\n\v\f\r"               # C isspace in the "C" locale
NUMBER = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
INTEGER = re.compile(rb"[+-]?[0-9]+\Z")
INT_MAX = 2**31 - 1


class Reject(Exception):
    """The reference refuses the file."""


def unzip(raw):
    if raw[:4] != b"PK\x03\x04":
        return raw
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise Reject("zip members")
            return zf.read(members[0])
    except Reject:
        raise
    except Exception:
        raise Reject("zip") from None


def tokens_of(raw):
    """The tokens of a text (fscanf reads the last one whether a newline follows or not)."""
    tokens = re.findall(rb"[^ \t\n\v\f\r]+", raw)
    if not tokens:
        raise Reject("empty")
    return tokens


def number(tok):
    if not NUMBER.match(tok):
        raise Reject(f"not a number {tok!r}")
    v = float(tok)
    if not np.isfinite(v):
        raise Reject("not finite")
    return v


def integer(tok, low, high=INT_MAX):
    if not INTEGER.match(tok) or not low <= int(tok) <= high:
        raise Reject(f"bad integer {tok!r}")
    return int(tok)


def ref_data(raw, labelled):
    raw = unzip(raw)
    tokens_of(raw)
    lines = raw.split(b"\n")
    head = lines[0].split()
    if len(head) != (2 if labelled else 1):
        raise Reject("header")
    n_values = integer(head[0], 1)
    n_classes = integer(head[1], 1) if labelled else None
    rows, labels = [], []
    for line in lines[1:]:
        t = re.findall(rb"[^ \t\n\v\f\r]+", line)
        if not t:
            continue
        if len(t) != n_values + bool(labelled):
            raise Reject("item length")
        rows.append([number(x) for x in t[:n_values]])
        if labelled:
            labels.append(integer(t[-1], 0, n_classes - 1))
    if not rows:
        raise Reject("no items")
    X = np.array(rows)
    return (X, np.array(labels)) if labelled else X


def ref_net(raw):
    raw = unzip(raw)
    # the header: every number before the first line that holds none (found by a pattern,
    # not by lwl.io's line loop)
    head = re.split(rb"(?:^|\n)[ \t\v\f\r]*(?:\n|\Z)", raw, maxsplit=1)[0]
    n_head = len(re.findall(rb"[^ \t\n\v\f\r]+", head))
    if n_head not in (3, 4):
        raise Reject("header count")
    toks = tokens_of(raw)
    kind = "classifier" if n_head == 3 else "autoencoder"
    lows = (1, 0, 1) if kind == "classifier" else (1, 0, 1, 0)
    if len(toks) < n_head:
        raise Reject("short")
    sizes = [integer(t, lo) for t, lo in zip(toks, lows)]
    n = sum(sizes)
    first = sizes[0] if kind == "classifier" else 0
    if n > INT_MAX or n - first > len(toks):
        raise Reject("too many nodes")
    if first > len(toks) - n_head:  # more data nodes than numbers that could name them
        raise Reject("too many data nodes")
    pos, src, dst = n_head, [], []
    for node in range(first, n):
        if pos + 2 > len(toks) or integer(toks[pos], 0) != node:
            raise Reject("record")
        indeg = integer(toks[pos + 1], 1, n - 1)
        pos += 2
        sources = [integer(t, 0, n - 1) for t in toks[pos:pos + indeg]]
        if len(sources) != indeg or node in sources or len(set(sources)) != indeg:
            raise Reject("sources")
        pos += indeg
        src += sources
        dst += [node] * indeg
    if pos != len(toks):
        raise Reject("trailing")
    if kind == "classifier":  # acyclic: repeatedly strip nodes without remaining inputs
        preds = {j: set() for j in range(n)}
        for a, b in zip(src, dst):
            preds[b].add(a)
        while preds:
            free = [j for j, p in preds.items() if not p & preds.keys()]
            if not free:
                raise Reject("cycle")
            for j in free:
                del preds[j]
    return kind, tuple(sizes), np.array(src), np.array(dst)


def ref_param(raw, net):
    toks = tokens_of(unzip(raw))
    head = 3 if net.kind == "autoencoder" else 0
    if len(toks) != head + len(net.receiving_nodes) + net.n_edges:
        raise Reject("count")
    vals = [number(t) for t in toks[head:]]
    out = {}
    if head:
        out["omega"], out["margin"] = number(toks[0]), number(toks[1])
        out["zig"] = integer(toks[2], 0, 1)
        if out["omega"] <= 0 or out["margin"] < 0:
            raise Reject("header values")
    bias, weights, k = np.zeros(net.n_nodes), [], 0
    for node in net.receiving_nodes:
        bias[node] = vals[k]
        d = int(np.sum(net.dst == node))
        weights += vals[k + 1:k + 1 + d]
        k += 1 + d
    return bias, np.array(weights), out


def ref_idx(images_raw, labels_raw):
    def body(raw, ndim):
        if raw[:2] == b"\x1f\x8b":
            import gzip
            try:
                raw = gzip.decompress(raw)
            except Exception:
                raise Reject("gzip") from None
        magic = b"\x00\x00\x08" + bytes([ndim])
        if raw[:4] != magic or len(raw) < 4 + 4 * ndim:
            raise Reject("magic")
        dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
        data = raw[4 + 4 * ndim:]
        if len(data) != int(np.prod(dims)) or dims[0] == 0:
            raise Reject("size")
        return dims, np.frombuffer(data, np.uint8)
    (n, h, w), pixels = body(images_raw, 3)
    (m,), labels = body(labels_raw, 1)
    if (h, w) != (28, 28) or m != n or labels.max() > 9:
        raise Reject("shape")
    return pixels.reshape(n, 784) / 255.0, labels.astype(np.int64)


# ------------------------------------------------------------------ the seed files

def _classifier_net():
    layers = [[0, 1, 2], [3, 4], [5, 6]]
    src, dst = [], []
    for lo, hi in zip(layers[:-1], layers[1:]):
        for j in hi:
            src += lo
            dst += [j] * len(lo)
    src[-1], dst[-1] = 0, 6            # a skip connection: not layered
    src, dst = zip(*sorted(zip(src, dst), key=lambda e: e[1]))
    return NetFile("classifier", (3, 2, 2), np.array(src), np.array(dst))


def _autoencoder_net():
    layers = [[0, 1, 2], [3, 4], [5]]
    src, dst = [], []
    for j in layers[0]:
        src += [5]
        dst += [j]
    for lo, hi in zip(layers[:-1], layers[1:]):
        for j in hi:
            src += lo
            dst += [j] * len(lo)
    return NetFile("autoencoder", (3, 2, 1, 0), np.array(src), np.array(dst))


def seeds(tmp):
    """name -> list of (file bytes, extra) of well-formed files for every reader."""
    rng = np.random.default_rng(0)
    out = {}
    X, y = rng.random((4, 3)), np.array([0, 2, 1, 2])
    write_data_file(tmp / "d", X, y)
    write_data_file(tmp / "u", X)
    write_data_file(tmp / "d.zip", X, y)
    published = b"3 3\n\n" + b"".join(
        b" ".join(b"%lf" % v for v in row) + b" %d\n" % lab for row, lab in zip(X, y))
    out["data"] = [(tmp.joinpath("d").read_bytes(), True), (published, True),
                   (published.replace(b"\n", b"\r\n"), True),
                   (tmp.joinpath("d.zip").read_bytes(), True)]
    out["data_unlabelled"] = [(tmp.joinpath("u").read_bytes(), False)]
    cnet, anet = _classifier_net(), _autoencoder_net()
    write_net_file(tmp / "c.net", cnet)
    write_net_file(tmp / "a.net", anet)
    out["net"] = [(tmp.joinpath("c.net").read_bytes(), None),
                  (tmp.joinpath("a.net").read_bytes(), None)]
    cp = NetParams(np.r_[np.zeros(3), rng.normal(size=4)], rng.normal(size=cnet.n_edges))
    ap = NetParams(rng.normal(size=6), rng.normal(size=anet.n_edges), 10.0, 0.2, True)
    write_param_file(tmp / "c.dat", cnet, cp)
    write_param_file(tmp / "a.dat", anet, ap)
    as_published = b"".join(b"%lf\n" % cp.bias[n] + b"".join(
        b"%lf " % w for w in cp.weights[cnet.dst == n]) + b"\n\n" for n in cnet.receiving_nodes)
    out["param_classifier"] = [(tmp.joinpath("c.dat").read_bytes(), cnet), (as_published, cnet)]
    out["param_autoencoder"] = [(tmp.joinpath("a.dat").read_bytes(), anet)]
    images = b"\x00\x00\x08\x03" + (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + \
        rng.integers(0, 256, 3 * 784, dtype=np.uint8).tobytes()
    labels = b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + bytes([7, 0, 9])
    import gzip
    out["mnist_idx"] = [((images, labels), "images"), ((images, labels), "labels"),
                        ((gzip.compress(images), labels), "images")]
    from lwl import RRRAutoencoder, RRRClassifier
    Xc, yc = rng.random((30, 3)), np.arange(30) % 3
    RRRClassifier((3,), batch_size=10, rrr_iter=3, epochs=1, random_state=0).fit(
        Xc, yc).save(tmp / "c.npz")
    RRRAutoencoder((2,), n_codes=2, data_batch=10, code_batch=3, rrr_iter=3, epochs=1,
                   random_state=0).fit(Xc).save(tmp / "a.npz")
    out["model_file"] = [(tmp.joinpath(f).read_bytes(), tmp / f) for f in ("c.npz", "a.npz")]
    return out


# ------------------------------------------------------------------ mutations

SPECIAL = [b"\x1c", b"\x1f", b"\x00", b"\xff", b"\xc3\xa9", b"_", b"e", b".", b"-", b"+", b" ",
           b"\n", b"\t", b"\v", b"\r", b"x", b"0", b"9"]
HUGE = [b"1000000000000", b"99999999999999999999", b"2147483648", b"-1", b"0", b"inf", b"nan",
        b"1_000.25", b"1e999", b"0x10", b"1.5", b"1e-320"]


def mutate(raw, rng):
    """One to three random mutations of raw (bytes)."""
    for _ in range(int(rng.integers(1, 4))):
        n = len(raw)
        op = int(rng.integers(9))
        i = int(rng.integers(0, n + 1)) if n else 0
        if op == 0:                                   # truncate
            raw = raw[:i]
        elif op == 1 and n:                           # flip a byte
            i = min(i, n - 1)
            raw = raw[:i] + bytes([int(rng.integers(256))]) + raw[i + 1:]
        elif op == 2:                                 # insert a special byte string
            raw = raw[:i] + SPECIAL[int(rng.integers(len(SPECIAL)))] + raw[i:]
        elif op == 3:                                 # insert random bytes
            raw = raw[:i] + rng.integers(0, 256, int(rng.integers(1, 5)), np.uint8).tobytes() \
                + raw[i:]
        elif op == 4 and n:                           # delete a few bytes
            raw = raw[:i] + raw[i + int(rng.integers(1, 4)):]
        elif op == 5:                                 # a number becomes a huge count or oddity
            spans = [m.span() for m in re.finditer(rb"[0-9.eE+-]+", raw)]
            if spans:
                a, b = spans[int(rng.integers(len(spans)))]
                raw = raw[:a] + HUGE[int(rng.integers(len(HUGE)))] + raw[b:]
        elif op == 6:                                 # duplicate or drop a line
            lines = raw.split(b"\n")
            k = int(rng.integers(len(lines)))
            if rng.random() < 0.5:
                lines.insert(k, lines[k])
            else:
                del lines[k]
            raw = b"\n".join(lines)
        elif op == 7 and n:                           # cut inside the last number
            end = len(raw.rstrip(SPACE))
            raw = raw[:max(0, end - int(rng.integers(1, 3)))]
        elif op == 8 and n:                           # flip one bit
            i = min(i, n - 1)
            raw = raw[:i] + bytes([raw[i] ^ (1 << int(rng.integers(8)))]) + raw[i + 1:]
    return raw


# ------------------------------------------------------------------ judging one file

class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def same(a, b):
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b)


def run_one(kind, raw, extra, path):
    """(read, reference): the reader's result and the reference's, each a value or an
    exception; the files are written under path."""
    if kind == "mnist_idx":
        from lwl.datasets import load_mnist
        images, labels = raw
        (path / "train-images-idx3-ubyte").write_bytes(images)
        (path / "train-labels-idx1-ubyte").write_bytes(labels)
        target = path / "train-images-idx3-ubyte"
        reader = lambda: load_mnist(target)
        reference = lambda: ref_idx(images, labels)
    else:
        target = path / ("f.zip" if raw[:4] == b"PK\x03\x04" else "f.txt")
        target.write_bytes(raw)
        if kind == "model_file":  # the saved model, or a refusal: nothing in between
            import lwl
            reader = lambda: saved_content(lwl.load(target), path)
            reference = lambda: saved_content(lwl.load(extra), path)
        elif kind in ("data", "data_unlabelled"):
            reader = lambda: read_data_file(target, labelled=extra)
            reference = lambda: ref_data(raw, extra)
        elif kind == "net":
            def reader():
                n = read_net_file(target)
                return n.kind, n.sizes, n.src, n.dst
            reference = lambda: ref_net(raw)
        else:
            def reader():
                p = read_param_file(target, extra)
                hdr = {} if extra.kind == "classifier" else {
                    "omega": p.omega, "margin": p.margin, "zig": int(p.zig)}
                return p.bias, p.weights, hdr
            reference = lambda: ref_param(raw, extra)
    try:
        expected = reference()
    except Reject as exc:
        expected = exc
    try:
        got = reader()
    except Hang:
        raise
    except Exception as exc:  # judged below
        got = exc
    return got, expected, target


def saved_content(est, path):
    """Everything a model file holds, as the model saves it again (to compare two models)."""
    est.save(path / "again.npz")
    with np.load(path / "again.npz") as npz:
        return {k: npz[k] for k in npz.files}


def judge(kind, got, expected, target, raw):
    """'accepted', 'refused' (both fine) or the name of the defect."""
    if isinstance(got, FormatError):
        if kind == "model_file":
            # a zip with checksums: a mutation either leaves the content as it was (the model
            # loads unchanged) or is refused; the reference is the unmutated file's content
            expected = Reject("any change")
        if not isinstance(expected, Reject):
            return "refused a well-formed file"
        named = target.parent if kind == "mnist_idx" else target  # either IDX file
        if str(named) not in str(got):
            return "error does not name the file"
        is_text = kind not in ("mnist_idx", "model_file") and raw[:4] != b"PK\x03\x04"
        if is_text and got.line is None:
            return "error does not name the line"
        return "refused"
    if isinstance(got, BaseException):
        return f"crash: {type(got).__name__}"
    if isinstance(expected, Reject):
        return "accepted a malformed file"
    if not same(got, expected):
        return "read differs from the reference"
    return "accepted"


def fuzz(n_files, seed, timeout=10.0, kinds=None, verbose=True):
    """Run n_files mutated files per reader; returns {reader: Counter of outcomes} and the
    examples of defects (reader, outcome, file bytes)."""
    rng = np.random.default_rng(seed)
    results, defects = {}, []
    old = signal.signal(signal.SIGALRM, _alarm) if hasattr(signal, "SIGALRM") else None
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        all_seeds = seeds(tmp)
        for kind, items in all_seeds.items():
            if kinds and kind not in kinds:
                continue
            counts = Counter()
            start = time.perf_counter()
            for i in range(n_files):
                raw, extra = items[i % len(items)]
                work = tmp / f"{kind}-{i % 2}"
                work.mkdir(exist_ok=True)
                if kind == "mnist_idx":
                    images, labels = raw
                    if extra == "images":
                        raw = (mutate(images, rng), labels)
                    else:
                        raw = (images, mutate(labels, rng))
                    extra_arg = None
                else:
                    raw, extra_arg = mutate(raw, rng), extra
                if old is not None:
                    signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    got, expected, target = run_one(kind, raw, extra_arg, work)
                    outcome = judge(kind, got, expected, target,
                                    raw if kind != "mnist_idx" else b"")
                except Hang:
                    outcome = "hang"
                finally:
                    if old is not None:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                counts[outcome] += 1
                if outcome not in ("accepted", "refused"):
                    defects.append((kind, outcome, raw, got if outcome != "hang" else None))
            results[kind] = counts
            if verbose:
                print(f"{kind:18s} {n_files:6d} files in {time.perf_counter() - start:5.1f} s: "
                      + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), flush=True)
    if old is not None:
        signal.signal(signal.SIGALRM, old)
    return results, defects


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10000, help="mutated files per reader")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds before a read is a hang")
    ap.add_argument("--show", type=int, default=5, help="defect examples to print")
    args = ap.parse_args(argv)
    results, defects = fuzz(args.files, args.seed, args.timeout)
    total = sum(results.values(), Counter())
    print(f"total {sum(total.values())} files: "
          + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    for kind, outcome, raw, got in defects[:args.show]:
        print(f"  {kind}: {outcome}: {got!r:.300}\n    file: {raw!r:.300}")
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
