"""Command-line options derived from an estimator: the type, the check, the default and the help
of ``--omega`` come from ``RRRNMF``'s signature, its ``_parameter_constraints`` and the
``Parameters`` section of its docstring, so the command and the estimator cannot drift apart.
"""
import argparse
import inspect
import math
import os
import re
import tempfile
from numbers import Integral, Real
from pathlib import Path

from sklearn.utils._param_validation import (Interval, InvalidParameterError, StrOptions,
                                             validate_parameter_constraints)


class CLIError(Exception):
    """A problem with the command line or its files: printed as ``lwl CMD: error: ...``."""


def whole_number(text, low=0, what=None):
    """The integer that ``text`` writes, at least ``low``. Raises argparse's
    ArgumentTypeError (so that it serves as an argument's ``type``), or with ``what`` (the
    argument's name) a CLIError naming it."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low:
        wanted = ("a positive integer" if low == 1 else "an integer >= 0" if low == 0
                  else f"an integer >= {low}")
        if what is not None:
            raise CLIError(f"{what} needs {wanted}; got {text!r}")
        raise argparse.ArgumentTypeError(f"expected {wanted}; got {text!r}")
    return value


def param_docs(cls):
    """{parameter: description} from the numpydoc ``Parameters`` sections of ``cls`` and its
    bases (a later class's entry wins; "As :class:`X`" entries fall through to X)."""
    docs = {}
    for klass in reversed(cls.__mro__):
        text = inspect.cleandoc(klass.__dict__.get("__doc__") or "")
        m = re.search(r"^Parameters\n-+\n(.*?)(?:^\S[^\n]*\n-+\n|\Z)", text, re.S | re.M)
        if not m:
            continue
        for names, _, body in re.findall(r"^(\S[^\n:]*?)\s*:(.*)\n((?:^[ \t]+\S.*\n?|^\s*\n)*)",
                                         m.group(1), re.M):
            body = " ".join(body.split())
            if not body or body.startswith("As :class:"):
                continue
            for name in names.split(","):
                docs[name.strip()] = body
    return docs


def _plain(text):
    """RST markup out of a docstring sentence."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text)
    return text.replace("``", "")


def first_sentences(text, limit=200):
    """The docstring text up to about ``limit`` characters, cut at a sentence end."""
    text = _plain(text)
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[:cut + 1] if cut > 40 else text[:limit].rsplit(" ", 1)[0] + " ..."


def _check(cls, name, value):
    """sklearn's check of one parameter; the message without the class preamble."""
    try:
        validate_parameter_constraints({name: cls._parameter_constraints[name]},
                                       {name: value}, caller_name=cls.__name__)
    except InvalidParameterError as exc:
        msg = re.sub(r"^The '\w+' parameter of \w+ ", "", str(exc))
        raise argparse.ArgumentTypeError(msg.replace(" instead.", "").replace(". Got ", "; got "))
    return value


def sizes_type(text):
    """'20' or '26,26' -> (20,) or (26, 26); '' -> () (no hidden layer)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas "
                                         f"(e.g. 26,26); got {text!r}")
    return tuple(int(p) for p in parts)


def finite_float(text):
    """A finite float; inf and nan are refused."""
    v = float(text)
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number; got {text!r}")
    return v


def count_or_fraction(text):
    """'5' -> 5 items; '0.005' -> a fraction of the batch."""
    try:
        v = finite_float(text)
    except (ValueError, argparse.ArgumentTypeError):
        v = None
    if v is None or not (v == int(v) and v >= 0 or 0 <= v < 1):
        raise argparse.ArgumentTypeError(f"expected a count (an integer >= 0) or a fraction of "
                                         f"the batch in [0, 1); got {text!r}")
    return int(v) if v == int(v) else v


def _converter(cls, name):
    """(argparse type, choices, metavar) for a parameter, from its constraints."""
    cons = cls._parameter_constraints[name]
    kinds = {c.type for c in cons if isinstance(c, Interval)}
    if name.endswith("layer_sizes"):
        base, metavar = sizes_type, "N[,N...]"
    elif any(isinstance(c, StrOptions) for c in cons):
        opts = sorted(next(c for c in cons if isinstance(c, StrOptions)).options)
        return None, opts, None
    elif "random_state" in cons or "verbose" in cons:
        base, metavar = int, "INT"
    elif Integral in kinds and len(kinds) > 1:
        base, metavar = count_or_fraction, "N|F"
    elif Integral in kinds:
        base, metavar = int, "INT"
    elif kinds & {Real}:
        base, metavar = finite_float, "X"
    else:
        base, metavar = str, None

    def convert(text):
        try:
            value = base(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {metavar.lower() if metavar else 'a value'}"
                                             f"; got {text!r}") from None
        return _check(cls, name, value)
    convert.__name__ = name  # argparse names the type in some messages
    return convert, None, metavar


class _Given(argparse.Action):
    """Stores the value, and adds the option's dest to ``namespace.given``: the estimator
    options given on the command line (argparse resolves abbreviations such as --to)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = getattr(namespace, "given", frozenset()) | {self.dest}


def add_estimator_options(parser, cls, options, cli_defaults=None, group=None):
    """Add ``--option`` for each ``(flags, parameter)`` of ``options`` to ``parser``, its type,
    check, default and help taken from ``cls``. ``cli_defaults`` maps a parameter to
    ``(value, reason)`` where the command deliberately differs from the estimator's default
    (the help says so)."""
    cli_defaults = cli_defaults or {}
    parser.set_defaults(given=frozenset())
    sig = inspect.signature(cls.__init__).parameters
    docs = param_docs(cls)
    target = group or parser
    for flags, name in options:
        flags = (flags,) if isinstance(flags, str) else tuple(flags)
        default = sig[name].default
        note = f"default {_show(default)}"
        if name in cli_defaults:
            value, reason = cli_defaults[name]
            note = f"default {_show(value)}; {cls.__name__}'s is {_show(default)}: {reason}"
            default = value
        help_text = first_sentences(docs.get(name, ""))
        help_text = f"{help_text} ({note})" if help_text else f"({note})"
        help_text = help_text.replace("%", "%%")
        cons = cls._parameter_constraints[name]
        if "boolean" in cons:
            target.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction,
                                default=default, help=help_text)
            continue
        convert, choices, metavar = _converter(cls, name)
        target.add_argument(*flags, dest=name, type=convert, choices=choices, default=default,
                            metavar=metavar, help=help_text, action=_Given)


