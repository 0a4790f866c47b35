"""The examples in the package's docstrings run and print what they say (pytest collects only ``tests``)."""

import doctest
import importlib
import pkgutil

import depotsite


def _modules():
    for info in pkgutil.walk_packages(depotsite.__path__, prefix="depotsite."):
        if info.name.endswith(".__main__"):  # runs the command line when imported
            continue
        yield importlib.import_module(info.name)


def test_every_docstring_example_holds():
    attempted = 0
    failures = []
    for module in _modules():
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=False)
        attempted += result.attempted
        if result.failed:
            failures.append(f"{module.__name__}: {result.failed} of {result.attempted} examples failed")
    assert not failures, failures
    assert attempted >= 1  # instance.fewest_sites at least: a walk that found no module would pass unchecked
