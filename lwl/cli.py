"""The ``lwl`` command (also ``python -m lwl``).

Two families of subcommands:

* with named options, whose types, checks, defaults and help come from the estimators:
  ``lwl nmf``, ``lwl classify``, ``lwl autoencode``, ``lwl generate``;
* drop-in replacements of the paper's published programs, with their positional arguments and
  their output files: ``lwl RRRnmf``, ``RRRclass``, ``RRRclass_x``, ``RRRclass_fp``,
  ``RRRauto`` (also in lower case) and the helpers ``completenet``, ``autonet``, ``encode``,
  ``decode`` (see :mod:`lwl._programs`).

Every argument and every output path is checked before any work starts; Ctrl-C stops a run
cleanly and saves what it has (exit status 130).
"""
import argparse
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np

from ._cliopts import (EXIT_ERROR, EXIT_INTERRUPTED, CLIError, add_estimator_options,
                       check_output, data_file, estimator_params, whole_number)
from ._interrupt import sigint_noted

def _load_array(spec):
    """.npy, .csv or a data file of the published programs (labels dropped)."""
    p = Path(spec)
    if not p.exists():
        raise CLIError(f"no such file: {spec}")
    if p.is_dir():
        raise CLIError(f"{spec} is a directory, not a data file")
    try:
        if spec.endswith(".npy"):
            X = np.load(p, allow_pickle=False)
        elif spec.endswith(".csv"):
            X = np.loadtxt(p, delimiter=",", ndmin=2)
        else:
            X = data_file(p, labelled=None)
            return X[0] if isinstance(X, tuple) else X
    except (ValueError, OSError, EOFError) as exc:
        raise CLIError(f"{spec}: not a readable {p.suffix} file ({exc})") from None
    if X.ndim != 2:
        raise CLIError(f"{spec}: expected a 2-D array (items x values); got shape {X.shape}")
    return X


def _save_model(model, out):
    with sigint_noted():
        model.save(out)
    print(f"saved the model to {out} (load it with lwl.load)")


def _add_float32(p, note=""):
    p.add_argument("--float32", action="store_true",
                   help="train in single precision (the data converted to float32): the state "
                        "moves half the bytes per iteration, which is faster where it is far "
                        "beyond cache; the model is saved in float32" + note)


def _precision(args, *arrays):
    """The data arrays in float32 under --float32, else as read (None stays None)."""
    if not args.float32:
        return arrays
    return tuple(None if a is None else np.asarray(a, dtype=np.float32) for a in arrays)


def _finish(model, out, extra=None):
    """Save the model (and run ``extra``), whatever happened; the exit status."""
    interrupted = getattr(model, "status_", None) == "interrupted"  # (fit warned of it)
    try:
        if extra is not None and not interrupted:
            extra()
    except KeyboardInterrupt:
        interrupted = True
    _save_model(model, out)
    return EXIT_INTERRUPTED if interrupted else 0


# ------------------------------------------------------------------ lwl nmf

NMF_OPTIONS = [(("--components", "-r"), "n_components"), ("--omega", "omega"),
               ("--beta", "beta"), (("--rrr-iter", "--max-iter"), "rrr_iter"), ("--tol", "tol"),
               ("--batch-size", "batch_size"), ("--epochs", "epochs"), ("--encoder", "encoder"),
               ("--early-stopping", "early_stopping"),
               ("--validation-fraction", "validation_fraction"),
               ("--n-iter-no-change", "n_iter_no_change"), ("--seed", "random_state"),
               (("--verbose", "-v"), "verbose")]
NMF_CLI_DEFAULTS = {
    "rrr_iter": (100_000, "one-batch factorisations from the shell (ledm) need many"),
    "verbose": (2, "the command shows its progress"),
}


def _nmf_data(spec, seed):
    """Built-in data (``ledm:M``, ``letters[:N]``) or a file: .npy, .csv or a data file."""
    from . import datasets
    name, sep, arg = spec.partition(":")
    if name == "ledm":
        return datasets.ledm(whole_number(arg or "6", 1, "--data ledm:M"))
    if name == "letters":
        return datasets.letter_montages(whole_number(arg or "2000", 1, "--data letters:N"),
                                        random_state=seed)
    return _load_array(spec)


