"""The objective terms of the formulation (time, risk, cost) and the weighted objective, one ``add_`` each.

Their maths is in ``depotsite.model``'s docstring; ``depotsite.model.FAMILIES`` registers them.
"""

from __future__ import annotations

import pyomo.environ as pyo

from depotsite.instance import Instance
from depotsite.rows import constraint, sites_serving, stock_in


def add_time_term(m: pyo.ConcreteModel, inst: Instance) -> None:
    """time: priority-weighted mean time-to-availability, or the makespan with the dispatch queue."""
    if inst.time_measure == "mean":
        total = sum(inst.priority[w] * inst.requirement[w] for w in inst.systems)
        m.time_h = pyo.Expression(
            expr=sum(inst.priority[w] * inst.tau_h[s, d, w] * m.ship[s, d, w] for s, d, w in inst.routes) / total
        )
        return
    m.use_route_link = constraint(
        "use_route_link", m.R, rule=lambda m, s, d, w: m.ship[s, d, w] <= inst.demand[d, w] * m.use_route[s, d, w]
    )

    def queue_h(m, s):
        return 24.0 * sum(m.stock[s2, w] for s2, w in inst.allowed if s2 == s) / inst.dispatch_per_day[s]

    m.makespan = constraint(
        "makespan",
        m.R,
        rule=lambda m, s, d, w: m.makespan_h >= inst.tau_h[s, d, w] * m.use_route[s, d, w] + queue_h(m, s),
    )
    # Valid cuts that make the LP bound useful: the last unit of a destination arrives no earlier than the
    # average of its units, and no earlier than its fastest possible route.
    by_dw = sites_serving(inst)
    m.makespan_average_cut = constraint(
        "makespan_average_cut",
        list(inst.demand),
        rule=lambda m, d, w: (
            m.makespan_h >= sum(inst.tau_h[s, d, w] * m.ship[s, d, w] for s in by_dw[d, w]) / inst.demand[d, w]
        ),
    )
    m.makespan_h.setlb(max(min(inst.tau_h[s, d, w] for s in by_dw[d, w]) for d, w in inst.demand))
    m.time_h = pyo.Expression(expr=m.makespan_h)


def add_risk_term(m: pyo.ConcreteModel, inst: Instance) -> None:
    """risk: max host share, Herfindahl index by tangent cuts, or expected loss (percentage points)."""
    share = {h: stock_in(m, inst, {h}) / inst.package for h in inst.hosts}
    if inst.risk_measure == "max_host_share":
        m.max_host_share = constraint("max_host_share", m.H, rule=lambda m, h: m.max_share_pct >= 100.0 * share[h])
        if inst.value_step is not None:  # the largest host holds a whole number of value steps
            m.max_share_whole = pyo.Constraint(
                expr=m.max_share_pct == 100.0 * inst.value_step / inst.package * m.max_share_steps
            )
        m.risk = pyo.Expression(expr=m.max_share_pct)
    elif inst.risk_measure == "hhi":
        points = inst.hhi_points
        m.hhi_tangent = constraint(
            "hhi_tangent",
            m.H,
            range(len(points)),
            rule=lambda m, h, i: m.share_sq[h] >= 2 * points[i] * share[h] - points[i] ** 2,
        )
        m.risk = pyo.Expression(expr=10_000.0 * sum(m.share_sq[h] for h in m.H))
    else:
        m.risk = pyo.Expression(expr=100.0 * sum(inst.threat[h] * share[h] for h in inst.hosts))


def add_cost_term(m: pyo.ConcreteModel, inst: Instance) -> None:
    """cost: sum_s fc[s] open_site[s] (M USD)."""
    m.cost_musd = pyo.Expression(expr=sum(inst.fixed_cost_musd[s] * m.open_site[s] for s in m.S))


def add_objective(m: pyo.ConcreteModel, inst: Instance) -> None:
    """minimise time_weight * time + risk_weight * risk + cost_weight * cost."""
    m.objective = pyo.Objective(
        expr=inst.time_weight * m.time_h + inst.risk_weight * m.risk + inst.cost_weight * m.cost_musd,
        sense=pyo.minimize,
    )
