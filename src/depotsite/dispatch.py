r"""The dispatch queue at each site: the order units leave in, and each unit's wait before it leaves.

A site sends off ``dispatch_per_day`` dispatch slots a day, one slot every ``24 / dispatch_per_day`` hours
from the release; a unit takes ``dispatch_slots_per_unit`` slots (a Patriot battery is a column of many
vehicles, an aircraft one slot) and is on its way when its last slot has gone. So a unit whose slots end at
position :math:`C` of the site's queue waits :math:`24 C / disp` hours, and it is available in Ukraine at
release + that wait + transit.

The order is a fixed, documented rule, chosen to be the best order for the run's time measure:

- ``mean``, ``value`` and ``system_mean``: systems in decreasing weight per dispatch slot (the weight of one
  unit in the time term, over its slots: Smith's rule, the order that minimises the weighted wait at a
  site), ties in input order; with equal slots that is the higher priority first. Within a system, the
  destinations with the longest transit go first (the system's last unit then arrives earliest).
- ``makespan``: every route of the site by decreasing hours to Ukraine (release + transit), ties in the
  order above: the longest journeys leave first, the order that minimises the site's last arrival.

For the mean measures, the weighted wait at a site is then exactly (with :math:`N_k` the slots of the
first :math:`k` systems, :math:`u_k` a unit's weight, :math:`c_k` its slots, :math:`b_k = u_k / 2c_k`,
non-increasing by the order, :math:`b_{K+1} = 0`)

.. math:: \frac{24}{disp} \Big( \sum_k (b_k - b_{k+1}) N_k^2 + \sum_k u_k c_k x_k / 2 \Big)

a sum of convex functions of whole numbers, which the model takes by an epigraph over its whole breakpoints
(``N_k`` counted in steps of the gcd of the first k systems' slots, ``slot_steps``).

No pyomo: the model, the results and the fixed-posture stress test all read the order from here.
"""

from __future__ import annotations

import math
from collections import defaultdict

from depotsite.instance import Instance
from depotsite.traveltimes import Pair


def unit_weight(p: Instance) -> dict[str, float]:
    """Weight of one unit of each system in the time term (mean measures), summing to 1 over the package.

    ``mean``: priority per unit; ``value``: priority times value per unit; ``system_mean``: each system's
    priority shared among its units, so every system's mean time counts by its priority, whatever its size.
    """
    if p.time_measure == "value":
        raw = {w: p.priority[w] * p.value[w] for w in p.systems}
    elif p.time_measure == "system_mean":
        raw = {w: p.priority[w] / p.requirement[w] for w in p.systems}
    else:
        raw = dict(p.priority)
    total = sum(raw[w] * p.requirement[w] for w in p.systems)
    return {w: raw[w] / total for w in p.systems}


def system_rank(p: Instance) -> dict[str, int]:
    """Position of each system in a site's queue under the mean measures (0 leaves first)."""
    u = unit_weight(p)
    index = {w: i for i, w in enumerate(p.systems)}
    ranked = sorted(p.systems, key=lambda w: (-u[w] / p.slots[w], index[w]))
    return {w: i for i, w in enumerate(ranked)}


def site_classes(p: Instance) -> dict[str, list[str]]:
    """Site -> the systems it may hold, in queue order (mean measures)."""
    rank = system_rank(p)
    held: dict[str, list[str]] = defaultdict(list)
    for s, w in p.allowed:
        held[s].append(w)
    return {s: sorted(ws, key=rank.__getitem__) for s, ws in held.items()}


def dispatch_order(p: Instance) -> dict[str, list[Pair]]:
    """Site -> its routes in the order their units leave (the module's rule for the run's measure)."""
    rank = system_rank(p)
    by_site: dict[str, list[Pair]] = defaultdict(list)
    for r in p.routes:
        by_site[r[0]].append(r)
    if p.time_measure == "makespan":
        return {s: sorted(rs, key=lambda r: (-p.tau_h[r], rank[r[2]], r[1])) for s, rs in by_site.items()}
    return {s: sorted(rs, key=lambda r: (rank[r[2]], -p.tau_h[r], r[1])) for s, rs in by_site.items()}


