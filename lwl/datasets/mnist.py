"""MNIST for §5.5.2 and §6.3, from whatever copy the user has; never downloaded unless asked."""
import gzip
import importlib.util
import inspect
import io
import json
import numbers
import os
import zlib
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from sklearn.utils import check_scalar
from ..io import FormatError, read_data_file

_N_PIXELS = 784
_OPENML_ID = 554  # mnist_784, version 1: 70,000 digits, the first 60,000 the training set
_IDX_PREFIX = {"train": "train", "test": "t10k"}
_MAX_GZIP_RATIO = 1100
_IDX_MAGIC = {3: b"\x00\x00\x08\x03", 1: b"\x00\x00\x08\x01"}  # unsigned bytes, 3-D / 1-D

_WAYS = """MNIST can be loaded from any of:
  (a) a text file of the original programs (header `784 10`, a blank line, one digit per line:
      784 values in [0, 1] then the label), plain or inside a .zip: load_mnist(path=FILE);
  (b) the IDX files train-images-idx3-ubyte / t10k-images-idx3-ubyte with their -labels-idx1-ubyte
      files (optionally .gz): load_mnist(path=DIRECTORY) or path=the images file;
  (c) scikit-learn's OpenML cache of mnist_784 under data_home (default ~/scikit_learn_data, or
      $SCIKIT_LEARN_DATA): load_mnist(download=True) fills it once, later calls read it offline."""


def load_mnist(path=None, subset="train", n_samples=None, download=False, data_home=None):
    """Load MNIST digits as ``(X, y)``: X float64 (n, 784) in [0, 1] (pixel / 255, row-major
    28 x 28), y int64 labels 0-9.

    ``path``: a text file of the original programs (plain or zipped), an IDX images file,
    or a directory holding the IDX files of ``subset`` or a single text file named ``mnist_<subset>*``
    (IDX files take precedence). A file path is read as it is, whatever ``subset``. Without ``path``
    the OpenML copy (``fetch_openml`` data id 554, the first 60,000 digits ``"train"``, the last
    10,000 ``"test"``) is read from the cache under ``data_home``; it is downloaded only when
    ``download=True``. ``n_samples`` keeps the first that many digits. When no source is found,
    FileNotFoundError lists the three ways.
    """
    if subset not in _IDX_PREFIX:
        raise ValueError(f"subset must be 'train' or 'test'; got {subset!r}")
    if n_samples is not None:
        check_scalar(n_samples, "n_samples", numbers.Integral, min_val=1)
    if path is not None:
        X, y = _load_path(Path(path), subset)
    elif download or _openml_cache_complete(data_home):
        X, y = _load_openml(subset, data_home)
    else:
        raise FileNotFoundError(
            f"no MNIST path given and no complete OpenML cache in {_openml_root(data_home)}.\n"
            + _WAYS)
    if n_samples is not None:
        if n_samples > y.size:
            raise ValueError(f"n_samples={n_samples} but the source holds {y.size} digits")
        X, y = X[:n_samples], y[:n_samples]
    return X, y


def _load_path(path, subset):
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist.\n" + _WAYS)
    if path.is_dir():
        prefix = _IDX_PREFIX[subset]
        for sep in ("-", "."):
            for gz in ("", ".gz"):
                images = path / f"{prefix}-images{sep}idx3-ubyte{gz}"
                if images.is_file():
                    return _load_idx(images)
        texts = sorted(p for p in path.glob(f"mnist_{subset}*") if p.is_file())
        if len(texts) > 1:
            raise ValueError(f"{path} holds several MNIST {subset} text files "
                             f"({', '.join(p.name for p in texts)}); pass the one to read as path")
        if not texts:
            raise FileNotFoundError(f"{path} holds neither {prefix}-images-idx3-ubyte[.gz] nor a "
                                    f"text file mnist_{subset}*.\n" + _WAYS)
        path = texts[0]
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] == b"\x1f\x8b":
        head = _read_bytes(path)[:4]
    if head == _IDX_MAGIC[3]:
        return _load_idx(path)
    if head == _IDX_MAGIC[1]:
        raise FormatError(str(path), None, "is an IDX labels file; pass the images file (or its "
                                           "directory)")
    X, y = read_data_file(path, labelled=True)
    _check_pixels(X, path)
    return X, y


