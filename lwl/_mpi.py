"""Data parallelism over MPI processes (mpi4py, ``pip install "lwl[mpi]"``).

Every projection of RRR is local to an item except the consensus of the replicated weights
and biases and the error, which are sums over the items of a batch (paper section 2, eq 26f,
26i, 42). So a batch splits across processes: each holds the RRR state of its share of the
items (the O(|K| |E|) arrays), and every iteration completes the sums over items with two
allreduces, of the per-node bias sums and of the per-edge weight sums with the squared error.
Every process then holds the same consensus parameters and RRR_err, runs the same number of
iterations and takes the same decisions; the data, the random stream and everything outside
a batch's iterations are every process's own, equal copies.

The sums are added over the processes by MPI's allreduce, whose order of additions is fixed for
a given number of processes and message size, so results are deterministic for a given process
count; they equal one process's to rounding, not to the bit (one process adds its chunks of
items in sequence, the processes add theirs pairwise).
"""
import signal
import threading
from contextlib import contextmanager

import numpy as np

from ._core import ffi, lib


def mpi():
    """The mpi4py MPI module; ImportError naming the extra that installs it."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError("training over MPI processes (comm=...) needs mpi4py and an MPI "
                          "library: pip install \"lwl[mpi]\" (it brings both)") from exc
    return MPI


def process_group(comm):
    """The ProcessGroup of ``comm`` (an mpi4py communicator), or None when there is nothing
    to share: no communicator, or one of a single process."""
    if comm is None:
        return None
    MPI = mpi()
    if not isinstance(comm, MPI.Comm) or comm == MPI.COMM_NULL:
        raise TypeError(f"comm must be an mpi4py communicator (such as MPI.COMM_WORLD); "
                        f"got {comm!r}")
    return ProcessGroup(comm) if comm.Get_size() > 1 else None


@ffi.def_extern()
def lwl_reduce_over_processes(sums, n, ctx):
    """The C workspace's reduce: sums[0 .. n) added over the processes, in place."""
    group = ffi.from_handle(ctx)
    buf = np.frombuffer(ffi.buffer(sums, 8 * n), dtype=np.float64)
    group.comm.Allreduce(group.MPI.IN_PLACE, buf, op=group.MPI.SUM)


class ProcessGroup:
    """The processes of a communicator sharing every batch: who holds which items, the
    reduce the C core calls, and Ctrl-C taken by all of them at the same point."""

    def __init__(self, comm):
        self.MPI, self.comm = mpi(), comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self._handle = ffi.new_handle(self)
        self._interrupted = False

    def share(self, n_items):
        """This process's items of a batch of ``n_items``: the slice [lo, hi), near-equal
        contiguous shares in rank order."""
        return slice(self.rank * n_items // self.size, (self.rank + 1) * n_items // self.size)

    def largest_share(self, n_items):
        """Items of the largest share of a batch of ``n_items``."""
        return -(-n_items // self.size)

    def attach(self, ws, n_total):
        """Make the C workspace ``ws`` complete its sums over the group, for a batch of
        ``n_total`` items over all processes."""
        ws.processes.reduce = lib.lwl_reduce_over_processes
        ws.processes.ctx = self._handle
        ws.processes.n_total = n_total

    def gather_items(self, local):
        """The per-item values of the whole batch from every process's share, in item order."""
        parts = self.comm.allgather(np.asarray(local))
        return np.concatenate(parts)

    @contextmanager
    def holding_sigint(self):
        """Ctrl-C within the block is noted, not raised: :meth:`check_interrupt` raises it on
        every process at once. (Raised where it arrives, on one process, it would leave the
        others waiting in an allreduce; raised inside the C core's reduce, it would be lost.)
        Signals reach only the main thread: elsewhere the block runs as it is."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def note(signum, frame):
            self._interrupted = True

        old = signal.signal(signal.SIGINT, note)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, old)

    def check_interrupt(self):
        """KeyboardInterrupt on every process when Ctrl-C reached any of them (collective:
        every process calls it at the same point)."""
        if self.comm.allreduce(self._interrupted, op=self.MPI.LOR):
            self._interrupted = False
            raise KeyboardInterrupt
