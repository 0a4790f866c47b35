"""The model's docstring formulation written plainly in highspy: the baseline the speed figures compare with.

It reads the same resolved ``Instance`` as ``depotsite.model`` and states each family exactly as the
model's docstring table does, without the strengthening the model adds: whole-number shipments, one
capacity row per site and resource (no per-system link), a continuous largest share, no makespan cuts.
Used by ``benchmarks/scenarios.py``; not part of the package.
"""

from __future__ import annotations

import time
from collections import defaultdict

import highspy

from depotsite.dispatch import dispatch_order
from depotsite.instance import RESOURCES, Instance

INT = highspy.HighsVarType.kInteger


def solve_naive(inst: Instance, *, time_limit_s: float, threads: int = 2, fixed=None) -> tuple[float, str, float]:
    """Build and solve the plain formulation; returns (objective, HiGHS model status, seconds).

    ``fixed`` (a ``Posture``) fixes stock, shipments and open sites to it: a check that a posture the model
    found keeps every row of the plain formulation too."""
    started = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("threads", threads)
    stock = {k: h.addVariable(lb=0, type=INT) for k in inst.allowed}
    ship = {r: h.addVariable(lb=0, type=INT) for r in inst.routes}
    open_site = {s: h.addVariable(lb=0, ub=1, type=INT) for s in inst.sites}
    if fixed is not None:
        for k, v in stock.items():
            h.changeColBounds(v.index, fixed.stock.get(k, 0), fixed.stock.get(k, 0))
        for k, v in ship.items():
            h.changeColBounds(v.index, fixed.ship.get(k, 0), fixed.ship.get(k, 0))
        for k, v in open_site.items():
            h.changeColBounds(v.index, int(k in fixed.open_sites), int(k in fixed.open_sites))
    held = defaultdict(list)
    for s, w in inst.allowed:
        held[s].append(w)

    def stock_in(hosts, w=None):
        return h.qsum(
            (1.0 if w else inst.value[w2]) * v
            for (s, w2), v in stock.items()
            if inst.host_of[s] in hosts and (w is None or w2 == w)
        )

    by_dw, by_sw = defaultdict(list), defaultdict(list)
    for r in inst.routes:
        by_dw[r[1], r[2]].append(ship[r])
        by_sw[r[0], r[2]].append(ship[r])
    for (d, w), units in inst.demand.items():
        h.addConstr(h.qsum(by_dw[d, w]) == units)
    for k, v in stock.items():
        h.addConstr(h.qsum(by_sw[k]) == v)
    for (s, d, w), v in ship.items():
        h.addConstr(v <= inst.demand[d, w] * open_site[s])
    for s in inst.sites:
        for res in RESOURCES:
            used = [(inst.footprint[w, res], stock[s, w]) for w in held[s] if inst.footprint[w, res] > 0]
            if used:
                h.addConstr(h.qsum(c * v for c, v in used) <= inst.capacity[s, res] * open_site[s])
    for (host, w), cap in inst.unit_cap.items():
        h.addConstr(stock_in({host}, w) <= cap)
    for host, share in inst.host_value_share.items():
        h.addConstr(stock_in({host}) <= share * inst.package)
    for (g, w), cap in inst.group_unit_cap.items():
        h.addConstr(stock_in(set(inst.groups[g]), w) <= cap)
    for g, share in inst.group_value_share.items():
        h.addConstr(stock_in(set(inst.groups[g])) <= share * inst.package)
    for w, n in inst.min_hosts.items():
        if w not in inst.requirement:
            continue
        flags = []
        for host in sorted({inst.host_of[s] for s, w2 in inst.allowed if w2 == w}):
            y = h.addVariable(lb=0, ub=1, type=INT)
            flags.append(y)
            h.addConstr(stock_in({host}, w) >= inst.min_lot[w] * y)
            h.addConstr(stock_in({host}, w) <= inst.requirement[w] * y)
        h.addConstr(h.qsum(flags) >= n)
    for (_, w), v in stock.items():
        if inst.min_lot[w] > 1:
            y = h.addVariable(lb=0, ub=1, type=INT)
            h.addConstr(v >= inst.min_lot[w] * y)
            h.addConstr(v <= inst.requirement[w] * y)
    for (w, _name), lost in inst.lost_hosts.items():
        h.addConstr(stock_in(set(inst.hosts) - lost, w) >= inst.resilience_need[w])
    if inst.max_sites is not None:
        h.addConstr(h.qsum(open_site.values()) <= inst.max_sites)
    if inst.budget_musd is not None:
        h.addConstr(h.qsum(inst.fixed_cost_musd[s] * v for s, v in open_site.items()) <= inst.budget_musd)
    for s in inst.force_open:
        if s in open_site:
            h.addConstr(open_site[s] == 1)
    objective = inst.time_weight * _time(h, inst, stock, ship) + inst.risk_weight * _risk(h, inst, stock_in)
    objective += inst.cost_weight * h.qsum(inst.fixed_cost_musd[s] * v for s, v in open_site.items())
    h.minimize(objective)
    return (
        h.getInfo().objective_function_value,
        h.modelStatusToString(h.getModelStatus()),
        time.perf_counter() - started,
    )


def _time(h, inst: Instance, stock, ship):
    """The mean measures over release + transit (the queue off), or the makespan with each site's queue in
    the documented order (``depotsite.dispatch``): a route's last unit leaves after every slot before it."""
    if inst.time_measure != "makespan":
        if inst.queues:
            raise ValueError("the plain formulation has no dispatch queue in the mean measures (queues = true)")
        raw = {
            w: inst.priority[w]
            * (inst.value[w] if inst.time_measure == "value" else 1.0)
            / (inst.requirement[w] if inst.time_measure == "system_mean" else 1.0)
            for w in inst.systems
        }
        total = sum(raw[w] * inst.requirement[w] for w in inst.systems)
        return h.qsum(raw[r[2]] * inst.tau_h[r] / total * v for r, v in ship.items())
    makespan = h.addVariable(lb=0)
    for s, routes in dispatch_order(inst).items():
        before, most, step = [], 0.0, 24.0 / inst.dispatch_per_day[s]
        for r in routes:
            d, w = r[1], r[2]
            use = h.addVariable(lb=0, ub=1, type=INT)
            h.addConstr(ship[r] <= inst.demand[d, w] * use)
            before.append(inst.slots[w] * ship[r])
            most += inst.slots[w] * inst.demand[d, w]
            h.addConstr(makespan >= inst.tau_h[r] * use + step * h.qsum(before))
            limit = inst.deadline_h[w]
            if limit is not None:  # the route's last unit, its queue included, within the deadline when used
                arrival = inst.release_h[inst.host_of[s]] + inst.transit_h[r]
                big = step * most
                h.addConstr(arrival * use + step * h.qsum(before) <= limit + big * (1 - use))
    return 1.0 * makespan


def _risk(h, inst: Instance, stock_in):
    share = {host: stock_in({host}) * (1.0 / inst.package) for host in inst.hosts}
    if inst.risk_measure == "max_host_share":
        r = h.addVariable(lb=0)
        for x in share.values():
            h.addConstr(r >= 100.0 * x)
        return 1.0 * r
    if inst.risk_measure == "hhi":
        z = {host: h.addVariable(lb=0) for host in inst.hosts}
        for host, x in share.items():
            for a in inst.hhi_points:
                h.addConstr(z[host] >= 2 * a * x - a * a)
        return 10_000.0 * h.qsum(z.values())
    return 100.0 * h.qsum(inst.threat[host] * x for host, x in share.items())
