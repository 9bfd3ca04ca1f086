"""Figures 10 and 11 of the paper: RRR train and test error against Delta and against circuit depth.

    python compare/fig10_11.py --quick   # 2 runs of 4 epochs per setting, last 2 epochs (27 GWMs: ~40 s at 1.4 s/GWM)
    python compare/fig10_11.py           # 10 runs of 1000 epochs, last 10 epochs, as the paper

Fig 10: depth-3 majority data, net 13 -> 26 -> 26 -> 2, Delta 0.05, 0.1, 0.15, 0.2.
Fig 11: depth 2, 3, 4 (nets 13 -> 26 -> 2, 13 -> 26 -> 26 -> 2, 13 -> 26 -> 26 -> 26 -> 2) at
Delta 0.1, and depth 4 also at the paper's Delta 0.2. Every run: |K| = 128, rrr_iter 100 (Fig 9's
protocol), beta 1, Omega 2, Upsilon 1, tol 1e-9. Each setting is summarised by the train and test
errors of the last epochs of every run, pooled (the paper's scatter of 10 runs x 10 epochs).
The full mode does 7 settings x 10 runs x 1000 epochs, about 33,000 GWMs: about 13 hours on one
idle core at 1.4 s/GWM (compare/bench.py, majority net, 2026-11-29; it prints the estimate from
its own measurements; --jobs N runs N runs at a time, --scheduler / --local-cluster on a Dask
cluster: compare/CLUSTER.md; every finished run is kept in compare/results/fig10_11.runs.jsonl,
and the same command started again does only the others). Writes compare/results/fig10_11.csv
(one row per setting, read by fig12.py), fig10_11_points.csv (every pooled epoch) and
fig10_11.png.
"""
import argparse
import time

import numpy as np

from _classify import (MAJORITY_RRR, cap_gwms_per_epoch, majority_data, majority_net, n_edges,
                       pm, report_run, rrr_estimate, rrr_task, seconds_per_gwm, summarise_rrr)
from _common import duration, fmt, markdown_table, results_path, write_csv, plt
from _sweep import Sweep, add_arguments

FIG10 = [(3, d) for d in (0.05, 0.1, 0.15, 0.2)]
FIG11 = [(2, 0.1), (3, 0.1), (4, 0.1), (4, 0.2)]
SETTINGS = list(dict.fromkeys(FIG10 + FIG11))  # (depth, Delta), each run once
FULL = dict(runs=10, epochs=1000, last=10)
QUICK = dict(runs=2, epochs=4, last=2)
PAPER = {(3, 0.05): "train_err ~0; test_err above Delta 0.1's",
         (3, 0.1): "train_err 0; the best test_err of the four",
         (3, 0.15): "train_err up; test_err up by about as much",
         (3, 0.2): "train_err up; test_err up by about as much",
         (2, 0.1): "train_err 0; test_err 0 (perfect generalisation)",
         (4, 0.1): "(the paper used Delta 0.2 at depth 4)",
         (4, 0.2): "train_err 0; SGD better on average (Fig 12)"}


def figures(key):
    return "+".join(f for f, s in (("10", FIG10), ("11", FIG11)) if key in s)


def cap_of(depth):
    return cap_gwms_per_epoch(4096, 100, n_edges(13, majority_net(depth), 2))


