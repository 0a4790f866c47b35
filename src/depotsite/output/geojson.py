"""The run's GeoJSON layers (RFC 7946, lon/lat), with flat properties only (QGIS, kepler.gl, geopandas):

- ``depots.geojson``: the open sites (points) with ``units_<system>`` and their value;
- ``routes.geojson``: the used routes (lines) with ``transit_h``, ``release_h``, ``queue_h`` and
  ``available_h`` (release delay + transit + dispatch queue: when the units are available in Ukraine), the
  countries, regions and border crossings they pass and their hours inside Ukraine and exposed;
- ``sites.geojson``: every candidate site, open or not, with why a closed one holds nothing;
- ``destinations.geojson``: the destinations with their demand and when the last unit arrives.

Hours are named for what they measure everywhere (``transit_h``, ``available_h``), as in
``deliveries.csv``. ``layers.gpkg`` holds the same four layers, one table each, in one GeoPackage for
QGIS (``write_geopackage``: written from these documents, so the two can never disagree).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from depotsite.instance import Instance
from depotsite.results import RunResult
from depotsite.traveltimes import Leg, TravelTimes

LAYERS = ("depots", "routes", "sites", "destinations")
"""The layers of a run, as ``<name>.geojson`` files and as the tables of ``layers.gpkg``."""
NOT_CHOSEN = "not chosen: this posture holds nothing there"


def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _site_units(result: RunResult, p: Instance, site_id: str) -> dict[str, Any]:
    """``units_<system>`` for every system of the package, and the value held, M USD."""
    units = {w: result.stock.get((site_id, w), 0) for w in p.systems}
    return {**{f"units_{w}": n for w, n in units.items()}, "value_musd": sum(p.value[w] * n for w, n in units.items())}


def depots_geojson(result: RunResult, p: Instance) -> dict[str, Any]:
    """The open sites as points: site, host, kind, ``units_<system>`` and ``value_musd``."""
    features = []
    for s in result.open_sites:
        site = p.inputs.sites[s]
        features.append(
            _feature(
                _point(site.lon, site.lat),
                {
                    "site_id": s,
                    "name": site.name,
                    "host_id": site.host_id,
                    "kind": site.kind,
                    **_site_units(result, p, s),
                },
            )
        )
    return _collection(features)


def why_closed(p: Instance, site_id: str) -> str:
    """Why a site holds nothing, in the scenario's words: an exclusion, a kind no system may use, no route
    within a deadline, or simply not chosen by the optimum."""
    c, site = p.scenario.constraints, p.inputs.sites[site_id]
    if site_id in c.exclude_sites:
        return "excluded (constraints.exclude_sites)"
    if site.host_id in c.exclude_hosts:
        return f"host {site.host_id} excluded (constraints.exclude_hosts)"
    if site_id in p.pruned_sites:
        return p.pruned_sites[site_id]
    kinds = [w for w in p.systems if site.kind in p.inputs.systems[w].site_kinds]
    if not kinds:
        return f"kind {site.kind} is allowed for no system of the package"
    if not any((site_id, w) in p.allowed for w in kinds):
        return f"no route within the deadline for {', '.join(kinds)}, the systems its kind allows"
    return NOT_CHOSEN


def sites_geojson(result: RunResult, p: Instance) -> dict[str, Any]:
    """Every candidate site as a point, open or not: ``open``, ``why_not`` (empty when open), capacities,
    fixed cost, ``units_<system>`` and ``value_musd``."""
    allowed = set(p.allowed)
    features = []
    for s, site in p.inputs.sites.items():
        is_open = s in result.open_sites
        features.append(
            _feature(
                _point(site.lon, site.lat),
                {
                    "site_id": s,
                    "name": site.name,
                    "host_id": site.host_id,
                    "kind": site.kind,
                    "open": is_open,
                    "why_not": "" if is_open else why_closed(p, s),
                    "systems_allowed": ";".join(w for w in p.systems if (s, w) in allowed),
                    "vehicle_bays": site.vehicle_bays,
                    "aircraft_shelters": site.aircraft_shelters,
                    "fixed_cost_musd": site.fixed_cost_musd,
                    **_site_units(result, p, s),
                },
            )
        )
    return _collection(features)


def destinations_geojson(result: RunResult, p: Instance) -> dict[str, Any]:
    """The destinations as points: ``demand_<system>`` units and ``last_available_h`` (the latest unit)."""
    last: dict[str, float] = {}
    for x in result.deliveries:
        last[x.destination_id] = max(last.get(x.destination_id, 0.0), x.last_available_h)
    features = []
    for d, dest in p.inputs.destinations.items():
        demand = {w: p.demand.get((d, w), 0) for w in p.systems}
        features.append(
            _feature(
                _point(dest.lon, dest.lat),
                {
                    "destination_id": d,
                    "name": dest.name,
                    "kind": dest.kind,
                    **{f"demand_{w}": n for w, n in demand.items()},
                    "demand_units": sum(demand.values()),
                    "last_available_h": last.get(d),
                },
            )
        )
    return _collection(features)


def route_points(p: Instance, travel: TravelTimes, x) -> list[tuple[float, float]]:
    """The (lon, lat) points of a delivery's route: along the roads when known, else a straight line."""
    path = travel.legs[x.site_id, x.destination_id, x.system_id].path
    if len(path):
        return [(float(lon), float(lat)) for lon, lat in path]
    site, dest = p.inputs.sites[x.site_id], p.inputs.destinations[x.destination_id]
    return [(site.lon, site.lat), (dest.lon, dest.lat)]


