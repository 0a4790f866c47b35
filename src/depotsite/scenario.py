"""Scenario files: TOML validated by pydantic, with ``extends`` and ``--set`` overrides.

Precedence, highest first: ``--set key.path=value`` > the scenario file > the file it ``extends``
(recursively) > the code defaults below. Every override is logged as ``key: old -> new``. Relative paths
in ``[data]`` are resolved against the file that states them, so a resolved scenario written elsewhere
(with absolute paths) solves again from wherever it lies.
"""

from __future__ import annotations

import difflib
import logging
import os
import typing
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from depotsite.errors import ScenarioError
from depotsite.overrides import (
    MISSING,
    SET,
    Override,
    assign,
    changed_description,
    file_changes,
    get,
    merge,
    parse_override,
    run_name,
)
from depotsite.tables import MAX_HOURS, MAX_ROWS, SHOWN_CHARS, shown
from depotsite.tomlfile import dump_toml, read_toml

log = logging.getLogger(__name__)

DATA_KEYS = (
    "hosts",
    "sites",
    "systems",
    "destinations",
    "demand",
    "roads",
    "rail",
    "boundaries",
    "regions",
    "countries",
    "front_line",
    "travel_times",
    "purchasers",
)


MAX_SPEED_KPH = 10_000.0
MIN_SPEED_KPH = 0.1
MAX_WEIGHT = 1_000_000.0
"""Largest objective weight, priority and solver time limit (seconds)."""
MAX_HHI_TANGENTS = 1_000
MAX_LOSS_SETS = 10_000
"""Most sets of lost hosts one resilience rule may enumerate (one constraint each)."""
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


def _join_profiles(value: Any) -> Any:
    """A list of alternative transport profiles becomes the ';'-separated text systems.csv uses."""
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return ";".join(v.strip() for v in value)
    if isinstance(value, str):
        return ";".join(part.strip() for part in value.split(";") if part.strip()) or value
    return value


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
    rail: Path | None = None
    """Rail network for rail profiles: a folder with nodes.csv.gz/edges.csv.gz (the shipped data/rail, built by
    scripts/build_rail.py); unset, no system goes by rail (its road profiles carry it)."""
    boundaries: Path | None = None
    """GeoJSON of country polygons (country_id): tags road nodes, checks sites lie in their host."""
    regions: Path | None = None
    """GeoJSON of regions a scenario may avoid (region_id, name, source), e.g. the shipped Transnistria."""
    countries: Path | None = None
    """countries.csv (country_id, name, eu, schengen, source): the kind of each border crossing."""
    front_line: Path | None = None
    """GeoJSON of a front line (lines, or occupied areas): routes near it are exposed ([network] exposure_km)."""
    travel_times: Path | None = None
    """Bring-your-own matrix (site_id, destination_id, system_id, transit_h); replaces the road computation."""
    purchasers: Path | None = None
    """Optional purchasers.csv: who buys how many units of what, optionally earmarked for a host."""

    @model_validator(mode="after")
    def _need_times(self) -> DataConfig:
        if self.travel_times is None and (self.roads is None or self.boundaries is None):
            raise ValueError("name either [data] travel_times, or both [data] roads and [data] boundaries")
        return self


class BorderHours(_Strict):
    internal: Hours = 0.0
    """Both countries in the Schengen area: no border checks (Schengen Borders Code, data/README.md)."""
    external: Hours = 3.0
    """The Schengen area's external border (PL, SK, HU, RO to UA; RO to MD): exit and entry checks, customs."""
    non_eu: Hours = 6.0
    """Neither country in the EU or Schengen (MD to UA): two national controls without the EU's procedures."""


