"""The original programs' file formats: round trips and the errors of malformed files."""
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lwl.io import (FormatError, NetFile, NetParams, read_data_file, read_net_file, read_param_file,
                    write_data_file, write_net_file, write_param_file, write_whole)

DATA = Path(__file__).parent / "data"


def _zip(path, text, member="data"):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, text)
    return path


def _raises_at(path, line, match, reader, *args):
    with pytest.raises(ValueError, match=match) as err:
        reader(path, *args)
    assert str(path) in str(err.value)
    assert f"line {line}:" in str(err.value)


# ---------------------------------------------------------------------------------- data files

@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_data_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(0)
    X = rng.random((7, 5))
    X[0, 0] = 1e-300
    y = np.array([0, 2, 1, 2, 0, 1, 2])
    write_data_file(tmp_path / f"d{suffix}", X, y)
    X2, y2 = read_data_file(tmp_path / f"d{suffix}")
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert X2.flags.c_contiguous and X2.dtype == np.float64 and y2.dtype == np.int64

    write_data_file(tmp_path / f"nmf{suffix}", X)
    assert np.array_equal(read_data_file(tmp_path / f"nmf{suffix}", labelled=False), X)


def test_data_layout_blank_lines_and_crlf(tmp_path):
    X = np.array([[0.5, 1.0], [0.0, 0.25]])
    write_data_file(tmp_path / "d", X, [1, 0], n_classes=3)
    assert (tmp_path / "d").read_text().splitlines()[:3] == ["2 3", "", "0.5 1.0 1"]
    (tmp_path / "e").write_bytes(b"2 3\r\n\r\n0.5\t1 1\r\n\r\n0 .25 0\r\n")
    X2, y2 = read_data_file(tmp_path / "e")
    assert np.array_equal(X, X2) and list(y2) == [1, 0]


GOOD = "3 2\n\n0 0.5 1 1\n1 1 1 0\n"


@pytest.mark.parametrize("text, line, match", [
    ("3\n\n0 0.5 1 1\n", 1, "header.*labelled=False"),
    ("3 x\n\n0 0.5 1 1\n", 1, "header"),
    ("3 0\n\n0 0.5 1 1\n", 1, "header"),
    (GOOD + "0 1 1\n", 5, "expected 4 numbers.*found 3"),
    (GOOD + "\n0 1 1 1 1\n", 6, "expected 4 numbers.*found 5"),
    (GOOD + "0 abc 1 1\n", 5, "value 2 must be a finite number; 'abc' is not a number"),
    (GOOD + "0 nan 1 1\n", 5, "not finite"),
    (GOOD + "0 1 1 0.5\n", 5, "label '0.5' must be an integer"),
    (GOOD + "0 1 1 2\n", 5, r"label '2' is outside 0\.\.1"),
    (GOOD + "0 1 1 -1\n", 5, "outside"),
    ("3 2\n\n\n", 4, "no items"),
])
def test_malformed_data_file(tmp_path, text, line, match):
    (tmp_path / "bad").write_text(text)
    _raises_at(tmp_path / "bad", line, match, read_data_file)


def test_malformed_unlabelled_and_zipped(tmp_path):
    (tmp_path / "nmf").write_text("2 2\n\n1 2\n")
    _raises_at(tmp_path / "nmf", 1, "labelled=True", read_data_file, False)
    _zip(tmp_path / "bad.zip", GOOD + "0 1 1\n", member="inner")
    with pytest.raises(ValueError, match=r"bad\.zip \(inner\), line 5:"):
        read_data_file(tmp_path / "bad.zip")
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as zf:
        zf.writestr("a", GOOD)
        zf.writestr("b", GOOD)
    with pytest.raises(ValueError, match="exactly one file"):
        read_data_file(tmp_path / "two.zip")


def test_write_data_file_checks_labels(tmp_path):
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match="integers"):
        write_data_file(tmp_path / "d", X, [0.5, 1])
    with pytest.raises(ValueError, match="n_classes"):
        write_data_file(tmp_path / "d", X, [0, 3], n_classes=2)
    with pytest.raises(ValueError, match="shape"):
        write_data_file(tmp_path / "d", X, [0, 1, 1])


