"""What scikit-learn's validation utilities do not cover: numpy Generators, memory refusal,
and warnings attributed to the caller's line."""
import numbers
import os
import sys
import warnings

import numpy as np


def check_random_state(seed):
    """np.random.Generator from None, an int, a Generator or a RandomState.

    scikit-learn's ``check_random_state`` returns the legacy RandomState; the estimators here
    draw from a Generator (its streams are the ones the results are reproducible with).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
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
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


_C_INT_MAX = 2**31 - 1


def check_memory(n_bytes, what, advice="use a smaller batch_size", n_addressed=0):
    """Refuse, before allocating, a state that would not fit in the available memory, or
    whose arrays have more than ``n_addressed`` entries than the C core's int indices reach."""
    if n_addressed > _C_INT_MAX:
        raise MemoryError(f"{what} has {n_addressed} variables per array, more than the C core "
                          f"addresses ({_C_INT_MAX}); {advice}")
    avail = available_memory_bytes()
    if avail is not None and n_bytes > 0.8 * avail:
        raise MemoryError(
            f"{what} needs about {n_bytes / 2**30:.2f} GiB but only {avail / 2**30:.2f} GiB "
            f"is available; {advice}"
        )


_INTERNAL = tuple(os.path.dirname(m.__file__) + os.sep
                  for m in (sys.modules["numpy"], __import__("sklearn"))) + (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,)


def warn_caller(message, category):
    """warnings.warn attributed to the first frame outside lwl, scikit-learn and numpy (the
    user's call), however many decorators and helpers lie between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)


def clip_batch(name, size, n_samples):
    """The batch size ``size`` (the parameter ``name``) clipped to the ``n_samples`` training
    items, with a warning when it is larger, as MLPClassifier does."""
    if size > n_samples:
        warn_caller(f"{name}={size} is larger than the training data ({n_samples} items); "
                    f"clipping it to {n_samples}", UserWarning)
    return min(size, n_samples)
