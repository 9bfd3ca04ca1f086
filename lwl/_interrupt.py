"""Ctrl-C (SIGINT) noted through a block of code, for the command line and the sweeps."""
import signal
import threading
from contextlib import contextmanager


@contextmanager
def sigint_noted(stop_at_once=False):
    """Ctrl-C within the block raises KeyboardInterrupt when the block ends. With
    ``stop_at_once=False`` it is held until then (so that saving a file is not cut short);
    with ``stop_at_once=True`` it is also raised at once, and raised again at the end even when
    the block caught the first one itself (as a fit does, returning what it reached).  Signals
    reach only the main thread: elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []

    def note(signum, frame):
        caught.append(signum)
        if stop_at_once:
            raise KeyboardInterrupt

    old = signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if caught:
        raise KeyboardInterrupt
