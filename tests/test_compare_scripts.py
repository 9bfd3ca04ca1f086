"""The comparison scripts without matplotlib (an optional extra): --help works, and a run stops
before any work with a line that says what to install."""
import os
import subprocess
import sys
from pathlib import Path

import lwl

COMPARE = Path(__file__).parents[1] / "compare"
SCRIPTS = ["fig4.py", "fig9.py", "fig10_11.py", "fig12.py", "fig18_19.py", "fig20_21.py",
           "fig22_24.py", "letters.py", "mnist.py"]

# runs every script's main() in one interpreter in which `import matplotlib` fails
PROBE = r"""
import runpy, sys
sys.modules["matplotlib"] = None
sys.path.insert(0, {compare!r})
for script, argv in {runs!r}:
    sys.argv = [script] + argv
    try:
        runpy.run_path({compare!r} + "/" + script, run_name="__main__")
    except SystemExit as exc:
        print(script, argv, "exit", repr(exc.code)[:300])
"""


def test_compare_scripts_without_matplotlib(tmp_path):
    runs = ([(s, ["--help"]) for s in SCRIPTS]
            + [(s, [] if s == "fig4.py" else ["--quick"]) for s in SCRIPTS])
    # the lwl this test process imported (installed, or a source tree built in place)
    env = dict(os.environ, PYTHONPATH=str(Path(lwl.__file__).parents[1]))
    out = subprocess.run([sys.executable, "-c", PROBE.format(compare=str(COMPARE), runs=runs)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    for script in SCRIPTS:
        help_exit = [l for l in lines if l.startswith(f"{script} ['--help'] exit")]
        run_exit = [l for l in lines if l.startswith(script) and "'--help'" not in l]
        assert help_exit == [f"{script} ['--help'] exit 0"], (script, out.stdout[-1000:])
        assert len(run_exit) == 1 and "[compare]" in run_exit[0], run_exit
