"""Every file reader, fuzzed with mutated well-formed files (the test-speed form of
compare/fuzz_readers.py, which runs the long form): no crash, no hang, every malformed file
refused with an error naming the file (and the line), every accepted file read exactly as the
published programs' rules read it."""
import importlib.util
import re
from pathlib import Path


import lwl.io

_PATH = Path(__file__).parents[1] / "compare" / "fuzz_readers.py"
_spec = importlib.util.spec_from_file_location("fuzz_readers", _PATH)
fuzz_readers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz_readers)


def test_readers_survive_mutated_files():
    results, defects = fuzz_readers.fuzz(60, seed=12345, timeout=10.0, verbose=False)
    assert set(results) >= {"data", "data_unlabelled", "net", "param_classifier",
                            "param_autoencoder", "mnist_idx"}
    for kind, counts in results.items():
        assert counts["refused"] > 0, kind  # the mutations do reach the checks
    assert not defects, [(k, o, repr(g)[:200]) for k, o, _, g in defects[:5]]


def test_the_fuzzer_finds_a_reader_that_accepts_too_much(monkeypatch):
    """The harness can fail: a number pattern that lets '1_000' through (Python's float reads
    it, C's strtod does not) makes the parameter-file reader accept what the reference
    refuses, and the fuzzer says so."""
    monkeypatch.setattr(lwl.io, "_NUMBER", re.compile(rb"[+-]?[0-9_]+(?:\.[0-9_]*)?"))
    _, defects = fuzz_readers.fuzz(200, seed=3, kinds={"param_classifier"}, verbose=False)
    assert any(outcome == "accepted a malformed file" for _, outcome, _, _ in defects)