def _cmd_nmf(args):
    from .nmf import FLOAT32_TOL, RRRNMF
    check_output(args.out)
    if args.codes is not None:
        check_output(args.codes, "codes file")
    params = estimator_params(args, NMF_OPTIONS)
    if args.float32 and "tol" not in args.given:
        params["tol"] = FLOAT32_TOL  # float32's RRR_err levels off below the default tol
    model = RRRNMF(**params)
    X, = _precision(args, _nmf_data(args.data, args.random_state))
    print(f"RRR NMF of {args.data}: {X.shape[0]} items x {X.shape[1]} values, rank "
          f"{model.n_components or X.shape[1]}, beta {model.beta}, omega {model.omega}",
          flush=True)
    start = time.perf_counter()
    codes = model.fit_transform(X)
    seconds = time.perf_counter() - start

    def report():
        print(f"{model.status_}: {model.n_rrr_iter_} iterations, {model.gwms_:.4g} GWMs, "
              f"{seconds:.2f} s, recon_err {model.reconstruction_err_:.3e}")
        if args.codes is not None:
            from .io import write_data_file
            write_data_file(args.codes, codes)
            print(f"saved the codes to {args.codes}")
    return _finish(model, args.out, report)


# ------------------------------------------------------------------ lwl classify

CLASSIFY_OPTIONS = [("--hidden", "hidden_layer_sizes"), ("--activation", "activation"),
                    ("--margin", "margin"), ("--omega", "omega"), ("--upsilon", "upsilon"),
                    ("--beta", "beta"), ("--batch-size", "batch_size"),
                    ("--rrr-iter", "rrr_iter"), ("--tol", "tol"), ("--epochs", "epochs"),
                    ("--exempt", "exempt"), ("--relabel", "relabel"),
                    ("--early-stopping", "early_stopping"),
                    ("--validation-fraction", "validation_fraction"),
                    ("--n-iter-no-change", "n_iter_no_change"),
                    (("--threads", "--jobs"), "n_jobs"), ("--seed", "random_state"),
                    (("--verbose", "-v"), "verbose")]
TABLE_DEFAULT = {"verbose": (1, "the command prints the per-epoch table")}


def _classify_data(spec, test_spec, seed):
    """(X, y, X_test, y_test, note) from ``majority:DEPTH``, ``mnist[:PATH]`` or a data file;
    X_test is None when there is no test set (never the training set)."""
    from . import datasets
    name, sep, arg = spec.partition(":")
    note = None
    if name == "majority":
        if test_spec is not None:
            raise CLIError("--test is not used with --data majority:DEPTH (its test set is "
                           "the other half of the truth table)")
        X, y, X_test, y_test, _ = datasets.majority_circuit(
            whole_number(arg or "2", 1, "--data majority:DEPTH"), random_state=seed)
        return X, y, X_test, y_test, None
    if name == "mnist":
        path = arg or None
        if path is not None and not Path(path).exists():
            raise CLIError(f"no such file or folder: {path}")
        X, y = datasets.load_mnist(path, subset="train")
        if test_spec is None:
            if path is None or Path(path).is_dir():
                try:
                    X_test, y_test = datasets.load_mnist(path, subset="test")
                    return X, y, X_test, y_test, None
                except FileNotFoundError:
                    pass
            note = ("no test set (a single MNIST file is the training set; pass --test FILE "
                    "to evaluate on a test file)")
            return X, y, None, None, note
    else:
        X, y = data_file(spec, labelled=True)
    if test_spec is None:
        return X, y, None, None, "no test set (pass --test FILE to evaluate on one)"
    X_test, y_test = data_file(test_spec, labelled=True)
    if X_test.shape[1] != X.shape[1]:
        raise CLIError(f"the test file {test_spec} has {X_test.shape[1]} values per item; the "
                       f"training data have {X.shape[1]}")
    return X, y, X_test, y_test, note


