"""Speed in seconds per GWM (work = 1e-9 x iterations x |K| x |E|, paper eq 24).

    python compare/bench.py [--repeats 5]

Each case runs a fixed number of RRR iterations (tol = 0, so no early stop) several times
and reports the median, in wall-clock seconds and in CPU seconds of this process. Targets: at
most 3 s/GWM on LEDM m = 16, 1.5 on the depth-3 majority net and 4 on MNIST 784-20-10.
Single-threaded (the default). On a quiet machine the two agree; when
other processes share the cores the wall-clock figure grows and the CPU figure much less.
"""
import argparse
import time

from _common import markdown_table, median, timed
import numpy as np

from lwl import RRRClassifier, RRRNMF, datasets


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


def seconds_per_gwm(make_model, data, repeats):
    """Median wall-clock and CPU seconds per GWM of fit over `repeats` seeds, and GWMs per run."""
    wall, cpu = [], []
    for seed in range(repeats):
        model = make_model(seed)
        cpu0 = time.process_time()
        _, sec = timed(model.fit, *data)
        wall.append(sec / model.gwms_)
        cpu.append((time.process_time() - cpu0) / model.gwms_)
    return median(wall), median(cpu), model.gwms_


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", default="", help="run the cases whose name contains this text")
    args = ap.parse_args()
    rows = []
    cases = [(name, (X,), lambda seed, p=params: RRRNMF(tol=0.0, random_state=seed, **p), target)
             for name, X, params, target in nmf_cases()]
    cases += [(name, (X, y), lambda seed, p=params: RRRClassifier(
                   rrr_iter=100, tol=0.0, epochs=1, random_state=seed, **p), target)
              for name, X, y, params, target in classifier_cases()]
    for name, data, make_model, target in (c for c in cases if args.only in c[0]):
        wall, cpu, gwms = seconds_per_gwm(make_model, data, args.repeats)
        rows.append([name, f"{gwms:.4f}", f"{wall:.2f}", f"{cpu:.2f}",
                     "-" if target is None else f"<= {target}"])
        print(rows[-1], flush=True)
    print()
    print(markdown_table(["case", "GWMs per run", "s per GWM (wall)", "CPU s per GWM", "target"],
                         rows))


if __name__ == "__main__":
    main()
