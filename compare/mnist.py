"""Figures 13-15 of the paper: MNIST with eccentric exemptions, beside SGD and other baselines.

    python compare/mnist.py --quick             # 1 run of 5 epochs at ee 0 and 0.5% (159 GWMs: ~7 min at 2.7 s/GWM, + SGD)
    python compare/mnist.py                     # 10 runs of 200 epochs for each of 9 settings
    python compare/mnist.py --quick --skip-rrr  # only (d): SGD and the baselines (~3 min)
    python compare/mnist.py --data-dir DIR      # MNIST from DIR (IDX files or mnist_* text files)

MNIST 10k train / 10k test (the first 10,000 of each), net 784 -> 20 -> 10, |K| = 1000,
rrr_iter 100, beta 1, Omega 2, Upsilon 1, tol 1e-9.
(a) Fig 13: exemption fraction ee = EE / |K| = 0, 0.25, 0.5, 1.0, 1.5 % at Delta 0.7;
(b) Fig 14: Delta = 0.5, 0.6, 0.7, 0.8, 0.9 at ee 0.5 %;
(c) Fig 15: the training digits exempted in the last epoch of one run at ee 0.5 %, Delta 0.7;
(d) scikit-learn MLPClassifier on the same net (plain SGD, momentum 0 as in fig12.py, batch 1000,
    adaptive learning rate from 0.1, alpha 0, tol 1e-5; 5 runs, 1 run capped at 300 epochs in
    quick mode), AnalyticReLUClassifier (3 runs of at most 200 iterations; 1 of 10 in quick mode)
    and ConstructiveReLUClassifier (deterministic, 1 run), both with hidden width 20.
One RRR epoch costs 15.9 GWMs (about 43 s at the 2.7 s/GWM of compare/bench.py, 2026-11-29), so
the full mode, 9 settings x 10 runs x 200 epochs (286,000 GWMs), takes about 9 days on one core:
the quick mode
prints the estimate from its own measurements; --jobs N runs N runs at a time, --scheduler /
--local-cluster on a Dask cluster (compare/CLUSTER.md), --runs and --epochs cut it down. Every
finished run is kept in compare/results/mnist.runs.jsonl: the same command, started again, does
only the runs not there.
Data: --data-dir, else ../shared/data/mnist_{train,test}_10k.zip beside the repository, else
load_mnist's own search (scikit-learn's OpenML cache). Writes compare/results/mnist.csv (RRR
settings), mnist_curves.csv (test_err per epoch), mnist_baselines.csv, mnist_curves.png
(Figs 13-14 as curves) and mnist_exempted.png (Fig 15).
"""
import argparse
import time

import numpy as np
from sklearn.neural_network import MLPClassifier

from _classify import (MNIST_RRR, cap_gwms_per_epoch, estimator_task, load_mnist_10k,
                       mean_curve, n_edges, pm, report_run, rrr_estimate, rrr_task,
                       seconds_per_gwm, spread, summarise_final, summarise_rrr)
from _common import duration, fmt, markdown_table, results_path, write_csv, plt
from _sweep import Sweep, add_arguments
from lwl.baselines import AnalyticReLUClassifier, ConstructiveReLUClassifier

BEST = (0.7, 0.005)  # (Delta, ee), the paper's best
FIG13 = [(0.7, ee) for ee in (0.0, 0.0025, 0.005, 0.01, 0.015)]
FIG14 = [(d, 0.005) for d in (0.5, 0.6, 0.7, 0.8, 0.9)]
SETTINGS = list(dict.fromkeys(FIG13 + FIG14))
QUICK_SETTINGS = [(0.7, 0.0), BEST]
FULL = dict(runs=10, epochs=200, last=10, sgd_runs=5, sgd_max_iter=5000, analytic_runs=3,
            analytic_max_iter=200)
QUICK = dict(runs=1, epochs=5, last=2, sgd_runs=1, sgd_max_iter=300, analytic_runs=1,
             analytic_max_iter=10)
