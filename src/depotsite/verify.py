"""``depotsite verify``: re-derive from a run folder that every rule of its scenario holds.

This is the check an independent verifier runs, so it shares no code with the model, the solver or the
results. It reads every input only through the paths the manifest recorded (and their SHA-256), checks
the SHA-256 of every output (and that ``layers.gpkg`` holds the run's GeoJSON layers), recomputes the
transit hours from the roads without the cache (or reads the bring-your-own matrix), and hands a plain
record of the run to the rule checks of ``depotsite.checks`` and the figure checks of
``depotsite.figures`` (the same checks the post-solve check runs). With the original scenario file it
also checks that the resolved scenario is that file plus the recorded overrides. A malformed file is a
violation like any other: ``verify_run`` never raises for one.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depotsite.checks import RULE_CHECKS, DeliveryRow, RunRecord, run_checks, transit_sha256
from depotsite.errors import InputError
from depotsite.figures import FIGURE_CHECKS
from depotsite.output.runread import (
    ALLOCATION,
    OUTPUT_FILES,
    deliveries_schema,
    read_json,
    read_rows_checked,
    read_text,
)
from depotsite.purchasers import read_purchasers
from depotsite.tables import OPTIONAL, SCHEMAS, file_sha256
from depotsite.traveltimes import matrix_schema

TABLES = ("hosts", "sites", "systems", "destinations", "demand")


@dataclass
class Verification:
    """What ``verify_run`` checked and every violation it found."""

    checks: list[str] = field(default_factory=list)  # what was checked
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


class _Stop(Exception):
    """Nothing further can be checked (the violation that says why is already recorded)."""


def _text(path: Path, v: Verification) -> str | None:
    return read_text(path, v.violations)


def _json(path: Path, v: Verification) -> Any:
    return read_json(path, v.violations)


def _rows(
    path: Path, schema: dict[str, Any], v: Verification, optional: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    rows = read_rows_checked(path, schema, v.violations, optional)
    if rows is None:
        raise _Stop
    return rows


def _manifest(run: Path, v: Verification) -> dict[str, Any]:
    doc = _json(run / "manifest.json", v)
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("inputs"), dict)
        or not all(
            isinstance(e, dict) and isinstance(e.get("path"), str) and isinstance(e.get("sha256"), str)
            for e in doc["inputs"].values()
        )
    ):
        if doc is not None:
            v.violations.append("manifest.json: no 'inputs' table of {path, sha256} entries")
        raise _Stop
    overrides = doc.get("overrides", [])
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        v.violations.append(f"manifest.json: 'overrides' must be a list of key=value strings, got {overrides!r}")
        raise _Stop
    return doc


def recorded_outputs(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest's output SHA-256 by file name, or None when it records them as no table (or not at all)."""
    outputs = manifest.get("outputs")
    return outputs if isinstance(outputs, dict) else None


def check_files(run: Path, manifest: dict[str, Any], v: Verification) -> None:
    """Every input and every output against the SHA-256 the manifest recorded."""
    for role, entry in manifest["inputs"].items():
        path = Path(entry["path"])
        if not path.is_file():
            v.violations.append(f"input {role} ({path}) is missing; the run cannot be verified against it")
        elif (now := file_sha256(path)) != entry["sha256"]:
            v.violations.append(
                f"input {role} ({path}) changed after the run: SHA-256 {now[:12]}... "
                f"differs from the manifest's {entry['sha256'][:12]}..."
            )
    outputs = recorded_outputs(manifest)
    if outputs is None:
        v.violations.append("manifest.json records no output SHA-256 ('outputs'); rewrite the run with this version")
        outputs = {}
    for name in sorted(set(OUTPUT_FILES) - set(outputs)):
        if outputs:
            v.violations.append(f"manifest.json records no SHA-256 for output {name}")
    for name, digest in sorted(outputs.items()):
        path = run / str(name)
        if not path.is_file():
            v.violations.append(f"output {name} is missing from the run folder")
        elif (now := file_sha256(path)) != digest:
            v.violations.append(
                f"output {name} changed after the run: SHA-256 {now[:12]}... differs from the "
                f"manifest's {str(digest)[:12]}..."
            )
    v.checks.append(f"{len(manifest['inputs'])} inputs and {len(outputs)} outputs against their SHA-256")


