"""Sweep files: a base scenario, a grid over scenario keys and Monte-Carlo draws, expanded into cases.

A sweep file is TOML (keys in the README's "Sweeps" section and in ``SweepFile`` below)::

    scenario = "../base.toml"
    draws = 20
    seed = 7

    [grid]
    "network.release_delay_h" = [48, 72, 120]
    "hosts.RO.max_value_share" = [0.2, 0.25, 0.35]

    [uncertain."network.profiles.tracked.speed_kph"]
    distribution = "triangular"
    low = 35
    mode = 45
    high = 55

Every grid value and every draw becomes a ``--set key=value`` override of the base scenario, typed and
validated exactly as on the command line, plus the keys ``sites.<site_id>.<column>`` (a site's capacity
column, set to the value) and ``sites.*.<column>`` (every site's column, multiplied by the value), which
change the sites table rather than the scenario. The cases are the grid's combinations, each with the same
``draws`` draws (common random numbers); draw ``i`` of key ``k`` comes from its own generator seeded by
``(seed, i, crc32(k))``, so it is the same whatever the number of draws or the other uncertain keys.
``plan_sweep`` checks every case before anything is solved and reports every problem at once.
"""

from __future__ import annotations

import itertools
import logging
import math
import zlib
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from depotsite.errors import InputError, ScenarioError
from depotsite.inputs import Inputs
from depotsite.scenario import Scenario, resolve_scenario
from depotsite.sources import check_against_inputs, read_inputs
from depotsite.tables import shown
from depotsite.tomlfile import read_toml, toml_value

MAX_CASES = 100_000
"""Most cases one sweep may hold (grid combinations times draws)."""
SITE_COLUMNS = {"vehicle_bays": int, "aircraft_shelters": int, "dispatch_per_day": float, "fixed_cost_musd": float}
"""Columns of sites.csv a sweep may change with ``sites.<site_id>.<column>`` or ``sites.*.<column>``."""
ALL_SITES = "*"
MAX_REDRAWS = 1_000
"""Draws outside ``[low, high]`` of a normal or lognormal distribution are drawn again, at most this often."""
_SHOWN_PROBLEM_CASES = 5


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False)


class Distribution(_Strict):
    """One uncertain input: a distribution and its parameters."""

    distribution: Literal["uniform", "triangular", "normal", "lognormal", "choice"]
    """uniform (low, high), triangular (low, mode, high), normal (mean, sd; optional low, high), lognormal
    (mean and sd of the logarithm; optional low, high), or choice (values, optional weights)."""
    low: float | None = None
    """Lowest value (uniform, triangular; for normal and lognormal draws below it are drawn again)."""
    high: float | None = None
    """Highest value (uniform, triangular; for normal and lognormal draws above it are drawn again)."""
    mode: float | None = None
    """Most likely value (triangular)."""
    mean: float | None = None
    """Mean (normal), or mean of the logarithm (lognormal)."""
    sd: float | None = Field(None, gt=0)
    """Standard deviation (normal), or of the logarithm (lognormal)."""
    values: tuple[Any, ...] | None = Field(None, min_length=1)
    """The values to choose from (choice): numbers, strings, lists, as a grid would list them."""
    weights: tuple[Annotated[float, Field(ge=0)], ...] | None = None
    """Relative weights of the values (choice; equal when unset)."""
    integer: bool = False
    """Round each draw to a whole number (for integer keys such as constraints.max_sites)."""

    @model_validator(mode="after")
    def _parameters(self) -> Distribution:
        needs = {
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "normal": ("mean", "sd"),
            "lognormal": ("mean", "sd"),
            "choice": ("values",),
        }[self.distribution]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.distribution} distribution needs {', '.join(missing)}")
        allowed = {*needs, "distribution", "integer"} | (
            {"low", "high"} if self.distribution in ("normal", "lognormal") else set()
        )
        allowed |= {"weights"} if self.distribution == "choice" else set()
        extra = [name for name in self.model_fields_set if name not in allowed]
        if extra:
            raise ValueError(f"a {self.distribution} distribution takes no {', '.join(sorted(extra))}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        if (
            self.mode is not None
            and self.low is not None
            and self.high is not None
            and not self.low <= self.mode <= self.high
        ):
            raise ValueError(f"mode ({self.mode:g}) is not between low ({self.low:g}) and high ({self.high:g})")
        if self.weights is not None:
            if self.values is None or len(self.weights) != len(self.values):
                raise ValueError("give one weight per value")
            if sum(self.weights) <= 0:
                raise ValueError("the weights sum to 0")
        if self.integer and self.distribution == "choice":
            raise ValueError("integer applies to numeric distributions; list whole numbers in values instead")
        return self

    def draw(self, rng: np.random.Generator) -> Any:
        """One value from ``rng``."""
        if self.distribution == "choice":
            assert self.values is not None
            p = None if self.weights is None else np.array(self.weights) / sum(self.weights)
            return self.values[int(rng.choice(len(self.values), p=p))]
        if self.distribution == "uniform":
            assert self.low is not None and self.high is not None
            value = float(rng.uniform(self.low, self.high))
        elif self.distribution == "triangular":
            assert self.low is not None and self.high is not None and self.mode is not None
            value = self.low if self.low == self.high else float(rng.triangular(self.low, self.mode, self.high))
        else:
            value = self._bounded(rng)
        return round(value) if self.integer else value

    def _bounded(self, rng: np.random.Generator) -> float:
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        assert self.mean is not None and self.sd is not None
        value = math.nan
        for _ in range(MAX_REDRAWS):
            value = float(
                rng.normal(self.mean, self.sd) if self.distribution == "normal" else rng.lognormal(self.mean, self.sd)
            )
            if low <= value <= high:
                return value
        return min(max(value, low), high)


