"""The documentation builds with warnings as errors: API reference from the docstrings, the user
guide, the results pages and the command-line reference (pip install ".[docs]")."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lwl

DOCS = Path(__file__).parents[1] / "docs"


def test_the_documentation_builds_without_warnings(tmp_path):
    for module in ("sphinx", "numpydoc", "myst_parser"):
        pytest.importorskip(module, reason='the docs extra is not installed: pip install ".[docs]"')
    # built from a copy, so that the pages Sphinx generates stay out of the source tree
    source = tmp_path / "src"
    shutil.copytree(DOCS, source / "docs", ignore=shutil.ignore_patterns("_build", "_generated"))
    (source / "compare").mkdir()
    shutil.copy(DOCS.parent / "compare" / "RESULTS.md", source / "compare")
    env = dict(os.environ, PYTHONPATH=str(Path(lwl.__file__).parents[1]))
    out = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                          "html", "-d", str(tmp_path / "doctrees"), str(source / "docs"),
                          str(tmp_path / "html")],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "html" / "_generated" / "lwl.RRRClassifier.html").is_file()
    assert "lwl RRRclass_x" in (tmp_path / "html" / "_generated" / "cli.html").read_text()