GEOPACKAGE = "layers.gpkg"
LAYERS = ("depots", "routes", "sites", "destinations")


def check_geopackage(run: Path, manifest: dict[str, Any], v: Verification) -> None:
    """``layers.gpkg``, when the run wrote one: its tables are the run's GeoJSON layers, feature for feature
    (its bytes are already checked against the manifest; this checks that it holds what it claims to)."""
    if GEOPACKAGE not in (recorded_outputs(manifest) or {}) or not (run / GEOPACKAGE).is_file():
        return  # written before GeoPackages, or missing, or no digests at all (check_files says so)
    import pyogrio

    try:
        found = {
            str(name): pyogrio.read_info(run / GEOPACKAGE, layer=str(name))["features"]
            for name, _ in pyogrio.list_layers(run / GEOPACKAGE)
        }
    except (RuntimeError, OSError) as exc:  # pyogrio's DataSourceError, DataLayerError: RuntimeErrors
        v.violations.append(f"output {GEOPACKAGE} cannot be read as a GeoPackage ({type(exc).__name__}: {exc})")
        return
    for name in LAYERS:
        doc = _json(run / f"{name}.geojson", v) if (run / f"{name}.geojson").is_file() else None
        features = doc.get("features") if isinstance(doc, dict) else None
        if name not in found:
            v.violations.append(f"output {GEOPACKAGE} has no layer {name} (it has {', '.join(sorted(found))})")
        elif isinstance(features, list) and found[name] != len(features):
            v.violations.append(
                f"output {GEOPACKAGE}: layer {name} holds {found[name]} features, {name}.geojson {len(features)}"
            )
    v.checks.append(f"{GEOPACKAGE}: {len(found)} layers against the GeoJSON layers")


def check_data_paths(data: dict[str, Any], manifest: dict[str, Any], v: Verification) -> None:
    """The resolved scenario's [data] must name exactly the files the manifest recorded."""
    recorded = {role: str(Path(e["path"])) for role, e in manifest["inputs"].items()}
    stated: dict[str, str] = {}
    for role, value in data.items():
        if role in ("roads", "rail"):
            from depotsite.network.graph import road_files

            files = road_files(Path(str(value)))
            names = [role] if len(files) == 1 else [f"{role}_{f.name.split('.')[0]}" for f in files]
            stated.update({n: str(f.resolve()) for n, f in zip(names, files, strict=True)})
        else:
            stated[role] = str(Path(str(value)).resolve())
    for role in sorted(set(stated) | set(recorded)):
        if stated.get(role) != recorded.get(role):
            v.violations.append(
                f"data: [data] {role} in scenario.resolved.toml is {stated.get(role)}, but the "
                f"manifest recorded {recorded.get(role)}; verify reads inputs only through the "
                "manifest"
            )
    v.checks.append("[data] paths of the resolved scenario against the manifest")


def _tables(manifest: dict[str, Any], v: Verification) -> dict[str, dict[Any, Any]]:
    paths = {t: Path(manifest["inputs"][t]["path"]) for t in TABLES if t in manifest["inputs"]}
    if len(paths) < len(TABLES):
        v.violations.append(f"manifest.json: inputs {', '.join(sorted(set(TABLES) - set(paths)))} not recorded")
        raise _Stop
    tables: dict[str, dict[Any, Any]] = {
        t: {row[f"{t[:-1]}_id"]: row for row in _rows(paths[t], SCHEMAS[t], v, OPTIONAL.get(t))} for t in TABLES[:4]
    }
    tables["demand"] = {
        (r["destination_id"], r["system_id"]): r["units"] for r in _rows(paths["demand"], SCHEMAS["demand"], v)
    }
    return tables


