"""What every network estimator (classifier, autoencoder) shares around the one engine:
building it after the memory check, warm starts, the fitted parameters, pickling."""
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator

from ._engine import Engine, check_state_size
from ._training import CallbackSupportMixin, Trainer


class NetworkEstimator(CallbackSupportMixin, BaseEstimator):
    """Base of the estimators trained on :class:`lwl._engine.Engine`.

    Subclasses implement ``_graph_for(sizes)`` and ``_layer_sizes()``; the fitted parameters
    are ``_weights`` (w_A per edge) and ``_biases`` (b_B per node) of ``_graph``.
    """

    def _new_engine(self, n_items, rng, parameters=None, **options):
        """The engine for batches of ``n_items`` items, from ``parameters`` (weights, biases)
        or random initial weights.  The memory check comes from the layer sizes, before the
        graph or any state of its size is built."""
        sizes = self._layer_sizes()
        closed = getattr(self, "_closed_net", False)
        pairs = list(zip(sizes[:-1], sizes[1:])) + ([(sizes[-1], sizes[0])] if closed else [])
        check_state_size(n_items, sum(sizes), sum(a * b for a, b in pairs),
                         max(a for a, _ in pairs))
        graph = self._graph_for(sizes)
        if parameters is not None and len(parameters[0]) != graph.n_edges:
            raise ValueError("warm start: the network's shape changed since the last fit "
                             f"({len(parameters[0])} weights, now {graph.n_edges})")
        return Engine(graph, n_items, omega=self.omega, beta=self.beta, delta=self.margin,
                      n_jobs=1 if self.n_jobs is None else self.n_jobs, rng=rng,
                      parameters=parameters, **options)

    def _keep_parameters(self, engine):
        self._graph, self._predictor = engine.graph, engine
        self._weights, self._biases = engine.weights.copy(), engine.biases.copy()

    def _predict_engine(self):
        """The fitted engine; after unpickling, a one-item engine rebuilt from the parameters."""
        if getattr(self, "_predictor", None) is None:
            self._predictor = Engine(self._graph, 1, omega=self.omega, delta=self.margin,
                                     parameters=(self._weights, self._biases))
        return self._predictor

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_predictor"] = None  # cffi state is rebuilt on demand
        return state


class NetworkTrainer(Trainer):
    """A trainer over the engine: its parameters are the consensus weights and biases."""

    def parameters(self):
        return self.state.weights.copy(), self.state.biases.copy()

    def set_parameters(self, params):
        self.state.weights, self.state.biases = params[0].copy(), params[1].copy()

    def fitted_attributes(self):
        return {"_weights": self.state.weights.copy(), "_biases": self.state.biases.copy(),
                "_graph": self.state.graph, "_predictor": None}


def layer_sizes(sizes, name):
    """A list of positive ints from an int or a sequence (hidden layer sizes)."""
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise ValueError(f"{name} must be positive integers; got {sizes!r}")
    return [int(s) for s in sizes]


def batches(rng, n, size):
    """Index arrays of the batches of one epoch: a fresh shuffle of n items, cut in ``size``."""
    perm = rng.permutation(n)
    return [perm[lo:lo + size] for lo in range(0, n, size)]


def rms(a):
    return float(np.sqrt(np.mean(np.square(a)))) if np.size(a) else 0.0
