"""Dominated sites: a site another site of its host beats on every count need not be open while that one is closed.

Site b *dominates* site a when both are in the same host and b is at least as good for everything a could do:
b may hold every system a may (``allowed``); b has every route a has, each at most as many hours (``tau_h``,
which carries release delay, transit and exposure); b's capacity is at least a's in every resource and its
``stock_bound`` at least a's for every system; b costs no more to keep open and sends off at least as many
dispatch slots per day. Then in any posture that opens a and not b, moving all of a's stock and shipments to
b gives a posture that is feasible and costs no more in any term:

* the host rules, groups, earmarks, resilience, risk and the count of open sites see hosts and counts only,
  which the move keeps; the budget sees ``fc[b] <= fc[a]``; min lots see the same units;
* the mean time sums ``tau`` over shipments (no larger at b) and the queue term scales with 1 / dispatch
  rate, its systems in an order of their own (``dispatch.system_rank``), the same at every site;
* the makespan's queue at b sends the longest journeys first, which is the best order for the latest
  arrival (Jackson's rule), so it ends no later than a's queue would with b's shorter journeys.

So ``open_site[a] <= open_site[b]`` keeps an optimal posture (``model.add_site_dominance``) and cuts off
the interchangeable twins of every posture, which branch and bound would otherwise search again. Sites that
dominate each other (the same figures) are ordered by their place in the site table, so the rows never
form a cycle: moving stock up the order ends, and ends at a posture meeting every row. The same holds for
any subset of the pairs (move only along the pairs kept), so the sites of ``Instance.dominance_skips`` may
be left out as dominators: the reduction does so for the sites it adds back, whose rows the posture carried
over from the smaller model could break.

Not used with queue deadlines (``dispatch.queue_deadline_routes``): b's queue follows its own journey times,
and a deadline met in a's order need not be met in b's; and ``tau_h`` may count exposure hours the deadline
does not, so a route faster by ``tau_h`` may arrive later (``tests/test_dominance.py`` has both). Allowing the
pairs whose queue order and arrivals agree was measured and not kept (``benchmarks/README.md``).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from depotsite.dispatch import queue_deadline_routes
from depotsite.instance import RESOURCES, Instance


def _figures(inst: Instance, sites: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per site: the hours of every (destination, system) route (inf where it has none), and the figures
    where more is better (capacities, stock bounds, dispatch rate, less fixed cost; -inf where not allowed)."""
    keys = sorted({(d, w) for s, d, w in inst.routes if s in set(sites)})
    column = {k: i for i, k in enumerate(keys)}
    row = {s: i for i, s in enumerate(sites)}
    hours = np.full((len(sites), len(keys)), np.inf)
    for r in inst.routes:
        if r[0] in row:
            hours[row[r[0]], column[r[1], r[2]]] = inst.tau_h[r]
    systems = inst.systems
    more = np.full((len(sites), len(RESOURCES) + len(systems) + 2), -np.inf)
    for i, s in enumerate(sites):
        more[i, : len(RESOURCES)] = [inst.capacity.get((s, r), 0.0) for r in RESOURCES]
        more[i, -2] = inst.dispatch_per_day[s]
        more[i, -1] = -inst.fixed_cost_musd[s]
    for s, w in inst.allowed:
        if s in row:
            more[row[s], len(RESOURCES) + systems.index(w)] = inst.stock_bound[s, w]
    return hours, more


def dominated_pairs(inst: Instance) -> list[tuple[str, str]]:
    """Every (a, b) with b dominating a (module docstring), none for a forced site a or a site b of
    ``inst.dominance_skips``; empty with queue deadlines. Mutual dominance counts once, a dominated by the
    earlier site of the table."""
    if queue_deadline_routes(inst):
        return []
    by_host: dict[str, list[str]] = defaultdict(list)
    for s in inst.sites:
        by_host[inst.host_of[s]].append(s)
    forced = set(inst.force_open)
    pairs = []
    for sites in by_host.values():
        if len(sites) < 2:
            continue
        hours, more = _figures(inst, sites)
        dominator = np.array([s not in inst.dominance_skips for s in sites])
        for i, a in enumerate(sites):
            if a in forced:
                continue
            faster = (hours <= hours[i]).all(axis=1)  # inf <= inf: a route a lacks asks nothing of b
            better = (more >= more[i]).all(axis=1)
            same = (hours == hours[i]).all(axis=1) & (more == more[i]).all(axis=1)
            beats = faster & better & (~same | (np.arange(len(sites)) < i))
            beats[i] = False
            beats &= dominator
            pairs += [(a, sites[j]) for j in np.flatnonzero(beats)]
    return pairs