def _cmd_classify(args):
    from .classifier import RRRClassifier
    check_output(args.out)
    net = _net_option(args.net, "classifier")
    model = RRRClassifier(net=net, **estimator_params(args, CLASSIFY_OPTIONS))
    X, y, X_test, y_test, note = _classify_data(args.data, args.test, args.random_state)
    X, X_test = _precision(args, X, X_test)
    n_classes = len(np.unique(y))
    shape = (f"net {args.net}" if net is not None else "-".join(
        str(s) for s in (X.shape[1], *model.hidden_layer_sizes, n_classes)))
    print(f"RRR classifier {shape} on {args.data}: {len(X)} training items"
          + (f", {len(X_test)} test items" if X_test is not None else ""), flush=True)
    if note:
        print(note, flush=True)
    model.fit(X, y, eval_set=None if X_test is None else (X_test, y_test))

    def report():
        seconds = model.history_["seconds"][-1] if model.history_.get("seconds") else 0.0
        print(f"{model.status_}: {model.n_rrr_iter_} iterations, {model.gwms_:.4g} GWMs, "
              f"{seconds:.1f} s; train_err {1 - model.score(X, y):.4f}"
              + (f", test_err {1 - model.score(X_test, y_test):.4f}"
                 if X_test is not None else ""))
    return _finish(model, args.out, report)


def _net_option(path, kind):
    """The NetFile of a --net option (read and checked now, before any work), or None."""
    if path is None:
        return None
    from .io import read_net_file
    if not Path(path).exists():
        raise CLIError(f"no such net file: {path}")
    net = read_net_file(path)
    if net.kind != kind:
        raise CLIError(f"--net {path} is {'an' if net.kind[0] == 'a' else 'a'} {net.kind} net; "
                       f"this command needs {'an' if kind[0] == 'a' else 'a'} {kind} net")
    return net


# ------------------------------------------------------------------ lwl autoencode / generate

AUTOENCODE_OPTIONS = [("--encoder", "encoder_layer_sizes"), ("--codes", "n_codes"),
                      ("--decoder", "decoder_layer_sizes"), ("--activation", "activation"),
                      ("--margin", "margin"), ("--omega", "omega"), ("--beta", "beta"),
                      ("--data-batch", "data_batch"), ("--code-batch", "code_batch"),
                      ("--rrr-iter", "rrr_iter"), ("--tol", "tol"), ("--epochs", "epochs"),
                      ("--early-stopping", "early_stopping"),
                      ("--validation-fraction", "validation_fraction"),
                      ("--n-iter-no-change", "n_iter_no_change"),
                      (("--threads", "--jobs"), "n_jobs"), ("--seed", "random_state"),
                      (("--verbose", "-v"), "verbose")]


def _auto_data(spec):
    """``mnist[:PATH]`` (training digits), ``onehot:M`` (the M one-hot vectors of length M,
    the binary-encoding data of section 6.3.1) or a file."""
    from . import datasets
    name, sep, arg = spec.partition(":")
    if name == "mnist":
        if arg and not Path(arg).exists():
            raise CLIError(f"no such file or folder: {arg}")
        return datasets.load_mnist(arg or None, subset="train")[0]
    if name == "onehot":
        return np.eye(whole_number(arg, 1, "--data onehot:M"))
    return _load_array(spec)


def _cmd_autoencode(args):
    from .autoencoder import RRRAutoencoder
    check_output(args.out)
    if args.codes_out is not None:
        check_output(args.codes_out, "codes file")
    net = _net_option(args.net, "autoencoder")
    model = RRRAutoencoder(net=net, **estimator_params(args, AUTOENCODE_OPTIONS))
    X, = _precision(args, _auto_data(args.data))
    print(f"RRR autoencoder on {args.data}: {len(X)} items x {X.shape[1]} values", flush=True)
    model.fit(X)

    def report():
        print(f"{model.status_}: {model.n_rrr_iter_} iterations, {model.gwms_:.4g} GWMs; "
              f"data_err {model.data_err_:.4f}, code_err {model.code_err_:.4f}")
        if args.codes_out is not None:
            from .io import write_data_file
            write_data_file(args.codes_out, model.transform(X))
            print(f"saved the codes of the data to {args.codes_out}")
    return _finish(model, args.out, report)


GENERATE_OPTIONS = [("--hidden", "hidden_layer_sizes"), ("--fpa", "fpa"),
                    ("--margin", "margin"), ("--omega", "omega"), ("--upsilon", "upsilon"),
                    ("--beta", "beta"), ("--batch-size", "batch_size"),
                    ("--rrr-iter", "rrr_iter"), ("--epochs", "epochs"),
                    (("--threads", "--jobs"), "n_jobs"), (("--verbose", "-v"), "verbose")]