def _purchases(manifest: dict[str, Any], tables: dict[str, dict[Any, Any]], v: Verification) -> tuple[dict, ...]:
    """The purchasers table the manifest recorded, if any (its rows are the earmarks ``check_earmarks`` reads)."""
    entry = manifest["inputs"].get("purchasers")
    if entry is None:
        return ()
    try:
        return tuple(read_purchasers(Path(entry["path"]), tables["systems"], tables["hosts"]))
    except InputError as exc:
        v.violations.append(f"purchasers: {exc}")
        raise _Stop from None


def _transit(
    scenario: dict[str, Any], manifest: dict[str, Any], v: Verification
) -> tuple[dict[tuple[str, str, str], float], dict[tuple[str, str, str], float]]:
    """Transit and exposure hours from the run's own source: the matrix the manifest names, or the roads
    without cache."""
    if "travel_times" in manifest["inputs"]:
        matrix = Path(manifest["inputs"]["travel_times"]["path"])
        schema, transit = matrix_schema(matrix)
        rows = _rows(matrix, schema, v)
        hours = {(r["site_id"], r["destination_id"], r["system_id"]): r[transit] for r in rows}
        exposure = {(r["site_id"], r["destination_id"], r["system_id"]): r.get("exposure_h", 0.0) for r in rows}
        source = "the travel-time matrix"
    else:
        from pydantic import ValidationError

        from depotsite.inputs import load_inputs
        from depotsite.network import travel_times
        from depotsite.scenario import Scenario
        from depotsite.sources import with_profiles

        files = {t: Path(manifest["inputs"][t]["path"]) for t in TABLES}
        try:
            inputs = load_inputs(
                hosts=files["hosts"],
                sites=files["sites"],
                systems=files["systems"],
                destinations=files["destinations"],
                demand=files["demand"],
            )
            resolved = Scenario.model_validate(scenario)
            times = travel_times(with_profiles(inputs, resolved), resolved, use_cache=False)
        except (InputError, ValidationError) as exc:
            v.violations.append(f"travel times cannot be recomputed from the roads: {exc}")
            raise _Stop from None
        hours = {key: leg.hours for key, leg in times.legs.items()}
        exposure = times.exposure()
        source = "the roads (no cache)"
    recorded = (
        manifest.get("travel_times", {}).get("sha256") if isinstance(manifest.get("travel_times"), dict) else None
    )
    if recorded is None:
        v.violations.append("manifest.json records no SHA-256 of the travel times the run used")
    elif transit_sha256(hours) != recorded:
        v.violations.append(
            f"travel times: the hours recomputed from {source} differ from those the run used "
            f"(SHA-256 {transit_sha256(hours)[:12]}... vs the manifest's {str(recorded)[:12]}...)"
        )
    recorded_exposure = (
        manifest.get("travel_times", {}).get("exposure_sha256")
        if isinstance(manifest.get("travel_times"), dict)
        else None
    )
    if recorded_exposure is not None and transit_sha256(exposure) != recorded_exposure:
        v.violations.append(
            f"travel times: the exposure hours recomputed from {source} differ from those the run used "
            f"(SHA-256 {transit_sha256(exposure)[:12]}... vs the manifest's {str(recorded_exposure)[:12]}...)"
        )
    v.checks.append(f"{len(hours)} transit hours recomputed from {source}")
    return hours, exposure


def _outputs(run: Path, v: Verification) -> dict[str, Any]:
    stock: dict[tuple[str, str], int] = {}
    hosts: dict[tuple[str, str], str] = {}
    for r in _rows(run / "allocation.csv", ALLOCATION, v):
        key = (r["site_id"], r["system_id"])
        if key in stock:
            v.violations.append(f"allocation.csv: two rows for {key[0]}/{key[1]}")
        stock[key] = stock.get(key, 0) + r["units"]
        hosts[key] = r["host_id"]
    deliveries = tuple(
        DeliveryRow(
            r["site_id"],
            r["destination_id"],
            r["system_id"],
            r["units"],
            r["transit_h"],
            r["queue_h"],
            r["available_h"],
            r["last_available_h"],
            r.get("exposure_h"),
        )
        for r in _rows(run / "deliveries.csv", deliveries_schema(run / "deliveries.csv"), v)
    )
    docs = {name: _json(run / f"{name}.geojson", v) for name in ("depots", "routes")}
    summary = _json(run / "summary.json", v)
    if not isinstance(summary, dict):
        if summary is not None:
            v.violations.append("summary.json: not a JSON object")
        raise _Stop
    return {"stock": stock, "stock_hosts": hosts, "deliveries": deliveries, "summary": summary, **docs}


