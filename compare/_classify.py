"""Shared code of the classification comparisons (fig9, fig10_11, fig12, mnist).

Data (one fixed majority circuit per depth, MNIST 10k / 10k), repeated RRR runs and their
last-epochs statistics, the scikit-learn and gradient-free baseline runs, and the work / duration
estimates every script prints.
"""
import functools
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import lwl
from _common import timed
from _sweep import Run
from lwl.datasets import load_mnist, majority_circuit

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data"
CIRCUIT_SEED = 2019  # the circuit and train/test split of depth n use random_state CIRCUIT_SEED + n

# Hyperparameters of paper §5.5 shared by every run (margin, rrr_iter, exempt, epochs set per run)
MAJORITY_RRR = dict(batch_size=128, beta=1.0, omega=2.0, upsilon=1.0, tol=1e-9, activation="relu")
MNIST_RRR = dict(hidden_layer_sizes=(20,), batch_size=1000, rrr_iter=100, beta=1.0, omega=2.0,
                 upsilon=1.0, tol=1e-9, activation="relu")


# ---------------------------------------------------------------- data
def majority_net(depth):
    """Hidden layers of the paper's nets: n - 1 layers of 26 (13 -> 26 -> ... -> 2)."""
    return (26,) * (depth - 1)


@functools.lru_cache(maxsize=None)
def majority_data(depth):
    """(X_train, y_train, X_test, y_test) of the depth-n circuit, 4096 / 4096 (the same data in
    every script)."""
    X, y, Xt, yt, _ = majority_circuit(depth, random_state=CIRCUIT_SEED + depth)
    return X, y, Xt, yt


def load_mnist_10k(data_dir=None, n=10_000):
    """MNIST (X, y, X_test, y_test), the first n of each set.

    ``data_dir`` (IDX files or mnist_{train,test}* text files) when given; else the repository's
    sibling ``../shared/data/mnist_{train,test}_10k.zip`` when it exists; else load_mnist's own
    search (scikit-learn's OpenML cache). Exits with load_mnist's message when nothing is found.
    """
    try:
        if data_dir is not None:
            sets = [load_mnist(Path(data_dir), subset=s) for s in ("train", "test")]
        elif (SHARED_MNIST / "mnist_train_10k.zip").is_file():
            sets = [load_mnist(SHARED_MNIST / f"mnist_{s}_10k.zip") for s in ("train", "test")]
        else:
            sets = [load_mnist(subset=s) for s in ("train", "test")]
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"cannot load MNIST: {exc}\n(pass --data-dir DIR)") from None
    (X, y), (Xt, yt) = sets
    return X[:n], y[:n], Xt[:n], yt[:n]


def n_edges(n_features, hidden, n_classes):
    sizes = [n_features, *hidden, n_classes]
    return sum(a * b for a, b in zip(sizes, sizes[1:]))


def cap_gwms_per_epoch(n_train, rrr_iter, edges):
    """GWMs of one epoch when every batch runs to the iteration cap (eq 24): an upper bound."""
    return 1e-9 * n_train * rrr_iter * edges


# ---------------------------------------------------------------- RRR runs
def rrr_run(params, data, seed):
    """One RRRClassifier(**params, random_state=seed) fit with the test set as eval_set.

    Returns a plain dict (picklable, for worker processes): seed, history (lists per epoch),
    seconds (wall), cpu_seconds (of this process: the engine is single-threaded, so this is the
    time on an idle core even when the machine is shared), gwms, exempted (training indices
    exempted in the last epoch)."""
    X, y, Xt, yt = data
    model = lwl.RRRClassifier(**params, random_state=seed)
    cpu = time.process_time()
    _, sec = timed(model.fit, X, y, eval_set=(Xt, yt))
    cpu = time.process_time() - cpu
    history = {k: list(v) for k, v in model.history_.items()}
    return dict(seed=seed, history=history, seconds=sec, cpu_seconds=cpu, gwms=float(model.gwms_),
                exempted=[int(i) for i in np.asarray(model.exempted_).ravel()])


def rrr_task(params, data, seed, label="", cap=1.0):
    """The Run (compare/_sweep.py) of ``rrr_run(params, data, seed)``; its weight for the time
    estimate is its epochs times ``cap`` (its GWMs per epoch at the iteration cap)."""
    return Run(rrr_run, (params, data), seed, label, cap * params["epochs"])


def estimator_task(estimator, data, seed, label=""):
    """The Run of ``estimator_run(estimator, data, seed)``."""
    return Run(estimator_run, (estimator, data), seed, label)


def report_run(run, result):
    """A line per finished run of rrr_run or estimator_run (Sweep.run's on_result)."""
    if "history" not in result:
        epochs = "" if result["epochs"] is None else f", {result['epochs']} epochs"
        print(f"  {run.label} seed {run.seed}: train_err {result['train_err']:.4f}, test_err "
              f"{result['test_err']:.4f}{epochs}{'' if result['converged'] else ' (max_iter)'}, "
              f"{result['seconds']:.1f} s", flush=True)
        return
    h = result["history"]
    test = h["test_err"][-1]
    print(f"  {run.label} seed {run.seed}: {len(h['epoch'])} epochs, train_err "
          f"{h['train_err'][-1]:.4f}, test_err {'-' if test is None else f'{test:.4f}'}, "
          f"{result['gwms']:.2f} GWMs, {result['seconds']:.1f} s "
          f"({result['cpu_seconds']:.1f} s CPU)", flush=True)


