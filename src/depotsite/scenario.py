"""Scenario files: TOML validated by pydantic, with ``extends`` and ``--set`` overrides.

Precedence, highest first: ``--set key.path=value`` > the scenario file > the file it ``extends``
(recursively) > the code defaults below. Every override is logged as ``key: old -> new``. Relative paths
in ``[data]`` are resolved against the file that states them, so a resolved scenario written elsewhere
(with absolute paths) solves again from wherever it lies.
"""

from __future__ import annotations

import copy
import difflib
import logging
import math
import os
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from depotsite.errors import ScenarioError
from depotsite.inputs import Inputs, units_fitting
from depotsite.tables import MAX_HOURS, MAX_ROWS, SHOWN_CHARS, shown
from depotsite.tomlfile import dump_toml, parse_toml, read_toml

log = logging.getLogger(__name__)

DATA_KEYS = ("hosts", "sites", "systems", "destinations", "demand", "roads", "boundaries", "travel_times",
             "purchasers")


MAX_SPEED_KPH = 10_000.0
MIN_SPEED_KPH = 0.1
MAX_WEIGHT = 1_000_000.0
"""Largest objective weight, priority and solver time limit (seconds)."""
MAX_HHI_TANGENTS = 1_000
MAX_LOSS_SETS = 10_000
"""Most sets of lost hosts one resilience rule may enumerate (one constraint each)."""
MAX_SET_CHARS = 4_096
"""Longest ``--set key=value`` text."""
Share = Annotated[float, Field(ge=0, le=1)]
Hours = Annotated[float, Field(ge=0, le=MAX_HOURS)]
Speed = Annotated[float, Field(ge=MIN_SPEED_KPH, le=MAX_SPEED_KPH)]
Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT)]


def _split_ids(value: Any) -> Any:
    """A list of ids may also be given as one comma-separated string (``--set exclude_hosts=LT,LV``)."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


IdList = Annotated[tuple[str, ...], BeforeValidator(_split_ids)]


class _Strict(BaseModel):
    # allow_inf_nan=False: TOML's inf and nan would make the model numerically meaningless
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False)


class DataConfig(_Strict):
    hosts: Path
    """hosts.csv: host_id, name, group, release_delay_h."""
    sites: Path
    """sites.csv: candidate depot sites with host, coordinates, kind and capacities."""
    systems: Path
    """systems.csv: value, footprint, crew, lot and allowed site kinds of each system."""
    destinations: Path
    """destinations.csv: delivery points in Ukraine."""
    demand: Path
    """demand.csv: units of each system each destination needs."""
    roads: Path | None = None
    """Folder with nodes.csv.gz/edges.csv.gz, or a user's .osm / .osm.pbf file."""
    boundaries: Path | None = None
    """GeoJSON of country polygons (country_id): tags road nodes, checks sites lie in their host."""
    travel_times: Path | None = None
    """Bring-your-own matrix (site_id, destination_id, system_id, hours); replaces the road computation."""
    purchasers: Path | None = None
    """Optional purchasers.csv: who buys how many units of what, optionally earmarked for a host."""

    @model_validator(mode="after")
    def _need_times(self) -> DataConfig:
        if self.travel_times is None and (self.roads is None or self.boundaries is None):
            raise ValueError("name either [data] travel_times, or both [data] roads and [data] boundaries")
        return self


class Profile(_Strict):
    mode: Literal["road", "air"] = "road"
    """road: along the road graph; air: a ferry flight between air bases."""
    speed_kph: Speed = 60.0
    """Convoy cruise speed on the road graph."""
    border_crossing_h: Hours = 3.0
    """Delay added each time a route crosses a national border."""
    max_driving_h_per_day: float | None = Field(None, gt=0, le=24)
    """March discipline: driving hours per day before a rest (unset: no rests)."""
    rest_h: Hours = 0.0
    """Rest after each full day of driving (with max_driving_h_per_day)."""
    access_speed_kph: Speed = 30.0
    """Speed on the leg between a point and its snapped road node."""
    cruise_kph: Speed = 750.0
    """Air profiles: ferry-flight cruise speed over the great circle."""
    prep_h: Hours = 0.0
    """Air profiles: preparation before take-off."""


