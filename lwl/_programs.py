"""Drop-in replacements of the paper's published programs: ``lwl RRRnmf``, ``RRRclass``,
``RRRclass_x``, ``RRRclass_fp``, ``RRRauto`` take the published programs' positional arguments in
the same order and meaning and write the same files in the same places, so that a shell script
runs with ``lwl`` put in front of each program name; ``completenet``, ``autonet``, ``encode`` and
``decode`` are the helpers.

What the published programs fixed in code is a named option: ``--seed`` (they seed from the
clock; without ``--seed`` a seed is drawn and printed, so a run can be repeated), ``--threads``
(they run on one thread; results do not depend on it) and ``--quiet`` (no progress on the
terminal).

The files (``id`` is the last argument, a path prefix), as the published programs write them:

* ``id.log``: the program name and every argument but ``id``, each followed by a space; a blank
  line; the column header; a blank line; one row per epoch (the published programs' printf
  formats). RRRnmf ends it with a blank line, ``secs: <CPU seconds>`` and ``<n> iterations``;
  the other programs print their CPU seconds on the terminal only.
* RRRnmf ``id.dat`` (every epoch): the features as n_data rows of n_code values, a blank line,
  the codes of the last batch (C's ``%lf``, each value followed by a space); ``rrrerr`` in the
  working directory (``--rrrerr`` moves it): every iteration's RRR_err (``%e``), one a line.
* RRRclass ``id.dat`` / RRRclass_fp ``id.param`` (at the end) and RRRauto ``id.dat`` (every
  epoch): the parameter file (:func:`lwl.io.write_param_file`, six decimals as published).
* RRRclass_x ``id.bad`` (every epoch, when ee > 0): the exempted training items of the epoch
  (values then label); it writes no parameter file.
* RRRclass_fp ``id.fp`` (every epoch): a data file (header ``n_data 2``) of the test items of
  class 0 that the net classifies as 1.
* RRRauto ``id.decode`` (every epoch): reconstructions of the first ``decodesamples`` data items
  (values then `` 1``), then decodings of the first ``decodesamples`` code samples (values then
  `` 0``); ``id.err``: every iteration's RRR_err (``%f``) after the first of each batch. Its
  dataerr and codeerr are measured after every epoch with that epoch's parameters: the mean over
  all data items (and as many code samples, or all binary codes) of each item's rms error.

The three classifiers stop after an epoch whose mean first-iteration RRR_err is below ``tol``;
RRRauto stops when the best (dataerr, codeerr) pair is exactly 0.

Ctrl-C ends a run as the end of the last epoch would (files written, exit status 130). Every
file a run rewrites is replaced whole (written beside it, then renamed over it): a run killed at
any moment leaves the previous version or the new one.
"""
import argparse
import os
import re
import secrets
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np

from ._cliopts import (EXIT_INTERRUPTED, CLIError, _converter, check_output, data_file,
                       whole_number)
from ._progress import reporting, where_in_epoch
from ._interrupt import sigint_noted
from .io import data_file_text, net_file_text, write_whole


# ------------------------------------------------------------------ arguments

def _param(cls, name):
    """argparse type of an argument that is the estimator parameter ``name`` (its check)."""
    return _converter(cls, name)[0]


_ATOI = re.compile(r"\s*([+-]?[0-9]+)")


def _exemption_count(text):
    """RRRclass_x's ``ee``: a count, read as the published program reads it (C's ``atoi``: the
    leading integer, so 0.005 is 0), with a warning when that drops part of a number."""
    m = _ATOI.match(text)
    if m is None and not _is_number(text):
        raise argparse.ArgumentTypeError(f"expected a whole number of exemptions; got {text!r}")
    v = int(m.group(1)) if m else 0
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a number of exemptions >= 0; got {text!r}")
    if m is None or m.end() != len(text.rstrip()):
        warnings.warn(f"ee {text!r} is read as {v} exemptions per batch, as the published "
                      "RRRclass_x reads it (C's atoi); for a fraction of the batch use "
                      "--ee-fraction", UserWarning)
    return v


def _fraction(text):
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1); got {text!r}")
    return v


def _zig(text):
    if text not in ("0", "1"):
        raise argparse.ArgumentTypeError(f"expected 0 (step) or 1 (zigmoid); got {text!r}")
    return text == "1"


