"""What every RRR solver state has in common: one batch's iterate in numpy arrays that a C
workspace points into, the interruptible loop of calls into C that runs it, and the
processes that may share the batch (lwl._mpi).

Subclasses (:class:`lwl._nmf_engine.NMFState`, :class:`lwl._engine.Engine`) allocate the
arrays, fill them in ``start_batch`` and name the C function that runs iterations.
"""
import time

import numpy as np

from ._mpi import process_group
from ._progress import report

# Iterations per call into C are chosen so that a call does about this many weight-multiplies
# (~0.5 s at 2.5 s/GWM): Ctrl-C is then honoured within about that time, between calls. The
# network engine carries its consensus sums from one call to the next, so splitting a batch
# into calls costs no extra pass over the state.
WMS_PER_CALL = 2e8


class RRRState:
    """One batch's RRR iterate (section 1, eq 3-4): ``x += beta (P_B(2 P_A(x) - x) - P_A(x))``.

    Subclasses set ``ws`` (the C workspace) and implement :meth:`_iterate` and
    :attr:`n_weights` (|E|, the weight-multiplies per item and iteration, eq 24). With a
    :class:`lwl._mpi.ProcessGroup` as ``group`` (see :meth:`_join`), the processes share every
    batch: each subclass's ``start_batch`` takes the whole batch and keeps :meth:`_share` of it.
    """

    ws = None
    group = None

    def _join(self, comm, batch_size):
        """Share batches with the processes of ``comm`` (None: hold them whole); returns the
        items of the largest batch this process holds."""
        self.group = process_group(comm)
        if self.group is None:
            return batch_size
        self.group.attach(self.ws, batch_size)
        return self.group.largest_share(batch_size)

    def _share(self, n_items):
        """This process's slice of a batch of ``n_items`` (all of it without a group)."""
        if self.group is None:
            return slice(0, n_items)
        self.ws.processes.n_total = n_items
        return self.group.share(n_items)

    def _gather(self, rows):
        """Per-item rows of this process's share -> those of the whole batch."""
        return rows if self.group is None else self.group.gather_items(rows)

    @property
    def n_items(self):
        """|K| of the current batch."""
        return self.ws.n_items

    @property
    def batch_items(self):
        """|K| of the whole batch (over every process that shares it)."""
        return self.n_items if self.group is None else self.ws.processes.n_total

    @property
    def n_weights(self):
        raise NotImplementedError

    def _iterate(self, n, tol, out):
        """Run up to n iterations in C, RRR_err of each into ``out``; return how many ran."""
        raise NotImplementedError

    def _after_run(self):
        """Called after any iterations ran (also when interrupted): copy out the A point."""


    def run(self, max_iter, tol, errs, progress=False):
        """Iterate in calls of about WMS_PER_CALL work, appending every RRR_err to ``errs``
        (the caller's list, so a Ctrl-C between calls loses no count).  Returns True when
        RRR_err < tol was reached (a fixed point: the A point is a solution).  Processes
        sharing the batch run the same calls and take Ctrl-C together between them."""
        if self.group is None:
            return self._run(max_iter, tol, errs, progress)
        with self.group.holding_sigint():
            return self._run(max_iter, tol, errs, progress)

    def _run(self, max_iter, tol, errs, progress):
        chunk = int(max(1, WMS_PER_CALL // (self.batch_items * self.n_weights)))
        out = np.empty(max(1, min(chunk, max_iter)))
        done_total, last_print = 0, time.perf_counter()
        try:
            while done_total < max_iter:
                done = self._iterate(min(chunk, max_iter - done_total), tol, out)
                errs.extend(out[:done].tolist())
                done_total += done
                if self.group is not None:
                    self.group.check_interrupt()
                report(iteration=done_total, rrr_err=float(out[done - 1]))
                if out[done - 1] < tol:
                    return True
                if progress and time.perf_counter() - last_print > 2.0:
                    last_print = time.perf_counter()
                    print(f"  iteration {done_total:8d}  RRR_err {out[done - 1]:.3e}", flush=True)
            return False
        finally:
            if done_total:
                self._after_run()

    def gwms(self, n_iterations):
        """Work of n_iterations on the current batch, in GWMs (eq 24)."""
        return 1e-9 * n_iterations * self.batch_items * self.n_weights
