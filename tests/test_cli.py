"""The lwl command: every subcommand on small data with its outputs read back, options derived
from the estimators, every argument and output path checked before work, Ctrl-C saves."""
import argparse
import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import lwl
from lwl import RRRAutoencoder, RRRClassifier, RRRNMF
from lwl.cli import (AUTOENCODE_OPTIONS, CLASSIFY_OPTIONS, GENERATE_CLI_DEFAULTS,
                     GENERATE_OPTIONS, NMF_CLI_DEFAULTS, NMF_OPTIONS, TABLE_DEFAULT, build_parser,
                     main)
from lwl.datasets import ledm, majority_circuit
from lwl.io import read_data_file, read_net_file, write_data_file


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Small data files of the published formats in a scratch folder (the working directory)."""
    monkeypatch.chdir(tmp_path)
    X, y, Xt, yt, _ = majority_circuit(2, random_state=0)
    write_data_file("train.txt", X[:600], y[:600])
    write_data_file("test.txt", Xt[:300], yt[:300])
    write_data_file("ledm.txt", ledm(6))
    write_data_file("eye.txt", np.eye(8))
    return tmp_path


# ------------------------------------------------------------------ options from the estimators

def _subparser(name):
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


@pytest.mark.parametrize("command, cls, options, cli_defaults", [
    ("nmf", RRRNMF, NMF_OPTIONS, NMF_CLI_DEFAULTS),
    ("classify", RRRClassifier, CLASSIFY_OPTIONS, TABLE_DEFAULT),
    ("autoencode", RRRAutoencoder, AUTOENCODE_OPTIONS, TABLE_DEFAULT),
    ("generate", lwl.RRRFPAClassifier, GENERATE_OPTIONS, GENERATE_CLI_DEFAULTS),
])
def test_defaults_and_help_come_from_the_estimator(command, cls, options, cli_defaults):
    p = _subparser(command)
    sig = inspect.signature(cls.__init__).parameters
    actions = {a.dest: a for a in p._actions}
    for _, name in options:
        a = actions[name]
        if name in cli_defaults:
            assert a.default == cli_defaults[name][0]
            assert f"{cls.__name__}'s is" in a.help       # the difference is said
        else:
            assert a.default == sig[name].default, name
        assert len(a.help) > 20 and "default" in a.help, name
    for a in p._actions:                                   # every option has help
        assert a.help, a.dest


def test_nmf_max_iter_default_says_it_differs():
    help_text = _subparser("nmf").format_help()
    assert re.search(r"default 100000; RRRNMF's is\s+1000", help_text)


@pytest.mark.parametrize("command", ["nmf", "classify", "autoencode", "generate", "RRRnmf",
                                     "RRRclass", "RRRclass_x", "RRRclass_fp", "RRRauto",
                                     "completenet", "autonet", "encode", "decode"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    assert len(capsys.readouterr().out) > 300


def test_version_and_top_level_help(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"lwl {lwl.__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "RRRclass_fp" in out and "completenet" in out and "autoencode" in out


# ------------------------------------------------------------------ bad arguments, before work

@pytest.mark.parametrize("argv, message", [
    (["nmf", "--data", "ledm:abc"], "ledm:M needs a positive integer; got 'abc'"),
    (["nmf", "--data", "."], "is a directory"),
    (["nmf", "--data", "missing.txt"], "no such file: missing.txt"),
    (["classify", "--hidden", "a,b"], "argument --hidden: expected positive integers"),
    (["classify", "--exempt", "inf"], "argument --exempt: expected a count"),
    (["classify", "--omega", "-1"], r"argument --omega: must be a float in the range \(0.0, inf\)"),
    (["classify", "--omega", "nan"], "argument --omega: expected a finite number"),
    (["classify", "--out", "nowhere/m.npz"], "the folder nowhere does not exist"),
    (["classify", "--out", "."], "is a directory"),
    (["classify", "--out", "/proc/m.npz"], "cannot write the output file /proc/m.npz"),
    (["classify", "--data", "train.txt", "--test", "ledm.txt"], "ledm.txt, line 1: the header"),
    (["RRRclass", "train.txt", "test.txt", "x.net", "0", "1", "1", "0", "1", "2", "1", "0.1", "r"],
     "argument batchsize: must be an int in the range"),
    (["RRRclass", "train.txt", "test.txt", "x.net", "10", "1", "1", "0", "1", "2", "1", "0.1",
      "nowhere/r"], "the folder nowhere does not exist"),
    (["RRRclass", "train.txt", "test.txt", "x.net", "10", "1", "1", "0", "1", "2", "1", "0.1", "r"],
     "no such net file: x.net"),
    (["RRRauto", "eye.txt", "c.net", "8", "8", "1", "10", "0", "1", "9", "0.2", "2", "1", "a"],
     "argument zig: expected 0 .step. or 1 .zigmoid."),
])
def test_bad_arguments_are_refused_before_any_work(files, capsys, argv, message):
    main(["completenet", "13", "4", "2", "-o", "c.net"])
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's own refusal
        rc = e.code
    err = capsys.readouterr()
    assert rc == 2
    assert re.search(message, err.err), err.err
    assert "epoch" not in err.out          # no training started
    assert not list(files.glob("r.*")) and not (files / "lwl-classifier.npz").exists()


def test_out_is_written_under_the_name_given(files, capsys):
    assert main(["nmf", "-r", "5", "--omega", "0.6", "--beta", "0.3", "--seed", "1",
                 "--out", "result", "--codes", "codes.txt", "-v", "0"]) == 0
    out = capsys.readouterr().out
    assert "saved the model to result " in out and (files / "result").exists()
    model = RRRNMF.load("result")
    assert model.status_ == "converged" and model.components_.shape == (5, 6)
    W = read_data_file("codes.txt", labelled=False)
    assert np.allclose(W @ model.components_, ledm(6), atol=1e-5)


# ------------------------------------------------------------------ the friendly subcommands

def test_classify_saves_a_loadable_model(files, capsys):
    assert main(["classify", "--data", "train.txt", "--test", "test.txt", "--epochs", "2",
                 "--rrr-iter", "10", "--hidden", "6", "--seed", "0", "--out", "m.npz"]) == 0
    out = capsys.readouterr().out
    assert "train_err" in out and "test_err" in out and "600 training items, 300 test" in out
    m = RRRClassifier.load("m.npz")
    assert len(m.history_["epoch"]) == 2 and m.hidden_layer_sizes == (6,)
    assert m.history_["test_err"][-1] is not None


def test_classify_on_one_mnist_file_has_no_test_set(files, capsys):
    rng = np.random.default_rng(0)
    write_data_file("mnist_small.txt", rng.random((40, 784)), rng.integers(0, 10, 40),
                    n_classes=10)
    assert main(["classify", "--data", "mnist:mnist_small.txt", "--epochs", "1",
                 "--rrr-iter", "2", "--batch-size", "20", "--out", "m.npz", "-v", "0"]) == 0
    out = capsys.readouterr().out
    assert "no test set" in out and "test_err" not in out
    assert RRRClassifier.load("m.npz").history_["test_err"] == [None]


def test_classify_on_a_net_file(files, capsys):
    main(["completenet", "13", "5", "3", "2", "-o", "deep.net"])
    assert main(["classify", "--data", "train.txt", "--net", "deep.net", "--epochs", "1",
                 "--rrr-iter", "5", "--out", "m.npz", "-v", "0"]) == 0
    assert RRRClassifier.load("m.npz")._graph.n_edges == 13 * 5 + 5 * 3 + 3 * 2


def test_ctrl_c_in_the_first_epoch_of_classify_saves_the_model(files, interrupt_at_call,
                                                                 capsys):
    interrupt_at_call(2)
    rc = main(["classify", "--data", "train.txt", "--test", "test.txt", "--epochs", "3",
               "--rrr-iter", "10", "--out", "m.npz"])
    assert rc == 130
    # the estimator's warning, shown by the command as one plain line
    assert "lwl classify: warning: fit interrupted" in capsys.readouterr().err
    m = RRRClassifier.load("m.npz")
    assert m.status_ == "interrupted" and m.history_["epoch"] == [] and m.n_rrr_iter_ > 0
    assert m.predict(read_data_file("test.txt")[0]).shape == (300,)


def test_a_warning_made_an_error_by_the_user_ends_the_command_with_one_line(files, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as python -W error does
        rc = main(["nmf", "-r", "5", "--max-iter", "5", "--float32", "--tol", "1e-7",
                   "--out", "w.npz"])
    assert rc == lwl.cli.EXIT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lwl nmf: error: in float32 RRR_err levels off")


def test_ctrl_c_in_nmf_saves(files, interrupt_at_call, capsys):
    from lwl._nmf_engine import NMFState
    interrupt_at_call(1, NMFState)
    assert main(["nmf", "-r", "5", "--out", "n.npz", "--max-iter", "10"]) == 130
    assert "lwl nmf: warning: fit interrupted" in capsys.readouterr().err
    assert RRRNMF.load("n.npz").status_ == "interrupted"


@pytest.mark.parametrize("argv, cls, attribute", [
    (["nmf", "-r", "5", "--omega", "0.6", "--beta", "0.3", "--max-iter", "50"], RRRNMF,
     "components_"),
    (["classify", "--data", "train.txt", "--test", "test.txt", "--epochs", "1", "--rrr-iter",
      "10", "--hidden", "6"], RRRClassifier, "coefs_"),
    (["autoencode", "--data", "onehot:8", "--codes", "3", "--data-batch", "8", "--code-batch",
      "8", "--rrr-iter", "20", "--epochs", "1"], RRRAutoencoder, "code_distribution_"),
])
def test_float32_trains_in_single_precision(files, capsys, argv, cls, attribute):
    assert main(argv + ["--seed", "0", "--out", "m.npz", "-v", "0"]) == 0
    double = getattr(cls.load("m.npz"), attribute)
    capsys.readouterr()
    assert main(argv + ["--seed", "0", "--out", "m32.npz", "-v", "0", "--float32"]) == 0
    # NMF's default tol is below where float32's RRR_err levels off: under --float32 the
    # command's default is float32's, and only a --tol given below it draws the warning
    assert "levels off" not in capsys.readouterr().err
    if argv[0] == "nmf":
        assert main(argv + ["--seed", "0", "--out", "t.npz", "-v", "0", "--float32", "--tol",
                            "1e-7"]) == 0
        assert "lwl nmf: warning: in float32 RRR_err levels off" in capsys.readouterr().err
    single = getattr(cls.load("m32.npz"), attribute)
    for d, s in zip(*(a if isinstance(a, list) else [a] for a in (double, single))):
        assert d.dtype == np.float64 and s.dtype == np.float32


def test_autoencode_and_generate(files, capsys):
    assert main(["autoencode", "--data", "onehot:8", "--codes", "3", "--activation", "step",
                 "--margin", "0.4", "--omega", "100", "--beta", "0.5", "--data-batch", "8",
                 "--code-batch", "8", "--rrr-iter", "300", "--epochs", "1", "--seed", "0",
                 "--out", "auto.npz", "--codes-out", "codes.txt", "-v", "0"]) == 0
    assert "data_err" in capsys.readouterr().out
    auto = RRRAutoencoder.load("auto.npz")
    assert np.array_equal(read_data_file("codes.txt", labelled=False), auto.transform(np.eye(8)))
    assert main(["generate", "--autoencoder", "auto.npz", "--data", "onehot:8", "--samples", "5",
                 "--hidden", "4", "--batch-size", "16", "--rrr-iter", "20", "--epochs", "1",
                 "--seed", "0", "--out", "gen.txt", "--model-out", "gen.npz", "-v", "0"]) == 0
    assert "acceptance rate" in capsys.readouterr().out
    G = read_data_file("gen.txt", labelled=False)
    assert G.shape[1] == 8 and set(np.unique(G)) <= {0.0, 1.0}
    assert lwl.load("gen.npz").classifier_.hidden_layer_sizes == (4,)


# ------------------------------------------------------------------ the published programs

def _log(path):
    """(command line, header, rows, tail) of an id.log, checking its layout."""
    lines = path.read_text().split("\n")
    assert lines[1] == "" and lines[3] == ""
    end = lines.index("", 4)
    return lines[0], lines[2].split(), lines[4:end], lines[end + 1:]


ROW = {"d": r"[ \d]", "f": r"[ \d.-]", "e": r"[ \d.e+-]"}


def _matches(row, formats):
    pattern = "".join(f"{ROW[f[-1]]}{{{int(f[1:].split('.')[0].rstrip('dfe'))}}}"
                      for f in formats)
    return re.fullmatch(pattern, row)


def test_rrrnmf(files, capsys):
    assert main(["RRRnmf", "ledm.txt", "5", "6", "1", "30000", "0.3", "0.6", "1e-7", "n1",
                 "--seed", "1", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    command, header, rows, tail = _log(files / "n1.log")
    # the program and every argument but the id, each followed by a space
    assert command == "RRRnmf ledm.txt 5 6 1 30000 0.3 0.6 1e-7 "
    assert (files / "n1.log").read_text().split("\n")[2] == \
        "epoch      GOPs  aveiter  errstart  reconerr"
    assert header == ["epoch", "GOPs", "aveiter", "errstart", "reconerr"]
    assert len(rows) == 1 and all(_matches(r, ["%5d", "%10.2f", "%9.2f", "%10.2e", "%10.6f"])
                                  for r in rows)
    assert re.fullmatch(r"secs: +\d+\.\d{3}", tail[0]) and re.fullmatch(r"\d+ iterations", tail[1])
    dat = (files / "n1.dat").read_text()
    assert all(re.fullmatch(r"(-?\d+\.\d{6} )+", line) for line in dat.splitlines() if line)
    features, codes = dat.split("\n\n")
    W = np.array([[float(v) for v in line.split()] for line in features.splitlines()])
    H = np.array([[float(v) for v in line.split()] for line in codes.splitlines()])
    assert W.shape == (6, 5) and H.shape == (6, 5)
    assert np.allclose(H @ W.T, ledm(6), atol=1e-5)   # six decimals, a solved factorisation
    # rrrerr: every iteration's RRR_err, as C's %e
    errs = (files / "rrrerr").read_text().splitlines()
    assert len(errs) == int(tail[1].split()[0])
    assert all(re.fullmatch(r"\d\.\d{6}e[+-]\d\d", e) for e in errs)


def test_rrrnmf_rrrerr_can_be_moved_or_left_out(files):
    main(["RRRnmf", "ledm.txt", "5", "6", "1", "50", "0.3", "0.6", "1e-7", "n1", "--seed", "1",
          "-q", "--rrrerr", "n1.rrrerr"])
    assert len((files / "n1.rrrerr").read_text().splitlines()) == 50
    main(["RRRnmf", "ledm.txt", "5", "6", "1", "50", "0.3", "0.6", "1e-7", "n2", "--seed", "1",
          "-q", "--rrrerr", ""])
    assert not (files / "rrrerr").exists()


def test_rrrclass_and_its_parameter_file(files, capsys):
    main(["completenet", "13", "8", "2", "c.net"])
    assert main(["rrrclass", "train.txt", "test.txt", "c.net", "100", "3", "20", "0", "1", "2",
                 "1", "0.1", "out1", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    command, header, rows, tail = _log(files / "out1.log")
    assert command == "rrrclass train.txt test.txt c.net 100 3 20 0 1 2 1 0.1 "
    assert header == "epoch GWMs aveiter errstart errstop batcherr trainerr testerr".split()
    assert len(rows) == 3 and rows[0] in out and tail == []     # no secs: line in the log
    assert re.search(r"secs: +\d+\.\d{3}", out)                  # but on the terminal
    assert all(_matches(r, ["%5d", "%10.2f"] + ["%10.2e"] * 3 + ["%10.6f"] * 3) for r in rows)
    # the parameter file in C's %lf, as the published RRRclass writes it
    text = (files / "out1.dat").read_text()
    assert re.fullmatch(r"(-?\d+\.\d{6}\n(-?\d+\.\d{6} )+\n\n)+", text)
    m = RRRClassifier.load_params("out1.dat", "c.net")
    Xt, yt = read_data_file("test.txt")
    assert float(rows[-1].split()[-1]) == pytest.approx(np.mean(m.predict(Xt) != yt), abs=0.01)
    # the same run as the estimator's, epoch by epoch
    ref = RRRClassifier(net="c.net", batch_size=100, epochs=3, rrr_iter=20, tol=0, beta=1,
                        omega=2, upsilon=1, margin=0.1, random_state=3).fit(
        *read_data_file("train.txt"))
    assert np.allclose(ref._weights, m._weights, atol=5e-7)
    assert [float(r.split()[1]) for r in rows] == [round(g, 2) for g in ref.history_["gwms"]]
    assert ref.history_["gwms"][0] < ref.history_["gwms"][2]  # cumulative, as the log's
    assert [float(r.split()[5]) for r in rows] == [round(e, 6) for e in ref.history_["batch_err"]]


def test_the_classifiers_stop_when_an_epoch_starts_below_tol(files):
    main(["completenet", "13", "8", "2", "c.net"])
    for program, extra in (("RRRclass", []), ("RRRclass_fp", ["0.25"])):
        assert main([program, "train.txt", "test.txt", "c.net", "100", "4", "5", "1e9", "1",
                     "2", "1", "0.1", *extra, "s", "--seed", "0", "-q"]) == 0
        assert len(_log(files / "s.log")[2]) == 1, program


def test_rrrclass_x_writes_the_exempted_items(files, capsys):
    main(["completenet", "13", "8", "2", "c.net"])
    assert main(["RRRclass_x", "train.txt", "test.txt", "c.net", "100", "3", "2", "10", "0", "1",
                 "2", "1", "0.1", "x", "--seed", "0", "-q"]) == 0
    command, header, rows, _ = _log(files / "x.log")
    assert command == "RRRclass_x train.txt test.txt c.net 100 3 2 10 0 1 2 1 0.1 "
    assert len(rows) == 2 and not (files / "x.dat").exists()
    bad = (files / "x.bad").read_text().splitlines()
    assert len(bad) == 3 * 6                            # 3 per batch of 100, 6 batches
    X, y = read_data_file("train.txt")
    rows_of = {tuple(r) + (l,) for r, l in zip(X.tolist(), y.tolist())}
    for line in bad:
        values = [float(v) for v in line.split()]
        assert tuple(values) in rows_of and re.fullmatch(r"(\d\.0{6} )+\d", line)


def test_rrrclass_x_reads_ee_as_c_atoi_does(files, capsys):
    main(["completenet", "13", "8", "2", "c.net"])
    with pytest.warns(UserWarning, match="read as 0 exemptions"):
        assert main(["RRRclass_x", "train.txt", "test.txt", "c.net", "100", "0.005", "1", "2",
                     "0", "1", "2", "1", "0.1", "x", "--seed", "0", "-q"]) == 0
    assert not (files / "x.bad").exists()               # no exemptions: no id.bad, as published
    ref = RRRClassifier(net="c.net", batch_size=100, epochs=1, rrr_iter=2, tol=0, beta=1,
                        omega=2, upsilon=1, margin=0.1, random_state=0).fit(
        *read_data_file("train.txt"))
    assert _log(files / "x.log")[2][0].split()[5] == f"{ref.history_['batch_err'][0]:.6f}"
    # the fraction form has its own option
    assert main(["RRRclass_x", "train.txt", "test.txt", "c.net", "100", "0", "1", "2", "0",
                 "1", "2", "1", "0.1", "y", "--seed", "0", "-q", "--ee-fraction", "0.05"]) == 0
    assert len((files / "y.bad").read_text().splitlines()) == 5 * 6
    with pytest.raises(SystemExit):
        main(["RRRclass_x", "train.txt", "test.txt", "c.net", "100", "two", "1", "2", "0", "1",
              "2", "1", "0.1", "z", "-q"])
    assert "expected a whole number of exemptions" in capsys.readouterr().err


def test_rrrclass_x_stops_early_below_tol(files):
    main(["completenet", "13", "8", "2", "c.net"])
    assert main(["RRRclass_x", "train.txt", "test.txt", "c.net", "100", "0", "4", "5", "1e9",
                 "1", "2", "1", "0.1", "x", "--seed", "0", "-q"]) == 0
    assert len(_log(files / "x.log")[2]) == 1


def test_rrrclass_fp(files, capsys):
    main(["completenet", "13", "8", "2", "c.net"])
    assert main(["RRRclass_fp", "train.txt", "test.txt", "c.net", "100", "2", "10", "0", "1",
                 "2", "1", "0.1", "0.25", "f", "--seed", "0", "-q"]) == 0
    _, header, rows, _ = _log(files / "f.log")
    assert header[-6:] == ["batchfp", "batchtn", "trainfp", "traintn", "testfp", "testtn"]
    fakes = read_data_file("f.fp")
    assert fakes[0].shape[1] == 13 and set(fakes[1]) == {0}
    assert (files / "f.fp").read_text().startswith("13 2\n\n")
    assert re.fullmatch(r"(([ \d]{2}\.\d{8}){13} 0\n)*", (files / "f.fp").read_text()[6:])
    m = lwl.RRRFPAClassifier.load_params("f.param", "c.net")
    Xt, yt = read_data_file("test.txt")
    assert abs(len(fakes[0]) - np.sum((yt == 0) & (m.predict(Xt) == 1))) <= 2  # 6 decimals
    # the batch figures pool the epoch's batches, as the published program counts them
    ref = lwl.RRRFPAClassifier(net="c.net", batch_size=100, epochs=2, rrr_iter=10, tol=0,
                               beta=1, omega=2, upsilon=1, margin=0.1, fpa=0.25,
                               genuine_class=1, random_state=0).fit(*read_data_file("train.txt"))
    assert [float(r.split()[5]) for r in rows] == [round(v, 6) for v in ref.history_["batch_fp"]]


def test_rrrauto_and_encode_decode(files, capsys):
    assert main(["autonet", "-8", "3", "a.net"]) == 0
    assert read_net_file("a.net").sizes == (8, 0, 3, 0)
    assert main(["RRRauto", "eye.txt", "a.net", "8", "8", "2", "300", "1e-12", "0.5", "100",
                 "0.2", "0", "3", "a", "--seed", "0", "-q"]) == 0
    command, header, rows, tail = _log(files / "a.log")
    assert command == "RRRauto eye.txt a.net 8 8 2 300 1e-12 0.5 100 0.2 0 3 " and tail == []
    assert header[-4:] == ["dataerr", "codeerr", "dataerr*", "codeerr*"] and 1 <= len(rows) <= 2
    dat = (files / "a.dat").read_text()
    assert dat.startswith("100.000000 0.200000 0\n\n")
    assert re.fullmatch(r"(-?\d+\.\d{6}\n(-?\d+\.\d{6} )+\n\n)+", dat[23:])
    decode = (files / "a.decode").read_text().splitlines()
    assert len(decode) == 6 and all(l.endswith(" 1") for l in decode[:3])
    assert all(l.endswith(" 0") for l in decode[3:])
    errs = (files / "a.err").read_text().split()
    assert all(re.fullmatch(r"\d+\.\d{6}", e) for e in errs)   # C's %f
    model = RRRAutoencoder.load_params("a.dat", "a.net")
    assert model.margin == 0.4 and model.activation == "step"
    assert main(["encode", "eye.txt", "a.net", "a.dat", "-o", "codes.txt"]) == 0
    Z = read_data_file("codes.txt", labelled=False)
    assert np.array_equal(Z, model.transform(np.eye(8)))
    assert main(["decode", "codes.txt", "a.net", "a.dat", "-o", "back.txt"]) == 0
    assert np.array_equal(read_data_file("back.txt", labelled=False), model.inverse_transform(Z))


def test_rrrauto_err_file_leaves_out_each_batch_first_iteration(files):
    main(["autonet", "-8", "3", "a.net"])
    assert main(["RRRauto", "eye.txt", "a.net", "4", "8", "2", "30", "0", "0.5", "100",
                 "0.2", "0", "3", "a", "--seed", "0", "-q"]) == 0
    assert len(_log(files / "a.log")[2]) == 2
    assert len((files / "a.err").read_text().split()) == 2 * 2 * (30 - 1)  # 2 batches an epoch


def test_rrrauto_measures_its_errors_after_the_epoch_and_stops_when_solved(files):
    """Binary encoding n = 3, solved within the first epoch: the epoch's dataerr and codeerr,
    measured with its final parameters over all the data and all the codes, are 0, and the run
    stops there as the published RRRauto does."""
    write_data_file("eye8.txt", np.eye(8), np.arange(8))
    main(["autonet", "-8", "3", "a.net"])
    # the paper's settings (beta 0.5, Omega 100, Delta 0.4: margin 0.2); seed 5 solves it
    assert main(["RRRauto", "eye8.txt", "a.net", "8", "8", "5", "200000", "1e-10", "0.5", "100",
                 "0.2", "0", "8", "s", "--seed", "5", "-q"]) == 0
    rows = _log(files / "s.log")[2]
    assert rows[0].split()[5:] == ["0.000000"] * 4
    assert len(rows) == 1
    codes = [line.split() for line in (files / "s.decode").read_text().splitlines()[8:]]
    assert len(codes) == 8                              # all binary codes, in the published order
    model = RRRAutoencoder.load_params("s.dat", "a.net")
    bits = ((np.arange(8)[:, None] >> np.arange(3)) & 1).astype(float)
    assert np.array_equal(np.array([c[:-1] for c in codes], float), model.inverse_transform(bits))


def test_ctrl_c_in_a_published_program_writes_its_files(files, interrupt_at_call, capsys):
    main(["completenet", "13", "8", "2", "c.net"])
    interrupt_at_call(6 + 3)  # 6 batches per epoch: in epoch 2
    rc = main(["RRRclass", "train.txt", "test.txt", "c.net", "100", "5", "10", "0", "1",
               "2", "1", "0.1", "i", "--seed", "0"])
    captured = capsys.readouterr()
    assert rc == 130 and "warning: fit interrupted" in captured.err
    _, _, rows, tail = _log(files / "i.log")
    assert len(rows) == 1 and "secs:" in captured.out
    assert RRRClassifier.load_params("i.dat", "c.net").predict(np.zeros((1, 13))).shape == (1,)


# ------------------------------------------------------------------ the published helpers
# Expected bytes written from the published helpers' format statements: completenet's
# "%d %d %d\n\n", then per node "%d %d\n" and "%d " per source, "\n"; autonet's header
# "%d %d\n%d %d\n\n", the data nodes first (fed by the last layer); encode's "%d 2\n\n", then
# "%11.8lf" per code value and " 1\n" or " 0\n"; decode's "%11.8lf" per value and " %d\n".

def test_completenet_writes_the_published_bytes(files, capsys):
    assert main(["completenet", "3", "2", "2", "c.net"]) == 0
    expected = "3 2 2\n\n3 3\n0 1 2 \n4 3\n0 1 2 \n5 2\n3 4 \n6 2\n3 4 \n"
    assert (files / "c.net").read_text() == expected
    assert main(["completenet", "3", "2", "2"]) == 0           # no file: the terminal
    assert capsys.readouterr().out == expected
    assert main(["completenet", "3", "2", "2", "-o", "d.net"]) == 0
    assert (files / "d.net").read_text() == expected
    assert main(["completenet", "3", "x", "2", "e.net"]) == 2


def test_autonet_writes_the_published_bytes(files, capsys):
    assert main(["autonet", "-3", "-2", "1", "2", "a.net"]) == 0
    expected = ("3 2\n1 2\n\n"
                "0 2\n6 7 \n1 2\n6 7 \n2 2\n6 7 \n"           # data nodes, fed by the decoder
                "3 3\n0 1 2 \n4 3\n0 1 2 \n"                  # encoder
                "5 2\n3 4 \n"                                 # code
                "6 1\n5 \n7 1\n5 \n")                         # decoder
    assert (files / "a.net").read_text() == expected
    assert main(["autonet", "3", "2", "1", "2", "--code-layer", "2", "-o", "b.net"]) == 0
    assert (files / "b.net").read_text() == expected
    assert read_net_file("a.net").sizes == (3, 2, 1, 2)
    assert main(["autonet", "-3", "2", "-1", "x.net"]) == 2      # negative after positive
    assert "must come before" in capsys.readouterr().err


@pytest.fixture
def step_autoencoder(files):
    """A 2 -> 1 -> back to 2 step autoencoder with hand-set parameters (Omega 1): the code is
    step(x0 - x1), the decoding (step(z - 0.5), step(0.5 - z)) = (z, 1 - z)."""
    (files / "s.net").write_text("2 0\n1 0\n\n0 1\n2 \n1 1\n2 \n2 2\n0 1 \n")
    (files / "s.dat").write_text("1.000000 0.100000 0\n\n"
                                 "0.500000\n1.000000 \n\n"
                                 "-0.500000\n-1.000000 \n\n"
                                 "0.000000\n0.707107 -0.707107 \n\n")
    write_data_file("d.txt", np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), [0, 1, 0])
    return files


def test_encode_writes_the_published_bytes(step_autoencoder):
    # truefrac 1: every line is the code of the next data item after the first
    # codevalsamples (the data read round again), label 1
    assert main(["encode", "d.txt", "s.net", "s.dat", "2", "4", "1", "e", "--seed", "5"]) == 0
    assert (step_autoencoder / "e.encode").read_text() == (
        "1 2\n\n 1.00000000 1\n 1.00000000 1\n 0.00000000 1\n 1.00000000 1\n")
    # truefrac 0: every line a fake, each code node's value drawn from the codes of the first
    # codevalsamples items (here 1 and 0)
    assert main(["encode", "d.txt", "s.net", "s.dat", "2", "50", "0", "f", "--seed", "5"]) == 0
    lines = (step_autoencoder / "f.encode").read_text().split("\n")
    assert lines[:2] == ["1 2", ""] and lines[-1] == "" and len(lines) == 53
    assert set(lines[2:-1]) == {" 1.00000000 0", " 0.00000000 0"}
    assert main(["encode", "d.txt", "s.net", "s.dat", "2", "4", "1"]) == 2   # 6 arguments


def test_decode_writes_the_published_bytes(step_autoencoder):
    write_data_file("z.txt", np.array([[1.0], [0.0]]), [1, 0])
    assert main(["decode", "z.txt", "s.net", "s.dat", "z"]) == 0
    assert (step_autoencoder / "z.decode").read_text() == (
        " 1.00000000 0.00000000 1\n 0.00000000 1.00000000 0\n")


# ------------------------------------------------------------------ killed at any moment

def _complete_log(path, n_columns):
    """The rows of an id.log that must be whole: first line, blank, header, blank, rows."""
    lines = path.read_text().split("\n")
    assert lines[1] == "" and lines[3] == "" and len(lines[2].split()) == n_columns
    assert lines[-1] == ""                                       # ends with a whole line
    rows = [l for l in lines[4:-1] if l]
    for row in rows:
        assert len(row.split()) == n_columns and not row.startswith("secs")
    return rows


@pytest.mark.parametrize("program", ["RRRclass_x", "RRRauto"])
def test_a_run_killed_at_any_moment_leaves_whole_files(files, program):
    """SIGKILL at random moments (no chance to clean up): every file the run rewrites holds
    its previous or its new version, never a part, because each is written beside its place
    and renamed over it."""
    import os
    import signal
    import subprocess
    import sys
    import time
    main(["completenet", "13", "8", "2", "c.net"])
    main(["autonet", "-8", "3", "a.net"])
    write_data_file("eye8.txt", np.eye(8), np.arange(8))
    args = {"RRRclass_x": ["train.txt", "test.txt", "c.net", "20", "3", "1000", "2", "0", "1",
                           "2", "1", "0.1", "k"],
            "RRRauto": ["eye8.txt", "a.net", "4", "8", "1000", "40", "0", "0.5", "100", "0.2",
                        "0", "8", "k"]}[program]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(lwl.__file__).parents[1])] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    rng = np.random.default_rng(0)
    checked = 0
    for trial in range(5):
        for f in files.glob("k.*"):
            f.unlink()
        proc = subprocess.Popen([sys.executable, "-m", "lwl", program, *args, "--seed", "1",
                                 "-q"], env=env, cwd=files, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (files / "k.log").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.5))               # into the epochs
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not (files / "k.log").exists():
            continue
        rows = _complete_log(files / "k.log", 8 if program == "RRRclass_x" else 9)
        checked += len(rows)
        if program == "RRRclass_x" and (files / "k.bad").exists():
            for line in (files / "k.bad").read_text().splitlines():
                assert len(line.split()) == 14
        if program == "RRRauto":
            if (files / "k.dat").exists():
                RRRAutoencoder.load_params(files / "k.dat", "a.net")   # a whole parameter file
            if (files / "k.decode").exists():
                lines = (files / "k.decode").read_text().split("\n")
                assert lines[-1] == "" and all(len(l.split()) == 9 for l in lines[:-1])
                assert len(lines) in (1, 17)
    assert checked > 0                                   # some kills came after epochs


@pytest.mark.parametrize("ident", ["", "dd/"])
def test_an_id_that_names_no_file_is_refused(files, ident, capsys):
    (files / "dd").mkdir()
    main(["completenet", "13", "8", "2", "c.net"])
    assert main(["RRRclass", "train.txt", "test.txt", "c.net", "100", "1", "2", "0", "1", "2",
                 "1", "0.1", ident]) == 2
    assert "names no file" in capsys.readouterr().err
    assert not list(files.glob(".*")) and not list((files / "dd").iterdir())


def test_threads_zero_is_refused(files, capsys):
    with pytest.raises(SystemExit):
        main(["RRRclass", "train.txt", "test.txt", "c.net", "100", "1", "2", "0", "1", "2", "1",
              "0.1", "t", "--threads", "0"])
    assert "--threads: expected a positive integer" in capsys.readouterr().err


def test_rrrnmf_trains_on_whole_batches_and_measures_every_item(files):
    """As the published RRRnmf: batches of the file's items in order, the items after the last
    whole batch left out of training; with more than one batch, reconerr is the pseudo-inverse
    encoder's (eq 12-13) over every item."""
    from lwl.datasets import letter_montages
    X = letter_montages(110, random_state=0)[:, :64]
    write_data_file("l.txt", X)
    assert main(["RRRnmf", "l.txt", "4", "25", "1", "3", "1", "2", "0", "l", "--seed", "0",
                 "-q"]) == 0
    _, _, rows, tail = _log(files / "l.log")
    assert tail[1] == "12 iterations"                   # 4 whole batches of 25, 3 iterations
    W = np.array([[float(v) for v in line.split()]
                  for line in (files / "l.dat").read_text().split("\n\n")[0].splitlines()])
    codes = np.maximum(X @ np.linalg.pinv(W.T), 0)
    assert float(rows[0].split()[4]) == pytest.approx(np.sqrt(np.mean((X - codes @ W.T) ** 2)),
                                                      abs=2e-6)
    assert main(["RRRnmf", "l.txt", "4", "200", "1", "3", "1", "2", "0", "m", "-q"]) == 2