def _half_margin(text):
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not (v > 0 and np.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a number > 0; got {text!r}")
    return v


def _programs():
    """name -> (summary, [(argument, type, help)], runner)."""
    from .autoencoder import RRRAutoencoder as A
    from .classifier import RRRClassifier as C
    from .nmf import RRRNMF as N
    common = [
        ("batchsize", _param(C, "batch_size"), "items per batch |K| (batch_size)"),
        ("epochs", _param(C, "epochs"), "passes over the training data"),
        ("itermax", _param(C, "rrr_iter"), "RRR iterations per batch (rrr_iter)"),
        ("tol", _param(C, "tol"), "a batch stops when RRR_err < tol"),
        ("beta", _param(C, "beta"), "RRR step size"),
        ("wnorm", _param(C, "omega"), "Omega, the norm of every node's incoming weights"),
        ("ynorm", _param(C, "upsilon"), "Upsilon, the metric weight of the class nodes"),
        ("margin", _param(C, "margin"), "Delta, the class margin (eq 26d)"),
    ]
    files = [("trainfile", str, "training data file"), ("testfile", str, "test data file"),
             ("netfile", str, "classifier net file (any acyclic net)")]
    ident = [("id", str, "path prefix of the output files (id.log, ...)")]
    from .classifier import RRRFPAClassifier as F
    return {
        "RRRnmf": ("non-negative matrix factorisation (section 4)", [
            ("datafile", str, "data file (header n_values)"),
            ("codenodes", _param(N, "n_components"), "features r (n_components)"),
            ("batchsize", _param(N, "batch_size"), "items per batch"),
            ("epochs", _param(N, "epochs"), "passes over the data"),
            ("itermax", _param(N, "rrr_iter"), "RRR iterations per batch (rrr_iter)"),
            ("beta", _param(N, "beta"), "RRR step size"),
            ("wnorm", _param(N, "omega"), "Omega, the norm of every feature"),
            ("errstop", _param(N, "tol"), "a batch stops when RRR_err < errstop (tol)"),
        ] + ident, _run_nmf),
        "RRRclass": ("layered classifier (section 5)", files + common + ident, _run_class),
        "RRRclass_x": ("classifier with eccentric exemptions (section 5.3.1)",
                       files + common[:1] + [
                           ("ee", _exemption_count,
                            "eccentric exemptions per batch, a whole number (read as C's atoi "
                            "reads it, as the published program does)")]
                       + common[1:] + ident, _run_class),
        "RRRclass_fp": ("two-class classifier with a false-positive allowance (section 6.2)",
                        files + common + [("fpr", _param(F, "fpa"),
                                           "false-positive allowance (fpa)")] + ident,
                        _run_class),
        "RRRauto": ("autoencoder with iDE codes (section 6.1)", [
            ("datafile", str, "data file (values in [0, 1]; {0, 1} for the step)"),
            ("netfile", str, "autoencoder net file"),
            ("databatch", _param(A, "data_batch"), "data items per batch |K_d|"),
            ("codebatch", _param(A, "code_batch"), "code items per batch |K_c|"),
            ("epochs", _param(A, "epochs"), "passes over the data"),
            ("itermax", _param(A, "rrr_iter"), "RRR iterations per batch"),
            ("tol", _param(A, "tol"), "a batch stops when RRR_err < tol"),
            ("beta", _param(A, "beta"), "RRR step size"),
            ("wnorm", _param(A, "omega"), "Omega"),
            ("margin", _half_margin, "HALF the gap or ramp width: the paper's Delta is twice "
                                     "this (RRRAutoencoder's margin is the full Delta)"),
            ("zig", _zig, "1: zigmoid activation, 0: step"),
            ("decodesamples", whole_number, "items and codes written to id.decode"),
        ] + ident, _run_auto),
    }


def add_program_parsers(sub, formatter):
    for name, (summary, arguments, runner) in _programs().items():
        p = sub.add_parser(name, aliases=[name.lower()], formatter_class=formatter,
                           allow_abbrev=False,  # the log's first line is rebuilt from argv
                           help=f"the published {name}: {summary}",
                           description=f"Drop-in replacement of the published program {name}: "
                                       f"{summary}. Arguments as the published program's, in "
                                       "the same order; the same output files.",
                           epilog=_files_help(name))
        for arg, typ, text in arguments:
            p.add_argument(arg, type=typ, help=text)
        _add_fixed_options(p)
        if name == "RRRclass_x":
            p.add_argument("--ee-fraction", type=_fraction, default=None, metavar="F",
                           help="exempt this fraction of every batch instead of ee items (an "
                                "lwl addition)")
        if name == "RRRnmf":
            p.add_argument("--rrrerr", default="rrrerr", metavar="PATH",
                           help="where every iteration's RRR_err goes (default: rrrerr in the "
                                "working directory, as the published program writes it; '' "
                                "for nowhere)")
        p.set_defaults(run=runner, program=name, arguments=[a for a, _, _ in arguments])
    _add_helpers(sub, formatter)


def _add_fixed_options(p):
    p.add_argument("--seed", type=whole_number, default=None,
                   help="random seed (the published programs seed from the clock; without "
                        "--seed a seed is drawn and printed)")
    p.add_argument("--threads", type=partial(whole_number, low=1), default=1,
                   help="OpenMP threads (default 1, as the published programs; results do not "
                        "depend on it)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on the terminal")


_FILES = {
    "RRRnmf": "id.log (per-epoch table), id.dat (features and the last batch's codes, every "
              "epoch), rrrerr (every iteration's RRR_err)",
    "RRRclass": "id.log, id.dat (the parameter file, at the end); stops early when an epoch's "
                "mean first-iteration RRR_err < tol",
    "RRRclass_x": "id.log, id.bad (exempted items, every epoch); stops early when an epoch's "
                  "mean first-iteration RRR_err < tol",
    "RRRclass_fp": "id.log, id.fp (test fakes classified genuine, every epoch), id.param (at "
                   "the end); stops early when an epoch's mean first-iteration RRR_err < tol",
    "RRRauto": "id.log, id.dat (parameters, every epoch), id.decode, id.err; stops when the "
               "best dataerr and codeerr are 0",
}


def _files_help(name):
    return (f"Writes {_FILES[name]}. Ctrl-C writes the files as an epoch's end would and "
            "exits with status 130.")


# ------------------------------------------------------------------ running

class _Run:
    """One run of a published program: outputs checked up front, the log, progress, timing."""

    def __init__(self, args, columns, outputs):
        self.args, self.quiet = args, args.quiet
        check_id(args.id)
        self.paths = {ext: Path(f"{args.id}.{ext}") for ext in ("log", *outputs)}
        for ext, path in self.paths.items():
            check_output(path, f"output file id.{ext}")
        self.columns = columns
        self.drawn_seed = args.seed is None
        if self.drawn_seed:
            args.seed = secrets.randbelow(2**31)
        self.epoch, self.batches, self.last_print = 0, 0, time.perf_counter()
        self.cpu0 = time.process_time()

    def open_log(self):
        """Start id.log: the program and its arguments but the last (``id``), each followed by
        a space, as the published programs write them; a blank line; the header; a blank
        line."""
        words, tokens = [], iter(self.args.argv)
        for tok in tokens:
            if tok in _VALUE_OPTIONS:
                next(tokens, None)
            elif not tok.startswith("-") or _is_number(tok):
                words.append(tok)
        header = "".join(name.rjust(_width(fmt)) for name, fmt in self.columns)
        self.log_text = "".join(w + " " for w in words[:-1]) + "\n\n" + header + "\n\n"
        write_whole(self.paths["log"], self.log_text)
        self.cpu0 = time.process_time()
        if self.drawn_seed:
            self.say(f"seed {self.args.seed} (pass --seed {self.args.seed} to repeat this run)")
        self.say(header)

    def say(self, text):
        if not self.quiet:
            print(text, flush=True)

    def row(self, values):
        line = "".join(fmt % v for (_, fmt), v in zip(self.columns, values))
        self.log_text += line + "\n"
        write_whole(self.paths["log"], self.log_text)
        self.say(line)
        self.last_print = time.perf_counter()

    def progress(self, iteration=None, rrr_err=None, batch_done=False):
        """Within an epoch, a line at most every 2 s: the batch, the iteration, RRR_err."""
        if batch_done:
            self.batches += 1
        if self.quiet or rrr_err is None or time.perf_counter() - self.last_print < 2.0:
            return
        self.last_print = time.perf_counter()
        print(where_in_epoch(self.epoch, self.batches, iteration, rrr_err, batch_done),
              flush=True)

    def epochs(self, n_epochs, one_epoch, after_epoch):
        """Run up to n_epochs; ``one_epoch(epoch)`` trains one (returns the model),
        ``after_epoch(epoch)`` writes its row and files and returns True to stop.  Returns
        whether Ctrl-C ended the run."""
        interrupted = False
        with reporting(self.progress):
            for epoch in range(1, n_epochs + 1):
                self.epoch, self.batches = epoch, 0
                try:
                    model = one_epoch(epoch)
                    interrupted = model.status_ == "interrupted"
                    if len(model.history_.get("epoch", [])) == epoch:
                        with sigint_noted():
                            stop = after_epoch(epoch)
                        if stop:
                            break
                except KeyboardInterrupt:
                    interrupted = True
                if interrupted:
                    break
        return interrupted

    def finish(self, interrupted, iterations=None):
        """End the run: RRRnmf's log takes ``secs:`` and the iteration count as the published
        RRRnmf writes them (``iterations`` given); the other programs' logs end with their
        last row, and the CPU seconds go to the terminal only."""
        secs = time.process_time() - self.cpu0
        tail = f"\nsecs: {secs:12.3f}\n"
        if iterations is not None:
            tail += f"{iterations} iterations\n"
            self.log_text += tail
            write_whole(self.paths["log"], self.log_text)
        self.say(tail.strip("\n"))
        if interrupted:
            print(f"lwl {self.args.program}: interrupted (Ctrl-C) in epoch {self.epoch}; the "
                  f"files hold what was reached", file=sys.stderr, flush=True)
            return EXIT_INTERRUPTED
        return 0


def check_id(ident):
    """Refuse an id (the output files' path prefix) that names no file: '', a folder ('dd/')
    or '.' would make the outputs hidden files such as '.log'."""
    name = Path(f"{ident}.x").name
    if ident.endswith(("/", os.sep)) or name.startswith(".") or not Path(ident).name:
        raise CLIError(f"id {ident!r} names no file: the outputs would be hidden files such as "
                       f"{ident}.log (give a name, e.g. run1)")
    return ident


#: the options of the published programs' subcommands that take a value (left out of the log)
_VALUE_OPTIONS = ("--seed", "--threads", "--ee-fraction", "--rrrerr")


def _is_number(tok):
    try:
        float(tok)
        return True
    except ValueError:
        return False


def _width(fmt):
    return int(fmt[1:].split(".")[0].rstrip("dfe"))


def _fmt_values(values):
    """Values as the published programs print them: C's ``%lf``, each followed by a space."""
    return "".join(f"{v:f} " for v in values)


def _read_net(path, kind, program):
    from .io import FormatError, read_net_file
    if not Path(path).exists():
        raise CLIError(f"no such net file: {path}")
    try:
        net = read_net_file(path)
    except FormatError as exc:
        if "pass kind=" not in str(exc):
            raise
        net = read_net_file(path, kind=kind)  # a header without the blank line after it
    if net.kind != kind:
        raise CLIError(f"{program} needs {'an' if kind[0] == 'a' else 'a'} {kind} net; "
                       f"{path} is {'an' if net.kind[0] == 'a' else 'a'} {net.kind} net")
    return net


# ------------------------------------------------------------------ RRRnmf

NMF_COLUMNS = [("epoch", "%5d"), ("GOPs", "%10.2f"), ("aveiter", "%9.2f"),
               ("errstart", "%10.2e"), ("reconerr", "%10.6f")]


def _run_nmf(args):
    from ._nmf_engine import pinv_codes
    from ._training import rms
    from .nmf import RRRNMF
    run = _Run(args, NMF_COLUMNS, ["dat"])
    if args.rrrerr:
        run.paths["rrrerr"] = check_output(args.rrrerr, "RRR_err file")
    X = data_file(args.datafile, labelled=False)
    # the published RRRnmf reads whole batches in file order: the items after the last whole
    # batch are never trained on, but its reconerr (over more than one batch) covers them
    n_batches = len(X) // args.batchsize
    if n_batches == 0:
        raise CLIError(f"{args.datafile} has {len(X)} items, fewer than one batch of "
                       f"{args.batchsize} (RRRnmf trains on whole batches only)")
    model = RRRNMF(args.codenodes, batch_size=args.batchsize, epochs=1, rrr_iter=args.itermax,
                   beta=args.beta, omega=args.wnorm, tol=args.errstop, encoder="pinv",
                   random_state=args.seed)
    model._validate_params()
    run.open_log()
    if args.rrrerr:
        write_whole(run.paths["rrrerr"], "")
    written = [0]  # RRR_err values already in rrrerr

    def after_epoch(epoch):
        h = model.history_
        H = model.components_
        # one batch: its consensus codes; more: the pseudo-inverse encoder's (eq 12-13), of
        # every item
        recon = h["recon_err"][-1] if n_batches == 1 else rms(X - pinv_codes(X, H) @ H)
        run.row((epoch, h["gwms"][-1], h["iters"][-1], h["err_first"][-1], recon))
        rows = [H.T, [], model.last_batch_codes_]
        write_whole(run.paths["dat"], "".join(_fmt_values(r) + "\n" for part in rows
                                              for r in (part if len(part) else [[]])))
        if args.rrrerr:
            with open(run.paths["rrrerr"], "a") as fh:
                fh.write("".join(f"{e:e}\n" for e in model.rrr_err_[written[0]:]))
            written[0] = len(model.rrr_err_)
        return False

    X_trained = X[:n_batches * args.batchsize]
    interrupted = run.epochs(args.epochs, lambda e: model.partial_fit(X_trained), after_epoch)
    return run.finish(interrupted, iterations=getattr(model, "n_rrr_iter_", 0))


# ------------------------------------------------------------------ RRRclass, _x, _fp

CLASS_COLUMNS = [("epoch", "%5d"), ("GWMs", "%10.2f"), ("aveiter", "%10.2e"),
                 ("errstart", "%10.2e"), ("errstop", "%10.2e")]


def _run_class(args):
    from .classifier import RRRClassifier, RRRFPAClassifier
    program = args.program
    fp = program == "RRRclass_fp"
    outputs = {"RRRclass": ["dat"], "RRRclass_x": ["bad"], "RRRclass_fp": ["fp", "param"]}
    rates = (["batchfp", "batchtn", "trainfp", "traintn", "testfp", "testtn"] if fp
             else ["batcherr", "trainerr", "testerr"])
    run = _Run(args, CLASS_COLUMNS + [(r, "%10.6f") for r in rates], outputs[program])
    X, y = data_file(args.trainfile, labelled=True)
    X_test, y_test = data_file(args.testfile, labelled=True)
    net = _read_net(args.netfile, "classifier", program)
    n_data, _, n_class = net.sizes
    for what, A, labels, path in (("training", X, y, args.trainfile),
                                  ("test", X_test, y_test, args.testfile)):
        if A.shape[1] != n_data:
            raise CLIError(f"the {what} file {path} has {A.shape[1]} values per item; the net "
                           f"{args.netfile} has {n_data} data nodes")
        if labels.max() >= n_class:
            raise CLIError(f"the {what} file {path} has label {labels.max()}; the net "
                           f"{args.netfile} has {n_class} class nodes")
    common = dict(net=net, batch_size=args.batchsize, epochs=1, rrr_iter=args.itermax,
                  tol=args.tol, beta=args.beta, omega=args.wnorm, upsilon=args.ynorm,
                  margin=args.margin, random_state=args.seed, n_jobs=args.threads)
    if fp:
        if n_class != 2:
            raise CLIError(f"RRRclass_fp needs a net with 2 class nodes (0 fake, 1 genuine); "
                           f"{args.netfile} has {n_class}")
        model = RRRFPAClassifier(fpa=args.fpr, genuine_class=1, **common)
    else:
        ee = getattr(args, "ee", 0)
        fraction = getattr(args, "ee_fraction", None)
        if fraction is not None and ee:
            raise CLIError(f"ee {ee} and --ee-fraction {fraction} both set the exemptions: give "
                           "ee 0 with --ee-fraction")
        model = RRRClassifier(exempt=ee if fraction is None else fraction, **common)
    model._validate_params()
    if not fp:
        model._exemptions(min(args.batchsize, len(X)))  # refuses an impossible ee now
    run.open_log()
    classes = np.arange(n_class)

    def one_epoch(epoch):
        return model.partial_fit(X, y, classes=classes if epoch == 1 else None)

    def after_epoch(epoch):
        h = model.history_
        row = [epoch, h["gwms"][-1], h["iters"][-1], h["err_first"][-1], h["err_last"][-1]]
        pred = model.predict(X_test)
        if fp:
            fake, genuine = y_test == 0, y_test == 1
            test = [np.mean(pred[fake] == 1) if fake.any() else 0.0,
                    np.mean(pred[genuine] == 0) if genuine.any() else 0.0]
            row += [h["batch_fp"][-1], h["batch_tn"][-1], h["train_fp"][-1], h["train_tn"][-1]]
            items = X_test[fake & (pred == 1)]
            write_whole(run.paths["fp"], f"{n_data} 2\n\n" + "".join(
                "".join(_c11(v) for v in item) + " 0\n" for item in items))
        else:
            test = [np.mean(pred != y_test)]
            row += [h["batch_err"][-1], h["train_err"][-1]]
        run.row(row + test)
        if program == "RRRclass_x" and model.exempt:
            write_whole(run.paths["bad"], "".join(f"{_fmt_values(X[i])}{y[i]}\n"
                                                  for i in model.exempted_))
        return h["err_first"][-1] < args.tol

    interrupted = run.epochs(args.epochs, one_epoch, after_epoch)
    if program != "RRRclass_x" and hasattr(model, "_weights"):
        with sigint_noted():
            model.save_params(run.paths["param" if fp else "dat"], exact=False)
    return run.finish(interrupted)


def _c11(v):
    """C's "%11.8lf", kept apart from the value before it when it fills all 11 places."""
    s = "%11.8f" % v
    return s if s[0] == " " else " " + s


# ------------------------------------------------------------------ RRRauto

AUTO_COLUMNS = CLASS_COLUMNS + [(n, "%10.6f") for n in ("dataerr", "codeerr", "dataerr*",
                                                         "codeerr*")]


def _run_auto(args):
    from .autoencoder import RRRAutoencoder, check_activation_range
    run = _Run(args, AUTO_COLUMNS, ["dat", "decode", "err"])
    X = data_file(args.datafile, labelled=None)
    X = X[0] if isinstance(X, tuple) else X
    net = _read_net(args.netfile, "autoencoder", "RRRauto")
    if X.shape[1] != net.sizes[0]:
        raise CLIError(f"the data file {args.datafile} has {X.shape[1]} values per item; the "
                       f"net {args.netfile} has {net.sizes[0]} data nodes")
    activation = "zigmoid" if args.zig else "step"
    check_activation_range(X, activation, f"the data of {args.datafile}")
    model = RRRAutoencoder(net=net, data_batch=args.databatch, code_batch=args.codebatch,
                           epochs=1, rrr_iter=args.itermax, tol=args.tol, beta=args.beta,
                           omega=args.wnorm, margin=2 * args.margin, activation=activation,
                           random_state=args.seed, n_jobs=args.threads)
    model._validate_params()
    from .graph import Graph
    Graph.from_net(net, activation)  # a net that does not go round is refused now
    run.open_log()
    write_whole(run.paths["err"], "")
    best = [np.inf, None, None]
    seen = {"iters": 0, "errs": 0}
    ds = args.decodesamples

    def after_epoch(epoch):
        h = model.history_
        d, c = h["data_err_items"][-1], h["code_err_items"][-1]
        if d * d + c * c < best[0]:
            best[:] = [d * d + c * c, d, c]
        run.row([epoch, h["gwms"][-1], h["iters"][-1], h["err_first"][-1], h["err_last"][-1],
                 d, c, best[1], best[2]])
        model.save_params(run.paths["dat"], exact=False)
        # all binary codes in the published order (code node i holds bit i of the code's
        # number), or draws of the iDE code
        n = model.n_codes_
        codes = (((np.arange(min(ds, 2**n))[:, None] >> np.arange(n)) & 1).astype(float)
                 if model._exhaustive() else model.sample_codes(min(ds, len(X)),
                                                                random_state=args.seed))
        items = X[:ds]
        rec = model.inverse_transform(model.transform(items)) if len(items) else items
        dec = model.inverse_transform(codes) if len(codes) else codes
        write_whole(run.paths["decode"], "".join(f"{_fmt_values(r)}1\n" for r in rec)
                    + "".join(f"{_fmt_values(r)}0\n" for r in dec))
        # every iteration's RRR_err after the first of each batch
        iters = model.batch_iters_[seen["iters"]:]
        errs = model.rrr_err_[seen["errs"]:]
        keep = np.ones(len(errs), bool)
        keep[np.concatenate([[0], np.cumsum(iters)[:-1]]).astype(int)] = False
        with open(run.paths["err"], "a") as fh:
            fh.write("".join(f"{e:f}\n" for e in errs[keep]))
        seen["iters"], seen["errs"] = len(model.batch_iters_), len(model.rrr_err_)
        return best[0] == 0

    interrupted = run.epochs(args.epochs, lambda e: model.partial_fit(X), after_epoch)
    return run.finish(interrupted)


# ------------------------------------------------------------------ helpers

def _add_helpers(sub, formatter):
    p = sub.add_parser("completenet", formatter_class=formatter,
                       help="net file of a fully connected layered classifier",
                       description="Write the net file of a fully connected layered "
                                   "classifier, byte for byte as the published completenet "
                                   "writes it: `lwl completenet L1 L2 ... Lm netfile` (layer "
                                   "sizes from the data to the class nodes, then the file). "
                                   "Without a file name (or with -o) it goes to the terminal.")
    p.add_argument("words", nargs="+", metavar="L1 ... Lm [NETFILE]",
                   help="layer sizes, e.g. 784 20 10, then the net file")
    p.add_argument("--out", "-o", default=None, metavar="NETFILE",
                   help="where to write it, when no file name ends the sizes")
    p.set_defaults(run=_run_completenet)

    p = sub.add_parser("autonet", formatter_class=formatter,
                       help="net file of a cyclic autoencoder",
                       description="Write the net file of the cyclic autoencoder of section "
                                   "6.1, byte for byte as the published autonet writes it: "
                                   "`lwl autonet -E1 ... -Em D1 ... Dn netfile`, the data and "
                                   "encoder layer sizes negative, then the code and decoder "
                                   "layer sizes, then the file (e.g. autonet -784 -200 10 200 "
                                   "net). Also `lwl autonet 784 200 10 200 [--code-layer K] "
                                   "[-o FILE]`, sizes all positive.")
    p.add_argument("words", nargs="+", metavar="SIZE ... [NETFILE]",
                   help="layer sizes: data, encoder layers, codes, decoder layers")
    p.add_argument("--code-layer", type=partial(whole_number, low=1), default=None,
                   metavar="K",
                   help="with positive sizes: which layer holds the codes (0 is the data; "
                        "default: the middle, len(sizes) // 2)")
    p.add_argument("--out", "-o", default=None, metavar="NETFILE",
                   help="where to write it, when no file name ends the sizes")
    p.set_defaults(run=_run_autonet)

    p = _codec_parser(sub, formatter, "encode", "iDE codes of data (with fake codes) for the "
                      "genuine/fake classifier",
                      "As the published encode: `lwl encode datafile netfile paramfile "
                      "codevalsamples codesamples truefrac id` encodes the first codevalsamples "
                      "data items (the empirical distribution of every code node, eq 37), then "
                      "writes id.encode: codesamples codes, each with probability truefrac the "
                      "code of the next data item (label 1, genuine), else a sample of the iDE "
                      "code (label 0, fake). Also `lwl encode DATAFILE NETFILE PARAMFILE [-o "
                      "FILE]`: the codes of every item, labels kept.", "codes", _run_encode)
    p.add_argument("--seed", type=whole_number, default=None,
                   help="random seed of the fake codes (the published encode seeds from the "
                        "clock; without --seed a seed is drawn and printed)")
    _codec_parser(sub, formatter, "decode", "decodings of codes with a trained autoencoder",
                  "As the published decode: `lwl decode datafile netfile paramfile id` decodes "
                  "every code of datafile (a data file of codes and labels, such as encode's "
                  "id.encode) and writes id.decode: the decoded values (C's %%11.8lf) and the "
                  "label, one item a line. Also `lwl decode CODEFILE NETFILE PARAMFILE [-o "
                  "FILE]`: a data file of the decodings, labels kept.", "decodings", _run_decode)


def _codec_parser(sub, formatter, name, summary, description, what, run):
    p = sub.add_parser(name, formatter_class=formatter, help=summary, description=description)
    p.add_argument("words", nargs="+", metavar="ARG", help="the arguments above")
    p.add_argument("--out", "-o", default=None, metavar="FILE",
                   help=f"the three-argument form: where to write the {what} (default: the "
                        "terminal)")
    p.set_defaults(run=run)
    return p


def _sizes_and_file(args, signed=False):
    """(layer sizes as typed, output path or None) of completenet's or autonet's words: a last
    word that is not an integer names the file, as the published helpers take it."""
    words = list(args.words)
    out = None
    if not re.fullmatch(r"[+-]?[0-9]+", words[-1]):
        out = words.pop()
        if args.out is not None:
            raise CLIError(f"the net file is named twice: {out} and --out {args.out}")
    sizes = []
    for w in words:
        v = int(w) if re.fullmatch(r"[+-]?[0-9]+", w) else 0
        if v == 0 or (v < 0 and not signed):
            raise CLIError(f"layer sizes must be {'non-zero' if signed else 'positive'} "
                           f"integers; got {w!r}")
        sizes.append(v)
    return sizes, out if out is not None else args.out


def _write_out(out, text):
    """``text`` to the file ``out`` (replaced whole), or to the terminal when out is None."""
    if out is None:
        sys.stdout.write(text)
    else:
        write_whole(check_output(out), text)
    return 0


def _run_completenet(args):
    from .graph import Graph
    sizes, out = _sizes_and_file(args)
    if len(sizes) < 2:
        raise CLIError("give at least two layer sizes (data and class nodes)")
    return _write_out(out, net_file_text(Graph.layered(sizes).to_net()))


def _run_autonet(args):
    from .graph import Graph
    sizes, out = _sizes_and_file(args, signed=True)
    if any(v < 0 for v in sizes):  # the published form: data and encoder sizes negative
        k = sum(v < 0 for v in sizes)
        if args.code_layer is not None:
            raise CLIError("--code-layer goes with positive sizes; negative sizes already "
                           "mark the data and encoder layers")
        if sizes[:k] != [v for v in sizes if v < 0]:
            raise CLIError("the negative sizes (data, encoder layers) must come before the "
                           "positive ones (codes, decoder layers)")
        if k == len(sizes):
            raise CLIError("give the code layer's size (the first positive size)")
        sizes = [abs(v) for v in sizes]
    else:
        k = len(sizes) // 2 if args.code_layer is None else args.code_layer
        if not 0 < k < len(sizes):
            raise CLIError(f"--code-layer must be in 1..{len(sizes) - 1}; got {k}")
    if len(sizes) < 2:
        raise CLIError("give at least two layer sizes (data and code nodes)")
    return _write_out(out, net_file_text(Graph.autoencoder(sizes, k, activation="step").to_net()))


def _autoencoder_of(netfile, paramfile, program):
    from .autoencoder import RRRAutoencoder
    for path in (netfile, paramfile):
        if not Path(path).exists():
            raise CLIError(f"no such file: {path}")
    net = _read_net(netfile, "autoencoder", f"lwl {program}")
    return RRRAutoencoder.load_params(paramfile, net)


def _c11_rows(rows, labels):
    """Rows as the published encode and decode print them: C's ``%11.8lf`` per value, then a
    space and the label."""
    return "".join("".join(_c11(v) for v in row) + f" {int(label)}\n"
                   for row, label in zip(rows, labels))


def _run_encode(args):
    if len(args.words) not in (3, 7):
        raise CLIError("expected 7 arguments (datafile netfile paramfile codevalsamples "
                       "codesamples truefrac id), or 3 (datafile netfile paramfile) with -o")
    datafile, netfile, paramfile = args.words[:3]
    if len(args.words) == 3:
        if args.out is not None:
            check_output(args.out)   # before any work
        model = _autoencoder_of(netfile, paramfile, "encode")
        data = data_file(datafile, labelled=None)
        A, y = data if isinstance(data, tuple) else (data, None)
        return _write_out(args.out, data_file_text(model.transform(A), y))
    if args.out is not None:
        raise CLIError("-o goes with the three-argument form; the seven-argument form writes "
                       "id.encode")
    n_dist, n_samples = (whole_number(w, 0, what) for w, what in
                         ((args.words[3], "codevalsamples"), (args.words[4], "codesamples")))
    if n_dist < 1:
        raise CLIError("codevalsamples must be at least 1 (the items whose codes give the "
                       "code distribution)")
    truefrac = _cli_real(args.words[5], "truefrac")
    out = check_output(f"{check_id(args.words[6])}.encode", "output file id.encode")
    model = _autoencoder_of(netfile, paramfile, "encode")
    data = data_file(datafile, labelled=None)
    A = data[0] if isinstance(data, tuple) else data
    seed = args.seed
    if seed is None:
        seed = secrets.randbelow(2**31)
        print(f"seed {seed} (pass --seed {seed} to repeat this run)", flush=True)
    rng = np.random.default_rng(seed)
    # the data are read in order and round again from the start when they run out: the first
    # codevalsamples give the code distribution, the next ones the genuine codes
    dist = model.transform(A[np.arange(n_dist) % len(A)])
    genuine = rng.random(n_samples) < truefrac
    codes = np.empty((n_samples, model.n_codes_))
    items = (n_dist + np.arange(int(genuine.sum()))) % len(A)
    codes[genuine] = model.transform(A[items]) if len(items) else 0.0
    n_fake = n_samples - int(genuine.sum())
    pick = rng.integers(0, n_dist, size=(n_fake, model.n_codes_))
    codes[~genuine] = dist[pick, np.arange(model.n_codes_)]
    return _write_out(out, f"{model.n_codes_} 2\n\n" + _c11_rows(codes, genuine))


def _run_decode(args):
    if len(args.words) not in (3, 4):
        raise CLIError("expected 4 arguments (datafile netfile paramfile id), or 3 (codefile "
                       "netfile paramfile) with -o")
    codefile, netfile, paramfile = args.words[:3]
    if len(args.words) == 4 and args.out is not None:
        raise CLIError("-o goes with the three-argument form; the four-argument form writes "
                       "id.decode")
    out = (check_output(f"{check_id(args.words[3])}.decode", "output file id.decode")
           if len(args.words) == 4 else args.out and check_output(args.out))
    model = _autoencoder_of(netfile, paramfile, "decode")
    data = data_file(codefile, labelled=None)
    Z, y = data if isinstance(data, tuple) else (data, None)
    decoded = model.inverse_transform(Z)
    if len(args.words) == 4:
        if y is None:
            raise CLIError(f"{codefile}: the published decode reads a label after every code; "
                           "this file has none (its header has one number)")
        return _write_out(out, _c11_rows(decoded, y))
    return _write_out(out, data_file_text(decoded, y))


def _cli_real(text, what):
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not np.isfinite(v):
        raise CLIError(f"{what} must be a number; got {text!r}")
    return v