class Profile(_Strict):
    mode: Literal["road", "rail", "air"] = "road"
    """road: along the road graph; rail: by train on the [data] rail graph between railheads; air: a ferry
    flight between air bases."""
    speed_kph: Speed = 60.0
    """Convoy cruise speed on the road graph; for rail profiles the train's average speed on the rail graph."""
    border_h: BorderHours = BorderHours()
    """Delay per border crossing by kind: internal (Schengen), external (Schengen's outer border), non_eu."""
    max_driving_h_per_day: float | None = Field(None, gt=0, le=24)
    """March discipline: driving hours before a rest (unset: no rests)."""
    rest_h: Hours = 0.0
    """Rest after each full max_driving_h_per_day of driving."""
    load_h: Hours = 0.0
    """Hours to load the system onto its transport at the site and unload it at the destination, once a trip;
    for rail profiles the loading at the site's railhead only (the unloading is unload_h)."""
    access_speed_kph: Speed = 30.0
    """Speed on the leg between a point and its snapped road node; for rail profiles on the road leg between
    a point and its railhead (the straight line)."""
    unload_h: Hours = 0.0
    """Rail profiles: hours to unload the train at the destination's railhead."""
    gauge_break_h: Hours = 0.0
    """Rail profiles: hours at each break of gauge (1435 to 1520 mm, rail_gauge_mm of [data] countries):
    transshipment or bogie exchange."""
    railhead_km: float = Field(30.0, gt=0, le=1_000)
    """Rail profiles: a point's railhead is the nearest rail node within this distance (a rail_hub site or
    destination is its own railhead); beyond it the pair goes by the system's other profiles."""
    cruise_kph: Speed = 750.0
    """Air profiles: ferry-flight cruise speed over the great circle."""
    prep_h: Hours = 0.0
    """Air profiles: preparation before take-off."""

    @model_validator(mode="before")
    @classmethod
    def _no_single_border_delay(cls, data: Any) -> Any:
        if isinstance(data, dict) and "border_crossing_h" in data:
            hours = data["border_crossing_h"]
            raise ValueError(
                "border_crossing_h is replaced by border_h, the delay per crossing by kind; write "
                f"border_h = {{internal = 0, external = {hours}, non_eu = {hours}}} (or "
                f"border_h = {{internal = {hours}, external = {hours}, non_eu = {hours}}} to keep one delay at every "
                "crossing, Schengen-internal ones too)"
            )
        return data


# Sourced march discipline and transporters: data/README.md, "Transport profiles".
DEFAULT_PROFILES: dict[str, dict[str, Any]] = {
    "tracked": {"mode": "road", "speed_kph": 45.0, "max_driving_h_per_day": 10.0, "rest_h": 14.0},
    "wheeled": {"mode": "road", "speed_kph": 60.0, "max_driving_h_per_day": 20.0, "rest_h": 9.0},
    "het": {"mode": "road", "speed_kph": 44.0, "max_driving_h_per_day": 20.0, "rest_h": 9.0, "load_h": 2.0},
    "air": {"mode": "air", "cruise_kph": 750.0, "prep_h": 4.0},
    "rail": {"mode": "rail", "speed_kph": 40.0, "load_h": 6.0, "unload_h": 3.0, "gauge_break_h": 12.0},
}


class NetworkConfig(_Strict):
    avoid_countries: IdList = ("BY", "RU")
    """Countries whose roads are removed before routing and whose airspace ferry flights go around."""
    avoid_regions: IdList = ()
    """Regions of the [data] regions file treated like avoided countries (roads removed, airspace closed)."""
    airspace_margin_km: float = Field(25.0, ge=0, le=500)
    """Ferry flights keep at least this far from avoided countries and regions."""
    release_delay_h: Hours = 72.0
    """Default consultation/unlock time for hosts without their own."""
    snap_warn_km: float = Field(25.0, gt=0, le=20_000)
    """Warn when a point lies farther than this from the nearest road node."""
    snap_max_km: float = Field(100.0, gt=0, le=20_000)
    """A point farther than this from every road is an input error (wrong coordinates, or no roads there)."""
    exposure_km: float = Field(100.0, gt=0, le=1_000)
    """A route inside Ukraine within this distance of avoided territory or [data] front_line is exposed."""
    profiles: dict[str, Profile] = Field(default_factory=dict)
    """Transport profiles by name (systems.csv's profile column); tracked, wheeled, het, air and rail by default."""