def arrival_h(p: Instance, r: Pair) -> float:
    """Release + transit hours of a route: when its units arrive, queue aside (deadlines bound this, plus
    the queue; ``tau_h`` may add the exposure hours the time term counts extra)."""
    return p.release_h[p.host_of[r[0]]] + p.transit_h[r]


def hours_per_slot(p: Instance, site_id: str) -> float:
    """Hours between two dispatch slots at a site."""
    return 24.0 / p.dispatch_per_day[site_id]


def queue_waits(p: Instance, ship: dict[Pair, int]) -> dict[Pair, tuple[float, float]]:
    """Route -> (mean wait of its units, wait of its last unit), hours, for whole shipments.

    Parameters
    ----------
    p
        The instance: slots per unit, dispatch rates and the order rule.
    ship
        Whole units per route (routes without units are left out of the result).

    Returns
    -------
    dict
        The units of a route take the slots after those of every route before it at the site: their waits
        are ``24 / disp`` times the slot each one ends at.
    """
    if not p.queues:
        return {r: (0.0, 0.0) for r, n in ship.items() if n > 0}
    waits = {}
    for s, routes in dispatch_order(p).items():
        step, before = hours_per_slot(p, s), 0
        for r in routes:
            n = ship.get(r, 0)
            if n <= 0:
                continue
            c = p.slots[r[2]]
            waits[r] = (step * (before + c * (n + 1) / 2), step * (before + c * n))
            before += c * n
    return waits


def slot_bounds(p: Instance) -> dict[tuple[str, int], int]:
    """(site, k) -> most slots the first k + 1 systems of the site's queue could fill, in their steps
    (``slot_steps``: the unit the model counts them in; mean measures)."""
    steps, bounds = slot_steps(p), {}
    for s, classes in site_classes(p).items():
        total = 0
        for k, w in enumerate(classes):
            total += p.slots[w] * p.stock_bound[s, w]
            bounds[s, k] = total // steps[s, k]
    return bounds


def slot_steps(p: Instance) -> dict[tuple[str, int], int]:
    """(site, k) -> the step g in which the first k + 1 systems of the site's queue fill slots (mean measures).

    Their slots ``N = sum_w c[w] stock[s,w]`` are always a whole multiple of g, the greatest common divisor of
    their ``c[w]``: a site whose queue starts with Patriot batteries (12 slots each) fills 0, 12, 24, ...
    The model counts ``N`` in steps of g, so the secants of its square run between the values ``N`` can take
    (a battery and a half's secant is the one between 12 and 24 slots, not between 17 and 19): a tighter LP
    bound at no cost, exact at every whole posture all the same.
    """
    steps = {}
    for s, classes in site_classes(p).items():
        step = 0
        for k, w in enumerate(classes):
            step = math.gcd(step, p.slots[w])
            steps[s, k] = step
    return steps


def queue_coefficients(p: Instance) -> dict[tuple[str, int], float]:
    """(site, k) -> b_k - b_k+1 of the module's formula, for the terms that weigh anything (mean measures)."""
    if not p.queues:
        return {}
    u = unit_weight(p)
    found = {}
    for s, classes in site_classes(p).items():
        b = [u[w] / (2 * p.slots[w]) for w in classes] + [0.0]
        for k in range(len(classes)):
            if b[k] - b[k + 1] > 1e-15:
                found[s, k] = b[k] - b[k + 1]
    return found


def queue_deadline_routes(p: Instance) -> dict[Pair, float]:
    """Routes whose last unit could miss its system's deadline through the queue -> the big-M of their row.

    A route's units end at most at the slots every route up to it at the site could fill (each system at
    most what fits there); where that wait plus release and transit stays within the deadline, no row is
    needed. The big-M is that longest wait less the deadline (the row is slack when the route is unused).
    """
    found: dict[Pair, float] = {}
    if not p.queues:
        return found
    for s, routes in dispatch_order(p).items():
        step, filled = hours_per_slot(p, s), defaultdict[str, int](int)
        for r in routes:
            w = r[2]
            filled[w] = min(p.stock_bound[s, w], filled[w] + p.demand[r[1], w])
            longest = step * sum(p.slots[x] * n for x, n in filled.items())
            limit = p.deadline_h[w]
            if limit is not None and arrival_h(p, r) + longest > limit + 1e-9:
                found[r] = max(0.0, longest - limit)
    return found
