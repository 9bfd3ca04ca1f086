"""The NMF iterate of one batch over ``lwl_nmf_iterate`` (section 4), and the encoders of
codes under fixed features."""
import numpy as np
from scipy.optimize import nnls

from ._core import aligned_zeros, c_suffix, ffi, lib, ptr
from ._rrr import RRRState


def pinv_encoder(components):
    """The pseudo-inverse encoder of eq 12, ``H^T (H H^T)^-1`` (n_features, n_components).

    Solved from the r x r normal equations; a rank-deficient H (e.g. two equal features)
    falls back to the SVD pseudo-inverse.  Computed in float64 whatever the dtype of H (in
    float32 it would lose digits where H is ill-conditioned).
    """
    H = np.asarray(components, dtype=np.float64)
    gram = H @ H.T
    try:
        if np.linalg.cond(gram) < 1e12:
            return np.linalg.solve(gram, H).T
    except np.linalg.LinAlgError:
        pass
    return np.linalg.pinv(H)


def pinv_codes(X, components):
    """Codes of eq 12-13: the pseudo-inverse encoder followed by a ReLU (float64)."""
    return np.maximum(X @ pinv_encoder(components), 0.0)


def nnls_codes(X, components):
    """The non-negative codes W minimising ``|X - W H|`` row by row (Lawson-Hanson NNLS,
    scipy, in float64): the best reconstruction the features allow, also when H is
    ill-conditioned."""
    HT = np.ascontiguousarray(components.T, dtype=np.float64)
    return np.array([nnls(HT, row)[0] for row in X]).reshape(len(X), len(components))


def normalise_rows(H, omega):
    """Rescale every feature (row of H) to norm omega (eq 14c); an all-zero row gets omega on
    entry 0."""
    H = np.array(H, dtype=np.float64)
    norms = np.linalg.norm(H, axis=1)
    zero = norms == 0
    H[~zero] *= (omega / norms[~zero])[:, None]
    H[zero, 0] = omega
    return H


def memory_bytes(n_items, n_data, n_code, dtype=np.float64):
    """Bytes of one batch's state: x, w; codes; features; the data (of ``dtype``); two
    multipliers per data value; the C scratch (lane sums)."""
    K, D, C = n_items, n_data, n_code
    return (np.dtype(dtype).itemsize * (2 * K * D * C + K * C + D * C + K * D)
            + 8 * (2 * K * D + lib.lwl_nmf_scratch_size(K, D, C)))


class NMFState(RRRState):
    """One batch's NMF iterate, laid out for ``lwl_nmf_iterate`` (csrc/lwl.h).

    Allocated once for the largest batch; a smaller batch uses a prefix of each buffer.
    ``dtype`` float32 stores x, w, codes, features and data in float32 (``lwl_nmf_iterate_f32``;
    the multipliers stay float64).  ``comm``: processes that share every batch (lwl._mpi),
    each holding the state of its share of the items.
    """

    def __init__(self, K, D, C, omega, beta, dtype=np.float64, comm=None):
        suffix = c_suffix(dtype)
        self.D, self.C, self.dtype = D, C, np.dtype(dtype)
        self.ws = ffi.new(f"lwl_nmf_ws{suffix} *")
        K = self._join(comm, K)
        self.x = aligned_zeros(K * D * C, dtype)
        self.w = aligned_zeros(K * D * C, dtype)
        self.code = aligned_zeros(K * C, dtype)
        self.feature = aligned_zeros(D * C, dtype)
        self.mult = aligned_zeros(2 * K * D)
        self.scratch = aligned_zeros(lib.lwl_nmf_scratch_size(K, D, C))
        self.data = None
        self._iterate_c = getattr(lib, "lwl_nmf_iterate" + suffix)
        self.ws.n_data, self.ws.n_code = D, C
        self.ws.omega, self.ws.beta = float(omega), float(beta)
        for name in ("x", "w", "code", "feature", "mult", "scratch"):
            setattr(self.ws, name, ptr(getattr(self, name)))

    @property
    def n_weights(self):
        return self.D * self.C

    def start_batch(self, Xb, features):
        """Every variable at its consensus value (eq 20-21), codes from the encoder of eq 13
        under ``features``: A holds exactly.  With ``comm``, every process passes the whole
        batch and keeps its share."""
        Xb = Xb[self._share(len(Xb))]
        K, D, C = Xb.shape[0], self.D, self.C
        self.data = np.ascontiguousarray(Xb, dtype=self.dtype)
        self.ws.n_items = K
        self.ws.data = ptr(self.data)
        codes = pinv_codes(Xb, features)
        self.x[:K * C * D].reshape(K, C, D)[:] = codes[:, :, None]
        self.w[:K * C * D].reshape(K, C, D)[:] = features[None, :, :]
        self.code[:K * C] = codes.ravel()
        self.feature[:] = features.ravel()
        self.mult[:] = 0.0  # root searches start at u = 0 (appendix B)

    def _iterate(self, n, tol, out):
        return self._iterate_c(self.ws, n, tol, ptr(out))

    def features(self):
        """w_A of the last iteration (C, D)."""
        return self.feature.reshape(self.C, self.D).copy()

    def codes(self):
        """x_A of the last iteration (K, C), of every item of the batch."""
        return self._gather(self.code[:self.ws.n_items * self.C].reshape(-1, self.C).copy())
