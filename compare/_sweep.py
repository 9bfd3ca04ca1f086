"""One runner for the sweeps of the comparison scripts: independent runs (settings x seeds)
executed in this process, in local worker processes (``--jobs N``) or on a Dask cluster
(``--scheduler ADDRESS``, ``--local-cluster N``), with the same results for the same seeds
whichever is used, and resumable.

    sweep = Sweep.from_args("fig9", args)          # after add_arguments(parser)
    data = sweep.share(majority_data(3), "majority-3")
    results = sweep.run([Run(rrr_run, (params, data), seed, label, weight) for ...])

A run is ``fn(*args, seed)``; its key is the script, the function's name, the arguments
(described: JSON values as they are, arrays and shared data by a digest of their bytes,
scikit-learn estimators by class and parameters) and the seed, so a run whose settings
changed is a new run. Every finished run is appended at once, one JSON line, to
``compare/results/<script>.runs.jsonl``; a sweep started again with the same command takes the
runs found there and does only the others (``--fresh`` redoes them all). Results go through
JSON both ways, so a run read back is the same as a run just done (floats exactly; numpy
arrays as their bytes).

Each run is single-threaded inside (BLAS held to one thread; the C engine uses the threads its
``n_jobs`` asks for, one by default), so N workers of one thread run N runs at a time. A run
that raises is reported and the others go on; a local worker process that dies loses its run
only, which is started again (up to ``RETRIES`` times); on a Dask cluster the scheduler does
the same for lost workers. Ctrl-C stops the sweep: what finished is kept.
"""
import base64
import datetime
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from _common import duration, results_path
from lwl._interrupt import sigint_noted

RETRIES = 2  # a run whose local worker process dies is started again at most this many times
HEARTBEAT = 60.0  # seconds between lines of progress while no run finishes
COMPARE = Path(__file__).resolve().parent


class Run(NamedTuple):
    """One run: ``fn(*args, seed)``. ``label`` names it in the script's lines; ``weight`` is its
    expected work in any unit, the same for runs of one function (e.g. GWMs at the iteration
    cap), for the time estimate."""
    fn: Callable
    args: tuple
    seed: int
    label: str = ""
    weight: float = 1.0


class RunFailed(RuntimeError):
    pass


def add_arguments(parser):
    """The sweep options: --jobs, --scheduler, --local-cluster, --fresh."""
    group = parser.add_argument_group("sweep (every finished run is kept; the same command "
                                      "resumes)")
    group.add_argument("--jobs", type=int, default=1,
                       help="runs at a time in local worker processes (default 1: in this "
                            "process)")
    group.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run on the Dask cluster of this scheduler (e.g. tcp://host:8786); "
                            "needs pip install 'lwl[cluster]'")
    group.add_argument("--local-cluster", type=int, metavar="N", default=None,
                       help="run on a Dask cluster of N one-thread workers started here")
    group.add_argument("--fresh", action="store_true",
                       help="redo every run, even those already in compare/results/"
                            "<script>.runs.jsonl")
    return parser


# ---------------------------------------------------------------- keys and records
class Shared:
    """Data passed to many runs, sent to each worker once (see Sweep.share)."""

    def __init__(self, obj, name, ref):
        self.obj, self.ref = obj, ref
        self.key = f"{name}:{_digest(obj)}"


def _digest(obj):
    """A digest of the bytes of the arrays in obj (nested tuples, lists, dicts) and of the rest
    of it as JSON."""
    h = hashlib.sha256()

    def walk(o):
        if isinstance(o, np.ndarray):
            o = np.ascontiguousarray(o)
            h.update(f"{o.dtype.str}{o.shape}".encode())
            h.update(o.data)
        elif isinstance(o, (tuple, list)):
            h.update(b"[")
            for x in o:
                walk(x)
            h.update(b"]")
        elif isinstance(o, dict):
            for k in sorted(o):
                h.update(str(k).encode())
                walk(o[k])
        else:
            h.update(json.dumps(_describe(o)).encode())
    walk(obj)
    return h.hexdigest()[:16]


