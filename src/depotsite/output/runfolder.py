"""The run folder as one type: written here (CSV, JSON, GeoJSON and a GeoPackage of the same layers, the
resolved scenario, a manifest and maps) and read back here (``RunFolder``) by every command that works on
a run: compare, report, stress, verify. The names of the objective terms and their units are defined here once.

Everything is written into a temporary sibling folder first and renamed into place at the end, so a
run folder is either complete or absent, and a failed run never replaces an earlier good one. Reading
needs none of the model's code (``verify`` relies on that): the model's types are only annotations here.
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depotsite import __version__
from depotsite.checks import transit_sha256
from depotsite.output.outdir import atomic_folder, marker
from depotsite.output.runread import EXPOSURE_COLUMNS
from depotsite.output.runread import RunFolder as RunFolder  # re-exported: the run folder type, read back
from depotsite.output.units import risk_unit as risk_unit  # re-exported: the readers of a run use it
from depotsite.tables import file_sha256, write_csv

if TYPE_CHECKING:
    from depotsite.instance import Instance
    from depotsite.overrides import Override
    from depotsite.results import RunResult
    from depotsite.traveltimes import TravelTimes

log = logging.getLogger(__name__)

# summary.json term name -> (RunResult.terms key, unit); the risk unit depends on the measure (risk_unit)
TERMS = {"time": ("time_h", "hours"), "risk": ("risk", None), "cost": ("cost_musd", "M USD")}


WEIGHTS = ("time_weight", "risk_weight", "cost_weight", "exposure_weight")  # summary.json's weights


def term_unit(term: str, risk_measure: str) -> str:
    """The unit of one objective term as summary.json states it."""
    return TERMS[term][1] or risk_unit(risk_measure)


def input_files(p: Instance) -> dict[str, Path]:
    """Every file the run read, by role (``roads`` and ``rail`` may each stand for two files)."""
    return data_files(p.scenario.data)


def data_files(data: Any) -> dict[str, Path]:
    """Every file a scenario's ``[data]`` table names, by role (``roads`` and ``rail`` may each stand for two
    files)."""
    tables = ("hosts", "sites", "systems", "destinations", "demand")
    files: dict[str, Path] = {k: Path(getattr(data, k)) for k in tables}
    if data.travel_times is not None:
        files["travel_times"] = Path(data.travel_times)
    else:
        from depotsite.network import road_files

        assert data.roads is not None and data.boundaries is not None
        for role in ("roads", "rail"):
            source = getattr(data, role)
            if source is None:
                continue
            if Path(source).is_dir():  # the extract: roads_nodes, roads_edges (rail_nodes, rail_edges)
                files.update({f"{role}_{f.name.split('.')[0]}": f for f in road_files(source)})
            else:
                files[role] = Path(source)
        files["boundaries"] = Path(data.boundaries)
    if data.purchasers is not None:
        files["purchasers"] = Path(data.purchasers)
    for role in ("regions", "countries", "front_line"):
        if getattr(data, role) is not None:
            files[role] = Path(getattr(data, role))
    return files


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def manifest(
    p: Instance,
    *,
    command: list[str] | None = None,
    overrides: Sequence[str] = (),
    travel: TravelTimes | None = None,
    outputs: dict[str, str] | None = None,
) -> dict[str, Any]:
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
            "depotsite": __version__,
            "python": platform.python_version(),
            "pyomo": _package_version("pyomo"),
            "highspy": _package_version("highspy"),
            SOLVER_NAME: solver_version(),
            "osmnx": _package_version("osmnx"),
            "scipy": _package_version("scipy"),
        },
        "platform": platform.platform(),
    }
    if travel is not None:
        hours = {k: leg.hours for k, leg in travel.legs.items()}
        doc["travel_times"] = {
            "source": travel.source,
            "pairs": len(hours),
            "sha256": transit_sha256(hours),
            "exposure_sha256": transit_sha256(travel.exposure()),
        }
    return doc


def summary(
    result: RunResult,
    p: Instance,
    travel: TravelTimes,
    *,
    changes: Sequence[Override] = (),
    bound: Mapping[str, Any] | None = None,
    explanation: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``summary.json`` document: the run's name and what changed, status, objective and terms, shares,
    host units, times and crews.

    Parameters
    ----------
    result, p, travel
        The posture, the resolved numbers of its model and the travel times it used.
    changes
        Every change made to the scenario file (``depotsite.scenario.resolve_scenario``), listed as
        ``overrides``: key, old value (null when unset), new value and where from.
    bound
        For a Pareto point or an alternative: the bound that made it (listed as ``bound``).
    explanation
        Which rules bind and why each site is open (``depotsite.analysis.binding.as_dict``), when asked for.

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
        "description": p.scenario.description,
        "overrides": [c.as_json() for c in changes],
        **({"bound": dict(bound)} if bound is not None else {}),
        "status": result.status,
        "objective": result.objective,
        "gap": result.gap,
        "terms": {
            term: {
                "value": result.terms[key],
                "unit": term_unit(term, result.risk_measure),
                **({"measure": result.time_measure} if term == "time" else {}),
                **({"measure": result.risk_measure} if term == "risk" else {}),
            }
            for term, (key, _) in TERMS.items()
        },
        "weights": {
            k: getattr(p.scenario.objective, k)
            for k in ("time_weight", "risk_weight", "cost_weight", "exposure_weight")
        },
        "package": {"units": p.requirement, "value_musd": p.package},
        "open_sites": list(result.open_sites),
        "host_value_shares": {h: round(v, 6) for h, v in result.host_value_shares.items()},
        "group_value_shares": {g: round(v, 6) for g, v in result.group_value_shares.items()},
        "host_units": dict(units_by_host),
        "system_times_h": {w: {"mean": t.mean_h, "worst": t.worst_h} for w, t in result.system_times.items()},
        "crews": {"rotation_factor": p.scenario.report.crew_rotation_factor, "by_system": result.crews},
        "exposure": exposure_summary(result, p, travel),
        "travel_times_source": travel.source,
        "timings_s": result.timings,
        "warnings": list(result.warnings),
        **({"reduction": dict(p.reduction)} if p.reduction else {}),
        **({"explanation": dict(explanation)} if explanation is not None else {}),
    }


def exposure_summary(result: RunResult, p: Instance, travel: TravelTimes) -> dict[str, Any]:
    """Hours of the deliveries inside Ukraine and exposed in transit, per system and in all (unit-weighted).

    Parameters
    ----------
    result, p, travel
        The posture, the resolved numbers of its model and the travel times it used.

    Returns
    -------
    dict
        ``exposure_km``, ``weight`` (``[objective] exposure_weight``), ``unit_hours`` (units x exposure hours,
        summed) and per system the units' mean hours inside Ukraine, mean and worst exposure hours.
    """
    by_system: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for x in result.deliveries:
        leg = travel.legs[x.site_id, x.destination_id, x.system_id]
        by_system[x.system_id].append((x.units, leg.ukraine_h, leg.exposure_h))
    return {
        "exposure_km": p.scenario.network.exposure_km,
        "weight": p.exposure_weight,
        "unit_hours": sum(n * e for rows in by_system.values() for n, _, e in rows),
        "by_system": {
            w: {
                "mean_ukraine_h": sum(n * u for n, u, _ in rows) / sum(n for n, _, _ in rows),
                "mean_exposure_h": sum(n * e for n, _, e in rows) / sum(n for n, _, _ in rows),
                "worst_exposure_h": max(e for _, _, e in rows),
            }
            for w, rows in by_system.items()
        },
    }


def write_run(
    out: Path,
    result: RunResult,
    p: Instance,
    travel: TravelTimes,
    *,
    command: list[str] | None = None,
    overrides: Sequence[str] = (),
    changes: Sequence[Override] = (),
    maps: bool = True,
    bound: Mapping[str, Any] | None = None,
    explanation: Mapping[str, Any] | None = None,
    attachments: Mapping[str, Path] | None = None,
) -> Path:
    """Check the posture against every rule of its scenario, then write every output into ``out`` atomically.

    Parameters
    ----------
    out
        The run folder (replaced atomically).
    result, p, travel
        The posture, the resolved numbers of its model and the travel times it used.
    command, overrides
        Recorded in the manifest: the command line and the ``key=value`` overrides applied.
    changes, bound, explanation
        Listed in ``summary.json`` (see ``summary``); the explanation is also shown on ``map.html``.
    maps
        Also write ``map.html`` and ``map.png``.
    attachments
        Further files to copy into the folder under these names (HiGHS's log), hashed with the outputs.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    NumericsError
        When the posture breaks a rule or its objective disagrees with its terms; nothing is written.
    """
    started = time.perf_counter()
    with atomic_folder(out) as folder:
        write_run_into(
            folder,
            result,
            p,
            travel,
            command=command,
            overrides=overrides,
            changes=changes,
            maps=maps,
            bound=bound,
            explanation=explanation,
            attachments=attachments,
        )
    log.info("write_run wrote %s in %.2f s", out, time.perf_counter() - started)
    return Path(out)


def write_run_into(
    folder: Path,
    result: RunResult,
    p: Instance,
    travel: TravelTimes,
    *,
    command: list[str] | None = None,
    overrides: Sequence[str] = (),
    changes: Sequence[Override] = (),
    maps: bool = True,
    bound: Mapping[str, Any] | None = None,
    explanation: Mapping[str, Any] | None = None,
    attachments: Mapping[str, Path] | None = None,
) -> None:
    """``write_run`` into a folder that is already staged: a run folder inside a Pareto front or a set of
    alternatives, or the staged run folder itself. The posture is checked first; nothing is written if it
    breaks a rule (``NumericsError``)."""
    from depotsite.output.geojson import (
        depots_geojson,
        destinations_geojson,
        routes_geojson,
        sites_geojson,
        write_geopackage,
    )
    from depotsite.selfcheck import check_posture

    summary_doc = summary(result, p, travel, changes=changes, bound=bound, explanation=explanation)
    depots, routes = depots_geojson(result, p), routes_geojson(result, p, travel)
    check_posture(result, p, travel, summary=summary_doc, depots=depots, routes=routes)
    folder.mkdir(exist_ok=True)
    write_csv(
        folder / "allocation.csv",
        ["site_id", "host_id", "system_id", "units"],
        [[s, p.host_of[s], w, n] for (s, w), n in result.stock.items()],
    )
    write_csv(
        folder / "deliveries.csv",
        [
            "site_id",
            "destination_id",
            "system_id",
            "units",
            "transit_h",
            "queue_h",
            "available_h",
            "last_available_h",
            *EXPOSURE_COLUMNS,
        ],
        [
            [x.site_id, x.destination_id, x.system_id, x.units]
            + [
                f"{h:.4f}"
                for h in (x.transit_h, x.queue_h, x.available_h, x.last_available_h, leg.ukraine_h, leg.exposure_h)
            ]
            for x in result.deliveries
            for leg in (travel.legs[x.site_id, x.destination_id, x.system_id],)
        ],
    )
    (folder / "summary.json").write_text(json.dumps(summary_doc, indent=2) + "\n")
    layers = {
        "depots": depots,
        "routes": routes,
        "sites": sites_geojson(result, p),
        "destinations": destinations_geojson(result, p),
    }
    for name, layer in layers.items():
        (folder / f"{name}.geojson").write_text(json.dumps(layer) + "\n")
    write_geopackage(folder / "layers.gpkg", layers)
    (folder / "scenario.resolved.toml").write_text(p.scenario.to_toml())
    if maps:
        from depotsite.output.maps import write_maps

        write_maps(folder, result, p, travel, explanation=explanation, changes=changes)
    for name, source in (attachments or {}).items():
        shutil.copyfile(source, folder / name)
    outputs = {f.name: file_sha256(f) for f in sorted(folder.iterdir()) if f.is_file()}
    (folder / "manifest.json").write_text(
        json.dumps(manifest(p, command=command, overrides=overrides, travel=travel, outputs=outputs), indent=2) + "\n"
    )
