"""Access to the compiled C core: the cffi module and the helpers that hand numpy arrays to it."""
from pathlib import Path

import numpy as np


def _not_built_message(package):
    """Why ``lwl._clwl`` cannot be imported from the lwl package at ``package`` (a Path)."""
    built = sorted(p.name for p in package.glob("_clwl*") if p.suffix in (".so", ".pyd"))
    if built:
        return (f"lwl's C core {package / built[0]} failed to load; rebuild it with "
                "`pip install .` (or `pip install -e .` in a source checkout).")
    msg = f"lwl was imported from {package}, which has no compiled C core (lwl._clwl)."
    if (package.parent / "csrc").is_dir():
        return msg + (" That is the source folder of a checkout, which shadows the installed "
                      f"lwl package when Python runs in {package.parent} (the current directory "
                      "comes first on sys.path): run from another directory, or build the C "
                      "core in place with `pip install -e .` there.")
    return msg + " Install the package with `pip install .` (a C compiler is needed)."


try:
    from ._clwl import ffi, lib
except ImportError as exc:  # pragma: no cover - only when the package was not built
    raise ImportError(_not_built_message(Path(__file__).resolve().parent)) from exc


# The dtypes the C core stores its state in (float64 first: what other data train in).
STATE_DTYPES = (np.float64, np.float32)
_C_POINTER = {np.dtype(np.float64): "double *", np.dtype(np.float32): "float *"}


# The C core's hot loops read and write the state a vector of lanes at a time, and a 512-bit
# vector is a cache line: on a line boundary no load or store is split across two lines
# (numpy's own arrays start on 16 bytes; aligned, the majority net's iteration ran about 4 %
# faster, and the MNIST-shaped float32 one about 3 %).
CACHE_LINE = 64


def aligned_zeros(n, dtype=np.float64):
    """A zeroed 1-d array of ``n`` items of ``dtype`` starting on a cache line."""
    dtype = np.dtype(dtype)
    raw = np.zeros(n * dtype.itemsize + CACHE_LINE, dtype=np.uint8)
    start = -raw.ctypes.data % CACHE_LINE
    return raw[start:start + n * dtype.itemsize].view(dtype)


def ptr(arr):
    """A ``double *`` (``float *``) into a C-contiguous float64 (float32) array (the caller
    keeps the array alive)."""
    assert arr.dtype in _C_POINTER and arr.flags.c_contiguous, \
        "C core needs contiguous float64 or float32"
    return ffi.cast(_C_POINTER[arr.dtype], ffi.from_buffer(arr))


def c_suffix(dtype):
    """The suffix of the C core's functions and workspaces for a state of ``dtype``: ''
    for float64, '_f32' for float32 (csrc/real.h)."""
    dtype = np.dtype(dtype)
    if dtype not in _C_POINTER:
        raise ValueError(f"the RRR state is float64 or float32; got {dtype}")
    return "_f32" if dtype == np.float32 else ""
