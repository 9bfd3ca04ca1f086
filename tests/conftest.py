"""Fixtures shared by the test modules."""
import pytest


@pytest.fixture
def interrupt_at_call(monkeypatch):
    """``interrupt_at_call(n, state_class)``: the n-th call into C of that RRR state class
    (default the network engine) raises KeyboardInterrupt, as Ctrl-C would."""
    def arm(n, state_class=None):
        if state_class is None:
            from lwl._engine import Engine as state_class
        real, calls = state_class._iterate, {"n": 0}

        def interrupting(self, *args):
            calls["n"] += 1
            if calls["n"] == n:
                raise KeyboardInterrupt
            return real(self, *args)
        monkeypatch.setattr(state_class, "_iterate", interrupting)
    return arm
