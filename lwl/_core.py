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


def ptr(arr):
    """A ``double *`` into a C-contiguous float64 array (the caller keeps the array alive)."""
    assert arr.dtype == np.float64 and arr.flags.c_contiguous, "C core needs contiguous float64"
    return ffi.cast("double *", ffi.from_buffer(arr))
