"""Speed in seconds per GWM (work = 1e-9 x iterations x |K| x |E|, paper eq 24).

    python compare/bench.py [--repeats 5] [--only TEXT] [--against DIR]
    python compare/bench.py --user-view [--user-epochs 40]

Each case runs a fixed number of RRR iterations (tol = 0, so no early stop) several times
and reports the median, in wall-clock seconds and in CPU seconds of this process, with numpy's
BLAS on one thread too (threadpoolctl: with more, the BLAS threads that the letters case woke
kept spinning into the next case and their CPU seconds landed in its figure). Targets: at
most 2.5 s/GWM on LEDM m = 16, 1.5 on the depth-3 majority net, 4 on MNIST 784-20-10 and 4 on
the MNIST autoencoder (out of cache, also: within 1.5 times the traffic bound below in float64,
and float32 twice as fast). Single-threaded (the default). On a quiet machine the two agree; when
other processes share the cores the wall-clock figure grows and the CPU figure much less.

Of the same runs it also reports the CPU seconds spent in the calls into C that run the
iterations alone: the rest of a fit (batch starts, forward passes, the first touch of fresh
memory for the state) weighs most in the short fits of the out-of-cache cases.

The run starts with the machine: CPU model, the version of the hot loops it runs, and two
bandwidths of numpy on a 512 MiB array, counting the bytes read plus the bytes written: a copy
(the yardstick the targets use) and an update in place (a += 1, the iteration's own pattern,
which reads each line and writes it back; a copy's writes make the CPU read the target lines
first or stream around the cache, so on some machines it reaches much less). For the network
cases it prints the bandwidth the iteration's own traffic reaches: the engine reads and writes
every item's x and w once per iteration (32 bytes per edge-item in double precision, 16 in
single, section "passes" of csrc/engine.c), which bounds the speed once the state (16 |K| |E|
bytes, 8 in single) is far beyond cache. The MNIST-shaped cases also run with float32 data,
which trains on the single-precision state (csrc/real.h).

The last column tells whether any iteration met a subnormal operand or an underflow (x86
reports subnormal operands; the C core flushes tiny iterates so that none arise, since Intel
cores take a slow path on them: csrc/fpmode.h).

--against DIR also runs the published programs, built by the user from their published source
(DIR holds the executables RRRnmf and RRRclass, e.g. ``gcc -O3 -march=native RRRclass.c -o
RRRclass -lm``), on the same NMF and classifier cases with the same settings: their data and
net files are written in the programs' formats to a scratch folder, each program runs once per
repeat, and its CPU seconds (of the child process) per GWM of its own log stand beside lwl's
whole-fit CPU seconds per GWM, with the ratio. (The published programs seed from the clock, so
their runs differ from lwl's in their numbers, not in their work: both run the same number of
iterations on the same batches.)

--user-view instead times what a user waits for: MNIST 10k (784-20-10; the data of
compare/_classify.py's load_mnist_10k), seconds until the test error first reaches 0.073 and
0.065, for RRRClassifier((20,), margin=0.7, batch_size=1000, exempt=0.005, rrr_iter=100) (epoch
by epoch through eval_set: history_["test_err"], ["seconds"]) and for scikit-learn's
MLPClassifier on the same net: plain SGD as compare/mnist.py runs it (batch 1000, momentum 0,
adaptive learning rate from 0.1, alpha 0) and Adam with alpha = 0.1 (batch 200, the default).
Each run stops once both levels are reached or at its epoch cap. Wall-clock and CPU seconds of
training (the MLP's test evaluation excluded; lwl's history counts its own). Takes minutes.
"""
import argparse
import platform
import sys
import time
from pathlib import Path

from _common import markdown_table, median, timed
import numpy as np
from threadpoolctl import threadpool_limits

from lwl import RRRAutoencoder, RRRClassifier, RRRNMF, _engine, _nmf_engine, datasets
from lwl._core import ffi, lib


def bytes_per_edge_item(dtype):
    """x and w, each read and written once per iteration."""
    return 4 * np.dtype(dtype).itemsize


