"""Speed in seconds per GWM (work = 1e-9 x iterations x |K| x |E|, paper eq 24).

    python compare/bench.py [--repeats 5]

Each case runs a fixed number of RRR iterations (tol = 0, so no early stop) several times
and reports the median. Targets (issue 2): at most 3 s/GWM on LEDM m = 16.
"""
import argparse

from _common import markdown_table, median, timed
from lwl import RRRNMF, datasets


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rows = []
    for name, X, params, target in nmf_cases():
        rate, gwms = bench_nmf(X, params, args.repeats)
        rows.append([name, f"{gwms:.4f}", f"{rate:.2f}", "-" if target is None else f"<= {target}"])
        print(rows[-1], flush=True)
    print()
    print(markdown_table(["case", "GWMs per run", "s per GWM (median)", "target"], rows))


if __name__ == "__main__":
    main()
