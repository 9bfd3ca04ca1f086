"""Figure 12 of the paper: scikit-learn's SGD on the majority-gate data, beside RRR and two
gradient-free baselines.

    python compare/fig12.py --quick             # 5 SGD runs, 2 analytic runs per depth (~4 min)
    python compare/fig12.py                     # 100 SGD runs, 10 analytic runs per depth (~45 min)
    python compare/fig12.py --quick --skip-rrr  # no RRR row

SGD: MLPClassifier on the nets of Fig 11 (13 -> 26 -> 2, 13 -> 26 -> 26 -> 2,
13 -> 26 -> 26 -> 26 -> 2), ReLU, solver "sgd" with momentum 0 (plain SGD: the paper calls it the
simple SGD optimizer, and with momentum 0 runs stop after about 700-1000 epochs, the paper's
"typically after about 1000 epochs", where scikit-learn's default momentum 0.9 stops them after
about 300; --momentum changes it), learning_rate "adaptive", learning_rate_init 0.5 (1.0 at
depth 4), batch 128, alpha 0 (no regularisation), tol 1e-5, max_iter 5000.
Gradient-free baselines (not in the paper): AnalyticReLUClassifier (one hidden layer of 26, leaky
ReLU, closed-form alternating least squares) and ConstructiveReLUClassifier (built from the class
means; deterministic, one run). RRR: the Fig 11 rows (Delta 0.1 at depths 2, 3, Delta 0.2 at
depth 4) read from compare/results/fig10_11.csv when it exists, else --rrr-runs runs here.
The full-mode duration printed by the quick mode is computed from its measured seconds per run.
--jobs N runs N runs at a time, --scheduler / --local-cluster on a Dask cluster
(compare/CLUSTER.md); every finished run is kept in compare/results/fig12.runs.jsonl, and the
same command started again does only the others.
Writes compare/results/fig12.csv (one row per depth and method), fig12_runs.csv (every SGD and
baseline run) and fig12.png (histograms of the final errors).
"""
import argparse
import csv
import time

import numpy as np
from sklearn.neural_network import MLPClassifier

from _classify import (MAJORITY_RRR, cap_gwms_per_epoch, estimator_task, majority_data,
                       majority_net, n_edges, pm, report_run, rrr_estimate, rrr_task,
                       seconds_per_gwm, summarise_final, summarise_rrr)
from _common import RESULTS, duration, fmt, markdown_table, results_path, write_csv, plt
from _sweep import Sweep, add_arguments
from lwl.baselines import AnalyticReLUClassifier, ConstructiveReLUClassifier

DEPTHS = (2, 3, 4)
RRR_DELTA = {2: 0.1, 3: 0.1, 4: 0.2}  # Fig 11
CAPS = {d: cap_gwms_per_epoch(4096, 100, n_edges(13, majority_net(d), 2)) for d in DEPTHS}
FULL = dict(runs=100, analytic_runs=10, rrr_runs=2, rrr_epochs=1000, rrr_last=10)
QUICK = dict(runs=5, analytic_runs=2, rrr_runs=2, rrr_epochs=5, rrr_last=2)
PAPER = {("SGD", 2): "never perfect (test_err > 0 in all 100 runs)",
         ("SGD", 3): "~8% of runs above 1% train_err",
         ("SGD", 4): "~8% of runs above 1% train_err; better than RRR on average",
         ("RRR", 2): "train_err 0; test_err 0 (perfect generalisation)",
         ("RRR", 3): "train_err 0",
         ("RRR", 4): "train_err 0; worse than SGD on average"}


def mlp(depth, momentum, max_iter):
    return MLPClassifier(majority_net(depth), activation="relu", solver="sgd", alpha=0.0,
                         batch_size=128, learning_rate="adaptive",
                         learning_rate_init=1.0 if depth == 4 else 0.5, momentum=momentum,
                         tol=1e-5, max_iter=max_iter)


