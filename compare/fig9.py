"""Figure 9 of the paper: train_err against work for 50, 100 and 200 RRR iterations per batch.

    python compare/fig9.py --quick   # 1 run, 40 / 20 / 10 epochs (26 GWMs: ~40 s at 1.4 s/GWM)
    python compare/fig9.py           # 10 runs, 2000 / 1000 / 500 epochs, as the paper

The full mode does about 3 x 10 x 437 = 13,100 GWMs: about 5 hours on one idle core at
1.4 s/GWM (compare/bench.py, majority net, 2026-11-29; it prints the estimate from its own
measurements; --jobs N runs N runs at a time, --scheduler / --local-cluster on a Dask cluster:
compare/CLUSTER.md). Every finished run is kept in compare/results/fig9.runs.jsonl: the same
command, started again, does only the runs not there. Depth-3 majority data (4096 train /
4096 test), net 13 -> 26 -> 26 -> 2, |K| = 128, beta 1, Omega 2, Upsilon 1, Delta 0.1, tol 1e-9.
Equal work: epochs x rrr_iter is the same for the three curves. Writes compare/results/fig9.csv
(one row per rrr_iter), fig9_curves.csv (mean train_err per epoch) and fig9.png.
"""
import argparse
import statistics
import time

import numpy as np

from _classify import (MAJORITY_RRR, cap_gwms_per_epoch, majority_data, mean_curve, n_edges,
                       report_run, rrr_estimate, rrr_task, seconds_per_gwm)
from _common import duration, fmt, markdown_table, median, results_path, write_csv, plt
from _sweep import Sweep, add_arguments

ITERS = (50, 100, 200)
DEPTH, HIDDEN, DELTA = 3, (26, 26), 0.1
FULL_EPOCHS_AT_100, FULL_RUNS = 1000, 10
QUICK_EPOCHS_AT_100, QUICK_RUNS = 20, 1
PAPER = {50: "less efficient than 100", 100: "most efficient; train_err reaches 0",
         200: "less efficient than 100"}


def epochs_for(rrr_iter, epochs_at_100):
    return max(1, round(epochs_at_100 * 100 / rrr_iter))


def gwms_to(run, threshold):
    """Cumulative GWMs at the first epoch with train_err <= threshold (None if never)."""
    h = run["history"]
    return next((g for g, e in zip(h["gwms"], h["train_err"]) if e <= threshold), None)


def reach(runs, threshold):
    """'median GWMs (k/n runs)' for reaching train_err <= threshold."""
    hits = [g for g in (gwms_to(r, threshold) for r in runs) if g is not None]
    return f"{fmt(median(hits), '{:.1f}')} ({len(hits)}/{len(runs)})", median(hits), len(hits)