def test_encode_and_decode_refuse_an_id_that_names_no_file(step_autoencoder, capsys):
    assert main(["encode", "d.txt", "s.net", "s.dat", "2", "4", "1", "", "--seed", "5"]) == 2
    write_data_file("z.txt", np.array([[1.0], [0.0]]), [1, 0])
    assert main(["decode", "z.txt", "s.net", "s.dat", "."]) == 2
    assert "names no file" in capsys.readouterr().err
    assert not [p for p in step_autoencoder.iterdir() if p.name.startswith(".")]


def test_ee_and_ee_fraction_together_are_refused(files, capsys):
    main(["completenet", "13", "8", "2", "c.net"])
    assert main(["RRRclass_x", "train.txt", "test.txt", "c.net", "100", "3", "1", "2", "0",
                 "1", "2", "1", "0.1", "y", "-q", "--ee-fraction", "0.05"]) == 2
    assert "give ee 0 with --ee-fraction" in capsys.readouterr().err


def test_an_abbreviated_option_is_not_taken_for_another(files, capsys):
    main(["completenet", "13", "8", "2", "c.net"])
    with pytest.raises(SystemExit):
        main(["RRRclass", "train.txt", "test.txt", "c.net", "100", "1", "2", "0", "1", "2", "1",
              "0.1", "a", "--see", "3"])