def read_rrr_csv():
    """The Fig 11 rows of fig10_11.csv as {depth: row}; None when the file or a row is missing."""
    path = RESULTS / "fig10_11.csv"
    if not path.is_file():
        return None
    rows = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            row = {k: (None if v == "" else v) for k, v in row.items()}
            depth, delta = int(row["depth"]), float(row["delta"])
            if RRR_DELTA.get(depth) == delta:
                rows[depth] = {k: _number(v) for k, v in row.items()}
    needed = {"runs", "epochs", "train_mean", "test_mean", "frac_stuck", "frac_test0"}
    complete = set(rows) == set(DEPTHS) and all(needed <= set(r) for r in rows.values())
    return rows if complete else None


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def table_row(depth, method, s, paper=""):
    seconds = s.get("seconds_per_run")
    epochs = s.get("epochs_mean") if method != "RRR" else s.get("epochs")
    return [depth, method, f"{int(s['runs'])}", pm(s["train_mean"], s["train_sd"]),
            pm(s["test_mean"], s["test_sd"]),
            f"{fmt(s['test_min'], '{:.4f}')} - {fmt(s['test_max'], '{:.4f}')}",
            f"{100 * s['frac_stuck']:.0f}%", f"{100 * s['frac_test0']:.0f}%",
            fmt(epochs, "{:.0f}"), fmt(seconds, "{:.1f}"), paper]


