"""Sphinx configuration of lwl's documentation: the API reference from the docstrings
(numpydoc), the user guide and results pages (Markdown, through MyST) and the command line
reference, generated from the ``lwl`` command's own parser at build time.

Build: ``pip install ".[docs]"`` then ``sphinx-build -W -b html docs docs/_build/html``.
"""
import os
import sys
from pathlib import Path

import lwl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

project = "lwl"
author = "the lwl developers"
release = version = lwl.__version__
copyright = "the lwl developers"

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.mathjax", "numpydoc",
              "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated/README.md"]
myst_heading_anchors = 3
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
html_theme = "alabaster"
html_static_path = []
templates_path = ["_templates"]


def _write_cli_reference():
    """docs/_generated/cli.md: every subcommand's --help, as the installed ``lwl`` prints it."""
    import argparse
    import io
    from contextlib import redirect_stdout

    from lwl.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = ["# Command line reference", "",
           "Every subcommand of `lwl` (also `python -m lwl`), with the help it prints.", ""]
    seen = set()
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps the help to the terminal's width
    try:
        for name, p in sub.choices.items():
            if id(p) in seen:  # aliases (rrrclass for RRRclass, ...)
                continue
            seen.add(id(p))
            text = io.StringIO()
            with redirect_stdout(text):
                p.print_help()
            out += [f"## lwl {name}", "", "```text", text.getvalue().rstrip(), "```", ""]
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    target = HERE / "_generated"
    target.mkdir(exist_ok=True)
    (target / "cli.md").write_text("\n".join(out))


_write_cli_reference()


def _skip_metadata_requests(app, what, name, obj, skip, options):
    """scikit-learn's generated ``set_*_request`` methods (metadata routing) are documented
    by scikit-learn; their docstrings point into its own documentation."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)