DEFAULT_PROFILES: dict[str, dict[str, Any]] = {
    "tracked": {"mode": "road", "speed_kph": 45.0, "border_crossing_h": 3.0},
    "wheeled": {"mode": "road", "speed_kph": 60.0, "border_crossing_h": 3.0},
    "air": {"mode": "air", "cruise_kph": 750.0, "prep_h": 4.0, "border_crossing_h": 0.0},
}


class NetworkConfig(_Strict):
    avoid_countries: IdList = ("BY", "RU")
    """Countries whose roads are removed before routing (country ids of the boundaries file)."""
    release_delay_h: Hours = 72.0
    """Default consultation/unlock time for hosts without their own."""
    snap_warn_km: float = Field(25.0, gt=0, le=20_000)
    """Warn when a point lies farther than this from the nearest road node."""
    snap_max_km: float = Field(100.0, gt=0, le=20_000)
    """A point farther than this from every road is an input error (wrong coordinates, or no roads there)."""
    profiles: dict[str, Profile] = Field(default_factory=dict)
    """Transport profiles by name (systems.csv's profile column); tracked, wheeled and air by default."""


class ObjectiveConfig(_Strict):
    time: Literal["mean", "makespan"] = "mean"
    """Time term: priority-weighted mean time-to-availability, or the makespan with dispatch queues."""
    risk: Literal["max_host_share", "hhi", "expected_loss"] = "max_host_share"
    """Risk term: largest host value share, Herfindahl index, or threat-weighted expected loss."""
    time_weight: Weight = 1.0
    """Weight of the time term (hours) in the objective."""
    risk_weight: Weight = 2.0
    """Weight of the risk term: hours one point of risk is worth."""
    cost_weight: Weight = 0.0
    """Weight of the fixed cost of open sites (M USD)."""
    hhi_tangents: int = Field(41, ge=2, le=MAX_HHI_TANGENTS)
    """Number of tangent cuts per host that approximate the Herfindahl index from below."""


class HostRule(_Strict):
    max_value_share: Share | None = None
    """At most this fraction of the package value in this host."""
    max_unit_share: dict[str, Share] = Field(default_factory=dict)
    """Per system: at most this fraction of the requirement in this host."""
    release_delay_h: Hours | None = None
    """This host's consultation/unlock time (overrides hosts.csv and the network default)."""
    threat: Share = 0.0
    """Probability used by the expected_loss risk measure."""


class GroupRule(_Strict):
    hosts: IdList | None = None
    """Members; by default the hosts whose `group` column in hosts.csv names this group."""
    max_value_share: Share | None = None
    """At most this fraction of the package value in the group's hosts together."""
    max_unit_share: dict[str, Share] = Field(default_factory=dict)
    """Per system: at most this fraction of the requirement in the group's hosts together."""


class Resilience(_Strict):
    lose_hosts: int = Field(1, ge=1)
    """How many hosts may be lost at once (every such set is checked)."""
    keep_fraction: Share
    """The fraction of the system's requirement that must survive any such loss."""


class SystemRule(_Strict):
    min_hosts: int | None = Field(None, ge=1, le=MAX_ROWS["hosts"])
    """The system is stored in at least this many hosts (each holding at least one lot)."""
    max_host_share: Share | None = None
    """At most this fraction of the system's requirement in any one host."""
    deadline_h: float | None = Field(None, gt=0, le=MAX_HOURS)
    """No unit may become available later than this (release delay + transit)."""
    resilience: Resilience | None = None
    """Host-loss resilience: lose_hosts and keep_fraction."""
    priority: float = Field(1.0, ge=0.001, le=1000)
    """Weight of this system's units in the mean time."""


class ConstraintsConfig(_Strict):
    max_sites: int | None = Field(None, ge=1, le=MAX_ROWS["sites"])
    """At most this many open sites."""
    budget_musd: float | None = Field(None, ge=0, le=1e9)
    """The fixed cost of the open sites may not exceed this."""
    force_open: IdList = ()
    """Sites that must be open."""
    exclude_sites: IdList = ()
    """Sites that may hold nothing."""
    exclude_hosts: IdList = ()
    """Hosts that may hold nothing."""


