"""Boolean data from random majority-gate circuits, the classification benchmark of paper §5.5.1.

A circuit of depth n on m inputs has n - 1 hidden layers of m majority gates, each gate reading
``fan_in`` distinct random nodes of the layer below with a random Not on each input, and a top
majority gate reading all m gates of the last hidden layer, also with random Nots (Fig 8 colours every
edge by its Not). Its truth value is the class. Inputs and outputs are 0/1 (F/T), as in eq 35 and the
published maj13_<depth>_3 files. Majority with Nots is self-dual (complementing every input
complements the output), so exactly half of all 2^m inputs are in each class.
"""
import numbers
from dataclasses import dataclass

import numpy as np

from sklearn.utils import check_scalar

from .._validation import check_random_state


@dataclass(frozen=True, eq=False)
class MajorityCircuit:
    """A layered circuit of majority gates with negated inputs.

    ``sources[l]`` (gates, fan-in) holds, for layer ``l``, the indices of each gate's inputs in the
    layer below (layer 0 reads the circuit inputs), and ``negate[l]`` (same shape, bool) whether each
    input passes through a Not. The last layer is the single top gate.
    """

    n_inputs: int
    sources: tuple
    negate: tuple

    @property
    def depth(self):
        return len(self.sources)

    def evaluate(self, X):
        """Truth value (int 0/1) of the circuit on each row of ``X`` (n, n_inputs) of 0/1 values."""
        vals = np.asarray(X)
        if vals.ndim != 2 or vals.shape[1] != self.n_inputs:
            raise ValueError(f"X must have shape (n, {self.n_inputs}); got {vals.shape}")
        if not np.isin(vals, (0, 1)).all():
            raise ValueError("X must hold only 0 and 1")
        vals = vals.astype(bool)
        for src, neg in zip(self.sources, self.negate):
            votes = (vals[:, src] ^ neg).sum(axis=2)
            vals = 2 * votes > src.shape[1]
        return vals[:, 0].astype(np.int64)


def majority_circuit(depth, n_inputs=13, fan_in=3, random_state=None):
    """The majority-circuit data of §5.5.1: ``(X_train, y_train, X_test, y_test, circuit)``.

    ``depth`` counts gate layers including the top gate (depth 2: one hidden layer, then the top
    gate; depth 1: the top gate on the inputs). All ``2**n_inputs`` inputs, float64 0/1 rows, are
    split at random into two halves (4096 / 4096 for the paper's m = 13), each in random order; ``y``
    is int 0/1 and equals ``circuit.evaluate(X)``. ``n_inputs`` must be odd (the top gate reads
    ``n_inputs`` nodes) and at most 19 (the data hold every input); ``fan_in`` odd and at most
    ``n_inputs``. The paper's circuits have m = 13, fan-in 3, depth 2, 3, 4.
    """
    check_scalar(depth, "depth", numbers.Integral, min_val=1)
    check_scalar(n_inputs, "n_inputs", numbers.Integral, min_val=1, max_val=19)
    check_scalar(fan_in, "fan_in", numbers.Integral, min_val=1, max_val=n_inputs)
    if n_inputs % 2 == 0:
        raise ValueError(f"n_inputs must be odd (the top majority gate reads n_inputs nodes); "
                         f"got {n_inputs}")
    if fan_in % 2 == 0:
        raise ValueError(f"fan_in must be odd (a majority needs an odd number of votes); got {fan_in}")
    rng = check_random_state(random_state)
    sources, negate = [], []
    for _ in range(depth - 1):
        sources.append(np.stack([rng.choice(n_inputs, size=fan_in, replace=False)
                                 for _ in range(n_inputs)]))
        negate.append(rng.random((n_inputs, fan_in)) < 0.5)
    sources.append(np.arange(n_inputs)[None, :])
    negate.append(rng.random((1, n_inputs)) < 0.5)
    circuit = MajorityCircuit(n_inputs, tuple(sources), tuple(negate))

    codes = np.arange(2 ** n_inputs)
    X = ((codes[:, None] >> np.arange(n_inputs - 1, -1, -1)) & 1).astype(np.float64)
    y = circuit.evaluate(X)
    perm = rng.permutation(codes.size)
    train, test = perm[: codes.size // 2], perm[codes.size // 2:]
    return X[train], y[train], X[test], y[test], circuit
