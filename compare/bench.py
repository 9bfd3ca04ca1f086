"""Speed in seconds per GWM (work = 1e-9 x iterations x |K| x |E|, paper eq 24).

    python compare/bench.py [--repeats 5] [--only TEXT]

Each case runs a fixed number of RRR iterations (tol = 0, so no early stop) several times
and reports the median, in wall-clock seconds and in CPU seconds of this process. Targets: at
most 3 s/GWM on LEDM m = 16, 1.5 on the depth-3 majority net, 4 on MNIST 784-20-10 and 4 on
the MNIST autoencoder. Single-threaded (the default). On a quiet machine the two agree; when
other processes share the cores the wall-clock figure grows and the CPU figure much less.

The run starts with the machine: CPU model, the version of the hot loops it runs, and its
copy bandwidth (a numpy copy of a 512 MiB array). For the network cases it prints the
bandwidth the iteration's own traffic reaches: the engine reads and writes every item's x and
w once per iteration (32 bytes per edge-item in double precision, section "passes" of
csrc/engine.c), which bounds the speed once the state (16 |K| |E| bytes) is far beyond cache.
"""
import argparse
import platform
import time

from _common import markdown_table, median, timed
import numpy as np

from lwl import RRRAutoencoder, RRRClassifier, RRRNMF, datasets
from lwl._core import ffi, lib

BYTES_PER_EDGE_ITEM = 32  # x and w, each read and written once per iteration (float64)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def copy_bandwidth(n_bytes=512 * 2**20, repeats=5):
    """Bytes per second a numpy copy moves (read + write), best of ``repeats``."""
    a = np.ones(n_bytes // 8)
    b = np.empty_like(a)
    best = min(timed(np.copyto, b, a)[1] for _ in range(repeats))
    return 2 * n_bytes / best


def nmf_cases():
    yield ("NMF LEDM m=16, r=8, one batch", datasets.ledm(16),
           dict(n_components=8, omega=0.9, beta=0.3, max_iter=20_000), 3.0)
    X = datasets.letter_montages(2000, random_state=0)
    yield ("NMF letters 2000x1600, r=16, batches of 50, 4 it/batch", X,
           dict(n_components=16, omega=2.0, beta=1.0, max_iter=4, batch_size=50, epochs=1), None)


def classifier_cases():
    X, y = datasets.majority_circuit(3, random_state=0)[:2]
    yield ("classifier majority 13-26-26-2, |K|=128, 100 it/batch", X[:1024], y[:1024],
           dict(hidden_layer_sizes=(26, 26), batch_size=128), 1.5)
    rng = np.random.default_rng(0)  # speed does not depend on the pixel values
    yield ("classifier MNIST-shaped 784-20-10, |K|=1000, 100 it/batch",
           rng.uniform(0, 1, (2000, 784)), rng.integers(0, 10, 2000),
           dict(hidden_layer_sizes=(20,), batch_size=1000, margin=0.7), 4.0)


def autoencoder_cases():
    n = 5
    yield ("autoencoder binary encoding 32-5-32, step, |K|=32+32, 2000 it", np.eye(2 ** n),
           dict(encoder_layer_sizes=(), n_codes=n, activation="step", margin=0.34,
                omega=100.0, beta=0.5, data_batch=32, code_batch=32, rrr_iter=2000), None)
    rng = np.random.default_rng(0)
    yield ("autoencoder MNIST-shaped 784-200-10-200-784, |K|=200+20, 50 it/batch",
           rng.uniform(0, 1, (800, 784)),
           dict(encoder_layer_sizes=(200,), n_codes=10, margin=0.4, omega=10.0, beta=1.0,
                data_batch=200, code_batch=20, rrr_iter=50), 4.0)


def seconds_per_gwm(make_model, data, repeats):
    """Median wall-clock and CPU seconds per GWM of fit over `repeats` seeds, GWMs per run
    and the fitted model."""
    wall, cpu = [], []
    for seed in range(repeats):
        model = make_model(seed)
        cpu0 = time.process_time()
        _, sec = timed(model.fit, *data)
        wall.append(sec / model.gwms_)
        cpu.append((time.process_time() - cpu0) / model.gwms_)
    return median(wall), median(cpu), model.gwms_, model


def traffic(model, cpu_s_per_gwm, bandwidth):
    """The x, w traffic the iteration reaches, against the copy bandwidth, when the state is
    out of cache; else its size."""
    if not hasattr(model, "_graph"):
        return "-"
    state = 16 * model._predictor.K * model._graph.n_edges
    if state < 64 * 2**20:
        return f"in cache ({state / 2**20:.1f} MiB state)"
    reached = BYTES_PER_EDGE_ITEM * 1e9 / cpu_s_per_gwm
    return (f"{reached / 1e9:.1f} GB/s = {reached / bandwidth:.0%} of copy "
            f"({state / 2**30:.2f} GiB state)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", default="", help="run the cases whose name contains this text")
    args = ap.parse_args()
    bandwidth = copy_bandwidth()
    print(f"CPU: {cpu_model()}; hot loops: {ffi.string(lib.lwl_vector_path()).decode()}; "
          f"copy bandwidth {bandwidth / 1e9:.1f} GB/s (numpy, 512 MiB)")
    rows = []
    cases = [(name, (X,), lambda seed, p=params: RRRNMF(tol=0.0, random_state=seed, **p), target)
             for name, X, params, target in nmf_cases()]
    cases += [(name, (X, y), lambda seed, p=params: RRRClassifier(
                   rrr_iter=100, tol=0.0, epochs=1, random_state=seed, **p), target)
              for name, X, y, params, target in classifier_cases()]
    cases += [(name, (X,), lambda seed, p=params: RRRAutoencoder(
                   tol=0.0, epochs=1, random_state=seed, **p), target)
              for name, X, params, target in autoencoder_cases()]
    for name, data, make_model, target in (c for c in cases if args.only in c[0]):
        wall, cpu, gwms, model = seconds_per_gwm(make_model, data, args.repeats)
        rows.append([name, f"{gwms:.4f}", f"{wall:.2f}", f"{cpu:.2f}",
                     "-" if target is None else f"<= {target}",
                     traffic(model, cpu, bandwidth)])
        print(rows[-1], flush=True)
    print()
    print(markdown_table(["case", "GWMs per run", "s per GWM (wall)", "CPU s per GWM", "target",
                          f"x, w traffic ({BYTES_PER_EDGE_ITEM} B per edge-item)"], rows))


if __name__ == "__main__":
    main()