def _show(value):
    if isinstance(value, tuple):
        return ",".join(map(str, value)) if value else "none"
    return "None" if value is None else str(value)


def estimator_params(args, options):
    """{parameter: value} of the parsed ``args`` for ``options``."""
    return {name: getattr(args, name) for _, name in options}


# ------------------------------------------------------------------ shared plumbing

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def check_output(path, what="output file"):
    """Refuse, before any work, an output path that cannot be written: a folder that does not
    exist, a directory in its place, a folder that refuses a new file."""
    path = Path(path)
    if path.is_dir():
        raise CLIError(f"the {what} {path} is a directory")
    parent = path.parent
    if not parent.exists():
        raise CLIError(f"cannot write the {what} {path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise CLIError(f"cannot write the {what} {path}: {parent} is not a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise CLIError(f"cannot write the {what} {path}: permission denied")
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".lwl-check-"):
            pass
    except OSError as exc:
        raise CLIError(f"cannot write the {what} {path}: {exc.strerror or exc}") from None
    return path


def data_file(path, labelled):
    """Read a data file of the published programs; a missing file or a directory is a CLIError."""
    from .io import read_data_file
    p = Path(path)
    if not p.exists():
        raise CLIError(f"no such file: {path}")
    return read_data_file(p, labelled=labelled)