class ObjectiveConfig(_Strict):
    time: Literal["system_mean", "mean", "value", "makespan"] = "system_mean"
    """Time term, each unit counted at release (+ its wait in its site's dispatch queue, see ``queues``) +
    transit: ``system_mean`` (default) the priority-weighted average over systems of each system's mean
    time, so a system of few units (six air-defence batteries) weighs as much as a large one (120 tanks);
    ``mean`` the priority-weighted mean over units; ``value`` the mean weighted by priority times unit
    value; ``makespan`` the last arrival."""
    queues: bool = False
    """Count each unit's wait in its site's dispatch queue in the mean time measures and in the deadlines,
    exactly (the makespan always counts it). Off by default: the queues make the model much harder to prove
    optimal (models/queues.toml); off, every reported time leaves the queue out too."""
    risk: Literal["max_host_share", "hhi", "expected_loss"] = "max_host_share"
    """Risk term: largest host value share, Herfindahl index, or threat-weighted expected loss."""
    time_weight: Weight = 1.0
    """Weight of the time term (hours) in the objective."""
    risk_weight: Weight = 2.0
    """Weight of the risk term: hours one point of risk is worth."""
    cost_weight: Weight = 0.0
    """Weight of the fixed cost of open sites (M USD)."""
    exposure_weight: Weight = 0.0
    """Extra hours counted in the time term per hour a route is exposed in transit (exposure_h)."""
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
    profile: Annotated[str | None, BeforeValidator(_join_profiles)] = Field(None, min_length=1, max_length=300)
    """Transport profile instead of systems.csv's (e.g. het: tracked systems on heavy-equipment transporters);
    a list (or ';'-separated alternatives, e.g. "rail;tracked") lets each pair take the fastest of them."""


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
    larger machine can still be read and verified). The shipped scenarios, taken together, solve in about the
    same wall time with one thread as with two, at half the CPU (``benchmarks/README.md``): 1 suits a shared
    machine."""
    log: bool = False
    """Show HiGHS's own log."""
    reduce: Literal["auto", "on", "off"] = "auto"
    """Exact reduction for large instances (`depotsite.reduction`): solve over the sites that are fastest
    for some destination in each host, price every site left out with the linear relaxation's duals, and
    add back any that could improve the posture, so the optimum is the full model's (`summary.json` says
    what was left out and why). `auto`: from 20,000 routes, when the time measure is a mean without the
    dispatch queue; `on`: whenever the time measure allows it; `off`: always the full model."""


class ReportConfig(_Strict):
    crew_rotation_factor: float = Field(2.0, ge=1, le=100)
    """Crews to train and keep per crew position (rotation and sustainment)."""
    counted_share: Share = 0.5
    """Share of the purchased value counted toward NATO's defence-spending target (financing report). The
    proposal says only "a portion"; 0.5 is an assumption (data/README.md)."""


class FinancingConfig(_Strict):
    honour_earmarks: bool = False
    """Store what purchasers earmarked for a host in that host: for each host and system, the units of
    [data] purchasers rows naming that host_id are a lower bound on the host's stock of the system (false:
    earmarks are only reported, and `depotsite report` warns when one is not met)."""


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
    financing: FinancingConfig = FinancingConfig()
    """Purchasers' commitments as rules of the posture (earmarks)."""

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


