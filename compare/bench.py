"""Speed in seconds per GWM (work = 1e-9 x iterations x |K| x |E|, paper eq 24).

    python compare/bench.py [--repeats 5]

Each case runs a fixed number of RRR iterations (tol = 0, so no early stop) several times
and reports the median. Targets: at most 3 s/GWM on LEDM m = 16 (issue 2), 1.5 on the
depth-3 majority net and 4 on MNIST 784-20-10 (issue 3). Single-threaded (the default).
Run it on a quiet machine: other processes on the same cores change the figures.
"""
import argparse

from _common import markdown_table, median, timed
import numpy as np

from lwl import RRRClassifier, RRRNMF, datasets


def nmf_cases():
    yield ("NMF LEDM m=16, r=8, one batch", datasets.ledm(16),
           dict(n_components=8, omega=0.9, beta=0.3, max_iter=20_000), 3.0)
    X = datasets.letter_montages(2000, random_state=0)
    yield ("NMF letters 2000x1600, r=16, batches of 50, 4 it/batch", X,
           dict(n_components=16, omega=2.0, beta=1.0, max_iter=4, batch_size=50, epochs=1), None)


def bench_nmf(X, params, repeats):
    rates = []
    for seed in range(repeats):
        model = RRRNMF(tol=0.0, random_state=seed, **params)
        _, sec = timed(model.fit, X)
        rates.append(sec / model.gwms_)
    return median(rates), model.gwms_


def classifier_cases():
    X, y = datasets.majority_circuit(3, random_state=0)[:2]
    yield ("classifier majority 13-26-26-2, |K|=128, 100 it/batch", X[:1024], y[:1024],
           dict(hidden_layer_sizes=(26, 26), batch_size=128), 1.5)
    rng = np.random.default_rng(0)  # speed does not depend on the pixel values
    yield ("classifier MNIST-shaped 784-20-10, |K|=1000, 100 it/batch",
           rng.uniform(0, 1, (2000, 784)), rng.integers(0, 10, 2000),
           dict(hidden_layer_sizes=(20,), batch_size=1000, margin=0.7), 4.0)


def bench_classifier(X, y, params, repeats):
    rates = []
    for seed in range(repeats):
        model = RRRClassifier(rrr_iter=100, tol=0.0, epochs=1, random_state=seed, **params)
        _, sec = timed(model.fit, X, y)
        rates.append(sec / model.gwms_)
    return median(rates), model.gwms_


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rows = []
    for name, X, params, target in nmf_cases():
        rate, gwms = bench_nmf(X, params, args.repeats)
        rows.append([name, f"{gwms:.4f}", f"{rate:.2f}", "-" if target is None else f"<= {target}"])
        print(rows[-1], flush=True)
    for name, X, y, params, target in classifier_cases():
        rate, gwms = bench_classifier(X, y, params, args.repeats)
        rows.append([name, f"{gwms:.4f}", f"{rate:.2f}", f"<= {target}"])
        print(rows[-1], flush=True)
    print()
    print(markdown_table(["case", "GWMs per run", "s per GWM (median)", "target"], rows))


if __name__ == "__main__":
    main()
