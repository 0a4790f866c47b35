"""Write a run folder: CSV, JSON, GeoJSON (RFC 7946), the resolved scenario, a manifest and maps.

Everything is written into a temporary sibling folder first and renamed into place at the end, so a
run folder is either complete or absent, and a failed run never replaces an earlier good one.
"""

from __future__ import annotations

import json
import logging
import platform
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from depotsite import __version__
from depotsite.checks import transit_sha256
from depotsite.instance import Instance
from depotsite.output.geojson import depots_geojson, routes_geojson
from depotsite.output.outdir import atomic_folder, marker
from depotsite.results import RunResult
from depotsite.tables import file_sha256, write_csv
from depotsite.traveltimes import TravelTimes

log = logging.getLogger(__name__)


def input_files(p: Instance) -> dict[str, Path]:
    """Every file the run read, by role (``roads`` may stand for two files)."""
    data = p.scenario.data
    tables = ("hosts", "sites", "systems", "destinations", "demand")
    files: dict[str, Path] = {k: Path(getattr(data, k)) for k in tables}
    if data.travel_times is not None:
        files["travel_times"] = Path(data.travel_times)
    else:
        from depotsite.network import road_files

        assert data.roads is not None and data.boundaries is not None
        if Path(data.roads).is_dir():  # the extract: roads_nodes, roads_edges
            files.update({f"roads_{f.name.split('.')[0]}": f for f in road_files(data.roads)})
        else:
            files["roads"] = Path(data.roads)
        files["boundaries"] = Path(data.boundaries)
    if data.purchasers is not None:
        files["purchasers"] = Path(data.purchasers)
    return files


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def manifest(p: Instance, *, command: list[str] | None = None, overrides: list[str] | tuple[str, ...] = (),
             travel: TravelTimes | None = None, outputs: dict[str, str] | None = None) -> dict[str, Any]:
    """What a verifier needs to trust a run: input and output SHA-256, overrides, travel times, versions.

    Parameters
    ----------
    p
        The resolved numbers of the run (its inputs and scenario).
    command
        The command line (default: ``sys.argv``).
    overrides
        The ``key=value`` strings applied on top of the scenario file, as given.
    travel
        The travel times the run used: their source and the SHA-256 of their rows (``checks.transit_sha256``),
        so a verifier can check a cached matrix against a fresh computation.
    outputs
        File name -> SHA-256 of every output written before the manifest.

    Returns
    -------
    dict
        The JSON document written as ``manifest.json``.
    """
    from depotsite.solve import SOLVER_NAME, solver_version

    doc: dict[str, Any] = {
        **marker("run"),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command if command is not None else sys.argv,
        "overrides": list(overrides),
        "inputs": {
            role: {"path": str(path.resolve()), "sha256": file_sha256(path)} for role, path in input_files(p).items()
        },
        "outputs": dict(sorted((outputs or {}).items())),
        "versions": {
            "depotsite": __version__, "python": platform.python_version(), "pyomo": _package_version("pyomo"),
            "highspy": _package_version("highspy"), SOLVER_NAME: solver_version(),
            "osmnx": _package_version("osmnx"), "scipy": _package_version("scipy"),
        },
        "platform": platform.platform(),
    }
    if travel is not None:
        hours = {k: leg.hours for k, leg in travel.legs.items()}
        doc["travel_times"] = {"source": travel.source, "pairs": len(hours), "sha256": transit_sha256(hours)}
    return doc


def summary(result: RunResult, p: Instance, travel: TravelTimes) -> dict[str, Any]:
    """The ``summary.json`` document: status, objective and terms, shares, host units, times and crews.

    Parameters
    ----------
    result, p, travel
        The posture, the resolved numbers of its model and the travel times it used.

    Returns
    -------
    dict
        Every figure ``depotsite verify`` recomputes (see ``depotsite.figures``).
    """
    units_by_host: dict[str, dict[str, int]] = defaultdict(dict)
    for (h, w), n in sorted(result.host_units(p.host_of).items()):
        units_by_host[h][w] = n
    return {
        "scenario": result.scenario,
        "status": result.status,
        "objective": result.objective,
        "gap": result.gap,
        "terms": {
            "time": {"value": result.terms["time_h"], "unit": "hours", "measure": result.time_measure},
            "risk": {"value": result.terms["risk"], "unit": "HHI points" if result.risk_measure == "hhi"
                     else "percentage points", "measure": result.risk_measure},
            "cost": {"value": result.terms["cost_musd"], "unit": "M USD"},
        },
        "weights": {k: getattr(p.scenario.objective, k) for k in ("time_weight", "risk_weight", "cost_weight")},
        "package": {"units": p.requirement, "value_musd": p.package},
        "open_sites": list(result.open_sites),
        "host_value_shares": {h: round(v, 6) for h, v in result.host_value_shares.items()},
        "group_value_shares": {g: round(v, 6) for g, v in result.group_value_shares.items()},
        "host_units": dict(units_by_host),
        "system_times_h": {w: {"mean": t.mean_h, "worst": t.worst_h} for w, t in result.system_times.items()},
        "crews": {"rotation_factor": p.scenario.report.crew_rotation_factor, "by_system": result.crews},
        "travel_times_source": travel.source,
        "timings_s": result.timings,
        "warnings": list(result.warnings),
    }


def write_run(out: Path, result: RunResult, p: Instance, travel: TravelTimes, *,
              command: list[str] | None = None, overrides: list[str] | tuple[str, ...] = (),
              maps: bool = True) -> Path:
    """Check the posture against every rule of its scenario, then write every output into ``out`` atomically.

    Parameters
    ----------
    out
        The run folder (replaced atomically).
    result, p, travel
        The posture, the resolved numbers of its model and the travel times it used.
    command, overrides
        Recorded in the manifest: the command line and the ``key=value`` overrides applied.
    maps
        Also write ``map.html`` and ``map.png``.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    NumericsError
        When the posture breaks a rule or its objective disagrees with its terms; nothing is written.
    """
    from depotsite.selfcheck import check_posture

    started = time.perf_counter()
    summary_doc = summary(result, p, travel)
    depots, routes = depots_geojson(result, p), routes_geojson(result, p, travel)
    check_posture(result, p, travel, summary=summary_doc, depots=depots, routes=routes)
    with atomic_folder(out) as folder:
        write_csv(folder / "allocation.csv", ["site_id", "host_id", "system_id", "units"],
                   [[s, p.host_of[s], w, n] for (s, w), n in result.stock.items()])
        write_csv(folder / "deliveries.csv",
                   ["site_id", "destination_id", "system_id", "units", "transit_h", "available_h"],
                   [[x.site_id, x.destination_id, x.system_id, x.units, f"{x.transit_h:.4f}", f"{x.available_h:.4f}"]
                    for x in result.deliveries])
        (folder / "summary.json").write_text(json.dumps(summary_doc, indent=2) + "\n")
        (folder / "depots.geojson").write_text(json.dumps(depots) + "\n")
        (folder / "routes.geojson").write_text(json.dumps(routes) + "\n")
        (folder / "scenario.resolved.toml").write_text(p.scenario.to_toml())
        if maps:
            from depotsite.output.maps import write_maps

            write_maps(folder, result, p, travel)
        outputs = {f.name: file_sha256(f) for f in sorted(folder.iterdir()) if f.is_file()}
        (folder / "manifest.json").write_text(json.dumps(
            manifest(p, command=command, overrides=overrides, travel=travel, outputs=outputs), indent=2) + "\n")
    log.info("write_run wrote %s in %.2f s", out, time.perf_counter() - started)
    return Path(out)
