"""What every network estimator (classifier, autoencoder) shares around the one engine:
building it after the memory check, nets from net files, warm starts, the fitted parameters,
the published programs' parameter files, saving and pickling."""
import os
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._core import STATE_DTYPES
from ._engine import Engine, check_state_size
from ._estimator import RRR_PARAMETERS, RRREstimator
from ._mpi import process_group
from ._training import Trainer
from ._validation import check_random_state
from .graph import Graph
from .io import NetFile, NetParams, read_net_file, read_param_file, write_net_file, \
    write_param_file

#: parameter constraints every network estimator shares (RRR_PARAMETERS and these)
NETWORK_PARAMETERS = {
    **RRR_PARAMETERS,
    "rrr_iter": [Interval(Integral, 1, None, closed="left")],
    "warm_start": ["boolean"],
    "n_jobs": [Interval(Integral, 1, None, closed="left"), None],
    "net": [None, str, os.PathLike, NetFile],
}


class NetworkEstimator(RRREstimator, abstract=True):
    """Base of the estimators trained on :class:`lwl._engine.Engine`.

    Subclasses set ``_net_kind`` ('classifier' or 'autoencoder'), implement
    ``_graph_for(sizes)``, ``_layer_sizes()`` and ``_check_net(net)`` (the net's sizes against
    the data); the fitted parameters are ``_weights`` (w_A per edge) and ``_biases`` (b_B per
    node) of ``_graph``.
    """

    _net_kind = "classifier"
    _fitted_attribute = "_weights"

    def _net_file(self):
        """The NetFile of the ``net`` parameter (read when it is a path), or None."""
        if self.net is None:
            return None
        net = self.net if isinstance(self.net, NetFile) else read_net_file(self.net)
        if net.kind != self._net_kind:
            name = type(self).__name__
            why = ("an acyclic (feed-forward) classifier net, header `n_data n_hidden n_class`"
                   if self._net_kind == "classifier" else
                   "a cyclic autoencoder net, header `n_data n_encode n_code n_decode`")
            article = "an" if net.kind[0] == "a" else "a"
            raise ValueError(f"{name} needs {why}; net={self.net!r} is {article} {net.kind} net")
        return net

    def _new_engine(self, n_items, rng, parameters=None, dtype=np.float64, **options):
        """The engine for batches of ``n_items`` items, from ``parameters`` (weights, biases)
        or random initial weights, with its state in ``dtype`` (that of the training data).
        The memory check comes from the layer sizes (or the net file's counts), before the
        graph or any state of its size is built; with ``comm``, for this process's share of
        a batch."""
        batch_size, group = n_items, process_group(self.comm)
        if group is not None:
            n_items = group.largest_share(n_items)
        net = self._net_file()
        if net is None:
            sizes = self._layer_sizes()
            closed = getattr(self, "_closed_net", False)
            pairs = list(zip(sizes[:-1], sizes[1:])) + ([(sizes[-1], sizes[0])] if closed else [])
            check_state_size(n_items, sum(sizes), sum(a * b for a, b in pairs),
                             max(a for a, _ in pairs), dtype)
            graph = self._graph_for(sizes)
        else:
            self._check_net(net)
            check_state_size(n_items, net.n_nodes, net.n_edges, int(net.indegree.max()), dtype)
            graph = Graph.from_net(net, self.activation)
        if parameters is not None and not _same_edges(graph, self._graph):
            raise ValueError("warm start: the network changed since the last fit (its layer "
                             "sizes or net); fit without warm_start to start afresh")
        return Engine(graph, batch_size, omega=self.omega, beta=self.beta, delta=self.margin,
                      n_jobs=1 if self.n_jobs is None else self.n_jobs, rng=rng,
                      parameters=parameters, dtype=dtype, comm=self.comm, **options)

    # ------------------------------------------------------------ the published programs' files
    def _param_header(self):
        """(omega, margin, zig) for the parameter file's first line (autoencoders only)."""
        return None, None, None

    def save_params(self, path, net_path=None, exact=True):
        """Write the fitted parameters as the published programs' parameter file: for every
        node with inputs, in node order, its bias on one line and its incoming weights (in
        the net file's order) on the next, then a blank line; an autoencoder's starts with
        ``Omega margin zig`` (margin as the published RRRauto takes it: Delta / 2).  Numbers
        are written in their shortest exact form, so ``load_params`` gives them back bit for
        bit; ``exact=False`` writes them as the published programs do (six decimals).
        ``net_path``: also write the net file the parameters belong to.

        Parameters
        ----------
        path : str or path-like
            The parameter file to write (replaced whole; a path ending in ``.zip`` gives a
            zip holding the one file).
        net_path : str, path-like or None, default=None
            Where to write the net file as well; None writes none.
        exact : bool, default=True
            Write every number in its shortest exact form (True) or with six decimals, as
            the published programs do (False).

        Returns
        -------
        None
        """
        check_is_fitted(self, "_weights")
        net = self._graph.to_net()
        omega, margin, zig = self._param_header()
        write_param_file(path, net, NetParams(self._biases, self._weights[self._graph.net_order()],
                                              omega, margin, zig), exact=exact)
        if net_path is not None:
            write_net_file(net_path, net)

    def save_net(self, path):
        """Write the fitted network as the published programs' net file.

        Parameters
        ----------
        path : str or path-like
            The net file to write (replaced whole; a path ending in ``.zip`` gives a zip
            holding the one file).

        Returns
        -------
        None
        """
        check_is_fitted(self, "_weights")
        write_net_file(path, self._graph.to_net())

    @classmethod
    def load_params(cls, path, net, **params):
        """A fitted estimator from a parameter file of the published programs (``path``) and
        the net file it belongs to (``net``: a path or a NetFile); ``params`` are further
        hyperparameters (see the subclass for those that matter to predictions).

        Parameters
        ----------
        path : str or path-like
            The parameter file.
        net : str, path-like or lwl.io.NetFile
            The net file the parameters belong to, or the NetFile read from it.
        **params : dict
            Further hyperparameters of the estimator.

        Returns
        -------
        estimator : NetworkEstimator
            A fitted estimator of the class this method is called on.
        """
        est = cls(net=net, **params)
        netfile = est._net_file()
        extra = est._params_from_file(netfile, read_param_file(path, netfile))
        est._validate_params()
        graph = Graph.from_net(netfile, est.activation)
        weights = np.empty(graph.n_edges)
        weights[graph.net_order()] = extra.pop("weights")
        est._graph, est._predictor = graph, None
        est._weights, est._biases = weights, extra.pop("biases")
        est.n_features_in_ = len(graph.data_nodes)
        est._rng = check_random_state(est.random_state)
        est.history_, est.n_rrr_iter_, est.gwms_ = {}, 0, 0.0
        est.rrr_err_, est.batch_iters_ = np.empty(0), np.empty(0, dtype=np.int64)
        est._after_load_params(**extra)
        return est

    def _params_from_file(self, net, params):
        """Set hyperparameters the parameter file carries; return what _after_load_params
        and load_params take (weights in the file's order, biases)."""
        return {"weights": params.weights, "biases": params.bias}

    def _after_load_params(self):
        """Derived fitted attributes of a model read from a parameter file."""

    def _check_loaded(self):
        if not hasattr(self, "_weights"):
            return
        g = self._graph
        if not isinstance(g, Graph):
            raise ValueError("the fitted graph is missing")
        if self._weights.shape != (g.n_edges,) or self._biases.shape != (g.n_nodes,):
            raise ValueError(f"weights {self._weights.shape} and biases {self._biases.shape} do "
                             f"not fit a graph of {g.n_edges} edges and {g.n_nodes} nodes")
        if self._weights.dtype not in STATE_DTYPES \
                or self._biases.dtype != self._weights.dtype:
            raise ValueError("weights and biases must be both float64 or both float32")
        if self.n_features_in_ != len(g.data_nodes):
            raise ValueError(f"n_features_in_={self.n_features_in_} but the graph has "
                             f"{len(g.data_nodes)} data nodes")
        self._predictor = None

    def _keep_parameters(self, engine):
        self._graph, self._predictor = engine.graph, engine
        self._weights, self._biases = engine.weights.copy(), engine.biases.copy()

    def _predict_engine(self, dtype=np.float64):
        """The fitted engine if its dtype is ``dtype`` (that of the data to predict: the
        forward pass preserves it); else (and after unpickling) a one-item engine of that
        dtype rebuilt from the parameters."""
        engine = getattr(self, "_predictor", None)
        if engine is None or engine.dtype != dtype:
            engine = self._predictor = Engine(self._graph, 1, omega=self.omega,
                                              delta=self.margin, dtype=dtype,
                                              parameters=(self._weights, self._biases))
        return engine

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


def _same_edges(a, b):
    return (a.n_nodes == b.n_nodes and np.array_equal(a.src, b.src)
            and np.array_equal(a.dst, b.dst))


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