GridValues = Annotated[list[Any], Field(min_length=1)]


class SweepFile(_Strict):
    """The keys of a sweep file."""

    scenario: Path
    """The base scenario file, relative to the sweep file; every case changes it."""
    name: str | None = Field(None, min_length=1, max_length=200)
    """The sweep's name (default: the sweep file's name without .toml)."""
    description: str = Field("", max_length=10_000)
    """What the sweep studies, in a sentence or two."""
    set: tuple[str, ...] = ()
    """Overrides applied to every case first, as --set would give them ("solver.mip_gap=0.01")."""
    grid: dict[str, GridValues] = Field(default_factory=dict)
    """Scenario key (or sites.<site_id>.<column>, sites.*.<column>) -> the values to try; every combination
    of the keys' values is a case."""
    draws: int = Field(0, ge=0, le=MAX_CASES)
    """Monte-Carlo draws of the uncertain inputs per grid combination (0: none)."""
    seed: int = Field(0, ge=0, le=2**63 - 1)
    """Seed of the draws: the same seed gives the same draws, draw by draw."""
    uncertain: dict[str, Distribution] = Field(default_factory=dict)
    """Scenario key (or sites.<site_id>.<column>, sites.*.<column>) -> its distribution, drawn in each draw."""

    @model_validator(mode="after")
    def _cases(self) -> SweepFile:
        if not self.grid and not self.draws:
            raise ValueError("a sweep needs a [grid] of values, or draws = N with [uncertain] inputs")
        if self.draws and not self.uncertain:
            raise ValueError(f'draws = {self.draws} but no [uncertain] inputs to draw; add [uncertain."key"]')
        if self.uncertain and not self.draws:
            raise ValueError("[uncertain] inputs are declared but draws = 0; set draws = N")
        both = sorted(set(self.grid) & set(self.uncertain))
        if both:
            raise ValueError(f"{', '.join(both)}: in both [grid] and [uncertain]; keep each key in one")
        count = math.prod(len(v) for v in self.grid.values()) * max(1, self.draws)
        if count > MAX_CASES:
            raise ValueError(f"{count:,} cases, more than the {MAX_CASES:,} one sweep may hold; split the sweep")
        return self


