"""Figures 18-19 of the paper: binary encoding (section 6.3.1), 2^n one-hot vectors through n
step-activation code nodes and back, success rate over runs for n = 3, 4, 5.

    python compare/fig18_19.py --quick   # 20 runs at n = 3, 5 at n = 4 and 3 at n = 5
    python compare/fig18_19.py           # 20 runs at each n, as the paper

Settings of the paper: step activation at every node, beta 0.5, Omega 100, Delta 0.4 (0.34 at
n = 5, appendix C's bound), all 2^n one-hot vectors and all 2^n binary codes in every batch.
Each run is one batch of RRR iterations from random weights, up to the cap (--max-iter).
Success, as the paper judges it: after training, with the plain (zero-gap) step, every one-hot
vector reconstructs exactly and every code decodes and re-encodes exactly.
Writes compare/results/fig18_19.csv, fig18_weights.png (the weights of one successful n = 5
run) and fig19_rrr_err.png (RRR_err of successful and failed n = 5 runs). Runs go through the
sweep runner (compare/_sweep.py: --jobs, --scheduler, resumable).
"""
import argparse

import numpy as np

from _common import markdown_table, median, results_path, timed, write_csv, plt
from _sweep import Run, Sweep, add_arguments
from lwl import RRRAutoencoder
from lwl.autoencoder import _binary_codes

PAPER_SUCCESS = {3: "80%", 4: "30%", 5: "25%"}


SERIES_POINTS = 2000  # RRR_err points kept per n = 5 run for Fig 19


def binary_run(n, max_iter, seed):
    """One run: success, work, and for n = 5 the weights (Fig 18) and the RRR_err series (Fig
    19, every k-th iteration)."""
    model = RRRAutoencoder((), n_codes=n, activation="step", margin=0.34 if n == 5 else 0.4,
                           omega=100.0, beta=0.5, data_batch=2 ** n, code_batch=2 ** n,
                           rrr_iter=max_iter, tol=1e-10, epochs=1, random_state=seed)
    X, Z = np.eye(2 ** n), _binary_codes(n)
    _, sec = timed(model.fit, X)
    ok = (np.array_equal(model.inverse_transform(model.transform(X)), X)
          and np.array_equal(model.transform(model.inverse_transform(Z)), Z))
    out = dict(success=int(ok), iterations=model.n_rrr_iter_, gwms=model.gwms_, seconds=sec,
               final_rrr_err=float(model.rrr_err_[-1]))
    if n == 5:
        step = max(1, len(model.rrr_err_) // SERIES_POINTS)
        out.update(series_step=step, rrr_err=model.rrr_err_[::step],
                   weights=weight_matrices(model, n))
    return out


def weight_matrices(model, n):
    """(encoder (n, 2^n), decoder (n, 2^n)) weight matrices of a fitted binary autoencoder."""
    g, w = model._graph, model._weights
    enc, dec = np.zeros((n, 2 ** n)), np.zeros((n, 2 ** n))
    for e, (s, d) in enumerate(zip(g.src, g.dst)):
        if d in g.code_nodes:
            enc[d - g.code_nodes[0], s] = w[e]
        else:
            dec[s - g.code_nodes[0], d] = w[e]
    return np.stack([enc, dec])


def plot_weights(weights, n, path):
    lim = np.abs(weights).max()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, W, title in zip(axes, weights, ("encoder: data -> code", "decoder: code -> data")):
        im = ax.imshow(W, cmap="RdBu", vmin=-lim, vmax=lim)
        ax.set_title(title)
        ax.set_xlabel("data node")
        ax.set_ylabel("code node")
    fig.colorbar(im, ax=axes, shrink=0.8)
    fig.suptitle(f"n = {n}: final weights (cf. paper Fig 18; Omega/sqrt(32) = "
                 f"{100 / np.sqrt(32):.1f}, Omega/sqrt(5) = {100 / np.sqrt(5):.1f})")
    fig.savefig(path, dpi=110, bbox_inches="tight")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 / 5 / 3 runs at n = 3 / 4 / 5")
    ap.add_argument("--runs", type=int, default=None, help="runs at every n")
    ap.add_argument("--max-iter", type=int, default=None,
                    help="RRR iterations per run (default 200000 quick, 1000000 full)")
    add_arguments(ap)
    args = ap.parse_args()
    plt.require()
    max_iter = args.max_iter or (200_000 if args.quick else 1_000_000)
    runs = {n: args.runs or (dict(zip((3, 4, 5), (20, 5, 3)))[n] if args.quick else 20)
            for n in (3, 4, 5)}
    tasks = {n: [Run(binary_run, (n, max_iter), seed, f"n = {n}", 2 ** (2 * n))
                 for seed in range(runs[n])] for n in (3, 4, 5)}

    def report(run, r):
        print(f"  {run.label} seed {run.seed}: {'success' if r['success'] else 'failure'} "
              f"after {r['iterations']} iterations, {r['seconds']:.1f} s", flush=True)

    with Sweep.from_args("fig18_19", args) as sweep:
        done = sweep.run_groups(tasks, report)
    rows = [dict(n=n, seed=seed, **{k: r[k] for k in ("success", "iterations", "gwms",
                                                      "seconds", "final_rrr_err")})
            for n in (3, 4, 5) for seed, r in enumerate(done[n])]

    n5 = list(enumerate(done[5]))
    won = [(seed, r) for seed, r in n5 if r["success"]]
    if won:
        plot_weights(won[0][1]["weights"], 5, results_path("fig18_weights.png"))
    fig, ax = plt.subplots(figsize=(7, 4))
    shown = won[:2] + [(seed, r) for seed, r in n5 if not r["success"]][:1]
    for seed, r in shown:
        it = np.arange(len(r["rrr_err"])) * r["series_step"]
        ax.semilogy(it, r["rrr_err"], lw=0.6, color="tab:blue" if r["success"] else "tab:red",
                    label=f"seed {seed}: {'success' if r['success'] else 'failure'}")
    ax.set_xlabel("iteration")
    ax.set_ylabel("RRR_err (eq 42)")
    ax.set_title("n = 5 binary encoding (cf. paper Fig 19)")
    if shown:
        ax.legend()
    fig.savefig(results_path("fig19_rrr_err.png"), dpi=110, bbox_inches="tight")

    path = write_csv("fig18_19.csv", rows)
    table = []
    for n in (3, 4, 5):
        mine = [r for r in rows if r["n"] == n]
        won = [r for r in mine if r["success"]]
        table.append([n, f"{len(won)}/{len(mine)} = {len(won) / len(mine):.0%}",
                      PAPER_SUCCESS[n],
                      "-" if not won else f"{median([r['iterations'] for r in won]):.0f}",
                      f"{median([r['seconds'] for r in mine]):.1f}"])
    print()
    print(markdown_table(["n", "success (ours)", "paper", "median iterations of successes",
                          "median s per run"], table))
    print(f"Runs are capped at {max_iter} iterations; the paper does not say its cap, so a "
          "failed run here may be one that would still succeed later.")
    print(f"wrote {path} and the PNGs beside it")


if __name__ == "__main__":
    main()
