"""Saving fitted estimators to a self-describing file and loading them back, without pickle.

The file is a numpy ``.npz`` archive (a zip of ``.npy`` arrays, readable by ``numpy.load`` with
``allow_pickle=False`` and by any zip tool).  Member ``__lwl__`` holds one JSON document: the format
name and version, the lwl version that wrote it, the estimator's class, its hyperparameters
(``get_params``) and its fitted attributes; every array (weights, biases, the graph, classes,
codes) is a member of its own, named in the JSON.  Floats in the JSON are written in their
shortest exact form, so everything loads back bit for bit.  Loading checks what it reads as
carefully as the other readers do (shapes, node ids, finite numbers, the hyperparameters'
constraints), so a damaged or hand-edited file gives a :class:`lwl.io.FormatError` naming it,
never a crash in C.
"""
import json
import os
import zipfile
import zlib
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from .io import FormatError, NetFile

FORMAT = "lwl-model"
FORMAT_VERSION = 1


class _Writer:
    def __init__(self):
        self.arrays = {}

    def array(self, value, key):
        value = np.asarray(value)
        if value.dtype == object:
            try:
                value = value.astype(str) if all(isinstance(v, str) for v in value.ravel()) \
                    else value.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"cannot save {key}: an array of Python objects cannot be "
                                 "saved without pickle") from None
        if value.dtype.kind not in "biufU":
            raise ValueError(f"cannot save {key}: arrays of dtype {value.dtype} are not saved")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = value
        return {"__array__": name}

    def encode(self, value, key):
        """A JSON-able form of value; arrays go to members of their own."""
        from sklearn.base import BaseEstimator
        from .graph import Graph
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, Integral):
            return int(value)
        if isinstance(value, Real):
            return float(value)
        if isinstance(value, np.ndarray):
            return self.array(value, key)
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, f"{key}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, f"{key}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise ValueError(f"cannot save {key}: a dict with keys that are not strings")
            return {"__dict__": {k: self.encode(v, f"{key}[{k!r}]") for k, v in value.items()}}
        if isinstance(value, np.random.Generator):
            state = value.bit_generator.state
            return {"__generator__": self.encode(state, key)}
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if isinstance(value, NetFile):
            return {"__netfile__": {"kind": value.kind, "sizes": list(value.sizes),
                                    "src": self.array(value.src, key),
                                    "dst": self.array(value.dst, key)}}
        if isinstance(value, Graph):
            return {"__graph__": self.encode(_graph_fields(value), key)}
        if isinstance(value, BaseEstimator):
            return {"__estimator__": self.estimator(value, key)}
        raise ValueError(f"cannot save {key}: a {type(value).__name__} is not saved")

    def estimator(self, est, key="the estimator"):
        # a communicator belongs to the processes running now: a loaded model has none
        params = {k: None if k == "comm" else self.encode(v, f"parameter {k}")
                  for k, v in est.get_params(deep=False).items()}
        attrs = {}
        for k, v in vars(est).items():
            if k in params or k in getattr(est, "_not_saved", ()):
                continue
            attrs[k] = self.encode(v, f"attribute {k}")
        return {"class": _class_key(type(est)), "params": params, "attrs": attrs}


def _graph_fields(g):
    return {"n_nodes": g.n_nodes, "src": g.src, "dst": g.dst, "edge_index": g.edge_index,
            "kind": g.kind, "data_nodes": g.data_nodes, "class_nodes": g.class_nodes,
            "order": g.order, "layers": None if g.layers is None else list(g.layers),
            "code_nodes": g.code_nodes}


def save(est, path):
    """Write ``est`` (fitted or not) to ``path`` as a self-describing .npz (no suffix added)."""
    w = _Writer()
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "lwl_version": _version(),
           "estimator": w.estimator(est)}
    members = dict(w.arrays, __lwl__=np.array(json.dumps(doc, allow_nan=True)))
    with open(path, "wb") as fh:
        np.savez(fh, **members)


def _version():
    from ._version import __version__
    return __version__


# ------------------------------------------------------------------------------------ loading