@dataclass(frozen=True)
class SiteChange:
    """A change to the sites table: one site's column set to a value, or every site's scaled (``*``)."""

    site_id: str  # a site id, or ALL_SITES
    column: str
    value: float


@dataclass(frozen=True)
class Case:
    """One scenario of a sweep: its grid combination and draw, the values they give and how they apply."""

    case_id: str  # "g0003", "d0012" or "g0003-d0012": stable when draws or grid values are added
    grid_index: int | None
    draw: int | None
    values: dict[str, Any]  # key -> value, grid keys then uncertain keys, in file order
    overrides: tuple[str, ...]  # the --set strings of the scenario keys (sweep-wide "set" first)
    site_changes: tuple[SiteChange, ...]


@dataclass(frozen=True)
class SweepPlan:
    """A checked sweep: its file, base scenario, every case with its scenario, and the inputs they share."""

    path: Path
    name: str
    description: str
    spec: SweepFile
    base: Path
    base_scenario: Scenario
    cases: tuple[Case, ...]
    scenarios: dict[str, Scenario]  # case id -> its resolved scenario
    inputs: dict[str, Inputs]  # case id -> its tables before its site changes (one object per [data] table)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every varied key: the grid's, then the uncertain ones, in file order."""
        return (*self.spec.grid, *self.spec.uncertain)


def is_site_key(key: str) -> bool:
    """Whether ``key`` changes the sites table (``sites.<site_id>.<column>``) rather than the scenario."""
    return key.startswith("sites.")


def _site_key_problem(key: str, value: Any, inputs: Inputs | None) -> str | None:
    parts = key.split(".")
    if len(parts) != 3 or not parts[1] or parts[2] not in SITE_COLUMNS:
        return (
            f"{shown(key)}: a sites key is sites.<site_id>.<column> or sites.*.<column> with a column of "
            f"{', '.join(SITE_COLUMNS)}"
        )
    if inputs is not None and parts[1] != ALL_SITES and parts[1] not in inputs.sites:
        return f"{shown(key)}: unknown site {shown(parts[1])} in sites.csv"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return f"{shown(key)} = {_text(value)}: must be a number >= 0"
    return None


def _text(value: Any) -> str:
    try:
        return toml_value(value)
    except TypeError:
        return repr(value)


def apply_site_changes(inputs: Inputs, changes: tuple[SiteChange, ...]) -> Inputs:
    """The tables with the sites' columns changed: set for one site, multiplied for ``*`` (whole columns
    floored).

    Parameters
    ----------
    inputs
        The tables as read.
    changes
        Applied in order.

    Returns
    -------
    Inputs
        ``inputs`` itself when there is nothing to change, else a copy with new site records.
    """
    if not changes:
        return inputs
    sites = dict(inputs.sites)
    for change in changes:
        kind = SITE_COLUMNS[change.column]
        for s in list(sites) if change.site_id == ALL_SITES else [change.site_id]:
            old = getattr(sites[s], change.column)
            new = old * change.value if change.site_id == ALL_SITES else change.value
            changed: dict[str, Any] = {change.column: math.floor(new + 1e-9) if kind is int else float(new)}
            sites[s] = replace(sites[s], **changed)
    return Inputs.assemble(
        hosts=list(inputs.hosts.values()),
        sites=list(sites.values()),
        systems=list(inputs.systems.values()),
        destinations=list(inputs.destinations.values()),
        demand=inputs.demand,
        files=inputs.files,
    )


def _override(key: str, value: Any) -> str:
    return f"{key}={toml_value(value)}"


def draw_values(spec: SweepFile, draw: int) -> dict[str, Any]:
    """The uncertain inputs of one draw: key ``k`` from a generator seeded by ``(seed, draw, crc32(k))``.

    Parameters
    ----------
    spec
        The sweep file (its seed and distributions).
    draw
        The draw's number, from 0.

    Returns
    -------
    dict
        Key -> value, in the file's order; the same for the same seed, draw and key, whatever else changes.
    """
    return {
        key: dist.draw(np.random.default_rng([spec.seed, draw, zlib.crc32(key.encode())]))
        for key, dist in spec.uncertain.items()
    }


