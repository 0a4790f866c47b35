"""Scenario files: TOML validated by pydantic, with ``extends`` and ``--set`` overrides.

Precedence, highest first: ``--set key.path=value`` > the scenario file > the file it ``extends``
(recursively) > the code defaults below. Every override is logged as ``key: old -> new``. Relative paths
in ``[data]`` are resolved against the file that states them, so a resolved scenario written elsewhere
(with absolute paths) solves again from wherever it lies.
"""

from __future__ import annotations

import copy
import difflib
import json
import logging
import tomllib
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from depotsite.errors import ScenarioError

log = logging.getLogger(__name__)

DATA_KEYS = ("hosts", "sites", "systems", "destinations", "demand", "roads", "boundaries", "travel_times",
             "purchasers")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class DataConfig(_Strict):
    hosts: Path
    sites: Path
    systems: Path
    destinations: Path
    demand: Path
    roads: Path | None = None
    """Folder with nodes.csv.gz/edges.csv.gz, or a user's .osm / .osm.pbf file."""
    boundaries: Path | None = None
    travel_times: Path | None = None
    """Bring-your-own matrix (site_id, destination_id, system_id, hours); replaces the road computation."""
    purchasers: Path | None = None

    @model_validator(mode="after")
    def _need_times(self) -> DataConfig:
        if self.travel_times is None and (self.roads is None or self.boundaries is None):
            raise ValueError("name either [data] travel_times, or both [data] roads and [data] boundaries")
        return self


class Profile(_Strict):
    mode: Literal["road", "air"] = "road"
    speed_kph: float = Field(60.0, gt=0)
    """Convoy cruise speed on the road graph."""
    border_crossing_h: float = Field(3.0, ge=0)
    """Delay added each time a route crosses a national border."""
    max_driving_h_per_day: float | None = Field(None, gt=0, le=24)
    rest_h: float = Field(0.0, ge=0)
    """Rest after each full day of driving (with max_driving_h_per_day)."""
    access_speed_kph: float = Field(30.0, gt=0)
    """Speed on the leg between a point and its snapped road node."""
    cruise_kph: float = Field(750.0, gt=0)
    """Air profiles: ferry-flight cruise speed over the great circle."""
    prep_h: float = Field(0.0, ge=0)
    """Air profiles: preparation before take-off."""


DEFAULT_PROFILES: dict[str, dict[str, Any]] = {
    "tracked": {"mode": "road", "speed_kph": 45.0, "border_crossing_h": 3.0},
    "wheeled": {"mode": "road", "speed_kph": 60.0, "border_crossing_h": 3.0},
    "air": {"mode": "air", "cruise_kph": 750.0, "prep_h": 4.0, "border_crossing_h": 0.0},
}


class NetworkConfig(_Strict):
    avoid_countries: tuple[str, ...] = ("BY", "RU")
    release_delay_h: float = Field(72.0, ge=0)
    """Default consultation/unlock time for hosts without their own."""
    snap_warn_km: float = Field(25.0, gt=0)
    """Warn when a point lies farther than this from the nearest road node."""
    snap_max_km: float = Field(100.0, gt=0)
    """A point farther than this from every road is an input error (wrong coordinates, or no roads there)."""
    profiles: dict[str, Profile] = Field(default_factory=dict)


class ObjectiveConfig(_Strict):
    time: Literal["mean", "makespan"] = "mean"
    risk: Literal["max_host_share", "hhi", "expected_loss"] = "max_host_share"
    time_weight: float = Field(1.0, ge=0)
    risk_weight: float = Field(2.0, ge=0)
    cost_weight: float = Field(0.0, ge=0)
    hhi_tangents: int = Field(41, ge=2)
    """Number of tangent cuts per host that approximate the Herfindahl index from below."""


class HostRule(_Strict):
    max_value_share: float | None = Field(None, ge=0, le=1)
    max_unit_share: dict[str, float] = Field(default_factory=dict)
    """Per system: at most this fraction of the requirement in this host."""
    release_delay_h: float | None = Field(None, ge=0)
    threat: float = Field(0.0, ge=0, le=1)
    """Probability used by the expected_loss risk measure."""