class _Reader:
    def __init__(self, npz, name):
        self.npz, self.name = npz, name

    def fail(self, what):
        return FormatError(self.name, None, f"not an lwl model file: {what}")

    def array(self, ref, key):
        if not (isinstance(ref, str) and ref in self.npz.files and ref != "__lwl__"):
            raise self.fail(f"{key} refers to a missing array")
        a = _member(self.npz, ref, self.name)
        if a.dtype.kind not in "biufU":
            raise self.fail(f"{key} has dtype {a.dtype}")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise self.fail(f"{key} holds NaN or infinite values")
        return a

    def decode(self, value, key):
        from .graph import Graph
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(v, f"{key}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict) or len(value) != 1:
            raise self.fail(f"{key} is not a value this format holds")
        (tag, body), = value.items()
        if tag == "__array__":
            return self.array(body, key)
        if tag == "__tuple__" and isinstance(body, list):
            return tuple(self.decode(v, f"{key}[{i}]") for i, v in enumerate(body))
        if tag == "__dict__" and isinstance(body, dict):
            return {k: self.decode(v, f"{key}[{k!r}]") for k, v in body.items()}
        if tag == "__generator__":
            state = self.decode(body, key)
            try:
                if state["bit_generator"] not in ("PCG64", "PCG64DXSM", "MT19937", "Philox",
                                                  "SFC64"):
                    raise ValueError(state["bit_generator"])
                bg = getattr(np.random, state["bit_generator"])()
                bg.state = state
            except (TypeError, KeyError, ValueError, AttributeError):
                raise self.fail(f"{key} is not a random generator's state") from None
            return np.random.Generator(bg)
        if tag == "__netfile__" and isinstance(body, dict):
            try:
                return NetFile(body["kind"], tuple(body["sizes"]), self.decode(body["src"], key),
                               self.decode(body["dst"], key))
            except (KeyError, TypeError, ValueError) as exc:
                raise self.fail(f"{key} is not a valid net ({exc})") from None
        if tag == "__graph__":
            return _graph_from_fields(self.decode(body, key), self.fail, key, Graph)
        if tag == "__estimator__":
            return self.estimator(body, key)
        raise self.fail(f"{key} is not a value this format holds")

    def estimator(self, doc, key="the estimator"):
        classes = _CLASSES
        if not isinstance(doc, dict) or doc.get("class") not in classes:
            raise self.fail(f"{key} is of no class lwl knows ({doc.get('class')!r})"
                            if isinstance(doc, dict) else f"{key} is malformed")
        cls = classes[doc["class"]]
        params = doc.get("params")
        attrs = doc.get("attrs")
        if not (isinstance(params, dict) and isinstance(attrs, dict)):
            raise self.fail(f"{key} lacks its parameters or attributes")
        params = {k: self.decode(v, f"parameter {k}") for k, v in params.items()}
        try:
            est = cls(**params)
            est._validate_params()
        except (TypeError, ValueError) as exc:
            raise self.fail(f"the parameters of {key} are not valid ({exc})") from None
        renamed = getattr(cls, "_renamed_attributes", {})
        for k, v in attrs.items():
            if not k.isidentifier():
                raise self.fail(f"attribute name {k!r}")
            setattr(est, renamed.get(k, k), self.decode(v, f"attribute {k}"))
        try:
            est._check_loaded()
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise self.fail(f"{key} is inconsistent ({type(exc).__name__}: {exc})") from None
        return est


def _graph_from_fields(f, fail, key, Graph):
    """A Graph rebuilt (and so validated) from its saved arrays."""
    try:
        n = int(f["n_nodes"])
        edges = np.column_stack([f["src"], f["dst"]])
        g = Graph.from_edges(n, edges, f["data_nodes"], f["class_nodes"], kind=f["kind"],
                             order=f["order"])
        if not (np.array_equal(g.src, f["src"]) and np.array_equal(g.dst, f["dst"])):
            raise ValueError("edges are not sorted by destination")
        ei = np.asarray(f["edge_index"])
        if not np.array_equal(np.sort(ei), np.arange(g.n_edges)):
            raise ValueError("edge_index is not a permutation of the edges")
        g.edge_index = ei.astype(g.edge_index.dtype)
        for name in ("layers", "code_nodes"):
            v = f[name]
            nodes = [] if v is None else (v if name == "layers" else [v])
            for a in nodes:
                a = np.asarray(a)
                if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and (a.min() < 0
                                                                        or a.max() >= n)):
                    raise ValueError(f"{name} are not node ids")
        g.layers = None if f["layers"] is None else [np.asarray(a) for a in f["layers"]]
        g.code_nodes = None if f["code_nodes"] is None else np.asarray(f["code_nodes"],
                                                                       dtype=np.int32)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise fail(f"{key} is not a valid graph ({exc})") from None
    return g


