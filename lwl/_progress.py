"""The per-epoch table every estimator prints when ``verbose`` is set, with time left; and a
hook through which a caller (the ``lwl`` command) hears of progress within an epoch."""
import sys
import time
from contextlib import contextmanager

_reporter = None


@contextmanager
def reporting(reporter):
    """Within the block, ``reporter(**figures)`` is called as training goes: with
    ``iteration`` and ``rrr_err`` between calls into C (about every 0.1 s of work), and with
    ``batch_done=True`` after every batch."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        _reporter = previous


def report(**figures):
    if _reporter is not None:
        _reporter(**figures)


class EpochTable:
    """Prints a header, then one row per epoch: the given figures, elapsed time and time left.

    ``columns`` maps a history key to a printf format, e.g. ``{"gwms": "{:9.4f}"}``.
    """

    def __init__(self, columns, n_epochs, verbose, stream=None):
        self.columns = columns
        self.n_epochs = n_epochs
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self._widths = {k: max(len(k), len(fmt.format(0.0))) for k, fmt in columns.items()}
        if verbose:
            head = ["epoch".rjust(6)] + [k.rjust(w) for k, w in self._widths.items()]
            head += ["elapsed".rjust(9), "left".rjust(9)]
            print(" ".join(head), file=self.stream, flush=True)

    def row(self, epoch, values):
        """Print epoch ``epoch`` (1-based) with ``values`` (a dict holding every column)."""
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self.start
        left = elapsed / epoch * (self.n_epochs - epoch)
        cells = [str(epoch).rjust(6)]
        for key, fmt in self.columns.items():
            v = values.get(key)
            cells.append(("-" if v is None else fmt.format(v)).rjust(self._widths[key]))
        cells += [_fmt_seconds(elapsed).rjust(9), _fmt_seconds(left).rjust(9)]
        print(" ".join(cells), file=self.stream, flush=True)

    def note(self, message):
        if self.verbose:
            print(message, file=self.stream, flush=True)

    @contextmanager
    def within(self, epoch):
        """Around epoch ``epoch`` (1-based): when the table is shown, a line every HEARTBEAT
        seconds while the epoch runs (batches done, iterations of the batch in progress,
        RRR_err), so that a long epoch is never silent until its row."""
        if not self.verbose:
            yield
            return
        start = last = time.perf_counter()
        batches = [0]
        outer = _reporter

        def heard(iteration=None, rrr_err=None, batch_done=False):
            nonlocal last
            if outer is not None:
                outer(iteration=iteration, rrr_err=rrr_err, batch_done=batch_done)
            batches[0] += bool(batch_done)
            now = time.perf_counter()
            if rrr_err is None or now - last < HEARTBEAT:
                return
            last = now
            print(f"{where_in_epoch(epoch, batches[0], iteration, rrr_err, batch_done)}, "
                  f"{_fmt_seconds(now - start)} into the epoch", file=self.stream, flush=True)

        with reporting(heard):
            yield


#: seconds between the lines of progress within an epoch of a verbose fit
HEARTBEAT = 30.0


def where_in_epoch(epoch, batches_done, iteration, rrr_err, batch_done):
    """The line of progress within an epoch: the batch and its iteration (or the batches
    done, at a batch's end) and the last RRR_err."""
    where = (f"{batches_done} batches done" if batch_done
             else f"batch {batches_done + 1}, iteration {iteration}")
    return f"  epoch {epoch}: {where}, RRR_err {rrr_err:.3e}"


def _fmt_seconds(s):
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"