class SolverConfig(_Strict):
    time_limit_s: float = Field(60.0, gt=0, le=MAX_WEIGHT)
    """Time limit of the whole solve stage (model build, solve, explanation); --time-limit overrides it."""
    mip_gap: Share = 0.0
    """Relative optimality gap at which HiGHS may stop (0: prove optimality)."""
    threads: int = Field(default_factory=lambda: min(2, os.cpu_count() or 1), ge=1)
    """At most the CPUs of the machine that solves (checked with the inputs, so a run folder from a
    larger machine can still be read and verified)."""
    log: bool = False
    """Show HiGHS's own log."""


class ReportConfig(_Strict):
    crew_rotation_factor: float = Field(2.0, ge=1, le=100)
    """Crews to train and keep per crew position (rotation and sustainment)."""
    counted_share: Share = 0.5
    """Share of the purchased value counted toward NATO's defence-spending target (financing report). The
    proposal says only "a portion"; 0.5 is an assumption (data/README.md)."""


class Scenario(_Strict):
    name: str = Field(min_length=1, max_length=200)
    """The scenario's name, shown in summaries and maps."""
    description: str = Field("", max_length=10_000)
    """What the scenario studies, in a sentence or two."""
    data: DataConfig
    """Input files; paths relative to the scenario file."""
    network: NetworkConfig = NetworkConfig()
    """Routing: avoided territory, release delay, snapping, transport profiles."""
    objective: ObjectiveConfig = ObjectiveConfig()
    """The objective's terms and weights."""
    hosts: dict[str, HostRule] = Field(default_factory=dict)
    """Rules per host id."""
    groups: dict[str, GroupRule] = Field(default_factory=dict)
    """Rules per host group (hosts.csv's group column, or an explicit member list)."""
    systems: dict[str, SystemRule] = Field(default_factory=dict)
    """Rules per system id."""
    constraints: ConstraintsConfig = ConstraintsConfig()
    """Site limits, budget, forced and excluded sites and hosts."""
    solver: SolverConfig = SolverConfig()
    """HiGHS settings."""
    report: ReportConfig = ReportConfig()
    """Figures for the disclosure reports."""

    def to_toml(self) -> str:
        """The scenario as TOML, every value explicit and every path absolute."""
        return dump_toml(self.model_dump(mode="json", exclude_none=True))


# --- loading --------------------------------------------------------------------------------------------


def _absolute_data(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    data = raw.get("data")
    if isinstance(data, dict):
        raw = dict(raw)
        raw["data"] = {k: str((base / v).resolve()) if isinstance(v, str) and v else v for k, v in data.items()}
    return raw


def _merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(low)
    for key, value in high.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _load_raw(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, Path]]:
    """The merged raw dict of a file and its ``extends`` chain; also which file set each top-level key."""
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise ScenarioError([f"{path}: 'extends' forms a cycle ({chain})"])
    raw = _absolute_data(read_toml(path), path.parent)
    origin = dict.fromkeys(raw, path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, origin
    if not isinstance(parent, str):
        raise ScenarioError([f"{path}: 'extends' must be a file name string"])
    base, base_origin = _load_raw(path.parent / parent, (*seen, path))
    for key, value in _flatten(raw).items():
        old = _get(base, key)
        if old != value and key not in ("name", "description"):
            log.info("override from %s: %s: %s -> %s", path.name, key, "(unset)" if old is _MISSING else old, value)
    return _merge(base, raw), {**base_origin, **origin}


_MISSING = object()


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def _get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``key.path=value``; the value is read as TOML (numbers, booleans, lists, strings).

    Raises
    ------
    ScenarioError
        Text longer than ``MAX_SET_CHARS``, not valid UTF-8, without ``=``, or nested too deeply.
    """
    if len(text) > MAX_SET_CHARS:
        raise ScenarioError([f"--set {shown(text)}: longer than {MAX_SET_CHARS:,} characters; put large values "
                             "in a scenario file"])
    if any("\ud800" <= c <= "\udfff" for c in text):
        raise ScenarioError([f"--set {shown(text)}: not valid UTF-8 text"])
    if "=" not in text:
        raise ScenarioError([f"--set {shown(text)}: expected key.path=value, e.g. hosts.PL.max_value_share=0.3"])
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key or any(not part.strip() for part in key.split(".")):
        raise ScenarioError([f"--set {shown(text)}: the key is empty or has an empty part"])
    try:
        value = parse_toml(f"v = {raw.strip()}", f"--set {shown(key)}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # a bare word such as a site id or "makespan"
    return key, value


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ScenarioError([f"--set {dotted}: {part!r} is a value, not a table"])
    node[parts[-1]] = value


def _inner_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model inside a field's annotation, and whether it sits in a dict keyed by id."""
    if typing.get_origin(annotation) is dict:
        return _inner_model(typing.get_args(annotation)[1])[0], True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    for arg in typing.get_args(annotation):  # X | None
        model, keyed = _inner_model(arg)
        if model is not None:
            return model, keyed
    return None, False


def _closest_key(loc: tuple[Any, ...]) -> str | None:
    """The valid key nearest to the unknown last part of ``loc``, among the keys of the table it is in."""
    model: type[BaseModel] | None = Scenario
    i = 0
    while model is not None and i < len(loc) - 1:
        info = model.model_fields.get(str(loc[i]))
        if info is None:
            return None
        model, keyed = _inner_model(info.annotation)
        i += 2 if keyed else 1  # skip the host, group, system or profile id
    if model is None or i != len(loc) - 1:
        return None
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return close[0] if close else None


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text):,} characters)"


