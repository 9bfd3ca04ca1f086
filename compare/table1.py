"""Table 1 of the paper: exact NMF of the LEDMs by RRR, beside scikit-learn's CD and MU.

    python compare/table1.py --quick    # m = 6, 8; 5 starts each (a few minutes)
    python compare/table1.py            # m = 6, 8, 12, 16; 20 starts (49 min here with
                                        # --cap-factor 25; longer if a start hits the tail)

A run succeeds when the rms reconstruction error (eq 23) is below SUCCESS_RMS for every
method. RRR runs until RRR_err < 1e-10 or a cap of --cap-factor times the paper's median work
(solution times are heavy-tailed: at m = 6, 2 of 20 starts needed more than 25 times the
paper's median work). --float32 gives RRR the LEDM in float32, so it runs on the
single-precision state, and stops it at RRR_err < 1e-6 (float's floor is near 1e-7); the
results then go to table1_float32.*.
--jobs N runs N starts at a time, --scheduler / --local-cluster on a Dask cluster
(compare/CLUSTER.md); every finished start is kept in compare/results/table1.runs.jsonl, and the
same command started again does only the others.
Writes compare/results/table1.csv and prints a markdown table with the paper's figures.
"""
import argparse
import warnings

import numpy as np
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning

from _common import fmt, markdown_table, median, timed, write_csv
from _sweep import Run, Sweep, add_arguments
from lwl import RRRNMF
from lwl.nmf import FLOAT32_TOL
from lwl.datasets import ledm

SUCCESS_RMS = 1e-5
# m: (r, beta, Omega, paper rate %, paper seconds, paper GWMs, paper CD rate, heuristic rate)
PAPER = {6: (5, 0.3, 0.6, 100, 2, 0.02, "1.6%", "100%"),
         8: (6, 0.3, 0.7, 100, 59, 0.61, "< 1%", "99%"),
         12: (7, 0.3, 0.8, 100, 567, 6.27, "< 1%", "69%"),
         16: (8, 0.3, 0.9, 100, 3677, 41.52, "< 1%", "48%")}


def run_rrr(Y, r, beta, omega, cap_gwms, seed):
    max_iter = int(cap_gwms * 1e9 / (Y.size * r))
    tol = FLOAT32_TOL if Y.dtype == np.float32 else 1e-10
    model = RRRNMF(r, omega=omega, beta=beta, rrr_iter=max_iter, tol=tol, random_state=seed)
    _, sec = timed(model.fit, Y)
    return model.reconstruction_err_ < SUCCESS_RMS, sec, model.gwms_


def run_sklearn(Y, r, solver, seed):
    model = NMF(r, solver=solver, init="random", max_iter=20_000, tol=1e-12,
                alpha_W=0.0, alpha_H=0.0, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        W, sec = timed(model.fit_transform, Y)
    rms = np.sqrt(np.mean((Y - W @ model.components_) ** 2))
    return rms < SUCCESS_RMS, sec


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="m = 6, 8 with 5 starts")
    ap.add_argument("--runs", type=int, default=None, help="starts per instance")
    ap.add_argument("--sizes", type=int, nargs="*", default=None)
    ap.add_argument("--cap-factor", type=float, default=100.0,
                    help="RRR gives up after this many times the paper's median GWMs")
    ap.add_argument("--float32", action="store_true",
                    help="RRR on the single-precision state (the LEDM in float32)")
    add_arguments(ap)
    args = ap.parse_args()
    sizes = args.sizes or ([6, 8] if args.quick else [6, 8, 12, 16])
    runs = args.runs or (5 if args.quick else 20)

    tasks = {}
    for m in sizes:
        r, beta, omega, *_, p_gwm = PAPER[m][:6]
        Y, cap = ledm(m), args.cap_factor * p_gwm
        Yr = Y.astype(np.float32) if args.float32 else Y
        tasks["rrr", m] = [Run(run_rrr, (Yr, r, beta, omega, cap), seed, f"RRR m = {m}", cap)
                           for seed in range(runs)]
        for solver in ("cd", "mu"):
            tasks[solver, m] = [Run(run_sklearn, (Y, r, solver), seed, f"{solver.upper()} m = {m}")
                                for seed in range(runs)]

    def report(run, result):
        print(f"  {run.label} seed {run.seed}: {'solved' if result[0] else 'not solved'}, "
              f"{result[1]:.2f} s", flush=True)

    name = "table1_float32" if args.float32 else "table1"
    with Sweep.from_args(name, args) as sweep:
        done = sweep.run_groups(tasks, report)

    rows, csv_rows = [], []
    for m in sizes:
        r, beta, omega, p_rate, p_sec, p_gwm, p_cd, p_heur = PAPER[m]
        rrr, cd, mu = done["rrr", m], done["cd", m], done["mu", m]
        rate = lambda res: 100.0 * sum(ok for ok, *_ in res) / len(res)
        sec_ok = median([s for ok, s, _ in rrr if ok])
        gwm_ok = median([g for ok, _, g in rrr if ok])
        row = dict(m=m, r=r, beta=beta, omega=omega, runs=runs,
                   rrr_rate=rate(rrr), rrr_median_s=sec_ok, rrr_median_gwms=gwm_ok,
                   rrr_s_per_gwm=(sum(s for _, s, _ in rrr) / sum(g for *_, g in rrr)),
                   cd_rate=rate(cd), cd_median_s=median([s for _, s in cd]),
                   mu_rate=rate(mu), mu_median_s=median([s for _, s in mu]),
                   paper_rrr_rate=p_rate, paper_rrr_s=p_sec, paper_rrr_gwms=p_gwm,
                   paper_cd_rate=p_cd, paper_heuristic_rate=p_heur)
        csv_rows.append(row)
        rows.append([m, r, beta, omega, f"{row['rrr_rate']:.0f}% ({p_rate}%)",
                     f"{fmt(sec_ok, '{:.2f}')} ({p_sec})", f"{fmt(gwm_ok, '{:.3f}')} ({p_gwm})",
                     f"{row['cd_rate']:.0f}% ({p_cd})", f"{fmt(row['cd_median_s'], '{:.3f}')}",
                     f"{row['mu_rate']:.0f}%", f"{fmt(row['mu_median_s'], '{:.3f}')}", p_heur])

    print()
    print(f"LEDM exact NMF, {runs} random starts each; success: rms error < {SUCCESS_RMS:g} "
          f"(RRR capped at {args.cap_factor:g} x the paper's median GWMs). Ours first, the "
          "paper's in brackets; seconds and GWMs are medians over solved runs.")
    print(markdown_table(["m", "r+", "beta", "Omega", "RRR rate", "RRR s", "RRR GWMs",
                          "CD rate", "CD s", "MU rate", "MU s", "heuristic (paper)"], rows))
    print(f"\nwrote {write_csv(name + '.csv', csv_rows)}")


if __name__ == "__main__":
    main()