def test_mnist_sample_in_original_format(tmp_path):
    """The first 200 MNIST test digits in the original programs' format (shipped with the
    tests), verbatim, plain and re-zipped."""
    with zipfile.ZipFile(DATA / "mnist_test_200.zip") as zf:
        sample = zf.read("mnist_test_200").decode()
    (tmp_path / "mnist200").write_text(sample)
    X, y = read_data_file(tmp_path / "mnist200")
    assert X.shape == (200, 784) and 0 <= X.min() and X.max() <= 1 and set(y) <= set(range(10))
    X2, y2 = read_data_file(_zip(tmp_path / "mnist200.zip", sample))
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


# ----------------------------------------------------------------------------------- net files

def _layered(sizes):
    """Fully connected feed-forward classifier net, numbered like the published completenet."""
    src, dst, start = [], [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        for j in range(b):
            src += range(start, start + a)
            dst += [start + a + j] * a
        start += a
    return NetFile("classifier", (sizes[0], sum(sizes[1:-1]), sizes[-1]), np.array(src), np.array(dst))


def _auto():
    """Cyclic autoencoder 3 -> 2 -> 1 -> 2 -> back to the 3 data nodes (published autonet layout)."""
    layers = [[0, 1, 2], [3, 4], [5], [6, 7]]
    src, dst = [], []
    for j in layers[0]:
        src += layers[-1]
        dst += [j] * 2
    for below, above in zip(layers[:-1], layers[1:]):
        for j in above:
            src += below
            dst += [j] * len(below)
    return NetFile("autoencoder", (3, 2, 1, 2), np.array(src), np.array(dst))


def test_net_round_trip_and_layout(tmp_path):
    net = _layered([3, 2, 2])
    write_net_file(tmp_path / "c.net", net)
    assert (tmp_path / "c.net").read_text() == (
        "3 2 2\n\n3 3\n0 1 2 \n4 3\n0 1 2 \n5 2\n3 4 \n6 2\n3 4 \n")  # completenet's bytes
    back = read_net_file(tmp_path / "c.net")
    assert back.kind == "classifier" and back.sizes == (3, 2, 2)
    assert np.array_equal(back.src, net.src) and np.array_equal(back.dst, net.dst)
    assert list(back.receiving_nodes) == [3, 4, 5, 6] and back.n_edges == 10

    auto = _auto()
    write_net_file(tmp_path / "a.net.zip", auto)
    back = read_net_file(tmp_path / "a.net.zip")
    assert back.kind == "autoencoder" and back.sizes == (3, 2, 1, 2)
    assert np.array_equal(back.src, auto.src) and np.array_equal(back.dst, auto.dst)
    assert list(back.indegree) == [2, 2, 2, 3, 3, 2, 1, 1]


def test_net_kind_without_blank_line(tmp_path):
    (tmp_path / "n").write_text("2 0 1\n2 2\n0 1\n")
    with pytest.raises(ValueError, match="pass kind="):
        read_net_file(tmp_path / "n")
    assert read_net_file(tmp_path / "n", kind="classifier").n_edges == 2


NET = "2 1 1\n\n2 2\n0 1\n3 1\n2\n"


@pytest.mark.parametrize("text, line, match", [
    ("2 1 1 1 1\n\n2 2\n0 1\n", 1, "header"),
    ("2 -1 1\n\n2 2\n0 1\n3 1\n2\n", 1, "n_hidden"),
    ("2 1 1\n\n3 2\n0 1\n", 3, "expected the record of node 2"),
    ("2 1 1\n\n2 x\n0 1\n", 3, "indegree of node 2 must be an integer"),
    ("2 1 1\n\n2 0\n3 1\n2\n", 3, "indegree of node 2 must be in"),
    ("2 1 1\n\n2 2\n0 9\n3 1\n2\n", 4, "source id of node 2 must be in 0..3"),
    ("2 1 1\n\n2 2\n0 0\n3 1\n2\n", 4, "lists source 0 twice"),
    ("2 1 1\n\n2 2\n0 2\n3 1\n2\n", 4, "lists itself"),
    ("2 1 1\n\n2 2\n0 3\n3 1\n2\n", 4, r"cycle \(\d -> \d -> \d\).*acyclic"),
    ("2 1 1\n\n2 2\n0 1\n3 1\n", 5, "file ends where a source id of node 3"),
    (NET + "\n7\n", 8, "unexpected '7' after the record of the last node"),
])
def test_malformed_net_file(tmp_path, text, line, match):
    (tmp_path / "bad.net").write_text(text)
    _raises_at(tmp_path / "bad.net", line, match, read_net_file)


def test_netfile_checks():
    with pytest.raises(ValueError, match="no inputs"):
        NetFile("classifier", (2, 1, 1), np.array([0, 1]), np.array([2, 2]))
    with pytest.raises(ValueError, match="grouped by destination"):
        NetFile("classifier", (2, 0, 2), np.array([0, 0]), np.array([3, 2]))
    with pytest.raises(ValueError, match="data nodes"):
        NetFile("classifier", (1, 0, 1), np.array([1, 0]), np.array([0, 1]))
    with pytest.raises(ValueError, match="duplicate edge"):
        NetFile("autoencoder", (1, 0, 1, 0), np.array([1, 0, 0]), np.array([0, 1, 1]))


# ----------------------------------------------------------------------------- parameter files

def test_param_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    net = _layered([3, 2, 2])
    bias = np.r_[np.zeros(3), rng.normal(size=4)]
    params = NetParams(bias, rng.normal(size=net.n_edges))
    write_param_file(tmp_path / "c.dat", net, params)
    lines = (tmp_path / "c.dat").read_text().split("\n")
    assert float(lines[0]) == bias[3] and len(lines[1].split()) == 3 and lines[2] == ""
    back = read_param_file(tmp_path / "c.dat", net)
    assert np.array_equal(back.bias, bias) and np.array_equal(back.weights, params.weights)
    assert back.omega is None

    auto = _auto()
    params = NetParams(rng.normal(size=8), rng.normal(size=auto.n_edges), 10.0, 0.2, True)
    write_param_file(tmp_path / "a.param", auto, params)
    assert (tmp_path / "a.param").read_text().startswith("10.0 0.2 1\n\n")
    back = read_param_file(tmp_path / "a.param", auto)
    assert (back.omega, back.margin, back.zig) == (10.0, 0.2, True)
    assert np.array_equal(back.bias, params.bias) and np.array_equal(back.weights, params.weights)


def test_param_file_as_published(tmp_path):
    """%lf-formatted values, one node after another, as RRRclass writes its .dat file."""
    (tmp_path / "p.dat").write_text("0.125000\n1.000000 -2.500000 \n\n-0.500000\n3.000000 \n\n")
    net = NetFile("classifier", (2, 1, 1), np.array([0, 1, 2]), np.array([2, 2, 3]))
    p = read_param_file(tmp_path / "p.dat", net)
    assert list(p.bias) == [0, 0, 0.125, -0.5] and list(p.weights) == [1, -2.5, 3]


@pytest.mark.parametrize("text, line, match", [
    ("0.1\n1 2\n\n0.2\nx\n", 5, "weight 1 of 1 of node 3 must be a finite number; 'x' is not a number"),
    ("0.1\n1 2\n\n0.2\n", 4, "file ends where weight 1 of 1 of node 3"),
    ("0.1\n1 2\n\n0.2\n3\n\n4\n", 7, "unexpected '4'.*3 weights"),
    ("0.1\n1 inf\n\n0.2\n3\n", 2, "'inf' is not finite"),
])
def test_malformed_param_file(tmp_path, text, line, match):
    net = NetFile("classifier", (2, 1, 1), np.array([0, 1, 2]), np.array([2, 2, 3]))
    (tmp_path / "bad.dat").write_text(text)
    _raises_at(tmp_path / "bad.dat", line, match, read_param_file, net)


def test_malformed_autoencoder_param_header(tmp_path):
    net = _auto()
    (tmp_path / "bad.param").write_text("10 0.2 2\n\n")
    _raises_at(tmp_path / "bad.param", 1, r"zig .* must be in 0\.\.1", read_param_file, net)
    (tmp_path / "bad.param").write_text("-1 0.2 1\n\n")
    _raises_at(tmp_path / "bad.param", 1, "Omega must be positive", read_param_file, net)


# ------------------------------------------------------------- what fscanf / strtod would not read

@pytest.mark.parametrize("text, line, match", [
    (GOOD + "0 1\x1c1 1\n", 5, r"value 2 .*'1\\x1c1' is not a number"),   # not C whitespace
    (GOOD + "0 1_000.25 1 1\n", 5, "'1_000.25' is not a number"),
    (GOOD + "0 0x1p3 1 1\n", 5, "'0x1p3' is not a number"),
    (GOOD + "0 1 1 1.0\n", 5, "label '1.0' must be an integer"),
    (GOOD + "0 1 1 1\xe9\n", 5, "not plain ASCII"),
    ("", 1, "empty"),
    ("\n \n", 1, "empty"),
])
def test_data_file_refuses_what_c_would_not_read(tmp_path, text, line, match):
    (tmp_path / "bad").write_bytes(text.encode("latin-1"))
    _raises_at(tmp_path / "bad", line, match, read_data_file)


def test_data_file_c_whitespace_is_accepted(tmp_path):
    """\\v, \\f and \\r separate numbers as they do for fscanf; a trailing blank is fine."""
    (tmp_path / "d").write_bytes(b"2 2\r\n\r\n0.5\v1e0 1\f\r\n-.5 +2. 0\n  \n")
    X, y = read_data_file(tmp_path / "d")
    assert X.tolist() == [[0.5, 1.0], [-0.5, 2.0]] and y.tolist() == [1, 0]


def test_labelled_told_by_the_header(tmp_path):
    (tmp_path / "d").write_text(GOOD)
    (tmp_path / "u").write_text("2\n\n1 2\n")
    assert len(read_data_file(tmp_path / "d", labelled=None)) == 2
    assert read_data_file(tmp_path / "u", labelled=None).shape == (1, 2)


def test_unreadable_files_are_format_errors(tmp_path):
    with pytest.raises(FormatError, match="is a directory"):
        read_data_file(tmp_path)
    _zip(tmp_path / "z.zip", GOOD)
    raw = bytearray((tmp_path / "z.zip").read_bytes())
    raw[40] ^= 0xFF  # inside the deflated data or its header: a damaged zip
    (tmp_path / "z.zip").write_bytes(bytes(raw))
    with pytest.raises(FormatError, match=r"z\.zip"):
        read_data_file(tmp_path / "z.zip")
    with pytest.raises(FileNotFoundError):
        read_data_file(tmp_path / "missing")


def test_net_file_declaring_huge_counts_is_refused_before_allocating(tmp_path):
    (tmp_path / "n").write_text("1000000000000 1 1\n\n2 2\n0 1\n")  # 10^12 data nodes
    _raises_at(tmp_path / "n", 1, "header's n_data must be in 1..2147483647", read_net_file)
    (tmp_path / "n").write_text("2 1000000 1\n\n2 2\n0 1\n")
    _raises_at(tmp_path / "n", 1, "declares 1000003 nodes.*holds only 4 numbers", read_net_file)


def test_non_layered_classifier_net_is_read(tmp_path):
    """Any acyclic net, with sources in any order (a skip connection, a later id first)."""
    (tmp_path / "n").write_text("2 2 1\n\n2 1\n3\n3 2\n0 1\n4 3\n2 0 3\n")
    net = read_net_file(tmp_path / "n")
    assert net.src.tolist() == [3, 0, 1, 2, 0, 3] and net.dst.tolist() == [2, 3, 3, 4, 4, 4]


# ------------------------------------------------------------------ as the published files are

def test_a_last_line_without_a_newline_is_read(tmp_path):
    """fscanf reads the last number whether a newline follows or not; the published majority
    files end without one."""
    (tmp_path / "d").write_text(GOOD + "0 1 1 0")
    X, y = read_data_file(tmp_path / "d")
    assert X.shape == (3, 3) and list(y) == [1, 0, 0]
    net = _layered([3, 2, 2])
    write_net_file(tmp_path / "c.net", net)
    (tmp_path / "c.net").write_text((tmp_path / "c.net").read_text().rstrip())
    assert read_net_file(tmp_path / "c.net").n_edges == net.n_edges
    params = NetParams(np.arange(7.0), np.arange(10.0))
    write_param_file(tmp_path / "p", net, params)
    (tmp_path / "p").write_text((tmp_path / "p").read_text().rstrip())
    assert np.array_equal(read_param_file(tmp_path / "p", net).weights, params.weights)


# ------------------------------------------------------------------ readers cannot be made to hang

def _timed(fn, *args):
    import time
    start = time.process_time()
    try:
        fn(*args)
    except ValueError as exc:
        return time.process_time() - start, exc
    return time.process_time() - start, None


@pytest.mark.parametrize("where", ["data", "net", "param"])
def test_a_one_megabyte_number_is_read_in_linear_time(tmp_path, where):
    """A token of a million digits followed by a stray byte: a number pattern that backtracks
    would take hours (quadratic in the token's length); every reader refuses it at once."""
    token = "1" * 1_000_000 + "x"
    net = _layered([3, 2, 2])
    write_net_file(tmp_path / "c.net", net)
    if where == "data":
        (tmp_path / "f").write_text(f"3 2\n\n0 {token} 1 1\n")
        reader, args, line = read_data_file, (), 3
    elif where == "net":
        (tmp_path / "f").write_text(f"3 2 2\n\n3 3\n0 {token} 2 \n4 3\n0 1 2 \n5 2\n3 4 \n"
                                    "6 2\n3 4 \n")
        reader, args, line = read_net_file, (), 4
    else:
        (tmp_path / "f").write_text(f"0.5\n{token} 1 1\n")
        reader, args, line = read_param_file, (net,), 2
    seconds, err = _timed(reader, tmp_path / "f", *args)
    assert isinstance(err, FormatError) and f"line {line}:" in str(err), err
    assert seconds < 2.0, seconds      # about 0.05 s here; quadratic would be hours
    # a huge integer where a count is expected: out of range, not a conversion error
    (tmp_path / "g").write_text(f"{'9' * 100_000} 2 2\n\n3 3\n0 1 2\n")
    seconds, err = _timed(read_net_file, tmp_path / "g")
    assert isinstance(err, FormatError) and "must be in" in str(err) and seconds < 2.0


@pytest.mark.parametrize("header", ["100000000 0 2", "1000000000 0 2", "100000000 5 2"])
def test_a_header_is_checked_against_the_file_size(tmp_path, header):
    """A 30-byte net file whose header claims 10^8 or 10^9 data nodes is refused before any
    array of that size is made or any loop over them runs."""
    (tmp_path / "n").write_text(f"{header}\n\n{header.split()[0]} 1\n0\n")
    seconds, err = _timed(read_net_file, tmp_path / "n")
    assert isinstance(err, FormatError) and "nodes" in str(err) and "line 1" in str(err)
    assert seconds < 0.5


@pytest.mark.parametrize("name", ["f.txt", "f.zip"])
def test_write_whole_replaces_a_file_whole_or_not_at_all(tmp_path, monkeypatch, name):
    """A write cut short (here Ctrl-C at the moment of the rename) leaves the previous file as
    it was and no temporary file beside it."""
    import os
    path = tmp_path / name
    write_whole(path, "old\n")
    before = path.read_bytes()

    def interrupted(src, dst):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_whole(path, "new\n" * 1000)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [name]
    monkeypatch.undo()
    write_whole(path, "new\n")
    text = (path.read_text() if name.endswith("txt")
            else zipfile.ZipFile(path).read("f").decode())
    assert text == "new\n" and [p.name for p in tmp_path.iterdir()] == [name]


def test_a_long_integer_with_leading_zeros_is_read_as_fscanf_reads_it(tmp_path):
    (tmp_path / "d").write_text("0000000000000000000000003 +00000000000000000000000002\n\n"
                                "0 0.5 1 1\n1 1 1 0\n")
    X, y = read_data_file(tmp_path / "d")
    assert X.shape == (2, 3)
    (tmp_path / "n").write_text(f"{'9' * 30} 0 2\n\n")
    with pytest.raises(FormatError, match=r"found '9999"):
        read_net_file(tmp_path / "n")


def test_write_whole_follows_links_keeps_modes_and_writes_pipes(tmp_path):
    import os
    import threading
    target = tmp_path / "real.txt"
    write_whole(target, "old\n")
    os.chmod(target, 0o600)
    (tmp_path / "link.txt").symlink_to(target)
    write_whole(tmp_path / "link.txt", "new\n")
    assert (tmp_path / "link.txt").is_symlink() and target.read_text() == "new\n"
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_whole(fifo, "through a pipe\n")
    reader.join(timeout=10)
    assert got == ["through a pipe\n"] and fifo.exists() and not fifo.is_file()
