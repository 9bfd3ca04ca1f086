"""The paper's published data files, read as they were published."""
from pathlib import Path

import numpy as np
import pytest

from lwl.io import read_data_file

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_the_published_majority_files_are_read_as_published(depth):
    """The six majority-circuit files of the paper (section 5.5.1), byte for byte as published
    (without a final newline): all 2^13 inputs, 4096 a file, train and test disjoint, and the
    label the majority-circuit structure makes self-dual (complemented inputs, flipped label)."""
    sets = [read_data_file(DATA / f"maj13_{depth}_3_{part}") for part in ("train", "test")]
    for part, (X, y) in zip(("train", "test"), sets):
        assert not (DATA / f"maj13_{depth}_3_{part}").read_bytes().endswith(b"\n")
        assert X.shape == (4096, 13) and set(np.unique(X)) == {0.0, 1.0} and set(y) == {0, 1}
    X = np.vstack([s[0] for s in sets])
    y = np.concatenate([s[1] for s in sets])
    codes = X @ (1 << np.arange(13))
    assert sorted(codes) == list(range(2 ** 13))      # every input once
    label_of = dict(zip(codes.tolist(), y.tolist()))
    assert all(label_of[c] != label_of[(2 ** 13 - 1) ^ c] for c in range(2 ** 13))


def test_rrrclass_runs_on_the_published_files(tmp_path, monkeypatch):
    """The drop-in on the files as published: lwl RRRclass reads them (no final newline) and
    logs its table."""
    from lwl.cli import main
    monkeypatch.chdir(tmp_path)
    assert main(["completenet", "13", "26", "2", "maj.net"]) == 0
    assert main(["RRRclass", str(DATA / "maj13_2_3_train"), str(DATA / "maj13_2_3_test"),
                 "maj.net", "128", "2", "20", "0", "1", "2", "1", "0.1", "run", "--seed", "0",
                 "-q"]) == 0
    rows = (tmp_path / "run.log").read_text().split("\n\n")[2].splitlines()
    assert [r.split()[0] for r in rows] == ["1", "2"]
    assert float(rows[-1].split()[1]) == round(1e-9 * 2 * 32 * 20 * 128 * (13 * 26 + 26 * 2), 2)