def route_facts(leg: Leg) -> dict[str, Any]:
    """What a route passes through, as flat text and numbers (the travel-times CSV has the same columns).

    Parameters
    ----------
    leg
        The route's leg.

    Returns
    -------
    dict
        ``countries`` and ``regions`` (ids in route order, joined by ``>``), ``crossings`` (``PL>UA external
        3 h``, joined by ``; ``), ``border_h`` (their hours), ``ukraine_h`` and ``exposure_h``.
    """
    return {
        "countries": ">".join(leg.countries),
        "regions": ">".join(leg.regions),
        "crossings": "; ".join(str(c) for c in leg.crossings),
        "border_h": sum(c.hours for c in leg.crossings),
        "ukraine_h": leg.ukraine_h,
        "exposure_h": leg.exposure_h,
    }


def _geometry_kind(leg: Leg) -> str:
    """What a route's line follows: the rail or road graph, a great circle (flights), or a straight line."""
    if leg.mode == "rail" and len(leg.path) > 2:
        return "rail"
    if leg.road_km is not None and len(leg.path) > 2:
        return "road"
    return "great_circle" if leg.profile else "straight"


def routes_geojson(result: RunResult, p: Instance, travel: TravelTimes) -> dict[str, Any]:
    """One line per delivery: ``units``, ``transit_h``, ``release_h``, ``queue_h`` and ``available_h``, and how it
    travels: ``profile``, ``mode`` (road, rail or air), distances, crossings, gauge breaks and a ``note``."""
    features = []
    for x in result.deliveries:
        leg = travel.legs[x.site_id, x.destination_id, x.system_id]
        site = p.inputs.sites[x.site_id]
        coords = [list(xy) for xy in route_points(p, travel, x)]
        features.append(
            _feature(
                {"type": "LineString", "coordinates": coords},
                {
                    "site_id": x.site_id,
                    "host_id": site.host_id,
                    "destination_id": x.destination_id,
                    "system_id": x.system_id,
                    "units": x.units,
                    "transit_h": x.transit_h,
                    "release_h": p.release_h[site.host_id],
                    "queue_h": x.queue_h,
                    "available_h": x.available_h,
                    "last_available_h": x.last_available_h,
                    "profile": leg.profile,
                    "mode": leg.mode,
                    "road_km": leg.road_km,
                    "rail_km": leg.rail_km,
                    "borders_crossed": leg.borders_crossed,
                    "gauge_breaks": leg.gauge_breaks,
                    **route_facts(leg),
                    "note": leg.note,
                    "geometry_kind": _geometry_kind(leg),
                },
            )
        )
    return _collection(features)


def write_geopackage(path: Path, layers: Mapping[str, dict[str, Any]]) -> None:
    """Every GeoJSON layer of a run as a table of one GeoPackage (lon/lat, EPSG:4326), written by
    ``depotsite.output.gpkg`` (sqlite3 alone: no geopandas, pandas or GDAL to import for a run's outputs).

    Parameters
    ----------
    path
        The ``.gpkg`` file (replaced if it exists).
    layers
        Layer name -> the FeatureCollection the run writes as ``<name>.geojson``; the features and their
        properties are written as they are, one row per feature.
    """
    from depotsite.output.gpkg import write_geopackage as write_tables

    write_tables(path, layers)