def plot(results, last, path):
    fig, (a10, a11) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, key in enumerate(FIG10):
        runs = results[key]
        tr = [v for r in runs for v in r["history"]["train_err"][-last:]]
        te = [v for r in runs for v in r["history"]["test_err"][-last:]]
        a10.scatter(tr, te, s=12, alpha=0.6, color=f"C{i}", label=f"Delta {key[1]}")
    a10.set_xlabel("train_err")
    a10.set_ylabel("test_err")
    a10.set_title("depth 3, last epochs of every run (cf. Fig 10)")
    a10.legend()
    rng = np.random.default_rng(0)
    for i, key in enumerate(FIG11):
        te = [v for r in results[key] for v in r["history"]["test_err"][-last:]]
        a11.boxplot([te], positions=[i], widths=0.5, showfliers=False)
        a11.scatter(i + rng.uniform(-0.15, 0.15, len(te)), te, s=10, alpha=0.6, color=f"C{i}")
    a11.set_xticks(range(len(FIG11)), [f"depth {d}\nDelta {dl}" for d, dl in FIG11])
    a11.set_ylabel("test_err")
    a11.set_title("test_err against circuit depth (cf. Fig 11)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 runs of 4 epochs, last 2 epochs")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--last", type=int, default=None, help="epochs pooled at the end of each run")
    ap.add_argument("--skip-rrr", action="store_true",
                    help="print the planned work and exit (this figure has only RRR runs)")
    add_arguments(ap)
    args = ap.parse_args()
    plt.require()
    mode = QUICK if args.quick else FULL
    runs_n, epochs = args.runs or mode["runs"], args.epochs or mode["epochs"]
    last = min(args.last or mode["last"], epochs)
    total_cap = sum(runs_n * epochs * cap_of(d) for d, _ in SETTINGS)
    print(f"{len(SETTINGS)} settings x {runs_n} run(s) x {epochs} epochs: at most "
          f"{total_cap:.0f} GWMs", flush=True)
    if args.skip_rrr:
        print("--skip-rrr: this figure has only RRR runs; nothing to do.")
        return

    start = time.perf_counter()
    with Sweep.from_args("fig10_11", args) as sweep:
        data = {d: sweep.share(majority_data(d), f"majority-{d}") for d in {d for d, _ in SETTINGS}}
        tasks = {(depth, delta): [
            rrr_task(dict(MAJORITY_RRR, hidden_layer_sizes=majority_net(depth), margin=delta,
                          rrr_iter=100, epochs=epochs),
                     data[depth], seed, f"depth {depth} Delta {delta}", cap_of(depth))
            for seed in range(runs_n)] for depth, delta in SETTINGS}
        results = sweep.run_groups(tasks, report_run)
    elapsed = time.perf_counter() - start

    rows, csv_rows, points = [], [], []
    for (depth, delta), runs in results.items():
        s = summarise_rrr(runs, last)
        csv_rows.append(dict(mode="quick" if args.quick else "full", figure=figures((depth, delta)),
                             depth=depth, delta=delta, **s, paper=PAPER[depth, delta]))
        rows.append([figures((depth, delta)), depth, delta, f"{s['runs']} x {s['last_epochs']}",
                     pm(s["train_mean"], s["train_sd"]), pm(s["test_mean"], s["test_sd"]),
                     f"{fmt(s['test_min'], '{:.4f}')} - {fmt(s['test_max'], '{:.4f}')}",
                     f"{s['runs_train0']}/{s['runs']}", f"{s['gwms_per_run']:.1f}",
                     f"{s['seconds_per_run']:.0f}", PAPER[depth, delta]])
        for r in runs:
            h = r["history"]
            tail = zip(h["epoch"][-last:], h["train_err"][-last:], h["test_err"][-last:])
            points += [dict(depth=depth, delta=delta, seed=r["seed"], epoch=e, train_err=a,
                            test_err=b) for e, a, b in tail]
    plot(results, last, results_path("fig10_11.png"))

    print()
    print(f"Figs 10-11: majority-gate data, {runs_n} run(s) x {epochs} epochs per setting; errors "
          f"pooled over the last {last} epoch(s) of every run (mean ± sd). The paper's reading "
          "(from its figures) is last.")
    print(markdown_table(["Fig", "depth", "Delta", "runs x epochs", "train_err", "test_err",
                          "test_err range", "runs ending at train_err 0", "GWMs/run", "s/run",
                          "paper"], rows))
    write_csv("fig10_11_points.csv", points)
    print(f"\nwrote {write_csv('fig10_11.csv', csv_rows)}, fig10_11_points.csv, fig10_11.png "
          f"({duration(elapsed)} in all)")

    all_runs = [r for runs in results.values() for r in runs]
    spg = seconds_per_gwm(all_runs)
    measured = {d: row["gwms_per_epoch"] for (d, _), row in zip(results, csv_rows)}
    plan = [(d, FULL["runs"], FULL["epochs"], cap_of(d)) for d, _ in SETTINGS]
    sec, gwms = rrr_estimate(plan, measured, spg)
    print(f"full mode ({FULL['runs']} runs x {FULL['epochs']} epochs per setting): about "
          f"{gwms:.0f} GWMs at the measured {spg:.1f} CPU s/GWM = {duration(sec)} on one idle core "
          "(divide by the number of workers); an upper bound when late epochs solve batches "
          "before the cap.")


if __name__ == "__main__":
    main()
