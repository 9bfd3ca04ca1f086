"""The sweep runner of the comparison scripts (compare/_sweep.py): keys, records, resuming after
an interruption, lost workers, and the same results in this process, in worker processes and on
a local Dask cluster (loopback only)."""
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compare"))

from _sweep import Records, Run, RunFailed, Sweep, dumps, loads, run_key  # noqa: E402
from lwl import RRRNMF  # noqa: E402
from lwl.datasets import ledm  # noqa: E402


def fit_nmf(workdir, max_iter, seed):
    """A tiny RRRNMF fit on the m = 6 LEDM. Each execution is logged in workdir/executed;
    workdir/stop holding k makes the k-th execution raise KeyboardInterrupt (Ctrl-C) after its
    work; workdir/kill holding a seed makes the first execution of that seed kill its process."""
    workdir = Path(workdir)
    with open(workdir / "executed", "a") as fh:
        fh.write(f"{seed}\n")
    executed = len((workdir / "executed").read_text().split())
    model = RRRNMF(5, omega=0.6, beta=0.3, rrr_iter=max_iter, tol=1e-10, random_state=seed)
    model.fit(ledm(6))
    stop = workdir / "stop"
    if stop.is_file() and executed >= int(stop.read_text()):
        raise KeyboardInterrupt
    kill = workdir / "kill"
    if kill.is_file() and int(kill.read_text()) == seed:
        kill.unlink()
        os._exit(1)
    return dict(seed=seed, err=model.reconstruction_err_, gwms=model.gwms_,
                components=model.components_, rrr_err=np.asarray(model.rrr_err_),
                n_iter=np.int64(model.n_rrr_iter_))


def swallowing(workdir, seed):
    """A run that catches Ctrl-C itself and returns (as an interrupted lwl fit does)."""
    try:
        signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        pass
    return seed


def executions(workdir):
    path = Path(workdir) / "executed"
    return [int(s) for s in path.read_text().split()] if path.is_file() else []


def sweep_runs(workdir, seeds=range(6), max_iter=300):
    return [Run(fit_nmf, (str(workdir), max_iter), seed, f"nmf seed {seed}") for seed in seeds]