def _member(npz, key, name):
    """One array of the archive.  numpy's reader of a damaged member may raise about anything
    (ValueError, SyntaxError and tokenize's TokenError from the header, EOFError, zlib.error,
    BadZipFile from the data): every one is a damaged file."""
    try:
        return npz[key]
    except MemoryError:
        raise FormatError(name, None, f"the array {key!r} declares more data than memory "
                                      "holds: the file is damaged") from None
    except Exception as exc:  # noqa: BLE001 - numpy's parser, on bytes we do not trust
        raise FormatError(name, None, f"the array {key!r} is damaged ({type(exc).__name__}: "
                                      f"{exc})") from None


def load(path, cls=None):
    """The estimator saved at ``path`` by ``save`` (of class ``cls`` when given)."""
    name = str(path)
    if Path(path).is_dir():
        raise FormatError(name, None, "is a directory, not a model file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if "__lwl__" not in npz.files:
                raise FormatError(name, None, "not an lwl model file (no __lwl__ member)")
            doc = json.loads(str(_member(npz, "__lwl__", name)[()]))
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                raise FormatError(name, None, "not an lwl model file")
            if doc.get("format_version") != FORMAT_VERSION:
                raise FormatError(name, None, f"format version {doc.get('format_version')!r}; "
                                              f"this lwl reads version {FORMAT_VERSION}")
            reader = _Reader(npz, name)
            est = reader.estimator(doc.get("estimator"))
    except FormatError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, TypeError,
            IndexError, UnicodeDecodeError, RecursionError, NotImplementedError, RuntimeError,
            MemoryError) as exc:
        # NotImplementedError, RuntimeError: zip features numpy's reader lacks (encryption,
        # unknown versions); MemoryError: an array header declaring more than memory holds
        if isinstance(exc, FileNotFoundError):
            raise
        raise FormatError(name, None, f"not a readable lwl model file ({type(exc).__name__}: "
                                      f"{exc})") from None
    if cls is not None and not isinstance(est, cls):
        raise FormatError(name, None, f"holds a {type(est).__name__}, not a {cls.__name__}")
    return est


#: name -> class, of every estimator a model file may hold (registered by PersistMixin): lwl's
#: own under their names; a user's class under its name too unless that is one of lwl's, and
#: always under ``module.qualname``
_CLASSES = {}


def _class_key(cls):
    """The name a model file gives ``cls``: its own name while that names it, else its module
    and qualified name (a user's class that shares its name with one of lwl's)."""
    if _CLASSES.get(cls.__name__) is cls:
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


class PersistMixin:
    """``save(path)`` / ``cls.load(path)``: the self-describing file of :mod:`lwl._persist`.

    Every subclass is registered by its name as one a model file may hold, unless it is
    declared ``abstract=True`` (``class Base(PersistMixin, abstract=True)``)."""

    def __init_subclass__(cls, abstract=False, **kwargs):
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        taken = _CLASSES.get(cls.__name__)
        if taken is None or not taken.__module__.startswith("lwl."):
            _CLASSES[cls.__name__] = cls  # (a class defined again, as in a notebook, replaces)
        _CLASSES[f"{cls.__module__}.{cls.__qualname__}"] = cls

    #: attributes rebuilt on demand, never saved
    _not_saved = ("_predictor",)

    def save(self, path):
        """Save the estimator, fitted or not, to ``path``: a self-describing ``.npz`` archive
        (no pickle) holding its hyperparameters and fitted state; ``load`` gives it back
        exactly (predictions, warm starts and the random stream continue as if never saved).
        The path is used as given (no suffix is added).

        Parameters
        ----------
        path : str or path-like
            The file to write (overwritten if it exists).

        Returns
        -------
        None
        """
        save(self, path)

    @classmethod
    def load(cls, path):
        """The estimator saved at ``path`` with ``save``; FormatError (a ValueError) naming the
        file when it is not such a file or holds another estimator.

        Parameters
        ----------
        path : str or path-like
            A file written by ``save``.

        Returns
        -------
        estimator : object
            The saved estimator, an instance of the class this method is called on (or of a
            subclass of it), fitted if it was saved fitted.
        """
        return load(path, cls)

    def _check_loaded(self):
        """Raise when the loaded attributes do not fit together (overridden per model)."""