def expand(spec: SweepFile) -> list[Case]:
    """Every case of a sweep: the grid's combinations (the last key varying fastest), each with every draw."""
    keys = list(spec.grid)
    combinations = list(itertools.product(*(spec.grid[k] for k in keys))) if keys else [None]
    draws: list[int | None] = list(range(spec.draws)) if spec.draws else [None]
    drawn = {d: draw_values(spec, d) for d in draws if d is not None}
    cases = []
    for g, combination in enumerate(combinations):
        for d in draws:
            values = dict(zip(keys, combination, strict=True)) if combination is not None else {}
            values |= drawn[d] if d is not None else {}
            parts = ([f"g{g:04d}"] if combination is not None else []) + ([f"d{d:04d}"] if d is not None else [])
            cases.append(
                Case(
                    case_id="-".join(parts),
                    grid_index=g if combination is not None else None,
                    draw=d,
                    values=values,
                    overrides=(*spec.set, *(_override(k, v) for k, v in values.items() if not is_site_key(k))),
                    site_changes=tuple(
                        SiteChange(k.split(".")[1], k.split(".")[2], float(v))
                        for k, v in values.items()
                        if is_site_key(k)
                    ),
                )
            )
    return cases


def _pydantic_problems(exc: ValidationError, where: str) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = ".".join(f'"{p}"' if isinstance(p, str) and "." in p else str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown key {shown(loc)}; a sweep file has {', '.join(SweepFile.model_fields)}")
        elif error["type"] == "too_short" and error["loc"][:1] == ("grid",):
            problems.append(f"{where}: {loc}: an empty list of values; list at least one, or remove the key")
        else:
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {loc + ': ' if loc else ''}{message}")
    return problems


def _scenario_problems(base: Path, overrides: list[str]) -> tuple[Scenario | None, list[str]]:
    try:
        return resolve_scenario(base, overrides=overrides).scenario, []
    except ScenarioError as exc:
        return None, [p.removeprefix("--set: ") for p in exc.problems]


def _value_problems(spec: SweepFile, base: Path, where: str, inputs: Inputs | None) -> list[str]:
    """Each grid value and the range of each distribution, one key at a time on the base scenario."""
    problems = []
    samples = {k: [(f"= {_text(v)}", v) for v in values] for k, values in spec.grid.items()}
    for key, dist in spec.uncertain.items():
        if dist.distribution == "choice":
            samples[key] = [(f"(choice) value {_text(v)}", v) for v in dist.values or ()]
            continue
        centre = math.exp(dist.mean) if dist.distribution == "lognormal" and dist.mean is not None else dist.mean
        points = [v for v in (dist.low, dist.high, centre, dist.mode) if v is not None]
        samples[key] = [(f"({dist.distribution}) value {v:g}", round(v) if dist.integer else v) for v in points]
    for key, tried in samples.items():
        section = "grid" if key in spec.grid else "uncertain"
        for label, value in tried:
            if is_site_key(key):
                problem = _site_key_problem(key, value, inputs)
                found = [problem] if problem else []
            else:
                _, found = _scenario_problems(base, [*spec.set, _override(key, value)])
            problems += [f"{where}: [{section}] {shown(key)} {label}: {p}" for p in dict.fromkeys(found)]
            if found and any("unknown key" in p or "a sites key is" in p for p in found):
                break  # the key itself is wrong: its other values say the same
    return problems


def _case_label(case: Case) -> str:
    return case.case_id + " (" + ", ".join(f"{k} = {_text(v)}" for k, v in case.values.items()) + ")"


def plan_sweep(path: Path | str) -> SweepPlan:
    """Read a sweep file and check every case against the schema and the input tables, before any solve.

    Parameters
    ----------
    path
        The sweep TOML file.

    Returns
    -------
    SweepPlan
        Every case with its resolved scenario and tables.

    Raises
    ------
    InputError
        Every problem at once: of the file itself (unknown keys, empty grid lists, bad distributions), of
        each grid value and distribution on the base scenario (unknown key, wrong type, out of range), and
        of every combination and draw (grouped: one line per problem with the cases it occurs in).
    """
    quiet = logging.getLogger("depotsite.scenario")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # each case's overrides are its values in the case table, not log lines
    try:
        return _plan(Path(path))
    finally:
        quiet.setLevel(level)


def _salvage(raw: dict[str, Any]) -> SweepFile | None:
    """The parts of an invalid sweep file that are valid alone, so their values can be checked too."""
    grid = (
        {k: v for k, v in raw.get("grid", {}).items() if isinstance(v, list) and v}
        if isinstance(raw.get("grid"), dict)
        else {}
    )
    uncertain = {}
    for key, value in (raw.get("uncertain") or {}).items() if isinstance(raw.get("uncertain"), dict) else ():
        try:
            uncertain[key] = Distribution.model_validate(value)
        except ValidationError:
            continue
    try:
        return SweepFile.model_validate(
            {"scenario": raw.get("scenario"), "set": raw.get("set", ()), "grid": grid or {"name": ["x"]}}
        ).model_copy(update={"grid": grid, "uncertain": uncertain})
    except ValidationError:
        return None


def _plan(path: Path) -> SweepPlan:
    raw = read_toml(path)
    where = str(path)
    problems: list[str] = []
    try:
        spec: SweepFile | None = SweepFile.model_validate(raw)
    except ValidationError as exc:
        problems += _pydantic_problems(exc, where)
        spec = _salvage(raw)
    if spec is None:
        raise ScenarioError(problems)
    base = (path.parent / spec.scenario).resolve()
    base_scenario, base_problems = _scenario_problems(base, list(spec.set))
    if base_scenario is None:
        raise ScenarioError([*problems, *(f"{where}: scenario {base}: {p}" for p in base_problems)])
    base_inputs = read_inputs(base_scenario, check=False)
    problems += _value_problems(spec, base, where, base_inputs)
    if problems:
        raise ScenarioError(problems)
    cases = expand(spec)
    found: dict[str, list[Case]] = defaultdict(list)
    scenarios: dict[str, Scenario] = {}
    inputs: dict[str, Inputs] = {}
    tables: dict[Any, Inputs] = {base_scenario.data: base_inputs}
    for case in cases:
        scenario, case_problems = _scenario_problems(base, list(case.overrides))
        for problem in case_problems:
            found[problem].append(case)
        if scenario is None:
            continue
        for problem in _site_problems(case, base_inputs):
            found[problem].append(case)
        try:
            if scenario.data not in tables:
                tables[scenario.data] = read_inputs(scenario, check=False)
            case_inputs = apply_site_changes(tables[scenario.data], case.site_changes)
            check_against_inputs(scenario, case_inputs)
        except InputError as exc:
            for problem in exc.problems:
                found[problem].append(case)
            continue
        scenarios[case.case_id], inputs[case.case_id] = scenario, tables[scenario.data]
    if found:
        lines = []
        for problem, where_cases in found.items():
            listed = ", ".join(_case_label(c) for c in where_cases[:_SHOWN_PROBLEM_CASES])
            more = (
                f" and {len(where_cases) - _SHOWN_PROBLEM_CASES} more"
                if len(where_cases) > _SHOWN_PROBLEM_CASES
                else ""
            )
            lines.append(f"{where}: {problem} (in {len(where_cases)} of {len(cases)} cases: {listed}{more})")
        raise ScenarioError(lines)
    return SweepPlan(
        path=path.resolve(),
        name=spec.name or path.stem,
        description=spec.description,
        spec=spec,
        base=base,
        base_scenario=base_scenario,
        cases=tuple(cases),
        scenarios=scenarios,
        inputs=inputs,
    )


def _site_problems(case: Case, inputs: Inputs) -> list[str]:
    return [
        p
        for change in case.site_changes
        if (p := _site_key_problem(f"sites.{change.site_id}.{change.column}", change.value, inputs)) is not None
    ]
