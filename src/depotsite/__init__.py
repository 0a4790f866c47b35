"""depotsite: where to keep surge stockpiles for Ukraine, and how many units of each system.

The pipeline runs one way, a public function per stage::

    scenario = load_scenario("models/base.toml", overrides=["hosts.PL.max_value_share=0.25"])
    inputs = read_inputs(scenario)                       # the tables, checked against the scenario
    travel = travel_times_for(inputs, scenario)          # roads (cached) or the scenario's own matrix
    instance = build_instance(inputs, travel, scenario)  # every number the formulation reads
    model = build_model(instance)                        # the pyomo formulation
    outcome = run_solve(model, time_limit_s=60)          # HiGHS; infeasibility explained in policy words
    result = collect(instance, posture_of(model), outcome)
    write_run(Path("runs/mine"), result, instance, travel)  # a complete run folder, or none
    verify_run(Path("runs/mine"))                        # every rule re-checked from the files alone

The names are imported on first use, so ``import depotsite`` loads neither pyomo nor the road network.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("depotsite")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

_PUBLIC = {
    "load_scenario": "depotsite.scenario",
    "Scenario": "depotsite.scenario",
    "read_inputs": "depotsite.sources",
    "travel_times_for": "depotsite.sources",
    "Inputs": "depotsite.inputs",
    "TravelTimes": "depotsite.traveltimes",
    "build_instance": "depotsite.instance",
    "Instance": "depotsite.instance",
    "build_model": "depotsite.model",
    "posture_of": "depotsite.model",
    "run_solve": "depotsite.explain",
    "collect": "depotsite.results",
    "RunResult": "depotsite.results",
    "write_run": "depotsite.output.runfolder",
    "RunFolder": "depotsite.output.runfolder",
    "verify_run": "depotsite.verify",
    "InputError": "depotsite.errors",
    "InfeasibleError": "depotsite.errors",
    "SolverError": "depotsite.errors",
}
__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'depotsite' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
