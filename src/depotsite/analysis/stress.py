"""Host-loss stress test: remove the stock of one host (or two), re-route only the surviving stock.

For every lost set the surviving stock stays where it is; a small transportation model sends it to
the destinations on the same routes and deadlines, first minimising the units short, then the mean
time of what arrives (release and transit); the times reported add each unit's wait in its site's dispatch
queue, in the order rule of ``depotsite.dispatch``, as in the main model.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

import pyomo.core as pyo

from depotsite.dispatch import queue_waits
from depotsite.instance import Instance
from depotsite.solve import solve
from depotsite.timelimit import Deadline

SHORT_PENALTY_H = 1e6  # hours charged per unit short: any shortfall outweighs every transit time


@dataclass(frozen=True)
class StressCase:
    lost: tuple[str, ...]
    short: dict[str, int]  # system -> units that cannot be delivered
    value_lost_pct: float  # percent of the package value held by the lost hosts
    value_short_pct: float  # percent of the package value that cannot be delivered (what the loss costs)
    mean_h: dict[str, float | None]  # per system, over the units that arrive
    worst_h: dict[str, float | None]
    delivered: dict[str, int]

    @property
    def total_short(self) -> int:
        return sum(self.short.values())

    @property
    def systems_short(self) -> dict[str, int]:
        """The systems left short, with the units missing."""
        return {w: n for w, n in self.short.items() if n}


def reroute_model(
    p: Instance, surviving: dict[tuple[str, str], int], arrival: dict[tuple[str, str, str], float]
) -> pyo.ConcreteModel:
    """Send surviving stock on the allowed routes; minimise units short, then arrival hours."""
    routes = list(arrival)
    m = pyo.ConcreteModel()
    m.ship = pyo.Var(routes, domain=pyo.NonNegativeIntegers)
    m.short = pyo.Var(list(p.demand), domain=pyo.NonNegativeIntegers)
    m.meet = pyo.Constraint(
        list(p.demand),
        rule=lambda m, d, w: (
            sum(m.ship[r] for r in routes if r[1] == d and r[2] == w) + m.short[d, w] == p.demand[d, w]
        ),
    )
    held = sorted({(s, w) for s, _, w in routes})
    m.from_stock = pyo.Constraint(
        held, rule=lambda m, s, w: sum(m.ship[r] for r in routes if r[0] == s and r[2] == w) <= surviving[s, w]
    )
    m.objective = pyo.Objective(
        expr=sum(arrival[r] * m.ship[r] for r in routes) + SHORT_PENALTY_H * sum(m.short.values())
    )
    return m


def stress_test(
    p: Instance,
    stock: dict[tuple[str, str], int],
    *,
    lose: int,
    threads: int = 2,
    time_limit_s: float = 60.0,
    deadline: Deadline | None = None,
) -> list[StressCase]:
    """Every set of ``lose`` hosts, worst first: most package value that cannot be delivered, then most value
    held by the lost hosts, then most units short.

    Value, not units, ranks the cases: two Patriot batteries outweigh sixteen aircraft of a fifth the
    value between them.

    Parameters
    ----------
    deadline
        The budget of the whole test (a new one of ``time_limit_s`` when not given); each lost set gets an
        equal share of what remains.

    Raises
    ------
    SolverError
        When the time runs out before every lost set has a proven answer.
    """
    deadline = deadline or Deadline(time_limit_s)
    lost_sets = list(itertools.combinations(p.hosts, lose))
    cases = [
        reroute_stock(p, stock, lost=lost, threads=threads, deadline=deadline.share(len(lost_sets) - i))
        for i, lost in enumerate(lost_sets)
    ]
    return sorted(cases, key=lambda c: (-c.value_short_pct, -c.value_lost_pct, -c.total_short, c.lost))


def reroute_stock(
    p: Instance,
    stock: dict[tuple[str, str], int],
    *,
    lost: tuple[str, ...] = (),
    threads: int = 2,
    deadline: Deadline,
) -> StressCase:
    """Send the stock that survives the loss of ``lost`` hosts on the instance's routes and deadlines.

    Parameters
    ----------
    p
        The instance whose routes, deadlines and release delays apply (stock at a site it excludes, or
        with no route within a deadline, cannot be sent).
    stock
        Units per (site, system) of a fixed posture.
    lost
        Hosts whose stock is lost (none: re-route the whole posture, as a sweep's fixed-posture question does).
    threads, deadline
        HiGHS threads and the budget of this one re-route.

    Returns
    -------
    StressCase
        Units short per system (the fewest possible), then the mean and worst hours of what arrives, each
        unit's wait in its site's dispatch queue added where the instance's times count it.
    """
    surviving = {(s, w): n for (s, w), n in stock.items() if p.host_of.get(s) not in lost}
    routes = [(s, d, w) for (s, d, w) in p.routes if (s, w) in surviving]
    arrival = {r: p.tau_h[r] for r in routes}
    m = reroute_model(p, surviving, arrival)
    solve(m, deadline=deadline, threads=threads)
    short = {w: 0 for w in p.systems}
    for (_, w), var in m.short.items():
        short[w] += round(var.value or 0)
    shipped = {r: round(var.value or 0) for r, var in m.ship.items() if round(var.value or 0) > 0}
    waits = queue_waits(p, shipped)
    arrived = defaultdict(list)  # system -> (mean hours, last hours, units) per route
    for r, n in shipped.items():
        arrived[r[2]].append((arrival[r] + waits[r][0], arrival[r] + waits[r][1], n))
    lost_value = sum(p.value.get(w, 0.0) * n for (s, w), n in stock.items() if p.host_of.get(s) in lost)
    return StressCase(
        lost=lost,
        short=short,
        value_lost_pct=100.0 * lost_value / p.package,
        value_short_pct=100.0 * sum(p.value[w] * n for w, n in short.items()) / p.package,
        mean_h={
            w: (sum(h * n for h, _, n in arrived[w]) / sum(n for *_, n in arrived[w]) if arrived[w] else None)
            for w in p.systems
        },
        worst_h={w: (max(last for _, last, _ in arrived[w]) if arrived[w] else None) for w in p.systems},
        delivered={w: sum(n for *_, n in arrived[w]) for w in p.systems},
    )