SGD_FULL_EPOCHS = 2500  # a converged run (momentum 0, tol 1e-5) took 2502 epochs here
PUBLISHED = [0.112, 0.099, 0.089, 0.085, 0.076, 0.076, 0.072, 0.074, 0.070]  # epochs 1-9, BEST
CAP = cap_gwms_per_epoch(10_000, 100, n_edges(784, (20,), 10))


def paper_reading(key):
    if key == BEST:
        return "best setting (Figs 13-14); published program: test_err 0.070 at epoch 9"
    return "slightly worse than ee 0.5%, Delta 0.7; small against the spread"


def figures(key):
    return "+".join(f for f, s in (("13", FIG13), ("14", FIG14)) if key in s)


def plot_curves(results, path):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, group, name in ((axes[0], FIG13, "ee"), (axes[1], FIG14, "Delta")):
        for i, key in enumerate(k for k in group if k in results):
            runs = results[key]
            te = mean_curve(runs, "test_err")
            label = f"ee {100 * key[1]:g}%" if name == "ee" else f"Delta {key[0]}"
            ax.plot(np.arange(1, len(te) + 1), te, color=f"C{i}", label=label)
        ax.plot(np.arange(1, len(PUBLISHED) + 1), PUBLISHED, "k.", ms=6,
                label="published program (ee 0.5%, Delta 0.7)")
        ax.set_xlabel("epoch")
        ax.set_title("Delta 0.7 (cf. Fig 13)" if name == "ee" else "ee 0.5% (cf. Fig 14)")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("test_err (mean over runs)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot_exempted(X, y, idx, title, path, ncols=10):
    rows = max(1, -(-len(idx) // ncols))
    fig, axes = plt.subplots(rows, ncols, figsize=(ncols * 0.9, rows * 1.05), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), idx):
        ax.imshow(X[i].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"#{i}: {y[i]}", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def rrr_tasks(args, mode, data):
    """{(Delta, ee): the Runs of that setting}."""
    settings = QUICK_SETTINGS if args.quick and not args.all_settings else SETTINGS
    runs_n, epochs = args.runs or mode["runs"], args.epochs or mode["epochs"]
    print(f"RRR: {len(settings)} settings x {runs_n} run(s) x {epochs} epochs: at most "
          f"{len(settings) * runs_n * epochs * CAP:.0f} GWMs", flush=True)
    tasks = {}
    for delta, ee in settings:
        params = dict(MNIST_RRR, margin=delta, exempt=ee, epochs=epochs, n_jobs=args.threads)
        tasks[delta, ee] = [rrr_task(params, data, seed, f"Delta {delta} ee {100 * ee:g}%", CAP)
                            for seed in range(runs_n)]
    return tasks


def rrr_tables(results, last, quick):
    rows, csv_rows, curves = [], [], []
    for (delta, ee), runs in results.items():
        s = summarise_rrr(runs, min(last, len(runs[0]["history"]["epoch"])))
        final = spread([r["history"]["test_err"][-1] for r in runs])
        best = spread([min(r["history"]["test_err"]) for r in runs])
        n_ex = spread([len(r["exempted"]) for r in runs])
        csv_rows.append(dict(mode="quick" if quick else "full", figure=figures((delta, ee)),
                             delta=delta, ee=ee, exempt_per_batch=round(ee * 1000),
                             test_final_mean=final["mean"], test_final_sd=final["sd"],
                             test_min_mean=best["mean"], exempted_last_epoch=n_ex["mean"], **s,
                             paper=paper_reading((delta, ee))))
        rows.append([figures((delta, ee)), delta, f"{100 * ee:g}% ({round(ee * 1000)})",
                     f"{s['runs']} x {s['epochs']}", pm(final["mean"], final["sd"]),
                     pm(best["mean"], best["sd"]), pm(s["test_mean"], s["test_sd"]),
                     f"{s['train_mean']:.4f}", f"{n_ex['mean']:.0f}", f"{s['gwms_per_run']:.0f}",
                     f"{s['seconds_per_run']:.0f}", paper_reading((delta, ee))])
        for e, (te, tr) in enumerate(zip(mean_curve(runs, "test_err"),
                                         mean_curve(runs, "train_err")), 1):
            curves.append(dict(delta=delta, ee=ee, epoch=e, test_err=te, train_err=tr))
    return rows, csv_rows, curves


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="1 run of 5 epochs at ee 0 and 0.5%% (Delta 0.7); capped baselines")
    ap.add_argument("--all-settings", action="store_true", help="all 9 settings in quick mode")
    ap.add_argument("--runs", type=int, default=None, help="RRR runs per setting")
    ap.add_argument("--epochs", type=int, default=None, help="RRR epochs")
    ap.add_argument("--data-dir", default=None, help="folder with the MNIST files")
    ap.add_argument("--skip-rrr", action="store_true", help="only (d): SGD and the baselines")
    ap.add_argument("--momentum", type=float, default=0.0, help="SGD momentum (default 0)")
    ap.add_argument("--threads", type=int, default=None, help="RRRClassifier n_jobs (OpenMP)")
    add_arguments(ap)
    args = ap.parse_args()
    plt.require()
    mode = QUICK if args.quick else FULL
    data = load_mnist_10k(args.data_dir)
    X, y = data[0], data[1]
    print(f"MNIST: {len(X)} train, {len(data[2])} test digits", flush=True)
    start = time.perf_counter()

    sgd = MLPClassifier((20,), activation="relu", solver="sgd", alpha=0.0, batch_size=1000,
                        learning_rate="adaptive", learning_rate_init=0.1,
                        momentum=args.momentum, tol=1e-5, max_iter=mode["sgd_max_iter"])
    analytic = AnalyticReLUClassifier(20, max_iter=mode["analytic_max_iter"])
    with Sweep.from_args("mnist", args) as sweep:
        shared = sweep.share(data, "mnist-10k")
        tasks = {} if args.skip_rrr else rrr_tasks(args, mode, shared)
        print("(d) SGD and the gradient-free baselines", flush=True)
        tasks["SGD"] = [estimator_task(sgd, shared, seed, "SGD")
                        for seed in range(mode["sgd_runs"])]
        tasks["analytic"] = [estimator_task(analytic, shared, seed, "analytic")
                             for seed in range(mode["analytic_runs"])]
        tasks["constructive"] = [estimator_task(ConstructiveReLUClassifier(20), shared, 0,
                                                "constructive")]
        results = sweep.run_groups(tasks, report_run)
    base = {name: results.pop(name) for name in ("SGD", "analytic", "constructive")}
    elapsed = time.perf_counter() - start

    print()
    last = mode["last"]
    if results:
        rows, csv_rows, curves = rrr_tables(results, last, args.quick)
        print(f"Figs 13-14: RRR on MNIST 10k/10k, 784 -> 20 -> 10. 'final' is the test_err after "
              f"the last epoch, 'min' the lowest over the epochs, 'last epochs' pooled over the "
              f"last {min(last, csv_rows[0]['epochs'])} epochs of every run (mean ± sd over runs). "
              "The paper's reading is last.")
        print(markdown_table(["Fig", "Delta", "ee (EE)", "runs x epochs", "test_err final",
                              "test_err min", "test_err last epochs", "train_err", "exempted",
                              "GWMs/run", "s/run", "paper"], rows))
        write_csv("mnist.csv", csv_rows)
        write_csv("mnist_curves.csv", curves)
        plot_curves(results, results_path("mnist_curves.png"))

        if BEST in results:
            te = mean_curve(results[BEST], "test_err")
            n = min(len(te), len(PUBLISHED))
            print(f"\nee 0.5%, Delta 0.7: test_err per epoch, ours (mean over "
                  f"{len(results[BEST])} run(s)) beside the published program's run")
            print(markdown_table(["epoch", *(str(e) for e in range(1, n + 1))],
                                 [["ours", *(f"{v:.3f}" for v in te[:n])],
                                  ["published", *(f"{v:.3f}" for v in PUBLISHED[:n])]]))
        key = BEST if BEST in results else max(results, key=lambda k: k[1])
        run = results[key][0]
        plot_exempted(X, y, run["exempted"],
                      f"{len(run['exempted'])} training digits exempted in the last epoch "
                      f"(Delta {key[0]}, ee {100 * key[1]:g}%, seed {run['seed']}; cf. Fig 15); "
                      "title: index: label", results_path("mnist_exempted.png"))

    rows, base_rows = [], []
    paper = {"SGD": "100 runs: mean test_err 0.073, never below 0.061"}
    for name, runs in base.items():
        s = summarise_final(runs)
        capped = sum(not r["converged"] for r in runs)
        note = f"{capped} of {len(runs)} stopped at max_iter" if capped else ""
        base_rows.append(dict(mode="quick" if args.quick else "full", method=name, **s,
                              paper=paper.get(name, "(not in the paper)")))
        rows.append([name, s["runs"], pm(s["train_mean"], s["train_sd"]),
                     pm(s["test_mean"], s["test_sd"]), fmt(s["test_min"], "{:.4f}"),
                     fmt(s["epochs_mean"], "{:.0f}"), note, f"{s['seconds_per_run']:.1f}",
                     paper.get(name, "(not in the paper)")])
    if BEST in results:
        r = [x for x in results[BEST]]
        s = summarise_final([dict(train_err=x["history"]["train_err"][-1],
                                  test_err=x["history"]["test_err"][-1], seconds=x["seconds"],
                                  epochs=len(x["history"]["epoch"])) for x in r])
        rows.append(["RRR (ee 0.5%, Delta 0.7)", s["runs"], pm(s["train_mean"], s["train_sd"]),
                     pm(s["test_mean"], s["test_sd"]), fmt(s["test_min"], "{:.4f}"),
                     fmt(s["epochs_mean"], "{:.0f}"), "", f"{s['seconds_per_run']:.1f}",
                     "published program: 0.070 at epoch 9"])
    print(f"\n(d) MNIST 10k/10k, hidden width 20: final errors (mean ± sd over runs), wall "
          f"seconds per run. SGD momentum {args.momentum}, {mode['sgd_max_iter']} epochs at most; "
          f"analytic {mode['analytic_max_iter']} iterations at most.")
    print(markdown_table(["method", "runs", "train_err", "test_err", "test_err min", "epochs",
                          "note", "s/run", "paper"], rows))
    path = write_csv("mnist_baselines.csv", base_rows)
    others = "" if not results else (", mnist.csv, mnist_curves.csv, mnist_curves.png, "
                                     "mnist_exempted.png")
    print(f"\nwrote {path}{others} ({duration(elapsed)} in all)")

    # full-mode estimate from this run's measurements
    sgd_s = np.mean([r["seconds"] / r["epochs"] for r in base["SGD"]])
    ana_s = np.mean([r["seconds"] / r["epochs"] for r in base["analytic"]])
    parts = {"SGD": FULL["sgd_runs"] * SGD_FULL_EPOCHS * sgd_s,
             "analytic": FULL["analytic_runs"] * FULL["analytic_max_iter"] * ana_s}
    if results:
        all_runs = [r for runs in results.values() for r in runs]
        measured = {"mnist": np.mean([r["gwms"] / len(r["history"]["epoch"]) for r in all_runs])}
        plan = [("mnist", FULL["runs"], FULL["epochs"], CAP)] * len(SETTINGS)
        parts["RRR"], gwms = rrr_estimate(plan, measured, seconds_per_gwm(all_runs))
        print(f"RRR: {seconds_per_gwm(all_runs):.1f} CPU s/GWM, {measured['mnist']:.1f} GWMs per "
              f"epoch; the full mode's RRR runs are about {gwms:.0f} GWMs.")
    print(f"full mode: about {duration(sum(parts.values()))} ("
          + ", ".join(f"{k} {duration(v)}" for k, v in parts.items())
          + f"; SGD at {SGD_FULL_EPOCHS} epochs per run and analytic at its max_iter, in wall "
          "time measured here; RRR in CPU time on one core; divide by the number of workers).")


if __name__ == "__main__":
    main()
