"""The lwl command: runs, prints the per-epoch table, saves, fails cleanly on bad input."""
import pickle

import numpy as np

from lwl.cli import main


def test_nmf_solves_ledm6_and_saves(tmp_path, capsys):
    out = tmp_path / "r.npz"
    assert main(["nmf", "--data", "ledm:6", "--components", "5", "--omega", "0.6", "--beta", "0.3",
                 "--seed", "1", "--tol", "1e-10", "--out", str(out), "--verbose", "1"]) == 0
    text = capsys.readouterr().out
    assert "converged" in text and "recon_err" in text
    saved = np.load(out)
    assert saved["components"].shape == (5, 6) and saved["codes"].shape == (6, 5)


def test_classify_majority_saves_a_model(tmp_path, capsys):
    out = tmp_path / "m.pkl"
    assert main(["classify", "--data", "majority:2", "--epochs", "2", "--rrr-iter", "10",
                 "--seed", "0", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "train_err" in text and "test_err" in text
    with open(out, "rb") as fh:
        model = pickle.load(fh)
    assert len(model.history_["epoch"]) == 2


def test_errors_are_reported_not_raised(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("3\n\n1 2 3\n4 x 6\n")
    assert main(["nmf", "--data", str(bad), "--components", "1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad.txt" in err and "line 4" in err
    assert main(["nmf", "--data", "ledm:6", "--components", "0"]) == 2
    assert "n_components" in capsys.readouterr().err
