"""The reported figures of a run, recomputed from its posture: objective and terms, summary, GeoJSON.

Like ``depotsite.checks`` (whose record and helpers it uses), each ``check_<figure>`` returns one line
per figure that does not match its recomputation, naming the file, the key and both values.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, TypeGuard

from depotsite.checks import (
    HOURS_TOL,
    TOL,
    RunRecord,
    available_h,
    close,
    exposure_extra_h,
    group_members,
    host_units,
    host_value,
    makespan,
    open_sites,
    package_value,
    requirement,
    rules,
    unit_weights,
)

TERMS = ("time", "risk", "cost")


def share_pct(r: RunRecord) -> dict[str, float]:
    package = package_value(r)
    return {h: 100.0 * v / package for h, v in host_value(r).items()}


def terms(r: RunRecord) -> dict[str, float]:
    """The time (hours), risk and cost (M USD) terms of the posture, as the scenario defines them."""
    times = [(x, t) for x in r.deliveries if (t := available_h(r, x)) is not None]
    if makespan(r):
        time_h = max((t[2] + exposure_extra_h(r, x) for x, t in times), default=0.0)
    else:
        weights = unit_weights(r)
        time_h = sum(weights.get(x.system_id, 0.0) * (t[1] + exposure_extra_h(r, x)) * x.units for x, t in times)
    shares = share_pct(r)
    measure = rules(r, "objective").get("risk", "max_host_share")
    if measure == "max_host_share":
        risk = max(shares.values(), default=0.0)
    elif measure == "hhi":
        risk = sum(x * x for x in shares.values())
    else:
        threat = {h: float(rules(r, "hosts").get(h, {}).get("threat", 0.0)) for h in shares}
        risk = sum(threat[h] * x for h, x in shares.items())
    cost = sum(float(r.sites[s]["fixed_cost_musd"]) for s in set(open_sites(r)) if s in r.sites)
    return {"time": time_h, "risk": risk, "cost": cost}


def tangent_hhi(r: RunRecord) -> float:
    """The Herfindahl index as the model sees it: each host's squared share by its highest tangent cut."""
    count = int(rules(r, "objective").get("hhi_tangents", 41))
    points = [i / (count - 1) for i in range(count)]
    return 10_000.0 * sum(max(2 * a * x / 100.0 - a * a for a in points) for x in share_pct(r).values())


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_objective(r: RunRecord) -> list[str]:
    """Status and gap agree; each term is its recomputation; the objective is weights x terms.

    The solver's objective is never below what the posture scores (its auxiliary variables only bound the
    true terms from above). When proven optimal it equals it, except for ``hhi``, where the model's
    tangent cuts approximate the index from below, so only ``objective <= weights x true terms`` holds.
    """
    found, s, objective_rule = [], r.summary, rules(r, "objective")
    status, gap, objective = s.get("status"), s.get("gap"), s.get("objective")
    if status not in ("optimal", "time_limit"):
        found.append(f"status: summary.json reports {status!r}; a written run is 'optimal' or 'time_limit'")
    if not _number(gap) or gap < 0:
        found.append(f"gap: summary.json reports {gap!r}; expected a number >= 0")
        gap = None
    elif status == "optimal" and gap > float(rules(r, "solver").get("mip_gap", 0.0)) + 1e-9:
        found.append(
            f"status: summary.json reports 'optimal' with a gap of {gap:g}, above the scenario's mip_gap "
            f"of {float(rules(r, 'solver').get('mip_gap', 0.0)):g}"
        )
    true = terms(r)
    reported = s.get("terms", {})
    for name in TERMS:
        value = reported.get(name, {}).get("value") if isinstance(reported.get(name), Mapping) else None
        if not _number(value) or not close(value, true[name]):
            found.append(f"objective: summary.json reports {name} {value!r}, recomputed {true[name]:.6g}")
    weights = {
        name: float(objective_rule.get(f"{name}_weight", default))
        for name, default in (("time", 1.0), ("risk", 2.0), ("cost", 0.0))
    }
    upper = sum(weights[name] * true[name] for name in TERMS)
    lower = upper - weights["risk"] * (true["risk"] - tangent_hhi(r)) if objective_rule.get("risk") == "hhi" else upper
    if not _number(objective):
        found.append(f"objective: summary.json reports {objective!r}; expected a number")
        return found
    tol = TOL * max(1.0, abs(objective), abs(upper))
    formula = " + ".join(f"{weights[n]:g} x {n} {true[n]:.6g}" for n in TERMS)
    if objective < lower - tol:
        found.append(f"objective: {objective:.6g} is below what the posture scores, {lower:.6g} ({formula})")
    elif status == "optimal" and gap == 0 and objective > upper + tol:
        found.append(
            f"objective: {objective:.6g} (proven optimal) is above what the posture scores, {upper:.6g} ({formula})"
        )
    return found