def cpu_model():
    """The CPU's name with its family and model numbers, as /proc/cpuinfo gives them (machines
    that report the same name differ in these, and in speed)."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
                if not line.strip():
                    break  # the first CPU is enough
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def bandwidths(n_bytes=512 * 2**20, repeats=5):
    """Bytes per second (read + written) of a numpy copy and of an update in place, best of
    ``repeats`` each."""
    a = np.ones(n_bytes // 8)
    b = np.empty_like(a)
    copy = min(timed(np.copyto, b, a)[1] for _ in range(repeats))
    in_place = min(timed(np.add, a, 1.0, out=a)[1] for _ in range(repeats))
    return 2 * n_bytes / copy, 2 * n_bytes / in_place


def nmf_cases():
    yield ("NMF LEDM m=16, r=8, one batch", datasets.ledm(16),
           dict(n_components=8, omega=0.9, beta=0.3, rrr_iter=20_000), 2.5)
    X = datasets.letter_montages(2000, random_state=0)
    yield ("NMF letters 2000x1600, r=16, batches of 50, 4 it/batch", X,
           dict(n_components=16, omega=2.0, beta=1.0, rrr_iter=4, batch_size=50, epochs=1), None)


def classifier_cases():
    X, y = datasets.majority_circuit(3, random_state=0)[:2]
    yield ("classifier majority 13-26-26-2, |K|=128, 100 it/batch", X[:1024], y[:1024],
           dict(hidden_layer_sizes=(26, 26), batch_size=128), 1.5)
    rng = np.random.default_rng(0)  # speed does not depend on the pixel values
    X, y = rng.uniform(0, 1, (2000, 784)), rng.integers(0, 10, 2000)
    for dtype in (np.float64, np.float32):
        yield (f"classifier MNIST-shaped 784-20-10, |K|=1000, 100 it/batch, "
               f"{np.dtype(dtype).name}", X.astype(dtype), y,
               dict(hidden_layer_sizes=(20,), batch_size=1000, margin=0.7), 4.0)


def autoencoder_cases():
    n = 5
    yield ("autoencoder binary encoding 32-5-32, step, |K|=32+32, 2000 it", np.eye(2 ** n),
           dict(encoder_layer_sizes=(), n_codes=n, activation="step", margin=0.34,
                omega=100.0, beta=0.5, data_batch=32, code_batch=32, rrr_iter=2000), None)
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (800, 784))
    for dtype in (np.float64, np.float32):
        yield (f"autoencoder MNIST-shaped 784-200-10-200-784, |K|=200+20, 50 it/batch, "
               f"{np.dtype(dtype).name}", X.astype(dtype),
               dict(encoder_layer_sizes=(200,), n_codes=10, margin=0.4, omega=10.0, beta=1.0,
                    data_batch=200, code_batch=20, rrr_iter=50), 4.0)


class IterationRecorder:
    """While active, records every call into C that runs iterations: the floating-point
    events met (lwl.h LWL_FP_*) and the CPU seconds spent in the calls."""

    def __init__(self):
        self.flags, self.cpu = 0, 0.0

    def __enter__(self):
        self.saved = [(cls, cls._iterate) for cls in (_nmf_engine.NMFState, _engine.Engine)]
        for cls, iterate in self.saved:
            def recording(state, n, tol, out, iterate=iterate):
                cpu0 = time.process_time()
                done = iterate(state, n, tol, out)
                self.cpu += time.process_time() - cpu0
                self.flags |= state.ws.fp_flags
                return done
            cls._iterate = recording
        return self

    def __exit__(self, *exc):
        for cls, iterate in self.saved:
            cls._iterate = iterate

    def events(self):
        names = [name for bit, name in ((lib.LWL_FP_SUBNORMAL, "subnormal operands"),
                                        (lib.LWL_FP_UNDERFLOW, "underflow")) if self.flags & bit]
        return ", ".join(names) or "none"


def seconds_per_gwm(make_model, data, repeats):
    """Median over `repeats` seeds of the wall-clock and CPU seconds per GWM of fit and of
    the CPU seconds per GWM in its iterations alone; GWMs per run, the fitted model and the
    floating-point events met."""
    wall, cpu, iterating = [], [], []
    with IterationRecorder() as recorder:
        for seed in range(repeats):
            model = make_model(seed)
            cpu0, in_iterations = time.process_time(), recorder.cpu
            _, sec = timed(model.fit, *data)
            wall.append(sec / model.gwms_)
            cpu.append((time.process_time() - cpu0) / model.gwms_)
            iterating.append((recorder.cpu - in_iterations) / model.gwms_)
    return (median(wall), median(cpu), median(iterating), model.gwms_, model,
            recorder.events())


def published_run(program_dir, case, data, params, repeats, workdir):
    """Median CPU seconds per GWM of the published program for a case, or None when the
    case has no published counterpart.  ``data``: (X,) or (X, y), as the case's fit takes."""
    import resource
    import subprocess
    from lwl.graph import Graph
    from lwl.io import net_file_text, write_data_file, write_whole
    workdir = Path(workdir)
    if case.startswith("NMF"):
        (X,) = data
        write_data_file(workdir / "nmf.txt", X)
        argv = ["RRRnmf", "nmf.txt", str(params["n_components"]),
                str(params.get("batch_size") or len(X)), str(params.get("epochs", 1)),
                str(params["rrr_iter"]), str(params["beta"]), str(params["omega"]), "0", "run"]
    elif case.startswith("classifier"):
        X, y = data
        write_data_file(workdir / "train.txt", X, y)
        sizes = [X.shape[1], *params["hidden_layer_sizes"], int(y.max()) + 1]
        write_whole(workdir / "c.net", net_file_text(Graph.layered(sizes).to_net()))
        argv = ["RRRclass", "train.txt", "train.txt", "c.net", str(params["batch_size"]), "1",
                "100", "0", "1", "2", "1", str(params.get("margin", 0.1)), "run"]
    else:
        return None
    program = Path(program_dir) / argv[0]
    if not program.is_file():
        raise SystemExit(f"--against: no {program} (build it from the published {argv[0]}.c)")
    per_gwm = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([str(program), *argv[1:]], cwd=workdir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        per_gwm.append(cpu / published_gwms(workdir / "run.log"))
    return median(per_gwm)


def published_gwms(log):
    """The work of a published program's run: the GWMs ("GOPs" in RRRnmf) column of the last
    row of its log (the program and its arguments, a blank line, the header, a blank line,
    the rows)."""
    rows = []
    for line in Path(log).read_text().split("\n")[4:]:
        if not line.strip():
            break  # the rows end at a blank line (RRRnmf's secs: and iterations follow)
        rows.append(line.split())
    if not rows:
        raise SystemExit(f"{log}: no epoch row in the published program's log")
    return float(rows[-1][1])


def traffic(model, cpu_s_per_gwm, copy, in_place):
    """The x, w traffic the iteration reaches (at ``cpu_s_per_gwm`` in the iterations),
    against the copy and in-place bandwidths, when the state is out of cache; else its
    size."""
    if not hasattr(model, "_graph"):
        return "-"
    per_item = bytes_per_edge_item(model._predictor.dtype)
    state = per_item // 2 * model._predictor.K * model._graph.n_edges
    if state < 64 * 2**20:
        return f"in cache ({state / 2**20:.1f} MiB state)"
    reached = per_item * 1e9 / cpu_s_per_gwm
    return (f"{reached / 1e9:.1f} GB/s = {reached / copy:.0%} of copy, "
            f"{reached / in_place:.0%} of in-place ({state / 2**30:.2f} GiB state, "
            f"{per_item} B per edge-item)")


# ---------------------------------------------------------------- the user's view
USER_LEVELS = (0.073, 0.065)


class _LevelsReached(Exception):
    pass


def _mlp_timeline(params, data, max_epochs):
    """Train scikit-learn's MLPClassifier epoch by epoch (fit's own loop, so the optimiser and
    learning-rate schedule are fit's); per epoch: test error, wall and CPU seconds of training
    so far (the test evaluation's time taken out)."""
    from sklearn.neural_network import MLPClassifier
    X, y, Xt, yt = data
    rows, clock = [], {"wall": 0.0, "cpu": 0.0}

    class Timed(MLPClassifier):
        def _update_no_improvement_count(self, early_stopping, X_val, y_val, sw):
            wall, cpu = time.perf_counter(), time.process_time()
            clock["wall"] += wall - clock["w0"]
            clock["cpu"] += cpu - clock["c0"]
            err = float(np.mean(self.predict(Xt) != yt))
            rows.append((err, clock["wall"], clock["cpu"]))
            clock["w0"], clock["c0"] = time.perf_counter(), time.process_time()
            super()._update_no_improvement_count(early_stopping, X_val, y_val, sw)
            if err <= min(USER_LEVELS):
                raise _LevelsReached

    model = Timed((20,), max_iter=max_epochs, random_state=0, **params)
    clock["w0"], clock["c0"] = time.perf_counter(), time.process_time()
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            model.fit(X, y)
        except _LevelsReached:
            pass
    return rows


def _lwl_timeline(data, max_epochs):
    """RRRClassifier epoch by epoch (warm fits of one epoch: the run of fit(epochs=n)) with
    eval_set; per epoch: test error, wall seconds (history_) and CPU seconds so far."""
    X, y, Xt, yt = data
    model = RRRClassifier((20,), margin=0.7, batch_size=1000, exempt=0.005, rrr_iter=100,
                          epochs=1, warm_start=True, random_state=0)
    rows, cpu = [], 0.0
    for _ in range(max_epochs):
        c0 = time.process_time()
        model.fit(X, y, eval_set=(Xt, yt))
        cpu += time.process_time() - c0
        rows.append((model.history_["test_err"][-1], model.history_["seconds"][-1], cpu))
        print(f"    lwl epoch {len(rows)}: test_err {rows[-1][0]:.4f}, {rows[-1][1]:.0f} s "
              f"({cpu:.0f} CPU s)", flush=True)
        if rows[-1][0] <= min(USER_LEVELS):
            break
    return rows


def user_view(max_epochs):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _classify import load_mnist_10k
    data = load_mnist_10k()
    runs = [("lwl RRRClassifier (20,), margin 0.7, |K| 1000, exempt 0.005, 100 it/batch",
             lambda: _lwl_timeline(data, max_epochs)),
            ("MLPClassifier SGD (batch 1000, momentum 0, adaptive from 0.1, alpha 0)",
             lambda: _mlp_timeline(dict(solver="sgd", alpha=0.0, batch_size=1000,
                                        learning_rate="adaptive", learning_rate_init=0.1,
                                        momentum=0.0, tol=1e-5), data, 3000)),
            ("MLPClassifier Adam (alpha 0.1, batch 200)",
             lambda: _mlp_timeline(dict(alpha=0.1), data, 300))]
    out = []
    for name, timeline in runs:
        print(f"  {name}", flush=True)
        rows = timeline()
        cells = [name]
        for level in USER_LEVELS:
            hit = next((i for i, r in enumerate(rows) if r[0] <= level), None)
            cells.append("not reached" if hit is None else
                         f"{rows[hit][1]:.1f} s ({rows[hit][2]:.1f} CPU s), epoch {hit + 1}")
        best = min(range(len(rows)), key=lambda i: rows[i][0])
        cells += [f"{rows[best][0]:.4f} (epoch {best + 1})", str(len(rows))]
        out.append(cells)
        print("   ", cells[1:], flush=True)
    print()
    print(markdown_table(["MNIST 10k, 784-20-10", *(f"to test error {v}" for v in USER_LEVELS),
                          "lowest test error", "epochs run"], out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", default="", help="run the cases whose name contains this text")
    ap.add_argument("--against", default=None, metavar="DIR",
                    help="also run the published RRRnmf and RRRclass built in DIR on the same "
                         "cases, side by side")
    ap.add_argument("--user-view", action="store_true",
                    help="instead: seconds to a test error on MNIST 10k, lwl against scikit-learn")
    ap.add_argument("--user-epochs", type=int, default=40,
                    help="epochs at most for lwl in --user-view")
    args = ap.parse_args()
    copy, in_place = bandwidths()
    print(f"CPU: {cpu_model()}; hot loops: {ffi.string(lib.lwl_vector_path()).decode()}; "
          f"bandwidth (numpy, 512 MiB, read + written) {copy / 1e9:.1f} GB/s copying, "
          f"{in_place / 1e9:.1f} GB/s in place")
    if args.user_view:
        user_view(args.user_epochs)
        return
    rows = []
    cases = [(name, (X,), params, lambda seed, p=params: RRRNMF(tol=0.0, random_state=seed,
                                                                 **p), target)
             for name, X, params, target in nmf_cases()]
    cases += [(name, (X, y), params, lambda seed, p=params: RRRClassifier(
                   rrr_iter=100, tol=0.0, epochs=1, random_state=seed, **p), target)
              for name, X, y, params, target in classifier_cases()]
    cases += [(name, (X,), params, lambda seed, p=params: RRRAutoencoder(
                   tol=0.0, epochs=1, random_state=seed, **p), target)
              for name, X, params, target in autoencoder_cases()]
    print("numpy's BLAS: 1 thread (threadpoolctl), as the C core")
    side_by_side = []
    for name, data, params, make_model, target in (c for c in cases if args.only in c[0]):
        with threadpool_limits(limits=1):
            wall, cpu, iterating, gwms, model, events = seconds_per_gwm(make_model, data,
                                                                        args.repeats)
        rows.append([name, f"{gwms:.4f}", f"{wall:.2f}", f"{cpu:.2f}", f"{iterating:.2f}",
                     "-" if target is None else f"<= {target}",
                     traffic(model, iterating, copy, in_place), events])
        print(f"{name}: {cpu:.2f} CPU s per GWM", flush=True)
        if args.against is not None and data[0].dtype == np.float64:
            import tempfile
            with tempfile.TemporaryDirectory() as tmp:
                theirs = published_run(args.against, name, data, params, args.repeats, tmp)
            if theirs is not None:
                side_by_side.append([name, f"{theirs:.2f}", f"{cpu:.2f}", f"{theirs / cpu:.1f}x"])
                print(f"  published program: {theirs:.2f} CPU s per GWM", flush=True)
    print()
    print(markdown_table(["case", "GWMs per run", "s per GWM (wall)", "CPU s per GWM",
                          "of which in the iterations", "target",
                          "x, w traffic of the iterations (32 B per edge-item in float64, "
                          "16 in float32)", "subnormals met"], rows))
    if side_by_side:
        print()
        print(f"The published programs in {args.against}, on the same cases (CPU s per GWM, "
              f"median of {args.repeats}; CPU: {cpu_model()}):")
        print(markdown_table(["case", "published program", "lwl", "lwl faster by"],
                             side_by_side))


if __name__ == "__main__":
    main()
