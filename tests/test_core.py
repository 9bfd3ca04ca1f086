"""Loading the C core (lwl/_core.py)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cffi
import numpy as np
import pytest

import lwl


@pytest.mark.parametrize("checkout", [True, False])
def test_import_without_the_c_core_says_where_from(tmp_path, checkout):
    """A source folder without a built C core (e.g. the repository root as the current
    directory) names itself in the ImportError, and a checkout says that it shadows."""
    src = Path(lwl.__file__).parent
    shutil.copytree(src, tmp_path / "lwl", ignore=shutil.ignore_patterns("_clwl*", "__pycache__"))
    if checkout:
        (tmp_path / "csrc").mkdir()
    # -S: no site hooks (an editable install's import finder would supply lwl._clwl from
    # the checkout); the dependencies come from PYTHONPATH instead.
    deps = {str(Path(m.__file__).parent.parent) for m in (np, cffi)}
    r = subprocess.run([sys.executable, "-S", "-c", "import lwl"], cwd=tmp_path, text=True,
                       capture_output=True, env={"PYTHONPATH": os.pathsep.join(sorted(deps))})
    assert r.returncode != 0
    msg = r.stderr.strip().splitlines()[-1]
    assert str(tmp_path / "lwl") in msg and "no compiled C core" in msg
    assert ("shadows the installed lwl package" in msg) == checkout
    assert ("pip install -e ." if checkout else "pip install .") in msg