def _load_raw(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, Path], list[Override]]:
    """The merged raw dict of a file and its ``extends`` chain; which file set each top-level key; and the
    keys each variant file in the chain changes in the file it extends."""
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise ScenarioError([f"{path}: 'extends' forms a cycle ({chain})"])
    raw = _absolute_data(read_toml(path), path.parent)
    origin = dict.fromkeys(raw, path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, origin, []
    if not isinstance(parent, str):
        raise ScenarioError([f"{path}: 'extends' must be a file name string"])
    base, base_origin, changes = _load_raw(path.parent / parent, (*seen, path))
    mine = file_changes(base, raw, path.name)
    for change in mine:
        log.info("override from %s: %s: %s -> %s", path.name, change.key, change.old, change.new)
    return merge(base, raw), {**base_origin, **origin}, [*changes, *mine]


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


class Resolved(NamedTuple):
    """A loaded scenario and every change made to reach it (variant files over their bases, then ``--set``)."""

    scenario: Scenario
    changes: tuple[Override, ...]


def _apply_set(raw: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> list[Override]:
    changes = []
    for text in overrides:
        key, value = parse_override(text)
        old = get(raw, key)
        if key.startswith("data.") and isinstance(value, str):
            value = str(Path(value).resolve())
        assign(raw, key, value)
        changes.append(Override(key, old, value, SET))
        log.info("override from --set: %s: %s -> %s", key, old, value)
    return changes


def resolve_scenario(path: Path | str, *, overrides: list[str] | tuple[str, ...] = ()) -> Resolved:
    """Load, merge and validate a scenario, recording every change; name and describe what changed.

    A scenario changed by ``--set`` overrides is named after them (``base+2 overrides``, unless ``name``
    itself is set) and its description is regenerated to list them (unless ``description`` is set), so
    a changed posture never circulates under the reference's name and claims.

    Parameters
    ----------
    path
        The scenario TOML file.
    overrides
        ``key.path=value`` strings applied last (highest precedence).

    Returns
    -------
    Resolved
        The scenario and its changes, in the order applied.

    Raises
    ------
    ScenarioError
        Naming the file (or ``--set``), the key and, for unknown keys, the closest valid key.
    """
    path = Path(path)
    raw, origin, changes = _load_raw(path)
    raw = merge({"network": {"profiles": DEFAULT_PROFILES}}, raw)
    set_changes = _apply_set(raw, overrides)
    overridden = {c.key for c in set_changes}
    raw.setdefault("name", path.stem)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_explain(exc, origin, overridden, path.resolve())) from None
    resolved = scenario.model_dump(mode="json")
    set_changes = [
        replace(c, new=get(resolved, c.key)) if get(resolved, c.key) is not MISSING else c for c in set_changes
    ]  # as validated: "LT,LV" is the list it became
    original = (
        get(raw, "name")
        if "name" not in overridden
        else next((c.old for c in set_changes if c.key == "name" and isinstance(c.old, str)), path.stem)
    )
    named = {
        "name": scenario.name if "name" in overridden else run_name(scenario.name, set_changes),
        "description": scenario.description
        if "description" in overridden
        else changed_description(original, scenario.description, set_changes),
    }
    if named != {"name": scenario.name, "description": scenario.description}:
        try:
            scenario = Scenario.model_validate({**scenario.model_dump(), **named})
        except ValidationError as exc:
            raise ScenarioError(_explain(exc, origin, overridden, path.resolve())) from None
    files = len(set(origin.values()))
    log.debug(
        "load_scenario read %s (%d file%s, %d --set override%s)",
        path.name,
        files,
        "s" * (files != 1),
        len(set_changes),
        "s" * (len(set_changes) != 1),
    )
    return Resolved(scenario, (*changes, *set_changes))


def load_scenario(path: Path | str, *, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Load, merge and validate a scenario (``resolve_scenario`` without the record of changes).

    Parameters
    ----------
    path
        The scenario TOML file.
    overrides
        ``key.path=value`` strings applied last (highest precedence).

    Returns
    -------
    Scenario
        The frozen, validated scenario: ``--set`` > the file > the files it extends > code defaults, with
        every path resolved against the file that states it.

    Raises
    ------
    ScenarioError
        Naming the file (or ``--set``), the key and, for unknown keys, the closest valid key.
    """
    return resolve_scenario(path, overrides=overrides).scenario
