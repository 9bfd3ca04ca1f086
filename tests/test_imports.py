"""The package's modules import each other without cycles and never upward: a module may import
the modules below it and the package's subpackages, but no module reads the package root's own
names (``from . import __version__``), which would run ``lwl/__init__`` from inside it."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "lwl"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """(module names this file imports from lwl, names it takes from the package root)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found, from_root = set(), []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("lwl"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).is_file() or \
                        (PACKAGE.parent / sub.replace(".", "/") / "__init__.py").is_file():
                    found.add(sub)
                else:
                    found.add(target)
                    if target == "lwl" and name != "lwl":
                        from_root.append(alias.name)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lwl"))
    return found - {name}, from_root


def _graph():
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_no_module_reads_the_package_root():
    offenders = {m: root for m, (_, root) in _graph().items() if root}
    assert not offenders, offenders


def test_the_modules_import_each_other_without_cycles():
    graph = {m: {t for t in deps if t != "lwl"} for m, (deps, _) in _graph().items()}
    # package __init__ files import their children by design: leave those edges out
    graph = {m: {t for t in deps if not t.startswith(m + ".")} for m, deps in graph.items()}
    state, cycle = {}, []

    def visit(m, path):
        state[m] = "open"
        for t in sorted(graph.get(m, ())):
            if state.get(t) == "open":
                cycle.extend(path[path.index(t):] + [t] if t in path else [m, t])
                return True
            if t not in state and visit(t, path + [t]):
                return True
        state[m] = "done"
        return False

    for m in sorted(graph):
        if m not in state and visit(m, [m]):
            break
    assert not cycle, " -> ".join(cycle)


def test_every_rrr_estimator_fits_through_the_one_template():
    """A model is its data checks, a trainer builder and its fitted attributes on
    RRREstimator: none defines its own fit loop or the epoch's batch bookkeeping."""
    from lwl import RRRAutoencoder, RRRClassifier, RRRFPAClassifier, RRRNMF
    from lwl._estimator import RRREstimator
    from lwl._training import Trainer
    from lwl.autoencoder import _AutoencoderTrainer
    from lwl.classifier import _ClassifierTrainer
    from lwl.nmf import _NMFTrainer

    for cls in (RRRAutoencoder, RRRClassifier, RRRFPAClassifier, RRRNMF):
        assert issubclass(cls, RRREstimator)
        own = {name for klass in cls.__mro__[:cls.__mro__.index(RRREstimator)]
               for name in vars(klass)}
        assert "_fit" not in own, cls
        assert {"_check_fit_data", "_trainer", "_set_fitted"} <= own, cls
    for cls in (_AutoencoderTrainer, _ClassifierTrainer, _NMFTrainer):
        assert "epoch" not in vars(cls) and "train_epoch" in vars(cls), cls
        assert not set(Trainer.batch_columns) & set(vars(cls).get("columns", {})), cls