def plot(runs, rrr, path):
    fig, axes = plt.subplots(2, len(DEPTHS), figsize=(4 * len(DEPTHS), 6.4), squeeze=False)
    for j, depth in enumerate(DEPTHS):
        for i, key in enumerate(("train_err", "test_err")):
            ax = axes[i, j]
            sgd = [r[key] for r in runs["SGD", depth]]
            marks = [(name, float(np.mean([r[key] for r in runs[name, depth]])), f"C{c}", "--")
                     for c, name in ((1, "analytic"), (2, "constructive"))]
            if depth in rrr:
                marks.append(("RRR", rrr[depth][key.replace("_err", "_mean")], "C3", "-"))
            top = max([*sgd, *(m[1] for m in marks)]) * 1.05 or 0.01
            ax.hist(sgd, bins=np.linspace(0, top, 41), color="C0", alpha=0.7, label="SGD runs")
            for name, value, color, ls in marks:
                ax.axvline(value, color=color, ls=ls, label=f"{name} (mean)")
            ax.set_xlabel(f"final {key}")
            ax.set_title(f"depth {depth}")
            if i == j == 0:
                ax.legend(fontsize=7)
    fig.suptitle("Majority-gate data: final errors over runs (cf. paper Fig 12)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 SGD and 2 analytic runs per depth")
    ap.add_argument("--runs", type=int, default=None, help="SGD runs per depth")
    ap.add_argument("--analytic-runs", type=int, default=None)
    ap.add_argument("--momentum", type=float, default=0.0, help="SGD momentum (default 0)")
    ap.add_argument("--max-iter", type=int, default=5000, help="SGD epochs at most")
    ap.add_argument("--skip-rrr", action="store_true", help="no RRR row")
    ap.add_argument("--rrr-runs", type=int, default=None,
                    help="RRR runs per depth when fig10_11.csv is missing")
    ap.add_argument("--rrr-epochs", type=int, default=None)
    add_arguments(ap)
    args = ap.parse_args()
    plt.require()
    mode = QUICK if args.quick else FULL
    runs_n = args.runs or mode["runs"]
    analytic_n = args.analytic_runs or mode["analytic_runs"]
    start = time.perf_counter()

    rrr, rrr_source, rrr_measured, rrr_here = {}, "not run (--skip-rrr)", [], False
    if not args.skip_rrr:
        rrr = read_rrr_csv()
        if rrr is not None:
            r = rrr[2]
            rrr_source = (f"read from {RESULTS / 'fig10_11.csv'} ({r['mode']} mode: "
                          f"{int(r['runs'])} runs x {int(r['epochs'])} epochs, last "
                          f"{int(r['last_epochs'])} epochs pooled)")
        else:
            rrr, rrr_here = {}, True
            n, epochs = args.rrr_runs or mode["rrr_runs"], args.rrr_epochs or mode["rrr_epochs"]
            last = min(mode["rrr_last"], epochs)
            rrr_source = (f"run here ({n} runs x {epochs} epochs, last {last} epochs pooled; "
                          "fig10_11.csv not found)")

    tasks = {}
    with Sweep.from_args("fig12", args) as sweep:
        for depth in DEPTHS:
            data = sweep.share(majority_data(depth), f"majority-{depth}")
            tasks["SGD", depth] = [estimator_task(mlp(depth, args.momentum, args.max_iter), data,
                                                  seed, f"SGD depth {depth}")
                                   for seed in range(runs_n)]
            tasks["analytic", depth] = [estimator_task(AnalyticReLUClassifier(26), data, seed,
                                                       f"analytic depth {depth}")
                                        for seed in range(analytic_n)]
            tasks["constructive", depth] = [estimator_task(ConstructiveReLUClassifier(), data, 0,
                                                           f"constructive depth {depth}")]
            if rrr_here:
                params = dict(MAJORITY_RRR, hidden_layer_sizes=majority_net(depth),
                              margin=RRR_DELTA[depth], rrr_iter=100, epochs=epochs)
                tasks["RRR", depth] = [rrr_task(params, data, seed, f"RRR depth {depth}",
                                                CAPS[depth]) for seed in range(n)]
        done = sweep.run_groups(tasks, report_run)
    runs = {key: value for key, value in done.items() if key[0] != "RRR"}
    if rrr_here:
        for depth in DEPTHS:
            rrr[depth] = summarise_rrr(done["RRR", depth], last)
            rrr_measured += done["RRR", depth]
    elapsed = time.perf_counter() - start

    rows, csv_rows = [], []
    for depth in DEPTHS:
        for method in ("SGD", "analytic", "constructive", "RRR"):
            if method == "RRR":
                if depth not in rrr:
                    continue
                s = rrr[depth]
            else:
                s = summarise_final(runs[method, depth])
            paper = PAPER.get((method, depth), "(not in the paper)")
            rows.append(table_row(depth, method, s, paper))
            keep = {k: s.get(k) for k in ("runs", "train_mean", "train_sd", "train_min",
                                          "train_max", "test_mean", "test_sd", "test_min",
                                          "test_max", "frac_stuck", "frac_test0",
                                          "seconds_per_run")}
            csv_rows.append(dict(mode="quick" if args.quick else "full", depth=depth,
                                 method=method, **keep, paper=paper))
    run_rows = [dict(depth=d, method=m, **r) for (m, d), rs in runs.items() for r in rs]
    plot(runs, rrr, results_path("fig12.png"))

    print()
    print(f"Fig 12: majority-gate data, final errors over runs (mean ± sd). SGD momentum "
          f"{args.momentum}. For RRR, errors pooled over the last epochs of each run and the "
          f"fractions taken at the final epoch; RRR {rrr_source}. 'epochs' is the mean number of "
          "epochs run; 's/run' wall seconds per run.")
    print(markdown_table(["depth", "method", "runs", "train_err", "test_err", "test_err range",
                          "train_err > 1%", "test_err 0", "epochs", "s/run", "paper"], rows))
    capped = sum(not r["converged"] for (m, _), rs in runs.items() if m == "SGD" for r in rs)
    if capped:
        print(f"\n{capped} SGD run(s) stopped at max_iter={args.max_iter} rather than by tol.")
    write_csv("fig12_runs.csv", run_rows)
    print(f"\nwrote {write_csv('fig12.csv', csv_rows)}, fig12_runs.csv, fig12.png "
          f"({duration(elapsed)} in all)")

    sgd = sum(sum(r["seconds"] for r in runs["SGD", d]) / len(runs["SGD", d]) for d in DEPTHS)
    ana = sum(sum(r["seconds"] for r in runs["analytic", d]) / len(runs["analytic", d])
              for d in DEPTHS)
    full = FULL["runs"] * sgd + FULL["analytic_runs"] * ana
    text = (f"SGD {duration(FULL['runs'] * sgd)}, analytic {duration(FULL['analytic_runs'] * ana)}")
    if rrr_measured:
        measured = {d: rrr[d]["gwms_per_epoch"] for d in DEPTHS}
        plan = [(d, FULL["rrr_runs"], FULL["rrr_epochs"], CAPS[d]) for d in DEPTHS]
        sec, _ = rrr_estimate(plan, measured, seconds_per_gwm(rrr_measured))
        full += sec
        text += f", RRR {duration(sec)} (CPU time, when fig10_11.csv is missing)"
    print(f"full mode: about {duration(full)} on this machine ({text}; divide by the number of "
          "workers).")


if __name__ == "__main__":
    main()
