"""compare/bench.py --against: the published programs run on the bench's cases, their work read
from their own logs (here stand-ins that write a log as the published programs do)."""
import importlib.util
import stat
import sys
from pathlib import Path

import pytest

COMPARE = Path(__file__).parents[1] / "compare"
sys.path.insert(0, str(COMPARE))
_spec = importlib.util.spec_from_file_location("bench", COMPARE / "bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

STAND_IN = """#!{python}
import sys, time
args = sys.argv
start = time.process_time()
while time.process_time() - start < 0.05:   # some CPU time for the parent to measure
    pass
open("arguments", "w").write(" ".join(args[1:]))
log = " ".join(args[:-1]) + " \\n\\n   header\\n\\n"
log += "%5d%10.2f%9.2f%10.2e%10.6f\\n" % (1, {gwms}, 100, 1.0, 0.5)
log += "\\nsecs: %12.3f\\n20000 iterations\\n" % 0.05   # as RRRnmf ends its log
open(args[-1] + ".log", "w").write(log)
"""


@pytest.fixture
def programs(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("RRRnmf", "RRRclass"):
        path = folder / name
        path.write_text(STAND_IN.format(python=sys.executable, gwms=0.25))
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return folder


def test_the_published_programs_run_on_the_bench_cases(programs, tmp_path):
    name, X, params, _ = next(bench.nmf_cases())
    work = tmp_path / "nmf"
    work.mkdir()
    per_gwm = bench.published_run(programs, name, (X,), params, 2, work)
    assert per_gwm >= 0.05 / 0.25 * 0.9                   # CPU of the child / its logged GWMs
    assert (work / "arguments").read_text() == "nmf.txt 8 16 1 20000 0.3 0.9 0 run"
    assert (work / "nmf.txt").read_text().startswith("16\n\n")
    name, X, y, params, _ = next(bench.classifier_cases())
    work = tmp_path / "cls"
    work.mkdir()
    assert bench.published_run(programs, name, (X, y), params, 1, work) > 0
    assert (work / "arguments").read_text() == \
        "train.txt train.txt c.net 128 1 100 0 1 2 1 0.1 run"
    assert (work / "c.net").read_text().startswith("13 52 2\n\n13 13\n0 1 2 ")
    assert bench.published_run(programs, "autoencoder x", (X,), {}, 1, work) is None


def test_a_missing_program_says_what_to_build(tmp_path):
    name, X, params, _ = next(bench.nmf_cases())
    with pytest.raises(SystemExit, match="RRRnmf.c"):
        bench.published_run(tmp_path, name, (X,), params, 1, tmp_path)


def test_gwms_come_from_the_last_row_of_the_log(tmp_path):
    (tmp_path / "r.log").write_text("RRRnmf a b \n\nepoch GOPs\n\n    1      0.50  1e2\n"
                                    "    2      1.00  1e2\n\nsecs:        0.500\n1000 iterations\n")
    assert bench.published_gwms(tmp_path / "r.log") == 1.0
    (tmp_path / "e.log").write_text("RRRclass a b \n\nepoch GWMs\n\n")
    with pytest.raises(SystemExit, match="no epoch row"):
        bench.published_gwms(tmp_path / "e.log")
