"""The ``lwl`` command (also ``python -m lwl``): train a model from the shell, print its
per-epoch table as it runs, save the result.

    lwl nmf --data ledm:6 --components 5 --omega 0.6 --beta 0.3
    lwl classify --data majority:2 --hidden 26 --epochs 20
"""
import argparse
import sys
import time

import numpy as np

from .graph import ACTIVATIONS


def _nmf_data(spec, seed):
    """Built-in data (``ledm:M``, ``letters[:N]``) or an original-format / .npy / .csv file."""
    from . import datasets
    name, _, arg = spec.partition(":")
    if name == "ledm":
        return datasets.ledm(int(arg or 6))
    if name == "letters":
        return datasets.letter_montages(int(arg or 2000), random_state=seed)
    if spec.endswith(".npy"):
        return np.load(spec)
    if spec.endswith(".csv"):
        return np.loadtxt(spec, delimiter=",", ndmin=2)
    from .io import read_data_file
    return read_data_file(spec, labelled=False)


def _cmd_nmf(args):
    from .nmf import RRRNMF
    X = _nmf_data(args.data, args.seed)
    model = RRRNMF(args.components, omega=args.omega, beta=args.beta, max_iter=args.max_iter,
                   tol=args.tol, batch_size=args.batch_size, epochs=args.epochs,
                   random_state=args.seed, verbose=args.verbose)
    print(f"RRR NMF of {args.data}: {X.shape[0]} items x {X.shape[1]} values, "
          f"rank {args.components}, beta {args.beta}, omega {args.omega}", flush=True)
    start = time.perf_counter()
    codes = model.fit_transform(X)
    seconds = time.perf_counter() - start
    print(f"{model.status_}: {model.n_iter_} iterations, {model.gwms_:.4g} GWMs, {seconds:.2f} s, "
          f"recon_err {model.reconstruction_err_:.3e}")
    np.savez(args.out, components=model.components_, codes=codes, rrr_err=model.rrr_err_,
             **{f"history_{k}": np.asarray(v) for k, v in model.history_.items()})
    print(f"saved features, codes and RRR_err series to {args.out}")
    return 0


def _classify_data(spec, seed, test_spec):
    """(X, y, X_test, y_test) from ``majority:DEPTH``, ``mnist[:DIR]`` or an original-format file."""
    from . import datasets
    name, _, arg = spec.partition(":")
    if name == "majority":
        X, y, X_test, y_test, _ = datasets.majority_circuit(int(arg or 2), random_state=seed)
        return X, y, X_test, y_test
    from .io import read_data_file
    if test_spec is not None:
        X_test, y_test = read_data_file(test_spec)
    elif name == "mnist":
        X_test, y_test = datasets.load_mnist(arg or None, subset="test")
    else:
        X_test = y_test = None
    if name == "mnist":
        X, y = datasets.load_mnist(arg or None, subset="train")
    else:
        X, y = read_data_file(spec)
    return X, y, X_test, y_test


def _cmd_classify(args):
    import pickle

    from .classifier import RRRClassifier
    X, y, X_test, y_test = _classify_data(args.data, args.seed, args.test)
    hidden = tuple(int(h) for h in args.hidden.split(",") if h)
    model = RRRClassifier(hidden_layer_sizes=hidden, activation=args.activation, margin=args.margin,
                          omega=args.omega, upsilon=args.upsilon, beta=args.beta,
                          batch_size=args.batch_size, rrr_iter=args.rrr_iter, tol=args.tol,
                          epochs=args.epochs, exempt=args.exempt, relabel=args.relabel,
                          n_jobs=args.jobs, random_state=args.seed, verbose=1)
    sizes = "-".join(str(s) for s in (X.shape[1], *hidden, len(np.unique(y))))
    print(f"RRR classifier {sizes} on {args.data}: {len(X)} training items"
          + (f", {len(X_test)} test items" if X_test is not None else ""), flush=True)
    model.fit(X, y, eval_set=None if X_test is None else (X_test, y_test))
    seconds = model.history_["seconds"][-1] if model.history_["seconds"] else 0.0
    print(f"{model.status_}: {model.n_iter_} iterations, "
          f"{model.gwms_:.4g} GWMs, {seconds:.1f} s; "
          f"train_err {1 - model.score(X, y):.4f}"
          + (f", test_err {1 - model.score(X_test, y_test):.4f}" if X_test is not None else ""))
    with open(args.out, "wb") as fh:
        pickle.dump(model, fh)
    print(f"saved the model to {args.out} (pickle; lwl needed to load it)")
    return 0


def _count_or_fraction(text):
    """'5' -> 5 items, '0.005' -> a fraction of the batch."""
    v = float(text)
    return int(v) if v == int(v) else v


def build_parser():
    parser = argparse.ArgumentParser(prog="lwl", description="Learning without loss: "
                                     "train by RRR constraint satisfaction, no loss, no gradients.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("nmf", help="non-negative matrix factorisation (RRRnmf)",
                       description="Factorise non-negative data X ~ W H by RRR (paper section 4).")
    p.add_argument("--data", default="ledm:6",
                   help="ledm:M (eq 25), letters[:N] (letter montages, section 4.4.2), or a file: "
                        "the original programs' text format, .npy or .csv (default ledm:6)")
    p.add_argument("--components", "-r", type=int, required=True, help="rank (number of features)")
    p.add_argument("--omega", type=float, default=1.0, help="feature norm Omega (default 1)")
    p.add_argument("--beta", type=float, default=1.0, help="RRR step size (default 1)")
    p.add_argument("--max-iter", type=int, default=100_000, help="RRR iterations per batch")
    p.add_argument("--tol", type=float, default=1e-7, help="stop a batch when RRR_err < tol")
    p.add_argument("--batch-size", type=int, default=None, help="items per batch (default: all)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=None, help="random_state")
    p.add_argument("--out", default="lwl-nmf.npz", help="where to save the result (.npz)")
    p.add_argument("--verbose", "-v", type=int, default=2,
                   help="0 quiet, 1 per-epoch table, 2 also progress within a batch")
    p.set_defaults(run=_cmd_nmf)

    p = sub.add_parser("classify", help="layered classifier (RRRclass, RRRclass_x)",
                       description="Train a layered ReLU classifier by RRR (paper section 5).")
    p.add_argument("--data", default="majority:2",
                   help="majority:DEPTH (section 5.5.1), mnist[:PATH] (original text format, IDX "
                        "or the OpenML cache), or a data file in the original format")
    p.add_argument("--test", default=None, help="test file in the original format (optional)")
    p.add_argument("--hidden", default="26", help="hidden layer sizes, comma separated")
    p.add_argument("--activation", default="relu", choices=ACTIVATIONS)
    p.add_argument("--margin", type=float, default=0.1, help="class margin Delta")
    p.add_argument("--omega", type=float, default=2.0)
    p.add_argument("--upsilon", type=float, default=1.0)
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--rrr-iter", type=int, default=100, help="RRR iterations per batch")
    p.add_argument("--tol", type=float, default=1e-9)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--exempt", type=_count_or_fraction, default=0,
                   help="eccentric exemptions per batch (an integer) or a fraction (< 1)")
    p.add_argument("--relabel", action="store_true", help="relabel instead of exempting")
    p.add_argument("--jobs", type=int, default=None, help="threads (default 1)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", default="lwl-classifier.pkl")
    p.set_defaults(run=_cmd_classify)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, MemoryError) as exc:
        print(f"lwl {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
