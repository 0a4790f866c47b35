"""The objective terms of the formulation (time, risk, cost) and the weighted objective, one ``add_`` each.

Their maths is in ``depotsite.model``'s docstring; ``depotsite.model.FAMILIES`` registers them.
"""

from __future__ import annotations

import itertools

import pyomo.core as pyo

from depotsite.dispatch import hours_per_slot, queue_coefficients, site_classes, slot_steps, unit_weight
from depotsite.instance import Instance
from depotsite.rows import constraint, sites_serving, slot_prefix, stock_in


def add_time_term(m: pyo.ConcreteModel, inst: Instance) -> None:
    """time: a mean measure with its sites' queues exactly (epigraph), or the makespan with its queues."""
    if inst.time_measure != "makespan":
        m.time_h = pyo.Expression(expr=_transit_part(m, inst) + _queue_part(m, inst))
        return
    prefix = slot_prefix(m, inst)
    m.makespan = constraint(
        "makespan",
        m.R,
        rule=lambda m, s, d, w: (
            m.makespan_h >= inst.tau_h[s, d, w] * m.use_route[s, d, w] + hours_per_slot(inst, s) * prefix[s, d, w]
        ),
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
    floor = max(min(inst.tau_h[s, d, w] for s in by_dw[d, w]) for d, w in inst.demand)
    m.makespan_h.setlb(floor)
    _add_makespan_ladder(m, inst, floor)
    m.time_h = pyo.Expression(expr=m.makespan_h)


def _add_makespan_ladder(m: pyo.ConcreteModel, inst: Instance, floor: float) -> None:
    """The ladder: T >= floor + sum_k (t_k - t_k-1) z_k, z_k >= use[r] for a route of hours t_k, z_k >= z_k+1.

    The hours t_1 < t_2 < ... are the routes' distinct ``tau`` above the floor (the last arrival no
    posture can beat); z_k is 1 once any route of t_k or more hours is used. At whole ``use`` the ladder
    is the largest ``tau`` of a used route, a valid bound on the last arrival (its queue comes on top);
    in the LP a route used a tenth lifts T by a tenth of the step from the level below, where
    ``tau[r] use[r]`` lifts it by nothing above the floor: a far stronger bound.

    The z_k are binary. That changes no optimum: at whole ``use`` the least z the rows allow is already
    whole (z_k = 1 exactly when a route of t_k hours or more is used). It lets HiGHS branch on "T reaches
    t_k", the question the weighted makespan turns on (base with ``time = "makespan"``: 1.8% from the bound
    after 120 s against 4.3% with z continuous, ``benchmarks/README.md``).
    """
    hours = sorted({inst.tau_h[r] for r in inst.routes if inst.tau_h[r] > floor})
    if not hours:
        return
    level = {t: k for k, t in enumerate(hours)}
    m.LADDER = pyo.RangeSet(0, len(hours) - 1)
    m.makespan_level = pyo.Var(m.LADDER, domain=pyo.Binary)
    steps = [hours[0] - floor] + [b - a for a, b in itertools.pairwise(hours)]
    m.makespan_ladder = pyo.Constraint(
        expr=m.makespan_h >= floor + sum(step * m.makespan_level[k] for k, step in enumerate(steps))
    )
    m.makespan_ladder_order = constraint(
        "makespan_ladder_order",
        range(len(hours) - 1),
        rule=lambda m, k: m.makespan_level[k] >= m.makespan_level[k + 1],
    )
    climbing = [r for r in inst.routes if inst.tau_h[r] > floor]
    m.makespan_ladder_use = constraint(
        "makespan_ladder_use",
        climbing,
        rule=lambda m, s, d, w: m.makespan_level[level[inst.tau_h[s, d, w]]] >= m.use_route[s, d, w],
    )


def _transit_part(m: pyo.ConcreteModel, inst: Instance):
    """sum_r u[w] tau[r] ship[r]: release and transit, weighted per unit."""
    u = unit_weight(inst)
    return sum(u[w] * inst.tau_h[s, d, w] * m.ship[s, d, w] for s, d, w in inst.routes)


def _queue_part(m: pyo.ConcreteModel, inst: Instance):
    """The weighted wait of every site's queue: 24/disp (sum_k (b_k - b_k+1) g_k^2 sq[s,k] + sum_k u_k c_k x_k / 2),
    with N_k the first k systems' slots in steps of g_k (``dispatch.slot_steps``) and sq[s,k] >= N_k^2 by its
    secants through whole breakpoints (exact at whole N_k)."""
    if not inst.queues:
        return 0
    u, classes, coefficient, g = unit_weight(inst), site_classes(inst), queue_coefficients(inst), slot_steps(inst)
    total = sum(hours_per_slot(inst, s) * coefficient[s, k] * g[s, k] ** 2 * m.queue_sq[s, k] for s, k in m.QK)
    total += sum(hours_per_slot(inst, s) * u[w] * inst.slots[w] * m.stock[s, w] / 2 for s, w in inst.allowed)
    m.queue_slots_def = constraint(
        "queue_slots_def",
        m.QK,
        rule=lambda m, s, k: (
            m.queue_slots[s, k] == sum(inst.slots[w] // g[s, k] * m.stock[s, w] for w in classes[s][: k + 1])
        ),
    )
    m.queue_secant = constraint(
        "queue_secant",
        m.QKN,
        rule=lambda m, s, k, n: _secant(m, s, k, n),
    )
    m.queue_secant_added = pyo.ConstraintList()
    return total


def _secant(m: pyo.ConcreteModel, s: str, k: int, n: int):
    """sq >= (2n + 1) N - n (n + 1) open: the secant of N^2 through n and n + 1, in perspective (0 when closed)."""
    return m.queue_sq[s, k] >= (2 * n + 1) * m.queue_slots[s, k] - n * (n + 1) * m.open_site[s]


def refine_queues(m: pyo.ConcreteModel) -> int:
    """After a solve: add the secants the posture's queues need to be exact, and make its sq values exact.

    Each ``sq[s,k]`` is set to ``N^2`` for the posture's whole ``N`` (so the model's objective value is the
    posture's true one); where the solver's value was below it, the two secants that meet at ``N`` are
    added, and the model must be solved again.

    Returns
    -------
    int
        The secants added (0: every queue was exact, the solve stands).
    """
    if not hasattr(m, "QK"):
        return 0
    added = 0
    for s, k in m.QK:
        n = round(m.queue_slots[s, k].value or 0.0)
        exact = float(n * n)
        if (m.queue_sq[s, k].value or 0.0) < exact - 1e-6 * max(1.0, exact):
            for at in (n - 1, n):
                if at >= 0 and (s, k, at) not in m.QKN and at < m.queue_slots[s, k].ub:
                    m.QKN.add((s, k, at))
                    m.queue_secant_added.add(_secant(m, s, k, at))
                    added += 1
        m.queue_sq[s, k].set_value(max(exact, m.queue_sq[s, k].value or 0.0))
    return added


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