def _explain(exc: ValidationError, origin: dict[str, Path], overridden: set[str], fallback: Path) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"])
        top = str(error["loc"][0]) if error["loc"] else ""
        from_set = any(loc == o or loc.startswith(o + ".") or o.startswith(loc + ".") for o in overridden)
        where = "--set" if from_set else str(origin.get(top, fallback))
        if error["type"] == "extra_forbidden":
            hint = _closest_key(tuple(error["loc"]))
            suggestion = f"; did you mean {hint!r}?" if hint else ""
            problems.append(f"{where}: unknown key {shown(loc)}{suggestion}")
        elif error["type"] == "missing":  # the input is the whole enclosing table: not repeated
            problems.append(f"{where}: {_cut(loc)}: {error['msg']}")
        else:
            got = error.get("input")
            got_text = shown(got) if isinstance(got, str) else _cut(repr(got))
            problems.append(f"{where}: {_cut(loc) or 'scenario'}: {error['msg']} (got {got_text})")
    return problems


def load_scenario(path: Path | str, *, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Load, merge and validate a scenario.

    Parameters
    ----------
    path
        The scenario TOML file.
    overrides
        ``key.path=value`` strings applied last (highest precedence).

    Raises
    ------
    ScenarioError
        Naming the file (or ``--set``), the key and, for unknown keys, the closest valid key.
    """
    path = Path(path)
    raw, origin = _load_raw(path)
    raw = _merge({"network": {"profiles": DEFAULT_PROFILES}}, raw)
    overridden: set[str] = set()
    for text in overrides:
        key, value = parse_override(text)
        old = _get(raw, key)
        if key.startswith("data.") and isinstance(value, str):
            value = str(Path(value).resolve())
        _set(raw, key, value)
        overridden.add(key)
        log.info("override from --set: %s: %s -> %s", key, "(unset)" if old is _MISSING else old, value)
    if "name" not in raw:
        raw["name"] = path.stem
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_explain(exc, origin, overridden, path.resolve())) from None
    files = len(set(origin.values()))
    log.debug("load_scenario read %s (%d file%s, %d --set override%s)", path.name, files, "s" * (files != 1),
              len(overridden), "s" * (len(overridden) != 1))
    return scenario


def hosts_able_to_hold(scenario: Scenario, inputs: Inputs, system_id: str) -> list[str]:
    """Hosts with a site that is not excluded, of a kind allowed for the system, with room for one unit.

    Parameters
    ----------
    scenario
        Its exclusions count.
    inputs
        The tables.
    system_id
        A system of the tables.

    Returns
    -------
    list of str
        Host ids, sorted.
    """
    c = scenario.constraints
    system = inputs.systems[system_id]
    return sorted({site.host_id for s, site in inputs.sites.items()
                   if s not in c.exclude_sites and site.host_id not in c.exclude_hosts
                   and units_fitting(site, system) >= 1})


def _check_fit(scenario: Scenario, inputs: Inputs) -> list[str]:
    """Rules whose numbers the tables or the machine cannot meet."""
    problems = []
    requirement = inputs.requirement
    for w, rule in scenario.systems.items():
        if w not in inputs.systems or requirement.get(w, 0) == 0:
            continue
        if rule.min_hosts is not None:
            able = hosts_able_to_hold(scenario, inputs, w)
            if rule.min_hosts > len(able):
                problems.append(f"systems.{w}.min_hosts: {rule.min_hosts} hosts wanted but only {len(able)} can hold "
                                f"{w} ({', '.join(able) or 'none'}: a site not excluded, of an allowed kind, with "
                                "room for one unit); lower min_hosts or add sites")
        if rule.resilience is not None:
            k, n = rule.resilience.lose_hosts, len(inputs.hosts)
            if k > n:
                problems.append(f"systems.{w}.resilience.lose_hosts: {k} is more than the {n} hosts in hosts.csv")
            elif math.comb(n, k) > MAX_LOSS_SETS:
                problems.append(f"systems.{w}.resilience.lose_hosts: {k} of {n} hosts gives {math.comb(n, k):,} sets "
                                f"of lost hosts, more than the {MAX_LOSS_SETS:,} depotsite enumerates; lower it")
    cpus = os.cpu_count() or 1
    if scenario.solver.threads > cpus:
        problems.append(f"solver.threads: {scenario.solver.threads} is more than the {cpus} CPUs of this machine; "
                        f"set it to {cpus} or fewer")
    return problems


def check_against_inputs(scenario: Scenario, inputs: Inputs) -> None:
    """Every id the scenario names must exist in the input tables, and its rules must fit them and this
    machine (``min_hosts``, ``resilience.lose_hosts``, ``solver.threads``).

    Raises
    ------
    ScenarioError
        One line per problem: an unknown id with the closest known id, or a rule that cannot be met.
    """
    problems = _check_fit(scenario, inputs)

    def known(kind: str, value: str, choices: Any, key: str) -> None:
        if value not in choices:
            close = difflib.get_close_matches(value, list(choices), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(choices))}"
            problems.append(f"{key}: unknown {kind} {shown(value)}; {hint}")

    for h, host_rule in scenario.hosts.items():
        known("host", h, inputs.hosts, f"hosts.{h}")
        for w in host_rule.max_unit_share:
            known("system", w, inputs.systems, f"hosts.{h}.max_unit_share")
    for g, group_rule in scenario.groups.items():
        for w in group_rule.max_unit_share:
            known("system", w, inputs.systems, f"groups.{g}.max_unit_share")
        if group_rule.hosts is not None:
            for h in group_rule.hosts:
                known("host", h, inputs.hosts, f"groups.{g}.hosts")
        elif not any(host.group == g for host in inputs.hosts.values()):
            problems.append(f"groups.{g}: no host has group {g!r} in hosts.csv; set groups.{g}.hosts = [...]")
    for w in scenario.systems:
        known("system", w, inputs.systems, f"systems.{w}")
    c = scenario.constraints
    for s in (*c.force_open, *c.exclude_sites):
        known("site", s, inputs.sites, "constraints.force_open" if s in c.force_open else "constraints.exclude_sites")
    for h in c.exclude_hosts:
        known("host", h, inputs.hosts, "constraints.exclude_hosts")
    for s in set(c.force_open) & set(c.exclude_sites):
        problems.append(f"constraints: site {s!r} is both forced open and excluded; keep it in one list")
    for s in c.force_open:
        if s in inputs.sites and inputs.sites[s].host_id in c.exclude_hosts:
            problems.append(f"constraints.force_open: site {s!r} is in excluded host {inputs.sites[s].host_id}")
    for name, profile in scenario.network.profiles.items():
        if profile.rest_h > 0 and profile.max_driving_h_per_day is None:
            problems.append(f"network.profiles.{name}: rest_h needs max_driving_h_per_day")
    if problems:
        raise ScenarioError(problems)