def same(a, b):
    """Bit-identical results (arrays by their bytes, floats exactly)."""
    return dumps(a) == dumps(b)


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "w").mkdir()
    return tmp_path / "w"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sweep run in this process, uninterrupted (its workdir, so its keys, is fixed)."""
    workdir = tmp_path_factory.mktemp("ref")
    results = Sweep("t", path=workdir / "runs.jsonl", log=lambda *a, **k: None).run(
        sweep_runs(workdir))
    return workdir, results


def quiet(path, **kwargs):
    return Sweep("t", path=path, log=lambda *a, **k: None, **kwargs)


def test_keys_follow_settings_and_results_round_trip(tmp_path):
    runs = sweep_runs("w", seeds=[0])
    key = run_key("t", runs[0])[0]
    assert key == run_key("t", sweep_runs("w", seeds=[0])[0])[0]
    assert key != run_key("t", sweep_runs("w", seeds=[1])[0])[0]
    assert key != run_key("t", sweep_runs("w", seeds=[0], max_iter=301)[0])[0]
    assert key != run_key("other", runs[0])[0]
    y = np.arange(6.0)
    assert run_key("t", Run(fit_nmf, (y,), 0))[0] != run_key("t", Run(fit_nmf, (y + 1,), 0))[0]
    with pytest.raises(TypeError):
        run_key("t", Run(fit_nmf, (object(),), 0))
    value = dict(a=np.arange(6.0).reshape(2, 3) / 7, b=np.float64(0.1), c=np.int64(3),
                 d=[0.1 + 0.2, None, float("nan")], e=(1, 2))
    back = loads(dumps(value))
    assert back["a"].dtype == np.float64 and np.array_equal(back["a"], value["a"])
    assert back["b"] == 0.1 and back["c"] == 3 and back["e"] == [1, 2]
    assert back["d"][0] == 0.1 + 0.2 and np.isnan(back["d"][2])


def test_line_cut_short_is_skipped(tmp_path):
    records = Records(tmp_path / "r.jsonl")
    records.append(dict(key="a"), "1")
    with open(records.path, "a") as fh:
        fh.write('{"key":"b","result":')  # a crash in the middle of a line
    records.append(dict(key="c"), "3")
    assert {k: r["result"] for k, r in records.read().items()} == {"a": 1, "c": 3}


def test_interrupted_sweep_resumes(reference, workdir, tmp_path):
    ref_dir, _ = reference
    runs = sweep_runs(workdir)
    full = quiet(tmp_path / "full.jsonl").run(runs)
    (workdir / "stop").write_text("3")  # Ctrl-C during the third run
    (workdir / "executed").unlink()
    path = tmp_path / "runs.jsonl"
    with pytest.raises(KeyboardInterrupt):
        quiet(path).run(runs)
    assert executions(workdir) == [0, 1, 2]
    assert len(Records(path).read()) == 2  # the two finished runs, not the interrupted one
    (workdir / "stop").unlink()
    seen = []
    resumed = quiet(path).run(runs, on_result=lambda run, res: seen.append(run.seed))
    assert executions(workdir) == [0, 1, 2, 2, 3, 4, 5]  # only the unfinished runs redone
    assert seen == [2, 3, 4, 5]
    assert len(Records(path).read()) == 6
    assert all(same(a, b) for a, b in zip(resumed, full))
    again = quiet(path).run(runs)  # all done: nothing executed
    assert executions(workdir) == [0, 1, 2, 2, 3, 4, 5]
    assert all(same(a, b) for a, b in zip(again, full))
    assert all(same(a, b) for a, b in zip(full, reference[1]))  # another folder: other keys


def test_swallowed_ctrl_c_is_not_recorded(workdir, tmp_path):
    path = tmp_path / "runs.jsonl"
    with pytest.raises(KeyboardInterrupt):
        quiet(path).run([Run(swallowing, (str(workdir),), 0)])
    assert Records(path).read() == {}


def test_worker_processes_and_a_lost_worker(reference, workdir, tmp_path):
    (workdir / "kill").write_text("3")  # the worker running seed 3 dies the first time
    out = quiet(tmp_path / "runs.jsonl", jobs=2).run(sweep_runs(workdir))
    assert sorted(executions(workdir)) == [0, 1, 2, 3, 3, 4, 5]
    assert all(same(a, b) for a, b in zip(out, reference[1]))


def test_failed_run_keeps_the_others(workdir, tmp_path):
    runs = sweep_runs(workdir, seeds=[0, 1]) + [Run(fit_nmf, (str(workdir), -1), 2)]
    path = tmp_path / "runs.jsonl"
    with pytest.raises(RunFailed):
        quiet(path).run(runs)
    assert len(Records(path).read()) == 2


def test_local_dask_cluster(reference, workdir, tmp_path):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    (workdir / "kill").write_text("4")  # a worker dies mid-run: the scheduler runs it again
    path = tmp_path / "runs.jsonl"
    # a result fetched from the lost worker waits for this before it is computed again
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}), \
            Sweep("t", local_cluster=2, path=path, log=lambda *a, **k: None) as sweep:
        assert sweep.workers() == 2
        out = sweep.run(sweep_runs(workdir))
    done = executions(workdir)  # results held by the lost worker are computed again too
    assert set(done) == set(range(6)) and done.count(4) >= 2
    assert all(same(a, b) for a, b in zip(out, reference[1]))
    assert len(Records(path).read()) == 6
    record = json.loads(path.read_text().splitlines()[0])
    assert record["script"] == "t" and record["settings"]["fn"] == "fit_nmf"


def test_without_dask_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(SystemExit, match="pip install"):
        Sweep("t", scheduler="tcp://127.0.0.1:1", path=tmp_path / "runs.jsonl")


def slow(seconds, seed):
    import time
    time.sleep(seconds)
    return seed


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_goes_on_while_long_runs_go_on(tmp_path, monkeypatch, jobs):
    """While no run finishes, a line of progress every HEARTBEAT seconds says how many runs are
    going and for how long; the time left counts what the running runs have already had."""
    import _sweep
    monkeypatch.setattr(_sweep, "HEARTBEAT", 0.3)
    lines = []
    runs = [Run(slow, (1.2,), seed, f"slow {seed}") for seed in range(3)]
    with Sweep("hb", jobs=jobs, path=tmp_path / "r.jsonl",
               log=lambda text, **kw: lines.append(text)) as sweep:
        assert sweep.run(runs) == [0, 1, 2]
    beats = [l for l in lines if "running (the longest for" in l]
    assert len(beats) >= 2, lines
    assert any("no run finished yet" in l for l in beats)
    assert any("to go on" in l for l in beats[1:]), lines