def _compare(found: list[str], key: str, reported: Any, recomputed: Any, tol: float = TOL) -> None:
    if isinstance(recomputed, float):
        ok = _number(reported) and close(reported, recomputed, tol)
        shown = f"{recomputed:.6g}"
    else:
        ok, shown = reported == recomputed, repr(recomputed)
    if not ok:
        found.append(f"summary: {key} is {reported!r} in summary.json, recomputed {shown}")


def check_summary_figures(r: RunRecord) -> list[str]:
    """Package, weights, measures, host and group shares, host units, per-system times and crews."""
    found: list[str] = []
    s, req, objective_rule = r.summary, requirement(r), rules(r, "objective")
    _compare(found, "scenario", s.get("scenario"), r.scenario.get("name"))
    _compare(
        found,
        "terms.time.measure",
        s.get("terms", {}).get("time", {}).get("measure"),
        objective_rule.get("time", "mean"),
    )
    _compare(
        found,
        "terms.risk.measure",
        s.get("terms", {}).get("risk", {}).get("measure"),
        objective_rule.get("risk", "max_host_share"),
    )
    for name, default in (("time_weight", 1.0), ("risk_weight", 2.0), ("cost_weight", 0.0)):
        _compare(found, f"weights.{name}", s.get("weights", {}).get(name), float(objective_rule.get(name, default)))
    _compare(found, "package.units", s.get("package", {}).get("units"), req)
    _compare(found, "package.value_musd", s.get("package", {}).get("value_musd"), package_value(r))
    shares = share_pct(r)
    _compare_map(found, "host_value_shares", s.get("host_value_shares"), shares)
    groups = {g: sum(shares.get(h, 0.0) for h in members) for g, members in group_members(r).items()}
    _compare_map(found, "group_value_shares", s.get("group_value_shares"), groups)
    units: dict[str, dict[str, int]] = defaultdict(dict)
    for (h, w), n in sorted(host_units(r).items()):
        if n:
            units[h][w] = n
    _compare(found, "host_units", s.get("host_units"), dict(units))
    times: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for x in r.deliveries:
        hours = available_h(r, x)
        if hours is not None:
            times[x.system_id].append((hours[1], hours[2], x.units))
    reported_times = s.get("system_times_h") or {}
    _compare(found, "system_times_h systems", sorted(reported_times), sorted(times))
    for w, rows in sorted(times.items()):
        mean = sum(h * n for h, _, n in rows) / sum(n for *_, n in rows)
        worst = max(last for _, last, _ in rows)
        entry = reported_times.get(w, {})
        _compare(found, f"system_times_h.{w}.mean", entry.get("mean"), mean, HOURS_TOL)
        _compare(found, f"system_times_h.{w}.worst", entry.get("worst"), worst, HOURS_TOL)
    rotation = float(rules(r, "report").get("crew_rotation_factor", 2.0))
    crews = s.get("crews") or {}
    _compare(found, "crews.rotation_factor", crews.get("rotation_factor"), rotation)
    _compare_map(
        found,
        "crews.by_system",
        crews.get("by_system"),
        {w: n * float(r.systems[w]["crew_per_unit"]) * rotation for w, n in req.items()},
    )
    return found


def _compare_map(found: list[str], key: str, reported: Any, recomputed: dict[str, float]) -> None:
    if not isinstance(reported, Mapping) or sorted(reported) != sorted(recomputed):
        found.append(
            f"summary: {key} lists {sorted(reported) if isinstance(reported, Mapping) else reported!r} "
            f"in summary.json, recomputed {sorted(recomputed)}"
        )
        return
    for name, value in recomputed.items():
        _compare(found, f"{key}.{name}", reported[name], float(value), 1e-5)


def _point(lon: float, lat: float) -> list[float]:
    return [float(lon), float(lat)]


