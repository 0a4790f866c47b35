"""Shared fixtures: a private travel-time cache and one solved base run per test session."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

# A wide console, set before the CLI's consoles exist: a long temporary path must not wrap a message that a
# test looks for (tests that check wrapping-sensitive text flatten the whitespace anyway).
os.environ["COLUMNS"] = "240"

from depotsite.cli import app
from depotsite.errors import InputError
from depotsite.inputs import load_inputs

sys.path.insert(0, str(Path(__file__).parent))  # the inline-instance helpers

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "models" / "base.toml"
DATA = ROOT / "data"
TABLES = ("hosts", "sites", "systems", "destinations", "demand")  # the tables load_inputs reads
runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def tables(tmp_path):
    """A writable copy of the shipped tables; returns (folder, loader)."""
    for name in TABLES:
        shutil.copy(DATA / f"{name}.csv", tmp_path / f"{name}.csv")

    def load(**kwargs):
        return load_inputs(**{name: tmp_path / f"{name}.csv" for name in TABLES}, **kwargs)

    return tmp_path, load


def problems_of(load, **kwargs) -> list[str]:
    """The problems of the InputError that ``load(**kwargs)`` must raise."""
    with pytest.raises(InputError) as caught:
        load(**kwargs)
    return caught.value.problems


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    old = os.environ.get("DEPOTSITE_CACHE")
    os.environ["DEPOTSITE_CACHE"] = str(folder)
    yield folder
    if old is None:
        del os.environ["DEPOTSITE_CACHE"]
    else:
        os.environ["DEPOTSITE_CACHE"] = old


def base_lp(out: Path) -> Path:
    """The LP file ``base_run`` wrote beside its run folder."""
    return out.parent / "base.lp"


@pytest.fixture(scope="session")
def base_run(tmp_path_factory, cache):
    """The base scenario solved once with the default limit (and ``--save-lp``, which the limit does not count):
    ``(run folder, console output)``. Its status may be optimal or time_limit; tests assert what holds for both."""
    out = tmp_path_factory.mktemp("runs") / "base"
    result = invoke("solve", BASE, "--out", out, "--save-lp", base_lp(out))
    assert result.exit_code == 0, result.output
    return out, result.output


def pytest_collection_modifyitems(config, items):
    """Every test that solves or routes the shipped data through the ``cache`` fixture is ``slow`` (the tests
    that route the shipped roads without it carry ``@pytest.mark.slow`` themselves): ``pytest -m "not slow"``
    runs the hand-solvable and unit tests alone. The default run keeps them all (CI runs plain ``pytest``)."""
    for item in items:
        if "cache" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
