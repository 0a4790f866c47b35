"""Rail legs: by road to a railhead, by train on the rail graph, and by road from the destination's railhead.

A point's railhead is the nearest node of the rail network (``[data] rail``, without the avoided countries and
regions, on a strongly connected part of at least ``MIN_COMPONENT_NODES`` nodes) within the profile's
``railhead_km``; a ``rail_hub`` site or destination is its own railhead (no road leg). The road legs are the
straight lines to the railheads at the profile's ``access_speed_kph``. The train runs at the profile's
``speed_kph`` on one multi-source Dijkstra from the destinations' railheads over the reversed rail graph,
weighted by running hours, the border delay of each crossing by kind and ``gauge_break_h`` at each change of
track gauge (``rail_gauge_mm`` of ``[data] countries``: 1 435 mm to 1 520 mm at the Ukrainian border and
between Poland and Lithuania). A rail leg's hours::

    road leg to the railhead + load_h + running + border delays + gauge breaks + unload_h + road leg from it

A pair without a railhead at either end, or whose railheads no line joins, has no rail leg and says why (so
has a site of a kind where no system that may go by rail is stored: nothing would leave it by train); the
system's other profiles carry it (``depotsite.network.travel_times`` picks the fastest leg of each pair).
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from depotsite.countries import breaks_gauge
from depotsite.inputs import Inputs
from depotsite.network.graph import RoadNetwork, tag_countries
from depotsite.network.routing import _area, _profile_graph, _snap, _walk, avoided_regions, kept_network
from depotsite.network.transit import road_facts
from depotsite.scenario import Profile, Scenario
from depotsite.traveltimes import Leg

NO_RAIL = "the scenario names no [data] rail network"
RAIL_HUB = "rail_hub"  # the site (or destination) kind that is its own railhead


def _railheads(rail: RoadNetwork, kept, points: list, profile: Profile, avoided) -> tuple[np.ndarray, np.ndarray, list]:
    """The railhead node of each point (-1 for none), its road leg in km (0 at a rail hub) and why a point has
    none."""
    lat = np.array([p.lat for p in points])
    lon = np.array([p.lon for p in points])
    snap = _snap(rail, kept.nodes, kept.component, lat, lon, avoided)
    node, reasons = snap.node.copy(), list(snap.reason)
    road_km = np.where([p.kind == RAIL_HUB for p in points], 0.0, snap.km)
    for i in range(len(points)):
        if node[i] >= 0 and snap.km[i] > profile.railhead_km:
            reasons[i] = (
                f"has no railhead within railhead_km = {profile.railhead_km:g} km (the nearest rail node is "
                f"{snap.km[i]:,.0f} km away)"
            )
            node[i] = -1
    return node, road_km, reasons


def rail_legs(rail: RoadNetwork | None, inputs: Inputs, scenario: Scenario) -> tuple[dict, dict]:
    """Rail legs of every (site, destination, rail profile) pair, and the pairs rail cannot carry, with why.

    Parameters
    ----------
    rail
        The rail network, nodes tagged with countries; None (no ``[data] rail``) leaves every pair to the road.
    inputs
        The tables; every rail profile a system may take is routed.
    scenario
        Its rail profiles, avoided countries and regions, and countries table (border kinds and gauges).

    Returns
    -------
    tuple of (dict, dict)
        ``Leg`` per (site_id, destination_id, profile name), with ``mode = "rail"``, ``road_km`` the two road
        legs, ``rail_km`` the train's distance and ``gauge_breaks``; a reason per pair without one.
    """
    names = sorted(
        {p for w in inputs.systems for p in inputs.systems[w].profiles if scenario.network.profiles[p].mode == "rail"}
    )
    sites, dests = list(inputs.sites.values()), list(inputs.destinations.values())
    legs: dict[tuple[str, str, str], Leg] = {}
    unreachable: dict[tuple[str, str, str], str] = {}
    if not names:
        return legs, unreachable
    if rail is None:
        return legs, {(s.site_id, d.destination_id, name): NO_RAIL for name in names for s in sites for d in dests}
    avoid = sorted(set(scenario.network.avoid_countries))
    regions = avoided_regions(scenario)
    kept = kept_network(rail, avoid, regions)
    points = sites + dests
    ids = [s.site_id for s in sites] + [d.destination_id for d in dests]
    lat = np.array([p.lat for p in points])
    lon = np.array([p.lon for p in points])
    inside = tag_countries(lat, lon, rail.boundaries, nearest=False)
    avoided = np.where(np.isin(inside.astype(str), avoid), inside, "").astype(object)
    for region_id, geometry in regions.items():
        avoided[shapely.contains_xy(geometry, lon, lat)] = region_id
    area = _area(rail, scenario, regions, avoid, lat[len(sites) :], lon[len(sites) :])
    for name in names:
        profile = scenario.network.profiles[name]
        node, road_km, reasons = _railheads(rail, kept, points, profile, avoided)
        kinds = {k for w in inputs.systems.values() if name in w.profiles for k in w.site_kinds}
        for i, s in enumerate(sites):  # no train is routed from a site none of its systems may be stored at
            if s.kind not in kinds:
                node[i] = -1
                reasons[i] = f"is of kind {s.kind}, where no system that may go by {name} is stored"
        graph = _profile_graph(rail, kept.edges, profile, area)
        targets = np.unique(node[len(sites) :][node[len(sites) :] >= 0]).astype(np.int64)
        row_of = {int(t): r for r, t in enumerate(targets)}
        if len(targets):
            dist, pred = dijkstra(graph.reverse, directed=True, indices=targets, return_predecessors=True)
            rows = [p.tolist() for p in pred]  # list indexing is several times faster than numpy's in the walks
        for j, d in enumerate(dests):
            dj = len(sites) + j
            for i, s in enumerate(sites):
                key = (s.site_id, d.destination_id, name)
                if node[i] < 0 or node[dj] < 0:
                    who = i if node[i] < 0 else dj
                    unreachable[key] = f"{ids[who]} {reasons[who]}"
                    continue
                row = row_of[int(node[dj])]
                if not np.isfinite(dist[row, node[i]]):
                    unreachable[key] = (
                        f"no rail line joins the railheads of {s.site_id} and {d.destination_id} outside "
                        f"{', '.join(avoid + list(regions)) or 'nothing'} (the rail data has gaps)"
                    )
                    continue
                legs[key] = _leg(rail, area, graph, rows[row], (i, dj), node, road_km, s, d, name, profile)
    return legs, unreachable


def _leg(rail, area, graph, pred_row, ends, node, road_km, site, dest, name: str, profile: Profile) -> Leg:
    """The rail leg of one pair from its Dijkstra predecessor row."""
    i, dj = ends
    steps = np.array(_walk(pred_row, int(node[i])))
    hours_along = graph.hours(steps)
    access = (float(road_km[i]) / profile.access_speed_kph, float(road_km[dj]) / profile.access_speed_kph)
    facts = road_facts(rail, area, steps, hours_along, access_h=access, profile=profile, arrival_h=profile.unload_h)
    breaks = sum(breaks_gauge(c.from_country, c.to_country, area.kinds) for c in facts.crossings)
    hours = (
        sum(access)
        + profile.load_h
        + float(hours_along.sum())
        + sum(c.hours for c in facts.crossings)
        + breaks * profile.gauge_break_h
        + profile.unload_h
    )
    coords = np.vstack(
        [[site.lon, site.lat], np.column_stack([rail.lon[steps], rail.lat[steps]]), [dest.lon, dest.lat]]
    )
    return Leg(
        hours=hours,
        profile=name,
        mode="rail",
        road_km=float(road_km[i] + road_km[dj]),
        rail_km=graph.km(steps),
        borders_crossed=len(facts.crossings),
        snap_km=float(road_km[i] + road_km[dj]),
        gauge_breaks=int(breaks),
        path=coords,
        **facts.leg_fields(),
    )
