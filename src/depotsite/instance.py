"""The resolved instance: every number the formulation uses, in plain dicts and tuples keyed by ids.

``build_instance`` is the one place where the scenario's rules meet the input tables and the travel
times: defaults are applied, shares become whole-unit caps, pairs that site kinds, exclusions, reach or
deadlines rule out are dropped. The model (``depotsite.model``) reads nothing else, so what it solves
can be read here in full. No pyomo.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from depotsite.inputs import Inputs, units_fitting
from depotsite.purchasers import earmarked_units
from depotsite.scenario import Scenario
from depotsite.traveltimes import Pair, TravelTimes

RESOURCES = ("vehicle_bays", "aircraft_shelters", "ammo_capacity_t")  # site capacities, each with a footprint
_PER_UNIT = {
    "vehicle_bays": "vehicle_bays_per_unit",
    "aircraft_shelters": "shelters_per_unit",
    "ammo_capacity_t": "net_explosive_t_per_unit",  # tonnes of net explosive mass
}
TOLERANCE = 1e-9  # a share times the requirement within this of a whole unit counts as that unit


@dataclass(frozen=True)
class Instance:
    """Every number the formulation uses, resolved from inputs, travel times and scenario, keyed by ids.

    ``inputs`` and ``scenario`` are provenance for the output layer (names, coordinates, input files, the
    resolved TOML); the formulation never reads them.
    """

    inputs: Inputs
    scenario: Scenario
    name: str
    # sets
    sites: tuple[str, ...]  # not excluded, in input order
    systems: tuple[str, ...]  # the systems with demand
    hosts: tuple[str, ...]
    host_of: dict[str, str]  # site -> host
    groups: dict[str, tuple[str, ...]]  # group with a rule -> member hosts
    allowed: tuple[tuple[str, str], ...]  # (site, system) pairs with at least one route
    routes: tuple[Pair, ...]  # (site, destination, system): reachable and within the deadline
    # demand and value
    demand: dict[tuple[str, str], int]  # (destination, system) -> units
    requirement: dict[str, int]  # system -> units in all
    value: dict[str, float]  # system -> M USD per unit
    package: float  # M USD of the whole package
    priority: dict[str, float]  # system -> weight in the mean time
    # times
    release_h: dict[str, float]  # host -> release delay
    transit_h: dict[Pair, float]
    tau_h: dict[Pair, float]  # release delay of the site's host + transit hours (+ exposure_weight x exposure_h)
    exposure_h: dict[Pair, float]  # hours each route (those deadlines drop too) is exposed in transit
    deadline_h: dict[str, float | None]  # system -> latest availability, None for no deadline
    dropped_by_deadline: dict[Pair, float]  # routes the deadline rules out -> their hours
    unserved: tuple[str, ...]  # demand no site can serve, with the reason in domain words
    # sites
    capacity: dict[tuple[str, str], float]  # (site, resource) -> bays, shelters or tonnes of explosive
    footprint: dict[tuple[str, str], float]  # (system, resource) -> bays, shelters or tonnes per unit
    dispatch_per_day: dict[str, float]  # site (excluded ones too) -> dispatch slots it can send off per day
    slots: dict[str, int]  # system -> dispatch slots one unit takes
    fixed_cost_musd: dict[str, float]  # site (excluded ones too) -> cost of keeping it open
    # rules
    min_lot: dict[str, int]  # system -> fewest units a site may hold if it holds any
    unit_cap: dict[tuple[str, str], int]  # (host, system) -> most units, the tighter of host and system rule
    group_unit_cap: dict[tuple[str, str], int]  # (group, system) -> most units in the group's hosts
    host_value_share: dict[str, float]  # host -> most of the package value (fraction)
    group_value_share: dict[str, float]  # group -> most of the package value (fraction)
    host_unit_share: dict[tuple[str, str], float]  # (host, system) -> the host rule's fraction, as written
    system_host_share: dict[str, float]  # system -> its max_host_share, as written
    group_unit_share: dict[tuple[str, str], float]  # (group, system) -> the group rule's fraction, as written
    min_hosts: dict[str, int]  # system -> fewest hosts holding it, as written
    resilience: dict[str, tuple[float, int]]  # system -> (keep_fraction, lose_hosts), as written
    resilience_need: dict[str, int]  # system -> units that must survive any lost set
    lost_hosts: dict[tuple[str, str], frozenset[str]]  # (system, "A+B") -> the hosts of one lost set
    max_sites: int | None
    budget_musd: float | None
    force_open: tuple[str, ...]  # as written (an excluded site is no variable)
    # objective
    time_measure: str  # "mean", "value", "system_mean" or "makespan"
    queues: bool  # whether times count the dispatch queue (always under the makespan)
    risk_measure: str  # "max_host_share", "hhi" or "expected_loss"
    time_weight: float
    risk_weight: float
    cost_weight: float
    exposure_weight: float  # extra hours in tau per hour of exposure
    hhi_points: tuple[float, ...]  # tangent points of the Herfindahl cuts
    threat: dict[str, float]  # host -> probability of losing it (expected loss)
    stock_bound: dict[tuple[str, str], int]  # (site, system) -> most units it could hold: min(req, what fits)
    value_step: float | None  # every unit value is a whole multiple of this (M USD), None if no such step
    # financing
    earmarks: dict[tuple[str, str], int] = field(default_factory=dict)  # (host, system) -> units it must hold
    earmarked_by: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)  # (host, system) -> buyers
    # exact reduction (depotsite.reduction): sites left out of the model, each with why it cannot improve the
    # optimum, and the record of the proof (filled in by the solve; empty when the model is the full one)
    pruned_sites: dict[str, str] = field(default_factory=dict)
    reduction: dict = field(default_factory=dict)
    # system -> at most this many sites in its fewest-sites row (a restricted instance carries the full
    # instance's figures, so that row is the full model's row over the sites kept); empty: its own figures
    fewest_sites_cap: dict[str, int] = field(default_factory=dict)
    # whether the model orders dominated sites after the sites that dominate them (depotsite.dominance); off
    # in fixed-posture programmes. The sites in dominance_skips hold no other site closed: the sites the
    # reduction adds back, so the posture it carries to the larger model keeps every row
    site_dominance: bool = True
    dominance_skips: frozenset[str] = frozenset()


def stock_bound(inputs: Inputs, site_id: str, system_id: str) -> int:
    """Most units of a system one site could hold: what fits there alone, at most the system's requirement.

    Parameters
    ----------
    inputs
        The tables: the site's capacities, the system's footprint and its requirement.
    site_id, system_id
        The pair.

    Returns
    -------
    int
        ``min(requirement, units_fitting)``: the coefficient of the per-system capacity link.
    """
    return min(inputs.requirement[system_id], units_fitting(inputs.sites[site_id], inputs.systems[system_id]))


def fewest_sites(stock_bound: dict[tuple[str, str], int], requirement: dict[str, int]) -> dict[str, int]:
    """For each system, the fewest sites that together could hold its requirement: the sites with the largest
    ``stock_bound`` first. A system its sites cannot hold in full is left out (that is a capacity problem,
    explained as one).

    Examples
    --------
    >>> fewest_sites({("a", "f16"): 24, ("b", "f16"): 24, ("c", "f16"): 10}, {"f16": 40})
    {'f16': 2}
    """
    bounds = defaultdict(list)
    for (_, w), b in stock_bound.items():
        bounds[w].append(b)
    fewest = {}
    for w, need in requirement.items():
        held = 0
        for count, b in enumerate(sorted(bounds[w], reverse=True), start=1):
            held += b
            if held >= need:
                fewest[w] = count
                break
    return fewest


def fewest_sites_rows(inst: Instance) -> dict[str, int]:
    """The right-hand sides of the model's fewest-sites rows: ``fewest_sites`` of the instance's own sites, at
    most ``inst.fewest_sites_cap`` (a restricted instance's rows are the full model's)."""
    own = fewest_sites(inst.stock_bound, inst.requirement)
    return {w: min(k, inst.fewest_sites_cap.get(w, k)) for w, k in own.items()}


def release_delay_h(inputs: Inputs, scenario: Scenario, host_id: str) -> float:
    """Scenario host rule, else the hosts.csv column, else the scenario default."""
    rule = scenario.hosts.get(host_id)
    if rule is not None and rule.release_delay_h is not None:
        return rule.release_delay_h
    own = inputs.hosts[host_id].release_delay_h
    return own if own is not None else scenario.network.release_delay_h


def group_members(inputs: Inputs, scenario: Scenario) -> dict[str, tuple[str, ...]]:
    """Every group with a rule: its explicit members, or the hosts whose ``group`` column names it."""
    groups = {}
    for name, rule in scenario.groups.items():
        members = rule.hosts or tuple(h for h, host in inputs.hosts.items() if host.group == name)
        groups[name] = tuple(members)
    return groups


def hhi_tangents(count: int) -> list[float]:
    """``count`` evenly spaced points of [0, 1], where the Herfindahl cuts touch x**2."""
    return [i / (count - 1) for i in range(count)]


def whole_units(fraction: float, requirement: int) -> int:
    """Most whole units a share of ``fraction`` allows: floor, with ``TOLERANCE``.

    Parameters
    ----------
    fraction
        The share of the requirement, 0 to 1.
    requirement
        Units of the system in all.

    Returns
    -------
    int
        ``floor(fraction * requirement + 1e-9)``: 0.29 of 100 is 29 units, though 0.29 * 100 < 29 in floats.
    """
    return math.floor(fraction * requirement + TOLERANCE)


def value_step(values: Iterable[float], *, max_decimals: int = 3) -> float | None:
    """The largest step of which every value is a whole multiple, for values with few decimals.

    Parameters
    ----------
    values
        Unit values in M USD.
    max_decimals
        Values with more decimals than this give no step.

    Returns
    -------
    float or None
        The greatest common divisor of the values (1100, 7, 31 and 13 give 1; 0.5 and 1.25 give 0.25), or
        None. The value held in a host is then a whole multiple of it, and so is the largest host's.
    """
    values = [v for v in values if v > 0]
    for decimals in range(max_decimals + 1):
        scaled = [v * 10**decimals for v in values]
        if values and all(abs(x - round(x)) <= 1e-9 * max(1.0, x) for x in scaled):
            return math.gcd(*(round(x) for x in scaled)) / 10**decimals
    return None


def _routes(
    inputs: Inputs,
    travel: TravelTimes,
    sites: tuple[str, ...],
    systems: tuple[str, ...],
    release: dict[str, float],
    deadline: dict[str, float | None],
    exposure_weight: float,
) -> tuple[dict, dict, dict, list, dict]:
    """Transit and tau hours of the routes kind, reach and deadline allow; the routes deadlines rule out; the
    exposure hours of the routes. A deadline bounds the arrival (release + transit); tau, the time the
    objective counts, adds ``exposure_weight`` hours per hour of exposure."""
    transit, tau, dropped, routes, exposure = {}, {}, {}, [], {}
    for s in sites:
        for w in systems:
            if units_fitting(inputs.sites[s], inputs.systems[w]) == 0:
                continue
            for (d, w2), _units in inputs.demand.items():
                if w2 != w:
                    continue
                hours = travel.hours((s, d, w))
                if hours is None:
                    continue
                total = release[inputs.sites[s].host_id] + hours
                exposure[(s, d, w)] = travel.legs[(s, d, w)].exposure_h
                limit = deadline[w]
                if limit is not None and total > limit + TOLERANCE:
                    dropped[(s, d, w)] = total
                    continue
                transit[(s, d, w)] = hours
                tau[(s, d, w)] = total + exposure_weight * exposure[(s, d, w)]
                routes.append((s, d, w))
    return transit, tau, dropped, routes, exposure


def _caps(scenario: Scenario, hosts: tuple[str, ...], requirement: dict[str, int]) -> dict:
    """The share rules as written, and the whole-unit caps they give for the systems with demand."""
    host_unit_share = {(h, w): f for h, r in scenario.hosts.items() for w, f in r.max_unit_share.items()}
    system_host_share = {w: r.max_host_share for w, r in scenario.systems.items() if r.max_host_share is not None}
    unit_cap = {}
    for h in hosts:
        for w in requirement:
            fractions = [f for f in (host_unit_share.get((h, w)), system_host_share.get(w)) if f is not None]
            if fractions:
                unit_cap[h, w] = whole_units(min(fractions), requirement[w])
    group_unit_share = {(g, w): f for g, r in scenario.groups.items() for w, f in r.max_unit_share.items()}
    return {
        "unit_cap": unit_cap,
        "host_unit_share": host_unit_share,
        "system_host_share": system_host_share,
        "group_unit_share": group_unit_share,
        "group_unit_cap": {
            (g, w): whole_units(f, requirement[w]) for (g, w), f in group_unit_share.items() if w in requirement
        },
        "host_value_share": {h: r.max_value_share for h, r in scenario.hosts.items() if r.max_value_share is not None},
        "group_value_share": {
            g: r.max_value_share for g, r in scenario.groups.items() if r.max_value_share is not None
        },
    }


def _resilience(scenario: Scenario, hosts: tuple[str, ...], requirement: dict[str, int]) -> dict:
    """For each system with a resilience rule: the units that must survive, and every set of lost hosts."""
    rules = {
        w: (r.resilience.keep_fraction, r.resilience.lose_hosts)
        for w, r in scenario.systems.items()
        if r.resilience is not None
    }
    need, lost_hosts = {}, {}
    for w, (keep, lose) in rules.items():
        if w not in requirement:
            continue
        need[w] = math.ceil(keep * requirement[w] - TOLERANCE)
        for lost in itertools.combinations(hosts, min(lose, len(hosts))):
            lost_hosts[w, "+".join(lost)] = frozenset(lost)
    return {"resilience": rules, "resilience_need": need, "lost_hosts": lost_hosts}


def _earmarks(inputs: Inputs, scenario: Scenario) -> dict:
    """With ``financing.honour_earmarks``: the units purchasers earmarked per (host, system), and who did."""
    if not scenario.financing.honour_earmarks:
        return {"earmarks": {}, "earmarked_by": {}}
    units = earmarked_units(inputs.purchases)
    by = {
        key: tuple(sorted({p.purchaser_id for p in inputs.purchases if (p.host_id, p.system_id) == key}))
        for key in units
    }
    return {"earmarks": units, "earmarked_by": by}


def build_instance(inputs: Inputs, travel: TravelTimes, scenario: Scenario) -> Instance:
    """Resolve every number of the formulation from the run's data, travel times and rules.

    Parameters
    ----------
    inputs
        The validated input tables.
    travel
        Transit hours of every reachable (site, destination, system).
    scenario
        The rules, weights and options of the run.

    Returns
    -------
    Instance
        The sets, coefficients and right-hand sides, keyed by input ids; demand that no site can serve is
        listed in ``unserved`` (``build_model`` refuses it).
    """
    c, o = scenario.constraints, scenario.objective
    excluded_hosts = set(c.exclude_hosts)
    sites = tuple(
        s for s, site in inputs.sites.items() if s not in c.exclude_sites and site.host_id not in excluded_hosts
    )
    requirement = {w: n for w, n in inputs.requirement.items() if n > 0}
    systems, hosts = tuple(requirement), tuple(inputs.hosts)
    release = {h: release_delay_h(inputs, scenario, h) for h in inputs.hosts}
    deadline = {w: (scenario.systems[w].deadline_h if w in scenario.systems else None) for w in systems}
    transit, tau, dropped, routes, exposure = _routes(
        inputs, travel, sites, systems, release, deadline, o.exposure_weight
    )
    pairs = {(s, w) for s, _, w in routes}
    value = {w: inputs.systems[w].value_musd for w in systems}
    instance = Instance(
        inputs=inputs,
        scenario=scenario,
        name=scenario.name,
        sites=sites,
        systems=systems,
        hosts=hosts,
        host_of={s: inputs.sites[s].host_id for s in inputs.sites},
        groups=group_members(inputs, scenario),
        allowed=tuple((s, w) for s in sites for w in systems if (s, w) in pairs),
        routes=tuple(routes),
        demand=dict(inputs.demand),
        requirement=requirement,
        value=value,
        package=sum(value[w] * requirement[w] for w in systems),
        priority={w: (scenario.systems[w].priority if w in scenario.systems else 1.0) for w in systems},
        release_h=release,
        transit_h=transit,
        tau_h=tau,
        exposure_h=exposure,
        deadline_h=deadline,
        dropped_by_deadline=dropped,
        unserved=(),
        capacity={(s, r): getattr(inputs.sites[s], r) for s in sites for r in RESOURCES},
        footprint={(w, r): getattr(inputs.systems[w], _PER_UNIT[r]) for w in systems for r in RESOURCES},
        dispatch_per_day={s: site.dispatch_per_day for s, site in inputs.sites.items()},
        slots={w: inputs.systems[w].dispatch_slots_per_unit for w in systems},
        fixed_cost_musd={s: site.fixed_cost_musd for s, site in inputs.sites.items()},
        min_lot={w: inputs.systems[w].min_lot for w in systems},
        **_caps(scenario, hosts, requirement),
        min_hosts={w: r.min_hosts for w, r in scenario.systems.items() if r.min_hosts},
        **_resilience(scenario, hosts, requirement),
        max_sites=c.max_sites,
        budget_musd=c.budget_musd,
        force_open=tuple(c.force_open),
        time_measure=o.time,
        queues=o.queues or o.time == "makespan",
        risk_measure=o.risk,
        time_weight=o.time_weight,
        risk_weight=o.risk_weight,
        cost_weight=o.cost_weight,
        exposure_weight=o.exposure_weight,
        hhi_points=tuple(hhi_tangents(o.hhi_tangents)),
        threat={h: (r.threat if (r := scenario.hosts.get(h)) else 0.0) for h in hosts},
        stock_bound={(s, w): stock_bound(inputs, s, w) for s in sites for w in systems if (s, w) in pairs},
        value_step=value_step(value.values()),
        **_earmarks(inputs, scenario),
    )
    return replace(instance, unserved=tuple(unserved_demand(instance, travel)))


def unserved_demand(instance: Instance, travel: TravelTimes) -> list[str]:
    """Demand rows that no site can serve at all, each with the reason in domain words.

    Parameters
    ----------
    instance
        The resolved routes, demand and routes dropped by deadlines (names from its provenance).
    travel
        The travel times, for the pairs cut off by avoided territory.

    Returns
    -------
    list of str
        One line per (destination, system) without any route: late, cut off, or no allowed site.
    """
    served = {(d, w) for _, d, w in instance.routes}
    net = instance.scenario.network
    reasons = []
    for (d, w), units in instance.demand.items():
        if (d, w) in served:
            continue
        late = sorted((h, s) for (s, d2, w2), h in instance.dropped_by_deadline.items() if (d2, w2) == (d, w))
        cut = [s for (s, d2, w2) in travel.unreachable if (d2, w2) == (d, w)]
        name = instance.inputs.systems[w].name
        if late:
            reasons.append(
                f"{units} {name} ({w}) for {d}: no site can deliver within the {instance.deadline_h[w]:g} h deadline "
                f"(fastest: {late[0][1]} at {late[0][0]:.1f} h); raise systems.{w}.deadline_h or add a closer site"
            )
        elif cut:
            reasons.append(
                f"{units} {name} ({w}) for {d}: every site that may hold it is cut off by avoided "
                f"territory ({', '.join((*net.avoid_countries, *net.avoid_regions))})"
            )
        else:
            reasons.append(
                f"{units} {name} ({w}) for {d}: no open, allowed site can hold it (site kinds, "
                "exclusions or the travel-time table leave none)"
            )
    return reasons