class GroupRule(_Strict):
    hosts: tuple[str, ...] | None = None
    """Members; by default the hosts whose `group` column in hosts.csv names this group."""
    max_value_share: float | None = Field(None, ge=0, le=1)
    max_unit_share: dict[str, float] = Field(default_factory=dict)


class Resilience(_Strict):
    lose_hosts: int = Field(1, ge=1)
    keep_fraction: float = Field(..., ge=0, le=1)


class SystemRule(_Strict):
    min_hosts: int | None = Field(None, ge=1)
    max_host_share: float | None = Field(None, ge=0, le=1)
    deadline_h: float | None = Field(None, gt=0)
    resilience: Resilience | None = None
    priority: float = Field(1.0, gt=0)


class ConstraintsConfig(_Strict):
    max_sites: int | None = Field(None, ge=1)
    budget_musd: float | None = Field(None, ge=0)
    force_open: tuple[str, ...] = ()
    exclude_sites: tuple[str, ...] = ()
    exclude_hosts: tuple[str, ...] = ()


class SolverConfig(_Strict):
    time_limit_s: float = Field(60.0, gt=0)
    mip_gap: float = Field(0.0, ge=0)
    threads: int = Field(2, ge=1)
    log: bool = False


class ReportConfig(_Strict):
    crew_rotation_factor: float = Field(2.0, ge=1)
    """Crews to train and keep per crew position (rotation and sustainment)."""
    counted_share: float = Field(1.0, ge=0, le=1)


class Scenario(_Strict):
    name: str
    description: str = ""
    data: DataConfig
    network: NetworkConfig = NetworkConfig()
    objective: ObjectiveConfig = ObjectiveConfig()
    hosts: dict[str, HostRule] = Field(default_factory=dict)
    groups: dict[str, GroupRule] = Field(default_factory=dict)
    systems: dict[str, SystemRule] = Field(default_factory=dict)
    constraints: ConstraintsConfig = ConstraintsConfig()
    solver: SolverConfig = SolverConfig()
    report: ReportConfig = ReportConfig()

    def to_toml(self) -> str:
        """The scenario as TOML, every value explicit and every path absolute."""
        return dump_toml(self.model_dump(mode="json", exclude_none=True))


# --- TOML writing (tomllib only reads) ------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} to TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def dump_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Write nested dicts as TOML: scalars and lists first, then each dict as a ``[table]``."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    out = "\n".join(lines) + ("\n" if lines else "")
    for key, value in data.items():
        if isinstance(value, dict) and value:
            name = f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key)
            out += f"\n[{name}]\n" + dump_toml(value, name)
    return out


# --- loading --------------------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ScenarioError([f"{path}: scenario file not found"])
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{path}: not valid TOML ({exc})"]) from None


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
    raw = _absolute_data(_read_toml(path), path.parent)
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
    """Split ``key.path=value``; the value is read as TOML (numbers, booleans, lists, strings)."""
    if "=" not in text:
        raise ScenarioError([f"--set {text!r}: expected key.path=value, e.g. hosts.PL.max_value_share=0.3"])
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ScenarioError([f"--set {text!r}: the key is empty or has an empty part"])
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
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
            problems.append(f"{where}: unknown key {loc!r}{suggestion}")
        else:
            problems.append(f"{where}: {loc or 'scenario'}: {error['msg']} (got {error.get('input')!r})")
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


def check_against_inputs(scenario: Scenario, inputs: Any) -> None:
    """Every id the scenario names must exist in the input tables.

    Raises
    ------
    ScenarioError
        One line per unknown id, with the closest known id.
    """
    problems = []

    def known(kind: str, value: str, choices: Any, key: str) -> None:
        if value not in choices:
            close = difflib.get_close_matches(value, list(choices), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(choices))}"
            problems.append(f"{key}: unknown {kind} {value!r}; {hint}")

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
