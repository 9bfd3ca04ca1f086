"""Input checks shared by every estimator: one place for the error messages users see."""
import numbers

import numpy as np


def as_2d_float(X, name="X", allow_negative=True):
    """Return X as a C-contiguous float64 (n_samples, n_features) array, or raise ValueError.

    Rejects wrong dimensionality, empty arrays, NaN/inf and (optionally) negative entries,
    naming the problem and where it is.
    """
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s), first at [{i}, {j}]"
        )
    if not allow_negative and (arr < 0).any():
        i, j = np.argwhere(arr < 0)[0]
        raise ValueError(
            f"{name} must be non-negative; {int((arr < 0).sum())} negative value(s), "
            f"first {arr[i, j]!r} at [{i}, {j}]"
        )
    return np.ascontiguousarray(arr)


def check_n_features(estimator, X, fitted_attr="n_features_in_"):
    """Raise ValueError when X does not have the number of columns the estimator was fitted on."""
    expected = getattr(estimator, fitted_attr)
    if X.shape[1] != expected:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} was fitted with {expected}"
        )


def check_scalar(value, name, kind=numbers.Real, low=None, high=None,
                 low_inclusive=True, high_inclusive=True):
    """Validate a hyperparameter, raising ValueError that names it and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{name} must be {'an integer' if kind is numbers.Integral else 'a number'}; got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    lo_ok = low is None or (value >= low if low_inclusive else value > low)
    hi_ok = high is None or (value <= high if high_inclusive else value < high)
    if not (lo_ok and hi_ok):
        lo = "" if low is None else ("[" if low_inclusive else "(") + f"{low}"
        hi = "" if high is None else f"{high}" + ("]" if high_inclusive else ")")
        rng = f"{lo or '(-inf'}, {hi or 'inf)'}"
        raise ValueError(f"{name} must be in {rng}; got {value!r}")
    return value


def check_random_state(seed):
    """np.random.Generator from None, an int, or a Generator (RandomState is accepted too)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    if seed is None or isinstance(seed, numbers.Integral):
        return np.random.default_rng(seed)
    raise ValueError(f"random_state must be None, an int or a numpy Generator; got {seed!r}")


def available_memory_bytes():
    """Memory the OS reports as available (Linux /proc/meminfo), else physical memory, else None."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(n_bytes, what):
    """Refuse, before allocating, a state that would not fit in the available memory."""
    avail = available_memory_bytes()
    if avail is not None and n_bytes > 0.8 * avail:
        raise MemoryError(
            f"{what} needs about {n_bytes / 2**30:.2f} GiB but only {avail / 2**30:.2f} GiB "
            f"is available; use a smaller batch_size"
        )