PAPER_FILTER = "the paper's genuine/fake classifier (section 6.3.2)"
GENERATE_CLI_DEFAULTS = {"hidden_layer_sizes": ((50, 50, 50), PAPER_FILTER),
                         "margin": (0.1, PAPER_FILTER), "omega": (5.0, PAPER_FILTER),
                         "batch_size": (500, PAPER_FILTER), "rrr_iter": (1000, PAPER_FILTER),
                         **TABLE_DEFAULT}


def _cmd_generate(args):
    from ._persist import load
    from .autoencoder import RRRAutoencoder
    from .classifier import RRRFPAClassifier
    from .generative import RRRGenerator
    check_output(args.out)
    check_output(args.model_out, "model file")
    if not Path(args.autoencoder).exists():
        raise CLIError(f"no such model file: {args.autoencoder}")
    auto = load(args.autoencoder, RRRAutoencoder)
    X = _auto_data(args.data)
    clf = RRRFPAClassifier(random_state=args.seed, **estimator_params(args, GENERATE_OPTIONS))
    model = RRRGenerator(auto, clf, n_fake=args.n_fake, prefit=True, random_state=args.seed)
    print(f"genuine/fake code classifier on the codes of {len(X)} items of {args.data}",
          flush=True)
    model.fit(X)
    interrupted = model.classifier_.status_ == "interrupted"  # (fit warned of it)
    try:
        samples, rate = model.sample(args.samples, random_state=args.seed)
        from .io import write_data_file
        with sigint_noted():
            write_data_file(args.out, samples)
        print(f"acceptance rate {rate:.3f}; saved {len(samples)} generated items to {args.out}")
    except KeyboardInterrupt:
        interrupted = True
    _save_model(model, args.model_out)
    return EXIT_INTERRUPTED if interrupted else 0


# ------------------------------------------------------------------ the parser

_FRIENDLY_EPILOG = ("Every option is checked before any work starts; Ctrl-C stops training, "
                    "saves what was reached and exits with status 130.")


def _formatter(prog):
    return argparse.HelpFormatter(prog, max_help_position=32, width=100)


def _raw_formatter(prog):
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32, width=100)


