"""The floating-point mode of the C core (csrc/fpmode.h): it computes in the IEEE default mode
whatever the caller's, gives the caller's mode back, and keeps subnormal numbers out of the
iterates by flushing tiny magnitudes to zero itself (the same arithmetic on every CPU)."""
import ctypes
import ctypes.util
import platform

import numpy as np
import pytest

from lwl import RRRClassifier
from lwl._core import lib, ptr
from lwl._nmf_engine import NMFState
from lwl.datasets import ledm, majority_circuit
from sklearn.datasets import make_blobs

TINY = np.finfo(np.float64).tiny  # the smallest normal number
X86 = platform.machine().lower() in ("x86_64", "amd64")
# FE_UPWARD of <fenv.h> (glibc/musl values)
FE_UPWARD = {"x86_64": 0x800, "amd64": 0x800, "aarch64": 0x400000, "arm64": 0x400000}.get(
    platform.machine().lower())
LIBM = ctypes.CDLL(ctypes.util.find_library("m") or None)


def no_subnormal(a):
    return bool(np.all((a == 0) | (np.abs(a) >= TINY)))


def ledm_state():
    """NMF LEDM m = 16, r = 8 (the benchmark's case, whose zeros drive some iterates towards
    0) at its start from positive random features."""
    state = NMFState(16, 16, 8, 0.9, 0.3)
    rng = np.random.default_rng(0)
    state.start_batch(ledm(16), np.abs(rng.normal(size=(8, 16))) + 0.1)
    return state


def copy_of(state):
    other = NMFState(16, 16, 8, 0.9, 0.3)
    for a, b in zip(snapshot(state), (other.x, other.w, other.code, other.feature, other.mult)):
        b[:] = a
    other.data = state.data
    other.ws.n_items, other.ws.data = state.ws.n_items, ptr(other.data)
    return other


def run(state, n_iter):
    out = np.empty(n_iter)
    assert state._iterate(n_iter, 0.0, out) == n_iter
    return out


def snapshot(state):
    return [a.copy() for a in (state.x, state.w, state.code, state.feature, state.mult)]


def test_iterates_approaching_zero_leave_no_subnormal():
    """Iterates that decay towards zero are flushed to 0 below 2^-300 before they become
    subnormal, and nothing in the iteration meets a subnormal (the reason for it: Intel
    cores take a slow microcode path on them)."""
    state = ledm_state()
    run(state, 20_000)
    for name in ("x", "w", "code", "feature", "mult"):
        assert no_subnormal(getattr(state, name)), name
    # the case does drive iterates to zero (flushed there), and no operation of the last
    # call met a subnormal operand (x86 reports it) or an underflow
    assert np.sum(state.x == 0) > 0 and np.sum(state.w == 0) > 0
    assert state.ws.fp_flags == 0


