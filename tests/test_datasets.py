"""Generated data sets (letter montages §4.4.2, majority circuits §5.5.1) and the MNIST loader."""
import gzip
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from lwl.datasets import (letter_montages, letter_position_templates, load_mnist, majority_circuit,
                          match_letter_features)
from lwl.io import write_data_file



# ------------------------------------------------------------------------------- letter montages

def test_letter_montages_shapes_ranges_determinism():
    X = letter_montages(300, random_state=3)
    assert X.shape == (300, 1600) and X.dtype == np.float64 and X.flags.c_contiguous
    assert X.min() == 0 and X.max() == 1
    assert np.array_equal(X, letter_montages(300, random_state=3))
    assert not np.array_equal(X, letter_montages(300, random_state=4))
    assert letter_montages(1).shape == (1, 1600)
    with pytest.raises(ValueError, match="n_samples"):
        letter_montages(0)


def test_letter_montages_are_sums_of_disjoint_parts():
    X, parts, index = letter_montages(500, random_state=0, return_parts=True)
    assert parts.shape == (32, 1600) and index.shape == (500, 4)
    filled = index >= 0
    assert np.all((index[filled] // 8) == np.nonzero(filled)[1])  # part 8p..8p+7 at position p
    assert 0 < (~filled).mean() < 0.15  # default p_blank = 0.05
    for k in range(500):
        assert np.array_equal(X[k], parts[index[k][index[k] >= 0]].sum(axis=0))
    img = parts.reshape(32, 40, 40)
    for part in range(32):
        p = part // 8
        r, c = 20 * (p // 2), 20 * (p % 2)
        outside = img[part].copy()
        outside[r + 1:r + 19, c + 1:c + 19] = 0  # nonzero only strictly inside its quadrant
        assert not outside.any() and img[part].max() == 1
    assert len({parts[i].tobytes() for i in range(32)}) == 32

    X0, _, index0 = letter_montages(200, random_state=0, return_parts=True, p_blank=0)
    assert (index0 >= 0).all()


def test_letter_templates_and_matching():
    X, parts, index = letter_montages(2000, random_state=0, return_parts=True)
    T = letter_position_templates()
    assert T.shape == (16, 1600)
    assert np.allclose(T[4 * 2 + 1], (parts[8 * 2 + 2] + parts[8 * 2 + 3]) / 2)  # x at position 2
    # the rank-16 template factorisation has the paper's recon_err of a successful run, about 0.089
    codes = np.linalg.lstsq(T.T, X.T, rcond=None)[0].T
    assert 0.085 < np.sqrt(np.mean((X - codes @ T) ** 2)) < 0.095

    perm = np.random.default_rng(0).permutation(16)
    sim, assign = match_letter_features(3.0 * T[perm])
    assert np.allclose(sim, 1) and np.array_equal(perm[assign], np.arange(16))
    W = T.copy()
    W[4] = parts[8 * 1 + 2 * 0]      # w at position 1, plain font
    W[5] = parts[8 * 1 + 2 * 0 + 1]  # ... and slanted, in place of x at position 1 (the paper's miss)
    sim, _ = match_letter_features(W)
    assert (sim > 0.95).sum() == 15 and sim[5] < 0.7
    sim, assign = match_letter_features(T[:10])
    assert (assign == -1).sum() == 6 and np.allclose(np.sort(sim)[6:], 1)


def test_rank16_nmf_recovers_the_letters():
    """The paper's claim (§4.4.2, Fig 5): a good rank-16 NMF finds every letter/position."""
    from sklearn.decomposition import NMF

    X = letter_montages(2000, random_state=0)
    best = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in (1, 2):
            model = NMF(16, init="random", random_state=seed, max_iter=1000, tol=1e-6).fit(X)
            sim, _ = match_letter_features(model.components_)
            best = max(best, int((sim > 0.95).sum()))
            if best == 16:
                break
    assert best == 16


# ------------------------------------------------------------------------------ majority circuits

def test_majority_circuit_split_and_labels():
    Xtr, ytr, Xte, yte, circuit = majority_circuit(3, random_state=0)
    assert Xtr.shape == Xte.shape == (4096, 13) and ytr.shape == yte.shape == (4096,)
    assert Xtr.dtype == np.float64 and ytr.dtype == np.int64
    codes = np.r_[Xtr, Xte] @ (2 ** np.arange(12, -1, -1))
    assert np.array_equal(np.sort(codes), np.arange(2 ** 13))  # disjoint halves covering all inputs
    assert np.array_equal(circuit.evaluate(Xtr), ytr) and np.array_equal(circuit.evaluate(Xte), yte)
    assert set(ytr) == set(yte) == {0, 1}
    assert ytr.sum() + yte.sum() == 4096  # self-duality: the classes are balanced exactly
    assert circuit.depth == 3
    assert [s.shape for s in circuit.sources] == [(13, 3), (13, 3), (1, 13)]
    for s in circuit.sources[:-1]:
        assert all(len(set(row)) == 3 for row in s) and s.min() >= 0 and s.max() < 13
    again = majority_circuit(3, random_state=0)
    assert all(np.array_equal(a, b) for a, b in zip(again[:4], (Xtr, ytr, Xte, yte)))
    assert not np.array_equal(majority_circuit(3, random_state=1)[1], ytr)


def test_majority_circuit_small_cases_and_checks():
    Xtr, ytr, Xte, yte, circuit = majority_circuit(1, n_inputs=5, random_state=2)
    X = np.r_[Xtr, Xte]
    flipped = np.where(circuit.negate[0][0], 1 - X, X)
    assert np.array_equal(np.r_[ytr, yte], (flipped.sum(axis=1) >= 3).astype(int))
    assert majority_circuit(4, n_inputs=7, fan_in=5)[0].shape == (64, 7)
    for kwargs, match in [(dict(depth=0), "depth"), (dict(depth=2, n_inputs=12), "odd"),
                          (dict(depth=2, fan_in=2), "odd"), (dict(depth=2, fan_in=15), "fan_in"),
                          (dict(depth=2.0), "depth")]:
        with pytest.raises((TypeError, ValueError), match=match):
            majority_circuit(**kwargs)
    with pytest.raises(ValueError, match="0 and 1"):
        circuit.evaluate(np.full((1, 5), 0.5))


# ----------------------------------------------------------------------------------------- MNIST

def _digits(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 784)).astype(np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def _write_idx(path, arr, opener=open):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with opener(path, "wb") as f:
        f.write(header + arr.tobytes())


def test_load_mnist_text_and_zip(tmp_path):
    pix, lab = _digits()
    for name in ("mnist_train_small", "mnist_train_small.zip"):
        write_data_file(tmp_path / name, pix / 255.0, lab, n_classes=10)
        X, y = load_mnist(tmp_path / name)
        assert X.shape == (30, 784) and X.dtype == np.float64 and y.dtype == np.int64
        assert np.array_equal(X, pix / 255.0) and np.array_equal(y, lab)
    X, y = load_mnist(tmp_path / "mnist_train_small.zip", n_samples=5)
    assert X.shape == (5, 784) and np.array_equal(y, lab[:5])
    with pytest.raises(ValueError, match="several"):
        load_mnist(tmp_path)  # two mnist_train* text files in the directory
    (tmp_path / "mnist_train_small").unlink()
    assert load_mnist(tmp_path)[0].shape == (30, 784)
    write_data_file(tmp_path / "big", pix.astype(float), lab)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        load_mnist(tmp_path / "big")
    with pytest.raises(ValueError, match="n_samples"):
        load_mnist(tmp_path / "mnist_train_small.zip", n_samples=31)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_idx(tmp_path, gz):
    pix, lab = _digits(seed=1)
    ext, opener = (".gz", gzip.open) if gz else ("", open)
    _write_idx(tmp_path / f"t10k-images-idx3-ubyte{ext}", pix.reshape(-1, 28, 28), opener)
    _write_idx(tmp_path / f"t10k-labels-idx1-ubyte{ext}", lab, opener)
    for path, subset in [(tmp_path, "test"), (tmp_path / f"t10k-images-idx3-ubyte{ext}", "train")]:
        X, y = load_mnist(path, subset=subset)
        assert np.array_equal(X, pix / 255.0) and np.array_equal(y, lab)
    with pytest.raises(ValueError, match="labels file"):
        load_mnist(tmp_path / f"t10k-labels-idx1-ubyte{ext}")
    with pytest.raises(FileNotFoundError, match="train-images"):
        load_mnist(tmp_path, subset="train")


def test_load_mnist_not_found_lists_the_ways(tmp_path):
    for call in (lambda: load_mnist(data_home=tmp_path),
                 lambda: load_mnist(tmp_path / "missing.zip")):
        with pytest.raises(FileNotFoundError) as err:
            call()
        msg = str(err.value)
        assert "(a)" in msg and "(b)" in msg and "(c)" in msg and "download=True" in msg
    assert not any(tmp_path.iterdir())  # nothing created, nothing downloaded
    with pytest.raises(ValueError, match="subset"):
        load_mnist(subset="validation")


def test_load_mnist_from_openml_cache_offline(tmp_path):
    """A complete (tiny, fake) OpenML cache of data id 554 is read without any network access."""
    pix, lab = _digits(n=4, seed=2)
    root = tmp_path / "openml" / "openml.org"
    arff = ("@RELATION mnist_784\n" + "".join(f"@ATTRIBUTE pixel{i + 1} NUMERIC\n" for i in range(784))
            + "@ATTRIBUTE class {0,1,2,3,4,5,6,7,8,9}\n@DATA\n"
            + "".join(",".join(map(str, r)) + f",{c}\n" for r, c in zip(pix, lab))).encode()
    url = "https://api.openml.org/data/v1/download/52667/mnist_784.arff"
    feature = dict(data_type="numeric", is_target="false", is_ignore="false",
                   is_row_identifier="false", number_of_missing_values="0")
    features = [dict(feature, index=str(i), name=f"pixel{i + 1}") for i in range(784)]
    features.append(dict(feature, index="784", name="class", data_type="nominal", is_target="true",
                         nominal_value=[str(d) for d in range(10)]))
    files = {
        "api/v1/json/data/554": {"data_set_description": dict(
            id="554", name="mnist_784", version="1", format="ARFF", description="", url=url,
            file_id="52667", default_target_attribute="class", status="active",
            md5_checksum=hashlib.md5(arff).hexdigest())},
        "api/v1/json/data/features/554": {"data_features": {"feature": features}},
        "api/v1/json/data/qualities/554": {"data_qualities": {"quality": [
            {"name": "NumberOfInstances", "value": "4.0"}]}},
    }
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / f"{rel}.gz").write_bytes(gzip.compress(json.dumps(content).encode()))
    (root / "data/v1/download/52667").mkdir(parents=True)
    (root / "data/v1/download/52667/mnist_784.arff.gz").write_bytes(gzip.compress(arff))
    X, y = load_mnist(data_home=tmp_path)  # "train" = the first 60,000: here all four
    assert np.array_equal(X, pix / 255.0) and np.array_equal(y, lab)


def test_load_mnist_reads_the_original_text_format():
    """The first 200 MNIST test digits in the original programs' format (shipped with the
    tests), zipped as the paper's files are."""
    X, y = load_mnist(Path(__file__).parent / "data" / "mnist_test_200.zip")
    assert X.shape == (200, 784) and y.shape == (200,)
    assert X.min() == 0 and X.max() == 1 and set(np.unique(y)) == set(range(10))
    assert list(y[:5]) == [0, 4, 1, 2, 7]   # the lines in file order