def last_epochs(runs, key, last):
    """The values of history[key] over the last ``last`` epochs of every run, pooled."""
    return [v for run in runs for v in run["history"][key][-last:] if v is not None]


def spread(values):
    """mean, sd (0 for one value), min, max of a list of numbers (None when empty)."""
    values = [float(v) for v in values if v is not None]
    if not values:
        return dict(mean=None, sd=None, min=None, max=None, n=0)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return dict(mean=statistics.fmean(values), sd=sd, min=min(values), max=max(values),
                n=len(values))


def summarise_rrr(runs, last):
    """Statistics of a setting: train/test error pooled over the last epochs of every run; at the
    final epoch, the number of runs with train_err 0 and the fractions of runs with train_err
    above 1% and with test_err 0; the work and time per run."""
    train = spread(last_epochs(runs, "train_err", last))
    test = spread(last_epochs(runs, "test_err", last))
    epochs = len(runs[0]["history"]["epoch"])
    row = {f"train_{k}": v for k, v in train.items() if k != "n"}
    row.update({f"test_{k}": v for k, v in test.items() if k != "n"})
    row.update(runs=len(runs), epochs=epochs, last_epochs=min(last, epochs), points=train["n"],
               runs_train0=sum(run["history"]["train_err"][-1] == 0 for run in runs),
               frac_stuck=statistics.fmean(r["history"]["train_err"][-1] > 0.01 for r in runs),
               frac_test0=statistics.fmean(r["history"]["test_err"][-1] == 0 for r in runs),
               gwms_per_run=statistics.fmean(r["gwms"] for r in runs),
               seconds_per_run=statistics.fmean(r["seconds"] for r in runs),
               cpu_seconds_per_run=statistics.fmean(r["cpu_seconds"] for r in runs),
               s_per_gwm=seconds_per_gwm(runs), gwms_per_epoch=gwms_per_epoch(runs))
    return row


def mean_curve(runs, key):
    """Per-epoch mean over runs of history[key] (runs of one setting have equal epochs)."""
    return np.mean([[np.nan if v is None else v for v in run["history"][key]] for run in runs],
                   axis=0)


def seconds_per_gwm(runs, key="cpu_seconds"):
    """Seconds (CPU by default, see rrr_run) per GWM over runs."""
    return sum(r[key] for r in runs) / max(sum(r["gwms"] for r in runs), 1e-12)


def gwms_per_epoch(runs):
    return statistics.fmean(r["gwms"] / len(r["history"]["epoch"]) for r in runs)


# ---------------------------------------------------------------- time estimates
def rrr_estimate(plan, measured, s_per_gwm, jobs=1):
    """Seconds and GWMs of a plan of RRR runs: ``plan`` is a list of (key, runs, epochs, cap),
    ``measured`` maps key -> GWMs per epoch measured in this (quick) run; keys not measured take
    ``cap`` (GWMs per epoch at the iteration cap, an upper bound)."""
    gwms = sum(runs * epochs * measured.get(key, cap) for key, runs, epochs, cap in plan)
    return gwms * s_per_gwm / jobs, gwms


# ---------------------------------------------------------------- baselines
def estimator_run(estimator, data, seed):
    """Fit a clone of a scikit-learn-style classifier with random_state=seed; returns train/test
    error, wall seconds, epochs (n_iter_, if any) and whether it stopped by its own criterion
    (converged) rather than at max_iter (a ConvergenceWarning)."""
    X, y, Xt, yt = data
    model = clone(estimator).set_params(random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        _, sec = timed(model.fit, X, y)
    capped = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return dict(seed=seed, train_err=1 - model.score(X, y), test_err=1 - model.score(Xt, yt),
                seconds=sec, epochs=getattr(model, "n_iter_", None), converged=not capped)


def summarise_final(runs, stuck=0.01):
    """Statistics over runs of the final train/test errors (MLP, baselines): mean, sd, min, max,
    the fraction of runs with train_err above ``stuck`` and with test_err 0, mean epochs, how many
    runs stopped by their own criterion, and wall seconds per run."""
    row = {f"train_{k}": v for k, v in spread([r["train_err"] for r in runs]).items() if k != "n"}
    row.update({f"test_{k}": v for k, v in spread([r["test_err"] for r in runs]).items()
                if k != "n"})
    epochs = [r["epochs"] for r in runs if r.get("epochs") is not None]
    row.update(runs=len(runs),
               frac_stuck=statistics.fmean(r["train_err"] > stuck for r in runs),
               frac_test0=statistics.fmean(r["test_err"] == 0 for r in runs),
               epochs_mean=statistics.fmean(epochs) if epochs else None,
               converged=sum(r.get("converged", True) for r in runs),
               seconds_per_run=statistics.fmean(r["seconds"] for r in runs))
    return row


def pm(mean, sd, spec="{:.4f}"):
    """'mean ± sd' ('-' when missing)."""
    if mean is None:
        return "-"
    return spec.format(mean) + ("" if not sd else " ± " + spec.format(sd))
