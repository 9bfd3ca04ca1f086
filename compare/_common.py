"""Helpers shared by the comparison scripts: results folder, tables, CSV, timing."""
import csv
import os
import statistics
import time
from pathlib import Path

RESULTS = Path(os.environ.get("LWL_RESULTS", Path(__file__).resolve().parent / "results"))


def results_path(name):
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS / name


def write_csv(name, rows):
    """Write a list of dicts to compare/results/<name>; returns the path."""
    path = results_path(name)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def markdown_table(header, rows):
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(out + [line(r) for r in cells])


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def duration(seconds):
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def fmt(v, spec="{:.3g}"):
    return "-" if v is None else spec.format(v)


class _Pyplot:
    """``matplotlib.pyplot`` with the Agg backend, imported at its first use, so that a script's
    ``--help`` works without matplotlib; ``require()`` right after parsing the arguments stops
    a run before any work when matplotlib is missing, saying which extra to install."""

    def require(self):
        self._module()

    @staticmethod
    def _module():
        try:
            import matplotlib
        except ImportError:
            raise SystemExit("this script draws its figures with matplotlib: install it with "
                             "pip install \".[compare]\" (from the lwl folder) or pip install "
                             "matplotlib") from None
        matplotlib.use("Agg")
        import matplotlib.pyplot
        return matplotlib.pyplot

    def __getattr__(self, name):
        return getattr(self._module(), name)


plt = _Pyplot()
