"""Access to the compiled C core: the cffi module and the helpers that hand numpy arrays to it."""
import numpy as np

try:
    from ._clwl import ffi, lib
except ImportError as exc:  # pragma: no cover - only when the package was not built
    raise ImportError(
        "lwl's C core (lwl._clwl) is not built. Install the package with `pip install .` "
        "(or `pip install -e .` for development); a C compiler is needed."
    ) from exc


def ptr(arr):
    """A ``double *`` into a C-contiguous float64 array (the caller keeps the array alive)."""
    assert arr.dtype == np.float64 and arr.flags.c_contiguous, "C core needs contiguous float64"
    return ffi.cast("double *", ffi.from_buffer(arr))
