"""cffi builder for the C core (out-of-line API mode); setup.py's ``cffi_modules`` points here.

The declarations come from ``csrc/lwl.h`` itself, so the header and the bindings cannot drift.
The default build is portable (``-O3``).  Set ``LWL_NATIVE=1`` when building to add
``-march=native`` (faster on the building machine, not portable to older CPUs).
``LWL_OPENMP=0`` builds without OpenMP (e.g. a compiler without it); the network engine then
runs on one core, with bit-identical results.
"""
import os
import re
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
SOURCES = ["bilinear.c", "nmf.c", "constraints.c", "engine.c"]


def _cdef_from_header(path):
    """The header minus preprocessor lines, which cffi's parser does not take."""
    text = path.read_text()
    return "\n".join(line for line in text.splitlines() if not re.match(r"\s*#", line))


def _openmp():
    """OpenMP (items of the network engine in parallel) unless LWL_OPENMP=0.  Results do not
    depend on the number of threads (csrc/engine.c sums in fixed item blocks)."""
    return os.environ.get("LWL_OPENMP", "1") not in ("", "0")


def _compile_args():
    args = ["-O3", "-std=c99", "-fno-math-errno"]
    if os.environ.get("LWL_NATIVE", "0") not in ("", "0"):
        args.append("-march=native")
    if _openmp():
        args.append("-fopenmp")
    return args


ffibuilder = FFI()
ffibuilder.cdef(_cdef_from_header(CSRC / "lwl.h"))
ffibuilder.set_source(
    "lwl._clwl",
    '#include "lwl.h"',
    sources=[str((CSRC / s).relative_to(ROOT)) for s in SOURCES],
    include_dirs=[str(CSRC.relative_to(ROOT))],
    extra_compile_args=_compile_args(),
    libraries=["m"],
    extra_link_args=["-fopenmp"] if _openmp() else [],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