def check_scenario(resolved: dict[str, Any], original: Path, manifest: dict[str, Any], v: Verification) -> None:
    """The resolved scenario must be the original file plus the manifest's overrides, key by key."""
    from depotsite.scenario import load_scenario

    overrides = manifest.get("overrides", [])
    try:
        expected = load_scenario(original, overrides=overrides).model_dump(mode="json", exclude_none=True)
    except InputError as exc:
        v.violations.append(f"scenario: {original} with the recorded overrides does not load: {exc}")
        return
    want, have = _flatten(expected), _flatten(resolved)
    for key in sorted(set(want) | set(have)):
        if want.get(key) != have.get(key):
            v.violations.append(
                f"scenario: {key} is {have.get(key, '(unset)')!r} in scenario.resolved.toml, but "
                f"{original.name} with the recorded overrides gives {want.get(key, '(unset)')!r}"
            )
    v.checks.append(f"scenario.resolved.toml is {original.name} plus {len(overrides)} recorded override(s)")


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(_flatten(value, name))  # an empty table is the same as an absent one
        else:
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def _verify(run: Path, original: Path | None, v: Verification) -> None:
    missing = [name for name in ("manifest.json", *OUTPUT_FILES) if not (run / name).is_file()]
    if missing:
        v.violations.append(f"{run}: missing {', '.join(missing)}; not a complete depotsite run folder")
        raise _Stop
    manifest = _manifest(run, v)
    check_files(run, manifest, v)
    check_geopackage(run, manifest, v)
    text = _text(run / "scenario.resolved.toml", v)
    try:
        scenario = tomllib.loads(text or "")
    except tomllib.TOMLDecodeError as exc:
        v.violations.append(f"scenario.resolved.toml: not valid TOML ({exc})")
        raise _Stop from None
    if text is None or not isinstance(scenario.get("data"), dict):
        v.violations.append("scenario.resolved.toml: no [data] table")
        raise _Stop
    check_data_paths(scenario["data"], manifest, v)
    if original is not None:
        check_scenario(scenario, Path(original), manifest, v)
    if any(x.startswith("input ") for x in v.violations):
        raise _Stop  # every later check would be against inputs the run did not use
    tables = _tables(manifest, v)
    transit, exposure = _transit(scenario, manifest, v)
    record = RunRecord(
        hosts=tables["hosts"],
        sites=tables["sites"],
        systems=tables["systems"],
        destinations=tables["destinations"],
        demand={k: n for k, n in tables["demand"].items() if n > 0},
        scenario=scenario,
        transit=transit,
        purchases=_purchases(manifest, tables, v),
        exposure=exposure,
        **_outputs(run, v),
    )
    done, found = run_checks(record, RULE_CHECKS + FIGURE_CHECKS)
    v.checks += done
    v.violations += found


def verify_run(run: Path, *, scenario: Path | None = None) -> Verification:
    """Every rule of the run's resolved scenario and every reported figure, recomputed from the files.

    Parameters
    ----------
    run
        A run folder written by ``solve``.
    scenario
        The original scenario file: also check that the resolved scenario is it plus the recorded overrides.

    Returns
    -------
    Verification
        What was checked, and one line per violation (never raises for a violation or a malformed file).
    """
    v = Verification()
    try:
        _verify(Path(run), scenario, v)
    except _Stop:
        pass  # the violation that stopped it is recorded
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:  # a file of an unexpected shape
        v.violations.append(f"{run}: a run file is malformed or unreadable ({type(exc).__name__}: {exc})")
    return v
