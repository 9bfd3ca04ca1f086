"""Build hook: compiles csrc/ through cffi (see lwl/_build.py). Metadata lives in pyproject.toml."""
from setuptools import setup

setup(cffi_modules=["lwl/_build.py:ffibuilder"])
