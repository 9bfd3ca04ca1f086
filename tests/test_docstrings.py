"""Every public method of lwl's estimators has a numpydoc docstring: a ``Returns`` section, and a
``Parameters`` section when it takes parameters besides self / cls."""
import inspect

import pytest

import lwl
import lwl.baselines

CLASSES = [lwl.RRRNMF, lwl.RRRClassifier, lwl.RRRFPAClassifier, lwl.RRRAutoencoder,
           lwl.RRRGenerator, lwl.baselines.AnalyticReLUClassifier,
           lwl.baselines.AnalyticReLURegressor, lwl.baselines.ConstructiveReLUClassifier]


def _public_methods():
    """{'module.Class.method': method} of the public callables of CLASSES defined in lwl (not
    inherited from scikit-learn, nor its generated ``set_*_request`` methods), each under
    the class that defines it."""
    methods = {}
    for c in CLASSES:
        for name, m in inspect.getmembers(c):
            if name.startswith("_") or not callable(m) or (name.startswith("set_")
                                                           and name.endswith("_request")):
                continue
            owner = next(k for k in c.__mro__ if name in vars(k))
            if owner.__module__.startswith("sklearn"):
                continue
            methods.setdefault(f"{owner.__module__}.{owner.__qualname__}.{name}", m)
    return methods


def test_public_estimator_methods_have_numpydoc_parameters_and_returns():
    docscrape = pytest.importorskip(
        "numpydoc.docscrape",
        reason='numpydoc is not installed (pip install ".[docs]"): it parses the docstrings')
    methods = _public_methods()
    assert len(methods) >= 20, sorted(methods)  # the enumeration finds the estimators' methods
    offenders = []
    for qualname, m in sorted(methods.items()):
        takes = [p for p in inspect.signature(m).parameters if p not in ("self", "cls")]
        try:
            doc = docscrape.FunctionDoc(m, role="meth")
        except Exception as exc:  # noqa: BLE001 - a docstring numpydoc cannot parse
            offenders.append(f"{qualname}: numpydoc cannot parse the docstring ({exc})")
            continue
        missing = [section for section, needed in (("Parameters", bool(takes)),
                                                   ("Returns", True))
                   if needed and not doc[section]]
        if missing:
            offenders.append(f"{qualname}: no {' and no '.join(missing)} section")
    assert not offenders, "methods without a numpydoc section:\n" + "\n".join(offenders)
