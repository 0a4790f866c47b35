"""The pipeline as a library: the names ``depotsite`` exports, imported lazily, used end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import depotsite
from instances import HEADERS
from test_byo_matrix import write_csv


def tiny_scenario(folder: Path) -> Path:
    """Two hosts with one site each; 2 units of one system to one destination; a1 is 2 h away, b1 5 h.

    Time alone counts and both sites have room for both units, so the optimum keeps both at a1 (mean 2 h
    plus at most a few minutes of dispatch queue at 1 000 units a day, against 5 h from b1).
    """
    write_csv(
        folder / "hosts.csv", ["host_id", "name", "group", "release_delay_h"], [["A", "A", "", 0], ["B", "B", "", 0]]
    )
    write_csv(
        folder / "sites.csv",
        HEADERS["sites"],
        [[s, s, h, 0, 0, "logistics_hub", 10, 0, 1000, 1, "hand-made"] for s, h in (("a1", "A"), ("b1", "B"))],
    )
    write_csv(
        folder / "systems.csv",
        HEADERS["systems"],
        [["x", "x", "I", "wheeled", 1, 1, 0, 0, 1, "logistics_hub"]],
    )
    write_csv(
        folder / "destinations.csv", ["destination_id", "name", "lat", "lon", "kind"], [["d1", "d1", 0, 0, "city"]]
    )
    write_csv(folder / "demand.csv", ["destination_id", "system_id", "units"], [["d1", "x", 2]])
    write_csv(
        folder / "matrix.csv",
        ["site_id", "destination_id", "system_id", "hours"],
        [["a1", "d1", "x", 2.0], ["b1", "d1", "x", 5.0]],
    )
    path = folder / "tiny.toml"
    path.write_text(
        'name = "tiny"\n[data]\nhosts = "hosts.csv"\nsites = "sites.csv"\nsystems = "systems.csv"\n'
        'destinations = "destinations.csv"\ndemand = "demand.csv"\ntravel_times = "matrix.csv"\n'
        "[network]\nrelease_delay_h = 0\n[objective]\ntime_weight = 1\nrisk_weight = 0\ncost_weight = 0\n"
    )
    return path


def test_the_public_pipeline_solves_writes_and_verifies_a_run(tmp_path):
    scenario = depotsite.load_scenario(tiny_scenario(tmp_path))
    inputs = depotsite.read_inputs(scenario)
    travel = depotsite.travel_times_for(inputs, scenario)
    instance = depotsite.build_instance(inputs, travel, scenario)
    model = depotsite.build_model(instance)
    outcome = depotsite.run_solve(model, time_limit_s=60, threads=1)
    result = depotsite.collect(instance, depotsite.posture_of(model), outcome)
    assert (result.status, result.stock) == ("optimal", {("a1", "x"): 2})
    assert 2.0 <= result.terms["time_h"] < 2.1
    out = tmp_path / "run"
    depotsite.write_run(out, result, instance, travel)
    assert depotsite.RunFolder.read(out).stock == {("a1", "x"): 2}
    assert depotsite.verify_run(out).violations == []


def test_every_exported_name_resolves_and_is_listed():
    for name in depotsite.__all__:
        assert getattr(depotsite, name) is not None, name
    assert set(depotsite.__all__) <= set(dir(depotsite))
    with pytest.raises(AttributeError, match="module 'depotsite' has no attribute 'solve_everything'"):
        depotsite.solve_everything  # noqa: B018


def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import sys, depotsite; depotsite.load_scenario; "
        "print(sorted(m for m in ('pyomo', 'osmnx', 'matplotlib', 'plotly', 'geopandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_solve_loads_only_the_pyomo_it_uses(tmp_path):
    """The pipeline needs pyomo's modelling core and its HiGHS interface, not ``pyomo.environ`` (every plugin:
    GDP, DAE, the solver zoo, about 0.2 s of every process); only ``--save-lp`` loads it, for the writers."""
    code = (
        "import sys, depotsite\n"
        f"s = depotsite.load_scenario({str(tiny_scenario(tmp_path))!r}); i = depotsite.read_inputs(s)\n"
        "inst = depotsite.build_instance(i, depotsite.travel_times_for(i, s), s)\n"
        "print(depotsite.run_solve(depotsite.build_model(inst), time_limit_s=60).status)\n"
        "print(sorted(m for m in ('pyomo.environ', 'pyomo.gdp', 'pyomo.dae', 'pyomo.core') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["optimal", "['pyomo.core']"]


def test_solves_in_one_process_may_change_the_thread_count(tmp_path):
    """HiGHS keeps one task scheduler per process; a solve asking for another thread count than the first
    one used to stop with status 'unknown' (exit 4) until the scheduler is restarted."""
    scenario = depotsite.load_scenario(tiny_scenario(tmp_path))
    inputs = depotsite.read_inputs(scenario)
    instance = depotsite.build_instance(inputs, depotsite.travel_times_for(inputs, scenario), scenario)
    statuses = [
        depotsite.run_solve(depotsite.build_model(instance), time_limit_s=60, threads=n).status for n in (2, 1, 2)
    ]
    assert statuses == ["optimal"] * 3


def test_the_readme_library_example_runs(tmp_path, capsys):
    """The README's example, pointed at the hand-made scenario (the shipped one needs the road network)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = readme.split("```python\nimport depotsite\n", 1)[1].split("```", 1)[0]
    code = code.replace(
        '"models/base.toml", overrides=["hosts.PL.max_value_share=0.25"]',
        f'"{tiny_scenario(tmp_path)}", overrides=["hosts.A.max_value_share=1"]',
    )
    assert str(tmp_path) in code  # the example still has the call this test rewrites
    exec("import depotsite\n" + code, {})
    assert capsys.readouterr().out.startswith("optimal {'time_h': 2.0")
