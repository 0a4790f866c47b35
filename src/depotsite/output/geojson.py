"""The run's GeoJSON layers (RFC 7946, lon/lat): open depots as points, used routes as lines."""

from __future__ import annotations

from typing import Any

from depotsite.instance import Instance
from depotsite.results import RunResult
from depotsite.traveltimes import TravelTimes


def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def depots_geojson(result: RunResult, p: Instance) -> dict[str, Any]:
    features = []
    for s in result.open_sites:
        site = p.inputs.sites[s]
        units = {w: n for (s2, w), n in result.stock.items() if s2 == s}
        value = sum(p.value[w] * n for w, n in units.items())
        features.append(_feature(
            {"type": "Point", "coordinates": [site.lon, site.lat]},
            {"site_id": s, "name": site.name, "host_id": site.host_id, "kind": site.kind, "units": units,
             "value_musd": value, **{f"units_{w}": units.get(w, 0) for w in p.systems}},
        ))
    return {"type": "FeatureCollection", "features": features}


def route_points(p: Instance, travel: TravelTimes, x) -> list[tuple[float, float]]:
    """The (lon, lat) points of a delivery's route: along the roads when known, else a straight line."""
    path = travel.legs[x.site_id, x.destination_id, x.system_id].path
    if len(path):
        return [(float(lon), float(lat)) for lon, lat in path]
    site, dest = p.inputs.sites[x.site_id], p.inputs.destinations[x.destination_id]
    return [(site.lon, site.lat), (dest.lon, dest.lat)]


def routes_geojson(result: RunResult, p: Instance, travel: TravelTimes) -> dict[str, Any]:
    features = []
    for x in result.deliveries:
        leg = travel.legs[x.site_id, x.destination_id, x.system_id]
        site = p.inputs.sites[x.site_id]
        coords = [list(xy) for xy in route_points(p, travel, x)]
        features.append(_feature(
            {"type": "LineString", "coordinates": coords},
            {"site_id": x.site_id, "host_id": site.host_id, "destination_id": x.destination_id,
             "system_id": x.system_id, "units": x.units, "hours": x.available_h, "transit_h": x.transit_h,
             "profile": leg.profile, "road_km": leg.road_km, "borders_crossed": leg.borders_crossed,
             "geometry_kind": "road" if leg.road_km is not None and len(leg.path) > 2 else
             ("great_circle" if leg.profile else "straight")},
        ))
    return {"type": "FeatureCollection", "features": features}