def _read_bytes(path):
    """A file's bytes, gunzipped when it is gzipped; FormatError naming the file otherwise."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        # read in bounded pieces: a damaged header cannot make it allocate more than the
        # stream really expands to (deflate expands at most about 1032:1)
        out = gzip.GzipFile(fileobj=io.BytesIO(raw)).read(_MAX_GZIP_RATIO * len(raw) + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(str(path), None, f"not a readable gzip file ({type(exc).__name__}: "
                                           f"{exc})") from None
    if len(out) > _MAX_GZIP_RATIO * len(raw):
        raise FormatError(str(path), None, "the gzip stream expands beyond what deflate can "
                                           "produce: the file is damaged")
    return out


def _read_idx(path, ndim):
    raw = _read_bytes(path)
    if raw[:4] != _IDX_MAGIC[ndim]:
        raise FormatError(str(path), None, f"not an IDX file of unsigned bytes with {ndim} "
                                           "dimension(s)")
    if len(raw) < 4 + 4 * ndim:
        raise FormatError(str(path), None, f"the IDX header is cut short ({len(raw)} bytes; "
                                           f"{4 + 4 * ndim} expected)")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != np.prod(dims):
        raise FormatError(str(path), None, f"the header announces {dims} = {int(np.prod(dims))} "
                                           f"bytes of data; the file holds {data.size}")
    if dims[0] == 0:
        raise FormatError(str(path), None, "the header announces 0 items")
    return data.reshape(dims)


def _load_idx(images_path):
    name = images_path.name.replace("images", "labels").replace("idx3", "idx1")
    labels_path = images_path.with_name(name)
    if name == images_path.name or not labels_path.is_file():
        raise FileNotFoundError(f"no labels file {labels_path} next to the IDX images file "
                                f"{images_path}.\n" + _WAYS)
    images = _read_idx(images_path, 3)
    labels = _read_idx(labels_path, 1)
    if images.shape[1:] != (28, 28):
        raise FormatError(str(images_path), None, f"images are {images.shape[1]} x "
                                                  f"{images.shape[2]}; MNIST digits are 28 x 28")
    if labels.shape[0] != images.shape[0]:
        raise FormatError(str(labels_path), None, f"holds {labels.shape[0]} labels but "
                                                  f"{images_path} {images.shape[0]} images")
    if labels.max() > 9:
        raise FormatError(str(labels_path), None, f"labels must be 0-9; found {labels.max()}")
    X = images.reshape(-1, _N_PIXELS).astype(np.float64) / 255.0
    return X, labels.astype(np.int64)


def _check_pixels(X, path):
    if X.shape[1] != _N_PIXELS:
        raise FormatError(str(path), 1, f"items have {X.shape[1]} values; MNIST digits have "
                                        f"{_N_PIXELS}")
    if X.min() < 0 or X.max() > 1:
        bad = np.flatnonzero(((X < 0) | (X > 1)).any(axis=1))[0]
        raise FormatError(str(path), None, f"values must be in [0, 1] (pixel / 255); digit "
                                           f"{bad + 1} has one outside: "
                                           f"{X[bad][(X[bad] < 0) | (X[bad] > 1)][0]}")


def _openml_root(data_home):
    """scikit-learn's OpenML cache folder (get_data_home's rule, without creating the folder)."""
    home = data_home if data_home is not None else os.environ.get("SCIKIT_LEARN_DATA",
                                                                  "~/scikit_learn_data")
    return Path(home).expanduser() / "openml" / "openml.org"


def _openml_cache_complete(data_home):
    """Whether every file fetch_openml(data_id=554) reads is cached, so that it needs no network."""
    api = _openml_root(data_home) / "api" / "v1" / "json" / "data"
    description = api / f"{_OPENML_ID}.gz"
    needed = [api / "features" / f"{_OPENML_ID}.gz", api / "qualities" / f"{_OPENML_ID}.gz"]
    if not (description.is_file() and all(p.is_file() for p in needed)):
        return False
    try:
        url = json.loads(gzip.decompress(description.read_bytes()))["data_set_description"]["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    data = _openml_root(data_home) / (urlparse(url).path.lstrip("/") + ".gz")
    return data.is_file()


def _load_openml(subset, data_home):
    from sklearn.datasets import fetch_openml

    kwargs = {}
    if "parser" in inspect.signature(fetch_openml).parameters:  # scikit-learn >= 1.2
        # "auto" needs pandas for dense data; liac-arff is slower but always there
        kwargs["parser"] = "auto" if importlib.util.find_spec("pandas") else "liac-arff"
    X, y = fetch_openml(data_id=_OPENML_ID, data_home=data_home, as_frame=False, return_X_y=True,
                        **kwargs)
    X = np.asarray(X, dtype=np.float64) / 255.0
    y = np.asarray(y).astype(np.int64)
    part = slice(0, 60000) if subset == "train" else slice(60000, None)
    return np.ascontiguousarray(X[part]), y[part]