@pytest.fixture
def engine_fp_flags(monkeypatch):
    """The fp_flags of every call into the network engine while the test runs."""
    from lwl import _engine
    flags = []
    iterate = _engine.Engine._iterate

    def recording(self, n, tol, out):
        done = iterate(self, n, tol, out)
        flags.append(self.ws.fp_flags)
        return done
    monkeypatch.setattr(_engine.Engine, "_iterate", recording)
    return flags


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_classifier_meets_no_subnormal_or_underflow(engine_fp_flags, dtype):
    flags = engine_fp_flags
    X, y = majority_circuit(3, random_state=0)[:2]
    clf = RRRClassifier((26, 26), batch_size=128, rrr_iter=50, epochs=1, tol=0.0,
                        random_state=0).fit(X[:256].astype(dtype), y[:256])
    assert clf._weights.dtype == dtype and flags and not any(flags)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_run_on_at_its_fixed_point_meets_no_subnormal(engine_fp_flags, dtype):
    """At a fixed point the differences the edge pass squares shrink to 0 or to the last bits
    of the values (in float32 it squares them in float), and none may be subnormal."""
    flags = engine_fp_flags
    X, y = make_blobs(64, centers=2, n_features=4, random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(dtype)
    clf = RRRClassifier((4,), batch_size=64, rrr_iter=30_000, tol=0.0, epochs=1,
                        random_state=0).fit(X, y)
    assert clf.history_["err_last"][-1] < 1e-5  # at the fixed point (float's floor)
    assert flags and not any(flags)


@pytest.mark.skipif(FE_UPWARD is None, reason="FE_UPWARD value of this platform not known")
def test_caller_rounding_mode_is_restored_and_not_used():
    """A caller rounding upwards gets its mode back after each call, and the C core still
    rounds to nearest (the bits of a run in the default mode)."""
    ref_state = ledm_state()
    run(ref_state, 50)
    up_state = copy_of(ref_state)
    ref = run(ref_state, 200)
    default = LIBM.fegetround()
    assert LIBM.fesetround(FE_UPWARD) == 0
    try:
        up = run(up_state, 200)
        assert LIBM.fegetround() == FE_UPWARD  # the caller's mode is back after the call
        x, w = np.array([1.0, 2.0, -0.5]), np.array([0.3, -1.0, 2.0])
        yy = np.array([0.7])
        lib.lwl_bilinear_project(3, ptr(x), ptr(w), ptr(yy), 1.0, 0.5)
        assert LIBM.fegetround() == FE_UPWARD
    finally:
        LIBM.fesetround(default)
    assert LIBM.fegetround() == default
    # the C core ran in round-to-nearest all the same: the same bits
    assert np.array_equal(up, ref)
    for a, b in zip(snapshot(up_state), snapshot(ref_state)):
        assert np.array_equal(a, b)
    x2, w2, y2 = np.array([1.0, 2.0, -0.5]), np.array([0.3, -1.0, 2.0]), np.array([0.7])
    lib.lwl_bilinear_project(3, ptr(x2), ptr(w2), ptr(y2), 1.0, 0.5)
    assert np.array_equal(x, x2) and np.array_equal(w, w2) and np.array_equal(yy, y2)


@pytest.fixture
def mxcsr():
    """Read and write the calling thread's x86 MXCSR (a helper built with cffi)."""
    cffi = pytest.importorskip("cffi")
    import tempfile
    ffi = cffi.FFI()
    ffi.cdef("unsigned int get_csr(void); void set_csr(unsigned int);")
    ffi.set_source("_lwl_test_mxcsr", """
        #include <xmmintrin.h>
        unsigned int get_csr(void) { return _mm_getcsr(); }
        void set_csr(unsigned int v) { _mm_setcsr(v); }
    """)
    import importlib.util
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = ffi.compile(tmpdir=tmp)
        except Exception as exc:  # no C compiler
            pytest.skip(f"cannot build the MXCSR helper: {exc}")
        spec = importlib.util.spec_from_file_location("_lwl_test_mxcsr", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        yield mod.lib


@pytest.mark.skipif(not X86, reason="MXCSR is x86's")
def test_caller_ftz_daz_are_restored_and_not_used(mxcsr):
    """FTZ and DAZ set by the caller (as a library built with -ffast-math does) are back
    after the call, and the run gives the bits of the default mode."""
    FTZ_DAZ = 0x8040
    start = ledm_state()
    run(start, 3000)  # some iterates on their way to zero by now
    other = copy_of(start)
    ref = run(start, 2000)
    saved = mxcsr.get_csr()
    mxcsr.set_csr(saved | FTZ_DAZ)
    try:
        got = run(other, 2000)
        assert mxcsr.get_csr() & FTZ_DAZ == FTZ_DAZ  # the caller's mode is back
    finally:
        mxcsr.set_csr(saved)
    assert np.array_equal(got, ref)
    for a, b in zip(snapshot(other), snapshot(start)):
        assert np.array_equal(a, b)