def _describe(obj):
    """A JSON value that identifies an argument of a run."""
    if isinstance(obj, Shared):
        return {"shared": obj.key}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (tuple, list)):
        return [_describe(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): _describe(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return {"array": _digest(obj), "shape": list(obj.shape), "dtype": obj.dtype.str}
    if hasattr(obj, "get_params"):
        return {"estimator": type(obj).__name__,
                "params": _describe(obj.get_params(deep=False))}
    raise TypeError(f"cannot key a run by an argument of type {type(obj).__name__}: pass JSON "
                    "values, arrays, estimators or Sweep.share(...) data")


def run_key(script, run):
    """(key, settings): a digest of the script, the function, the described arguments and the
    seed, and those settings themselves."""
    settings = {"fn": run.fn.__qualname__, "args": _describe(run.args)}
    text = json.dumps(dict(script=script, seed=run.seed, **settings), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32], settings


def _encode(o):
    if isinstance(o, np.ndarray):
        o = np.ascontiguousarray(o)
        return {"__ndarray__": base64.b64encode(o.data).decode(), "dtype": o.dtype.str,
                "shape": list(o.shape)}
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"a run returned a {type(o).__name__}, which a record cannot hold")


def _decode(d):
    if "__ndarray__" in d:
        buf = base64.b64decode(d["__ndarray__"])
        return np.frombuffer(buf, dtype=d["dtype"]).reshape(d["shape"]).copy()
    return d


def dumps(result):
    return json.dumps(result, default=_encode, separators=(",", ":"))


def loads(text):
    return json.loads(text, object_hook=_decode)


class Records:
    """The runs.jsonl file of a script: one JSON record per finished run, appended and flushed
    line by line (a line cut short by a crash is skipped when read)."""

    def __init__(self, path):
        self.path = Path(path)

    def read(self):
        """{key: record} of every complete line (the last record of a key wins)."""
        found = {}
        if not self.path.is_file():
            return found
        with open(self.path, "rb") as fh:
            for line in fh:
                try:
                    rec = loads(line)
                    found[rec["key"]] = rec
                except (ValueError, KeyError, TypeError):
                    continue
        return found

    def append(self, record, result_text):
        meta = json.dumps(record, separators=(",", ":"))
        line = (meta[:-1] + ',"result":' + result_text + "}\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # the last line was cut short: leave it on its own
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------- executing one run
def execute(fn, seed, *args):
    """``fn(*args, seed)`` with BLAS on one thread; returns (result as JSON text, seconds)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1, user_api="blas"), sigint_noted(stop_at_once=True):
        start = time.perf_counter()
        result = fn(*args, seed)
        seconds = time.perf_counter() - start
    return dumps(result), seconds


def _child(conn, fn, seed, args):
    """A local worker process: one run, its outcome sent back through conn."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops its workers itself
    try:
        out = ("ok", execute(fn, seed, *args))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which decides
        out = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    conn.send(out)
    conn.close()


# ---------------------------------------------------------------- the runner
class Sweep:
    """Runs of one script through one backend; see the module's docstring."""

    def __init__(self, script, jobs=1, scheduler=None, local_cluster=None, fresh=False,
                 path=None, log=print):
        if sum(x is not None for x in (scheduler, local_cluster)) > 1:
            raise SystemExit("give --scheduler or --local-cluster, not both")
        self.script, self.jobs, self.fresh, self.log = script, max(1, jobs), fresh, log
        self.scheduler, self.local_cluster = scheduler, local_cluster
        self.records = Records(path or results_path(f"{script}.runs.jsonl"))
        self.client = self.cluster = None
        if scheduler is not None or local_cluster is not None:
            self._connect()

    @classmethod
    def from_args(cls, script, args, **kwargs):
        return cls(script, jobs=args.jobs, scheduler=args.scheduler,
                   local_cluster=args.local_cluster, fresh=args.fresh, **kwargs)

    # -- backends
    def _connect(self):
        try:
            import distributed
        except ImportError:
            raise SystemExit("--scheduler and --local-cluster need Dask: pip install "
                             "'dask[distributed]' (or the package's extra: pip install "
                             "'.[cluster]')") from None
        import cloudpickle
        if self.local_cluster is not None:
            self.cluster = distributed.LocalCluster(
                n_workers=self.local_cluster, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=None)
        self.client = distributed.Client(self.cluster or self.scheduler)
        # the workers need lwl installed, not compare/: its modules travel with the runs
        for mod in list(sys.modules.values()):
            f = getattr(mod, "__file__", None)
            if f and Path(f).resolve().parent == COMPARE and mod.__name__ != "__main__":
                cloudpickle.register_pickle_by_value(mod)

    def describe(self):
        if self.client is not None:
            where = self.scheduler or f"a local Dask cluster of {self.local_cluster}"
            return f"{where} ({self.workers()} worker threads)"
        return f"{self.jobs} local worker processes" if self.jobs > 1 else "this process"

    def workers(self):
        if self.client is not None:
            return max(1, sum(self.client.nthreads().values()))
        return self.jobs

    def share(self, obj, name):
        """Data for many runs, sent to each Dask worker once; its key is name and a digest of
        its bytes. Pass the returned handle in a Run's args."""
        ref = obj
        if self.client is not None:
            ref = self.client.scatter([obj], broadcast=True, hash=False)[0]
        return Shared(obj, name, ref)

    def close(self):
        if self.client is not None:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        self.client = self.cluster = None

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        self.close()
        if kind is KeyboardInterrupt:  # a script's Ctrl-C: say what is kept, no traceback
            self.log(f"\ninterrupted: the finished runs are in {self.records.path}; the same "
                     "command goes on from there", flush=True)
            raise SystemExit(130) from None

    # -- running
    def run(self, runs, on_result=None):
        """Results of every run, in the order given: those found in the records, then the
        others, executed (and appended to the records) as they finish. ``on_result(run,
        result)`` is called for each run done here, as it finishes; a line of progress follows.
        Raises RunFailed, after the others finished, when runs raised."""
        runs = list(runs)
        keys = [run_key(self.script, r) for r in runs]
        found = {} if self.fresh else self.records.read()
        results, seconds = [None] * len(runs), {}
        todo = []
        for i, (key, _) in enumerate(keys):
            if key in found:
                results[i] = found[key]["result"]
                seconds[i] = found[key].get("seconds", 0.0)
            else:
                todo.append(i)
        if not runs:
            return results
        before = len(runs) - len(todo)
        self.log(f"sweep: {len(runs)} runs, {before} already in {self.records.path}"
                 f"{'' if before else ' (none)'}; {len(todo)} to do in {self.describe()}",
                 flush=True)
        progress = _Progress(runs, seconds, self)
        failures = []

        def finished(i, text, sec):
            key, settings = keys[i]
            run = runs[i]
            self.records.append(dict(key=key, script=self.script, seed=run.seed,
                                     label=run.label, settings=settings, seconds=sec,
                                     finished=datetime.datetime.now().isoformat(
                                         timespec="seconds")), text)
            results[i] = loads(text)
            progress.done(i, sec)
            if on_result is not None:
                on_result(run, results[i])
            progress.line()

        def failed(i, message):
            progress.forget(i)
            failures.append((runs[i], message))
            self.log(f"  run failed: {runs[i].label or runs[i].fn.__qualname__} seed "
                     f"{runs[i].seed}: {message.strip().splitlines()[0]}", flush=True)

        if todo:
            backend = (self._run_dask if self.client is not None else
                       self._run_processes if self.jobs > 1 else self._run_here)
            backend(runs, todo, finished, failed, progress)
        if failures:
            detail = failures[0][1]
            raise RunFailed(f"{len(failures)} run(s) failed (the others are kept in "
                            f"{self.records.path}; the same command redoes only the missing "
                            f"ones). First:\n{detail}")
        return results

    def run_groups(self, groups, on_result=None):
        """{name: list of Runs} -> {name: list of results}, all runs in one sweep."""
        flat = self.run([r for runs in groups.values() for r in runs], on_result)
        out, at = {}, 0
        for name, runs in groups.items():
            out[name], at = flat[at:at + len(runs)], at + len(runs)
        return out

    @staticmethod
    def _args(run):
        return [a.ref if isinstance(a, Shared) else a for a in run.args]

    def _run_here(self, runs, todo, finished, failed, progress):
        with _Heartbeat(progress):
            for i in todo:
                self._run_one_here(runs, i, finished, failed, progress)

    def _run_one_here(self, runs, i, finished, failed, progress):
        progress.start(i)
        try:
            text, sec = execute(runs[i].fn, runs[i].seed, *self._args(runs[i]))
        except Exception:  # noqa: BLE001 - reported, the sweep goes on
            failed(i, traceback.format_exc())
            return
        finished(i, text, sec)

    def _run_processes(self, runs, todo, finished, failed, progress):
        # fork (as concurrent.futures does on Linux) when this process has no other thread:
        # it starts in milliseconds and shares the data; else a fresh interpreter per run
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context(
            "fork" if "fork" in methods and threading.active_count() == 1 else "spawn")
        waiting, running, attempts = list(reversed(todo)), {}, {}
        try:
            while waiting or running:
                if not waiting or len(running) >= self.jobs:
                    ready = multiprocessing.connection.wait(list(running), timeout=HEARTBEAT)
                    if not ready:  # a long wait: say where the sweep stands
                        progress.line()
                        continue
                while waiting and len(running) < self.jobs:
                    i = waiting.pop()
                    parent, child = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_child, daemon=True,
                                       args=(child, runs[i].fn, runs[i].seed, self._args(runs[i])))
                    proc.start()
                    child.close()
                    running[parent] = (i, proc)
                    progress.start(i)
                    attempts[i] = attempts.get(i, 0) + 1
                for conn in multiprocessing.connection.wait(list(running), timeout=0):
                    i, proc = running.pop(conn)
                    try:
                        status, payload = conn.recv()
                    except (EOFError, OSError):
                        status, payload = "lost", None
                    conn.close()
                    proc.join()
                    if status == "ok":
                        finished(i, *payload)
                    elif status == "lost" and attempts[i] <= RETRIES:
                        self.log(f"  worker process of {runs[i].label} seed {runs[i].seed} "
                                 f"died (exit code {proc.exitcode}): starting it again",
                                 flush=True)
                        waiting.append(i)
                    else:
                        failed(i, payload or f"worker process died (exit code {proc.exitcode}) "
                                             f"{attempts[i]} times")
        finally:
            for _, proc in running.values():
                proc.terminate()
            for conn, (_, proc) in running.items():
                proc.join()
                conn.close()

    def _run_dask(self, runs, todo, finished, failed, progress):
        with _Heartbeat(progress):
            self._run_dask_futures(runs, todo, finished, failed, progress)

    def _run_dask_futures(self, runs, todo, finished, failed, progress):
        import distributed
        futures = {}
        for i in todo:
            run = runs[i]
            key = f"{self.script}-{run.fn.__qualname__}-{run_key(self.script, run)[0]}"
            futures[self.client.submit(execute, run.fn, run.seed, *self._args(run), key=key,
                                       pure=False)] = i
            progress.start(i)  # submitted: in progress as far as the sweep can tell
        try:
            for fut in distributed.as_completed(futures):
                i = futures[fut]
                try:
                    text, sec = fut.result()
                except Exception:  # noqa: BLE001 - a run's error or a lost scheduler
                    failed(i, traceback.format_exc())
                    continue
                finished(i, text, sec)
                fut.release()
        finally:
            self.client.cancel([f for f in futures if not f.done()])


class _Progress:
    """Runs done / total and the time left: the remaining runs' weights at the seconds per
    weight measured for their function so far (records read back included), less the time
    the runs in progress have already had, spread over the workers there are now.  A line is
    printed as every run finishes and, while none does, every HEARTBEAT seconds."""

    def __init__(self, runs, seconds, sweep):
        self.runs, self.seconds, self.sweep = runs, dict(seconds), sweep
        self.start_time = time.perf_counter()
        self.running = {}  # run index -> when it started (runs a backend reports started)
        self.last = self.start_time
        self.lock = threading.Lock()

    def start(self, i):
        with self.lock:
            self.running[i] = time.perf_counter()

    def done(self, i, sec):
        with self.lock:
            self.running.pop(i, None)
            self.seconds[i] = sec

    def forget(self, i):
        """Run i failed: it is no longer in progress."""
        with self.lock:
            self.running.pop(i, None)

    def expected(self, i, per_fn, mean):
        s, w = per_fn.get(self.runs[i].fn.__qualname__, (None, None))
        return self.runs[i].weight * s / w if s is not None and w > 0 else mean

    def line(self):
        with self.lock:
            now = time.perf_counter()
            self.last = now
            done = dict(self.seconds)
            per_fn, all_sec = {}, []
            for i, sec in done.items():
                fn = self.runs[i].fn.__qualname__
                s, w = per_fn.get(fn, (0.0, 0.0))
                per_fn[fn] = (s + sec, w + self.runs[i].weight)
                all_sec.append(sec)
            mean = sum(all_sec) / len(all_sec) if all_sec else None
            left = [i for i in range(len(self.runs)) if i not in done]
            running = {i: now - t for i, t in self.running.items() if i not in done}
            if mean is None:
                to_go = "no run finished yet to time the rest"
            else:
                work = sum(max(self.expected(i, per_fn, mean) - running.get(i, 0.0), 0.0)
                           for i in left)
                workers = min(self.sweep.workers(), max(len(left), 1))
                to_go = f"about {duration(work / workers)} to go on {workers} worker(s)"
            going = (f", {len(running)} running (the longest for "
                     f"{duration(max(running.values()))})" if running else "")
            self.sweep.log(f"    [{len(done)}/{len(self.runs)} runs{going}] elapsed "
                           f"{duration(now - self.start_time)}, {to_go}", flush=True)


class _Heartbeat:
    """Within the block, a thread prints the progress line when HEARTBEAT seconds have passed
    without one (a long run in progress)."""

    def __init__(self, progress):
        self.progress = progress
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self):
        while not self.stop.wait(1.0):
            if time.perf_counter() - self.progress.last >= HEARTBEAT:
                self.progress.line()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
