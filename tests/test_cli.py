"""The lwl command: every subcommand on small data with its outputs read back, options derived
from the estimators, every argument and output path checked before work, Ctrl-C saves."""
import argparse
import inspect
import re
import warnings

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
    assert m.status_ == "interrupted" and m.history_["epoch"] == [] and m.n_iter_ > 0
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
    assert command == "RRRnmf ledm.txt 5 6 1 30000 0.3 0.6 1e-7 n1"
    assert header == ["epoch", "GOPs", "aveiter", "errstart", "reconerr"]
    assert len(rows) == 1 and all(_matches(r, ["%5d", "%10.2f", "%9.2f", "%10.2e", "%10.6f"])
                                  for r in rows)
    assert re.fullmatch(r"secs: +\d+\.\d{3}", tail[0]) and re.fullmatch(r"\d+ iterations", tail[1])
    features, codes = (files / "n1.dat").read_text().split("\n\n")
    W = np.array([[float(v) for v in line.split()] for line in features.splitlines()])
    H = np.array([[float(v) for v in line.split()] for line in codes.splitlines()])
    assert W.shape == (6, 5) and H.shape == (6, 5)
    assert np.allclose(H @ W.T, ledm(6), atol=1e-5)   # six decimals, a solved factorisation


def test_rrrclass_and_its_parameter_file(files, capsys):
    main(["completenet", "13", "8", "2", "-o", "c.net"])
    assert main(["rrrclass", "train.txt", "test.txt", "c.net", "100", "3", "20", "0", "1", "2",
                 "1", "0.1", "out1", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    _, header, rows, tail = _log(files / "out1.log")
    assert header == "epoch GWMs aveiter errstart errstop batcherr trainerr testerr".split()
    assert len(rows) == 3 and rows[0] in out
    assert all(_matches(r, ["%5d", "%10.2f"] + ["%10.2e"] * 3 + ["%10.6f"] * 3) for r in rows)
    m = RRRClassifier.load_params("out1.dat", "c.net")
    Xt, yt = read_data_file("test.txt")
    assert float(rows[-1].split()[-1]) == pytest.approx(np.mean(m.predict(Xt) != yt), abs=1e-6)
    # the same run as the estimator's, epoch by epoch
    ref = RRRClassifier(net="c.net", batch_size=100, epochs=3, rrr_iter=20, tol=0, beta=1,
                        omega=2, upsilon=1, margin=0.1, random_state=3).fit(
        *read_data_file("train.txt"))
    assert np.array_equal(ref._weights, m._weights)
    assert [float(r.split()[1]) for r in rows] == [round(g, 2) for g in ref.history_["gwms"]]
    assert ref.history_["gwms"][0] < ref.history_["gwms"][2]  # cumulative, as the log's


def test_rrrclass_x_writes_the_exempted_items(files, capsys):
    main(["completenet", "13", "8", "2", "-o", "c.net"])
    assert main(["RRRclass_x", "train.txt", "test.txt", "c.net", "100", "3", "2", "10", "0", "1",
                 "2", "1", "0.1", "x", "--seed", "0", "-q"]) == 0
    _, header, rows, _ = _log(files / "x.log")
    assert len(rows) == 2 and not (files / "x.dat").exists()
    bad = (files / "x.bad").read_text().splitlines()
    assert len(bad) == 3 * 6                            # 3 per batch of 100, 6 batches
    X, y = read_data_file("train.txt")
    rows_of = {tuple(r) + (l,) for r, l in zip(X.tolist(), y.tolist())}
    for line in bad:
        values = [float(v) for v in line.split()]
        assert tuple(values) in rows_of and re.fullmatch(r".* \d", line)


def test_rrrclass_x_stops_early_below_tol(files):
    main(["completenet", "13", "8", "2", "-o", "c.net"])
    assert main(["RRRclass_x", "train.txt", "test.txt", "c.net", "100", "0", "4", "5", "1e9",
                 "1", "2", "1", "0.1", "x", "--seed", "0", "-q"]) == 0
    assert len(_log(files / "x.log")[2]) == 1


def test_rrrclass_fp(files, capsys):
    main(["completenet", "13", "8", "2", "-o", "c.net"])
    assert main(["RRRclass_fp", "train.txt", "test.txt", "c.net", "100", "2", "10", "0", "1",
                 "2", "1", "0.1", "0.25", "f", "--seed", "0", "-q"]) == 0
    _, header, rows, _ = _log(files / "f.log")
    assert header[-6:] == ["batchfp", "batchtn", "trainfp", "traintn", "testfp", "testtn"]
    fakes = read_data_file("f.fp")
    assert fakes[0].shape[1] == 13 and set(fakes[1]) == {0}
    assert (files / "f.fp").read_text().startswith("13 2\n\n")
    m = lwl.RRRFPAClassifier.load_params("f.param", "c.net")
    Xt, yt = read_data_file("test.txt")
    assert len(fakes[0]) == np.sum((yt == 0) & (m.predict(Xt) == 1))
    assert float(rows[-1].split()[-2]) == pytest.approx(
        np.mean(m.predict(Xt[yt == 0]) == 1), abs=1e-6)


def test_rrrauto_and_encode_decode(files, capsys):
    assert main(["autonet", "8", "3", "-o", "a.net"]) == 0
    assert read_net_file("a.net").sizes == (8, 0, 3, 0)
    assert main(["RRRauto", "eye.txt", "a.net", "8", "8", "2", "300", "1e-12", "0.5", "100",
                 "0.2", "0", "3", "a", "--seed", "0", "-q"]) == 0
    _, header, rows, _ = _log(files / "a.log")
    assert header[-4:] == ["dataerr", "codeerr", "dataerr*", "codeerr*"] and len(rows) == 2
    assert (files / "a.dat").read_text().startswith("100.0 0.2 0\n\n")
    decode = (files / "a.decode").read_text().splitlines()
    assert len(decode) == 6 and all(l.endswith(" 1") for l in decode[:3])
    assert all(l.endswith(" 0") for l in decode[3:])
    errs = (files / "a.err").read_text().split()
    assert len(errs) == 2 * (300 - 1)                   # one batch per epoch, its first left out
    model = RRRAutoencoder.load_params("a.dat", "a.net")
    assert model.margin == 0.4 and model.activation == "step"
    assert main(["encode", "eye.txt", "a.net", "a.dat", "-o", "codes.txt"]) == 0
    Z = read_data_file("codes.txt", labelled=False)
    assert np.array_equal(Z, model.transform(np.eye(8)))
    assert main(["decode", "codes.txt", "a.net", "a.dat", "-o", "back.txt"]) == 0
    assert np.array_equal(read_data_file("back.txt", labelled=False), model.inverse_transform(Z))


def test_ctrl_c_in_a_published_program_writes_its_files(files, interrupt_at_call, capsys):
    main(["completenet", "13", "8", "2", "-o", "c.net"])
    interrupt_at_call(6 + 3)  # 6 batches per epoch: in epoch 2
    rc = main(["RRRclass", "train.txt", "test.txt", "c.net", "100", "5", "10", "0", "1",
               "2", "1", "0.1", "i", "--seed", "0"])
    assert rc == 130 and "warning: fit interrupted" in capsys.readouterr().err
    _, _, rows, tail = _log(files / "i.log")
    assert len(rows) == 1 and tail[0].startswith("secs:")
    assert RRRClassifier.load_params("i.dat", "c.net").predict(np.zeros((1, 13))).shape == (1,)


def test_completenet_numbering(files, capsys):
    assert main(["completenet", "3", "2", "2"]) == 0
    assert capsys.readouterr().out == "3 2 2\n\n3 3\n0 1 2\n4 3\n0 1 2\n5 2\n3 4\n6 2\n3 4\n"