def mean_err_over_work(runs):
    """Mean train_err over the work (area under train_err vs GWMs / total GWMs), mean over runs:
    a figure of merit that is defined even when no run reaches 0."""
    vals = []
    for run in runs:
        g = np.concatenate([[0.0], run["history"]["gwms"]])
        e = np.asarray(run["history"]["train_err"], dtype=float)
        vals.append(float(np.sum(np.diff(g) * e) / g[-1]))
    return statistics.fmean(vals)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_RUNS} run, {QUICK_EPOCHS_AT_100} epochs at rrr_iter 100")
    ap.add_argument("--runs", type=int, default=None, help="runs per rrr_iter")
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs at rrr_iter 100 (the others get epochs x 100 / rrr_iter)")
    ap.add_argument("--skip-rrr", action="store_true",
                    help="print the planned work and exit (this figure has only RRR runs)")
    add_arguments(ap)
    args = ap.parse_args()
    plt.require()
    runs_n = args.runs or (QUICK_RUNS if args.quick else FULL_RUNS)
    work = args.epochs or (QUICK_EPOCHS_AT_100 if args.quick else FULL_EPOCHS_AT_100)
    X, y, Xt, yt = majority_data(DEPTH)
    cap = {it: cap_gwms_per_epoch(len(X), it, n_edges(13, HIDDEN, 2)) for it in ITERS}
    total_cap = sum(runs_n * epochs_for(it, work) * cap[it] for it in ITERS)
    print(f"depth-3 majority data, {runs_n} run(s) per rrr_iter, {work} epochs at rrr_iter 100: "
          f"at most {total_cap:.0f} GWMs", flush=True)
    if args.skip_rrr:
        print("--skip-rrr: this figure has only RRR runs; nothing to do.")
        return

    start = time.perf_counter()
    with Sweep.from_args("fig9", args) as sweep:
        data = sweep.share((X, y, Xt, yt), f"majority-{DEPTH}")
        tasks = {it: [rrr_task(dict(MAJORITY_RRR, hidden_layer_sizes=HIDDEN, margin=DELTA,
                                    rrr_iter=it, epochs=epochs_for(it, work)),
                               data, seed, f"rrr_iter {it}", cap[it]) for seed in range(runs_n)]
                 for it in ITERS}
        results = sweep.run_groups(tasks, report_run)
    elapsed = time.perf_counter() - start

    rows, csv_rows, curves = [], [], []
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for it, runs in results.items():
        gw, tr = mean_curve(runs, "gwms"), mean_curve(runs, "train_err")
        te = mean_curve(runs, "test_err")
        for r in runs if len(runs) > 1 else []:
            ax.plot(r["history"]["gwms"], r["history"]["train_err"], lw=0.4, alpha=0.3,
                    color=f"C{ITERS.index(it)}")
        ax.plot(gw, tr, lw=1.5, color=f"C{ITERS.index(it)}", label=f"{it} iterations per batch")
        curves += [dict(rrr_iter=it, epoch=e + 1, gwms=g, train_err=a, test_err=b)
                   for e, (g, a, b) in enumerate(zip(gw, tr, te))]
        r1, r1_med, r1_n = reach(runs, 0.01)
        r0, r0_med, r0_n = reach(runs, 0.0)
        merit = mean_err_over_work(runs)
        row = dict(mode="quick" if args.quick else "full", rrr_iter=it, epochs=len(gw),
                   runs=len(runs), gwms=gw[-1], train_err_final=tr[-1], test_err_final=te[-1],
                   gwms_to_1pct=r1_med, runs_to_1pct=r1_n, gwms_to_0=r0_med, runs_to_0=r0_n,
                   mean_train_err_over_work=merit, s_per_gwm=seconds_per_gwm(runs),
                   gwms_per_epoch=gw[-1] / len(gw), paper=PAPER[it])
        csv_rows.append(row)
        rows.append([it, len(gw), len(runs), f"{gw[-1]:.1f}", f"{tr[-1]:.4f}", r1, r0,
                     f"{merit:.4f}", f"{te[-1]:.4f}", f"{row['s_per_gwm']:.1f}", PAPER[it]])
    ax.set_xlabel("work (GWMs)")
    ax.set_ylabel("train_err")
    ax.set_ylim(bottom=0)
    ax.set_title(f"depth-3 majority, |K| = 128, Delta {DELTA}: equal work (cf. paper Fig 9)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(results_path("fig9.png"), dpi=120)

    best = min(csv_rows, key=lambda r: (-r["runs_to_0"], r["gwms_to_0"] or 0,
                                        r["mean_train_err_over_work"]))
    print()
    print(f"Fig 9: train_err against work, depth-3 majority data, {runs_n} run(s), equal work "
          f"({work} epochs at 100 iterations). Curves are means over runs; 'to 1%' / 'to 0' are "
          "median GWMs of the runs that got there (runs that did). The paper's reading is last.")
    print(markdown_table(["rrr_iter", "epochs", "runs", "GWMs", "train_err final", "GWMs to 1%",
                          "GWMs to 0", "mean train_err over work", "test_err final", "CPU s/GWM",
                          "paper"], rows))
    print(f"\nours ({runs_n} run(s) each): most efficient rrr_iter = {best['rrr_iter']} (most "
          "runs reaching 0, then fewest GWMs to 0, then lowest mean train_err over the work); "
          "paper (10 runs): 100.")
    write_csv("fig9.csv", csv_rows)
    print(f"wrote {write_csv('fig9_curves.csv', curves)}, fig9.csv, fig9.png "
          f"({duration(elapsed)} in all)")

    all_runs = [r for runs in results.values() for r in runs]
    spg = seconds_per_gwm(all_runs)
    plan = [(it, FULL_RUNS, epochs_for(it, FULL_EPOCHS_AT_100), cap[it]) for it in ITERS]
    measured = {it: csv_rows[i]["gwms_per_epoch"] for i, it in enumerate(ITERS)}
    sec, gwms = rrr_estimate(plan, measured, spg)
    print(f"full mode ({FULL_RUNS} runs, {FULL_EPOCHS_AT_100} epochs at 100 iterations): about "
          f"{gwms:.0f} GWMs at the measured {spg:.1f} CPU s/GWM = {duration(sec)} on one idle core "
          f"(divide by the number of workers); an upper bound when late epochs solve batches "
          "before the cap.")


if __name__ == "__main__":
    main()
