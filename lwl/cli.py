"""The ``lwl`` command (also ``python -m lwl``): train a model from the shell, print its
per-epoch table as it runs, save the result.

    lwl nmf --data ledm:6 --components 5 --omega 0.6 --beta 0.3
"""
import argparse
import sys
import time

import numpy as np


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
    status = ("interrupted" if model.interrupted_ else
              "solved (RRR_err < tol)" if model.converged_ else "iteration cap reached")
    print(f"{status}: {model.n_iter_} iterations, {model.gwms_:.4g} GWMs, {seconds:.2f} s, "
          f"recon_err {model.reconstruction_err_:.3e}")
    np.savez(args.out, components=model.components_, codes=codes, rrr_err=model.rrr_err_,
             **{f"history_{k}": np.asarray(v) for k, v in model.history_.items()})
    print(f"saved features, codes and RRR_err series to {args.out}")
    return 0


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