def _features(doc: Mapping[str, Any] | None, name: str, found: list[str]) -> list[Mapping[str, Any]]:
    if (
        not isinstance(doc, Mapping)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        found.append(f"{name}: not a GeoJSON FeatureCollection")
        return []
    return [f for f in doc["features"] if isinstance(f, Mapping)]


def check_depots(r: RunRecord) -> list[str]:
    """depots.geojson: one point per open site, at the site, with its host and its ``units_<system>``."""
    found: list[str] = []
    if r.depots is None:
        return found
    features = _features(r.depots, "depots.geojson", found)
    ids = [f.get("properties", {}).get("site_id") for f in features]
    if sorted(map(str, ids)) != sorted(open_sites(r)):
        found.append(
            f"depots.geojson: lists sites {', '.join(sorted(map(str, ids)))}; the open sites are "
            f"{', '.join(sorted(open_sites(r)))}"
        )
    for f in features:
        props, s = f.get("properties", {}), f.get("properties", {}).get("site_id")
        if s not in r.sites:
            continue
        site = r.sites[s]
        held = {w: n for (s2, w), n in r.stock.items() if s2 == s and n}
        if props.get("host_id") != site["host_id"]:
            found.append(f"depots.geojson: {s} is in {props.get('host_id')!r}, sites.csv says {site['host_id']}")
        shown = {str(k)[len("units_") :]: n for k, n in props.items() if str(k).startswith("units_") and n != 0}
        if shown != held:
            found.append(
                f"depots.geojson: {s} shows units {dict(sorted(shown.items()))}; the allocation holds "
                f"{dict(sorted(held.items()))}"
            )
        if f.get("geometry", {}).get("coordinates") != _point(site["lon"], site["lat"]):
            found.append(
                f"depots.geojson: {s} is drawn at {f.get('geometry', {}).get('coordinates')!r}, not at "
                f"its coordinates {_point(site['lon'], site['lat'])}"
            )
    return found


def check_routes(r: RunRecord) -> list[str]:
    """routes.geojson: one line per delivery, from its site to its destination, with its units, ``transit_h``
    and ``available_h``."""
    found: list[str] = []
    if r.routes is None:
        return found
    features = _features(r.routes, "routes.geojson", found)
    by_key = {(x.site_id, x.destination_id, x.system_id): x for x in r.deliveries}
    keys = [
        (str(props.get("site_id")), str(props.get("destination_id")), str(props.get("system_id")))
        for props in (f.get("properties", {}) for f in features)
    ]
    if sorted(keys) != sorted(by_key):
        extra, missing = sorted(set(keys) - set(by_key)), sorted(set(by_key) - set(keys))
        found.append(
            f"routes.geojson: routes {['/'.join(k) for k in extra]} are not deliveries and deliveries "
            f"{['/'.join(k) for k in missing]} have no route"
        )
    for key, f in zip(keys, features, strict=True):
        x = by_key.get(key)
        if x is None or x.site_id not in r.sites or x.destination_id not in r.destinations:
            continue
        props, name = f.get("properties", {}), "/".join(key)
        if props.get("units") != x.units or props.get("host_id") != r.sites[x.site_id]["host_id"]:
            found.append(
                f"routes.geojson: {name} shows {props.get('units')!r} units from "
                f"{props.get('host_id')!r}; the delivery is {x.units} from {r.sites[x.site_id]['host_id']}"
            )
        hours = available_h(r, x)
        for column, recomputed in zip(("queue_h", "available_h", "last_available_h"), hours or (), strict=False):
            shown = props.get(column)
            if not (_number(shown) and abs(shown - recomputed) <= HOURS_TOL):
                found.append(f"routes.geojson: {name} shows {column} {shown!r}, recomputed {recomputed:.3f}")
        transit = r.transit.get(key)
        if transit is not None and not (
            _number(props.get("transit_h")) and abs(props["transit_h"] - transit) <= HOURS_TOL
        ):
            found.append(
                f"routes.geojson: {name} shows transit_h {props.get('transit_h')!r}, the travel times give "
                f"{transit:.3f}"
            )
        coords = f.get("geometry", {}).get("coordinates") or [None]
        site, dest = r.sites[x.site_id], r.destinations[x.destination_id]
        if coords[0] != _point(site["lon"], site["lat"]) or coords[-1] != _point(dest["lon"], dest["lat"]):
            found.append(
                f"routes.geojson: {name} runs from {coords[0]!r} to {coords[-1]!r}, not from the site to "
                "the destination"
            )
    return found


FIGURE_CHECKS = (
    ("objective, terms, status and gap", check_objective),
    ("summary figures (package, shares, host units, times, crews)", check_summary_figures),
    ("depots.geojson against the allocation", check_depots),
    ("routes.geojson against the deliveries", check_routes),
)