def build_parser():
    from ._version import __version__
    from ._programs import add_program_parsers
    from .autoencoder import RRRAutoencoder
    from .classifier import RRRClassifier, RRRFPAClassifier
    from .nmf import FLOAT32_RRR_ERR, FLOAT32_TOL, RRRNMF

    parser = argparse.ArgumentParser(
        prog="lwl", formatter_class=_raw_formatter,
        description="Learning without loss: train by RRR constraint satisfaction, no loss "
                    "function, no gradients (V. Elser, arXiv 1911.00493).",
        epilog="Subcommands with named options:\n"
               "  nmf, classify, autoencode, generate\n"
               "Drop-in replacements of the paper's published programs (same arguments, same "
               "output files):\n"
               "  RRRnmf, RRRclass, RRRclass_x, RRRclass_fp, RRRauto (or in lower case),\n"
               "  completenet, autonet, encode, decode\n"
               "`lwl SUBCOMMAND --help` tells more.")
    parser.add_argument("--version", action="version", version=f"lwl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    def friendly(name, summary, description, data, net, cls, options, cli_defaults, out, run):
        """A subcommand with named options: --data, --net, the estimator's, --out."""
        p = sub.add_parser(name, help=summary, formatter_class=_formatter,
                           epilog=_FRIENDLY_EPILOG, description=description)
        if data is not None:
            p.add_argument("--data", default=data[0], metavar="SPEC",
                           help=f"{data[1]} (default {data[0]})")
        if net is not None:
            p.add_argument("--net", default=None, metavar="FILE", help=net)
        add_estimator_options(p, cls, options, cli_defaults)
        p.add_argument("--out", default=out[0], metavar="FILE",
                       help=f"{out[1]} (default {out[0]})")
        p.set_defaults(run=run)
        return p

    model_out = "where to save the model, a self-describing .npz (lwl.load reads it; the name " \
                "is used as given)"
    p = friendly("nmf", "non-negative matrix factorisation (paper section 4)",
                 "Factorise non-negative data X ~ W H by RRR (paper section 4) and save the "
                 "model.",
                 ("ledm:6", "ledm:M (the LEDM of eq 25), letters[:N] (letter montages, section "
                            "4.4.2), or a file: a data file of the published programs, .npy or "
                            ".csv"),
                 None, RRRNMF, NMF_OPTIONS, NMF_CLI_DEFAULTS, ("lwl-nmf.npz", model_out),
                 _cmd_nmf)
    p.add_argument("--codes", default=None, metavar="FILE",
                   help="also write the codes W as a data file of the published programs")
    _add_float32(p, f". RRR_err levels off near {FLOAT32_RRR_ERR:g} in float32, so --tol is "
                    f"then {FLOAT32_TOL:g} unless given")

    p = friendly("classify", "layered classifier (paper section 5)",
                 "Train a classifier by RRR (paper section 5) and save the model.",
                 ("majority:2", "majority:DEPTH (section 5.5.1, with its own test half), "
                                "mnist[:PATH] (the text format of the published programs, IDX "
                                "files or folder, or the OpenML cache), or a data file of the "
                                "published programs"),
                 "a classifier net file of the published programs, any acyclic net (replaces "
                 "--hidden)", RRRClassifier,
                 CLASSIFY_OPTIONS, TABLE_DEFAULT, ("lwl-classifier.npz", model_out),
                 _cmd_classify)
    p.add_argument("--test", default=None, metavar="FILE",
                   help="a test data file (its error is printed every epoch); without it, and "
                        "for a single MNIST file, there is no test set")
    _add_float32(p)

    p = friendly("autoencode", "autoencoder with iDE codes (paper section 6.1)",
                 "Train a cyclic autoencoder with iDE codes by RRR (paper section 6.1) and save "
                 "the model.",
                 ("mnist", "mnist[:PATH], onehot:M (the M one-hot vectors, section 6.3.1) or a "
                           "file (values in [0, 1]; {0, 1} for the step)"),
                 "an autoencoder net file of the published programs (replaces --encoder, "
                 "--codes, --decoder)", RRRAutoencoder,
                 AUTOENCODE_OPTIONS, TABLE_DEFAULT, ("lwl-autoencoder.npz", model_out),
                 _cmd_autoencode)
    p.add_argument("--codes-out", default=None, metavar="FILE",
                   help="also write the codes of the data as a data file")
    _add_float32(p)

    p = friendly("generate", "generative model from iDE codes (paper section 6)",
                 "Train the genuine/fake code classifier of section 6.2 on the codes of a "
                 "trained autoencoder (lwl autoencode), then draw codes, keep those it accepts "
                 "and write their decodings.",
                 ("mnist", "the data the autoencoder was trained on (genuine codes)"), None,
                 RRRFPAClassifier, GENERATE_OPTIONS, GENERATE_CLI_DEFAULTS,
                 ("lwl-generated.txt", "the generated items, a data file"), _cmd_generate)
    p.add_argument("--autoencoder", required=True, metavar="MODEL",
                   help="a model file written by lwl autoencode")
    p.add_argument("--samples", type=partial(whole_number, low=1), default=100, metavar="N",
                   help="items to generate (default 100)")
    p.add_argument("--n-fake", type=partial(whole_number, low=1), default=None, metavar="N",
                   help="fake codes to train on (default: twice the data)")
    p.add_argument("--seed", type=whole_number, default=None, metavar="INT",
                   help="seed of the fake codes, the classifier and the samples (default: "
                        "none)")
    p.add_argument("--model-out", default="lwl-generator.npz", metavar="FILE",
                   help="where to save the generator (default lwl-generator.npz)")

    add_program_parsers(sub, _formatter)
    return parser


def main(argv=None):
    from .io import FormatError
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    name = f"lwl {args.command}"

    def show_warning(message, category, *where, **kw):  # every warning, as one plain line
        print(f"{name}: warning: {message}", file=sys.stderr, flush=True)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            return args.run(args)
    except KeyboardInterrupt:
        print(f"{name}: interrupted (Ctrl-C) before training; nothing saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CLIError, FormatError, ValueError, MemoryError, Warning) as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)  # (a Warning: under python -W error)
        return EXIT_ERROR
    except OSError as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"{name}: error:{where} {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
