"""cffi builder for the C core (out-of-line API mode); setup.py's ``cffi_modules`` points here.

The declarations come from ``csrc/lwl.h`` itself, so the header and the bindings cannot drift.
The default build is portable (``-O3``).  Set ``LWL_NATIVE=1`` when building to add
``-march=native`` (faster on the building machine, not portable to older CPUs).
OpenMP is compiled in when the compiler supports it (``LWL_OPENMP=0`` leaves it out). It is
used only when an estimator is given ``n_jobs`` > 1; by default everything runs on one core,
and results are bit-identical whatever the number of threads.
"""
import os
import re
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
SOURCES = ["bilinear.c", "nmf.c", "constraints.c", "engine.c",
           "nmf_f32.c", "constraints_f32.c", "engine_f32.c"]


def _cdef_from_header(path):
    """The header minus preprocessor lines, which cffi's parser does not take."""
    text = path.read_text()
    return "\n".join(line for line in text.splitlines() if not re.match(r"\s*#", line))


def _openmp():
    """Whether to compile with OpenMP: unless LWL_OPENMP=0, if the C compiler accepts it."""
    if os.environ.get("LWL_OPENMP", "1") in ("", "0"):
        return False
    import subprocess
    import sysconfig
    import tempfile
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "probe.c"
        src.write_text("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
        try:
            result = subprocess.run(cc + ["-fopenmp", str(src), "-o", str(Path(tmp) / "probe")],
                                    capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return False
        return result.returncode == 0


OPENMP = _openmp()


def _compile_args():
    args = ["-O3", "-std=c99", "-fno-math-errno", "-fno-trapping-math", "-fvisibility=hidden", "-fno-semantic-interposition"]
    if os.environ.get("LWL_NATIVE", "0") not in ("", "0"):
        args.append("-march=native")
    if OPENMP:
        args.append("-fopenmp")
    return args


ffibuilder = FFI()
ffibuilder.cdef(_cdef_from_header(CSRC / "lwl.h"))
# The workspace's reduce for processes that share a batch (lwl._mpi): Python, called from C.
ffibuilder.cdef('extern "Python" void lwl_reduce_over_processes(double *, long, void *);')
ffibuilder.set_source(
    "lwl._clwl",
    '#include "lwl.h"',
    sources=[str((CSRC / s).relative_to(ROOT)) for s in SOURCES],
    include_dirs=[str(CSRC.relative_to(ROOT))],
    extra_compile_args=_compile_args(),
    libraries=["m"],
    extra_link_args=["-fopenmp"] if OPENMP else [],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
