"""Typed results keyed by input ids, computed from the plain posture the solver found (no pyomo).

Every term is recomputed from the integer allocation, so the reported time, risk and cost are the true
values even where the model used an approximation (the Herfindahl index by tangent cuts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from depotsite.dispatch import arrival_h, queue_waits, unit_weight
from depotsite.instance import Instance
from depotsite.posture import Posture, SolveOutcome


@dataclass(frozen=True)
class Delivery:
    site_id: str
    destination_id: str
    system_id: str
    units: int
    transit_h: float
    queue_h: float  # mean wait of its units in the site's dispatch queue
    available_h: float  # mean of its units: release + queue + transit
    last_available_h: float  # its last unit


@dataclass(frozen=True)
class SystemTimes:
    mean_h: float
    worst_h: float


@dataclass(frozen=True)
class RunResult:
    scenario: str
    status: str
    objective: float
    gap: float
    terms: dict[str, float]  # time_h, risk_pct (or hhi points), cost_musd
    time_measure: str
    risk_measure: str
    stock: dict[tuple[str, str], int]  # (site_id, system_id) -> units, non-zero only
    deliveries: tuple[Delivery, ...]
    open_sites: tuple[str, ...]
    host_value_shares: dict[str, float]  # percent of package value
    group_value_shares: dict[str, float]
    system_times: dict[str, SystemTimes]
    crews: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def host_units(self, host_of: dict[str, str]) -> dict[tuple[str, str], int]:
        units: dict[tuple[str, str], int] = defaultdict(int)
        for (s, w), n in self.stock.items():
            units[host_of[s], w] += n
        return dict(units)


def value_shares(p: Instance, stock: dict[tuple[str, str], int]) -> dict[str, float]:
    """Percent of the package value held in each host."""
    shares = dict.fromkeys(p.hosts, 0.0)
    for (s, w), n in stock.items():
        shares[p.host_of[s]] += 100.0 * p.value[w] * n / p.package
    return shares


def risk_value(p: Instance, shares_pct: dict[str, float]) -> float:
    """The risk term of the instance's measure, from the host value shares (percent)."""
    if p.risk_measure == "max_host_share":
        return max(shares_pct.values(), default=0.0)
    if p.risk_measure == "hhi":
        return sum(v * v for v in shares_pct.values())  # (percent)^2 summed = 10 000 * sum of fractions^2
    return sum(p.threat[h] * v for h, v in shares_pct.items())


def collect(
    instance: Instance,
    posture: Posture,
    outcome: SolveOutcome,
    *,
    timings: dict[str, float] | None = None,
    warnings: tuple[str, ...] = (),
) -> RunResult:
    """Every reported figure of a solved posture (``depotsite.model.posture_of``).

    Parameters
    ----------
    instance
        The resolved numbers the posture was solved for.
    posture
        The integer stock, shipments and open sites.
    outcome
        How the solve ended; its warnings come first in the result's.
    timings, warnings
        Stage timings and further warnings to record.

    Returns
    -------
    RunResult
        Terms, shares, deliveries, times and crews, recomputed from the integer posture.
    """
    return summarise(
        instance,
        posture.stock,
        posture.ship,
        posture.open_sites,
        outcome=outcome,
        timings=timings,
        warnings=(*outcome.warnings, *warnings),
    )


def summarise(
    p: Instance,
    stock: dict[tuple[str, str], int],
    ship: dict[tuple[str, str, str], int],
    open_sites: tuple[str, ...],
    *,
    outcome: SolveOutcome,
    timings: dict[str, float] | None = None,
    warnings: tuple[str, ...] = (),
) -> RunResult:
    """Compute every reported figure from an integer allocation and its shipments."""
    waits = queue_waits(p, ship)
    unmodelled = unmodelled_queue_warning(p, ship)
    warnings = (*warnings, unmodelled) if unmodelled else warnings
    deliveries = []
    for r, units in sorted(ship.items()):
        arrival, (mean_wait, last_wait) = arrival_h(p, r), waits[r]
        deliveries.append(Delivery(*r, units, p.transit_h[r], mean_wait, arrival + mean_wait, arrival + last_wait))

    by_system: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_system[delivery.system_id].append(delivery)
    system_times = {
        w: SystemTimes(
            mean_h=sum(x.available_h * x.units for x in rows) / sum(x.units for x in rows),
            worst_h=max(x.last_available_h for x in rows),
        )
        for w, rows in by_system.items()
    }
    # tau_h - release - transit: the exposure hours the time term counts extra (exposure_weight)
    extra = {r: p.tau_h[r] - arrival_h(p, r) for r in ship}
    if p.time_measure == "makespan":
        time_h = max(
            (x.last_available_h + extra[x.site_id, x.destination_id, x.system_id] for x in deliveries), default=0.0
        )
    else:
        u = unit_weight(p)
        time_h = sum(
            u[x.system_id] * (x.available_h + extra[x.site_id, x.destination_id, x.system_id]) * x.units
            for x in deliveries
        )
    shares = value_shares(p, stock)
    group_shares = {g: sum(shares[h] for h in members) for g, members in p.groups.items()}
    cost = sum(p.fixed_cost_musd[s] for s in open_sites)
    rotation = p.scenario.report.crew_rotation_factor
    crews = {w: p.requirement[w] * p.inputs.systems[w].crew_per_unit * rotation for w in p.systems}
    return RunResult(
        scenario=p.name,
        status=outcome.status,
        objective=outcome.objective,
        gap=outcome.gap,
        terms={"time_h": time_h, "risk": risk_value(p, shares), "cost_musd": cost},
        time_measure=p.time_measure,
        risk_measure=p.risk_measure,
        stock=dict(sorted(stock.items())),
        deliveries=tuple(deliveries),
        open_sites=open_sites,
        host_value_shares=shares,
        group_value_shares=group_shares,
        system_times=system_times,
        crews=crews,
        timings={**(timings or {}), "solve_s": outcome.solve_s},
        warnings=warnings,
    )


def unmodelled_queue_warning(p: Instance, ship: dict[tuple[str, str, str], int]) -> str | None:
    """When the run's times leave the dispatch queues out: how long the posture's units would really wait.

    The units of a site leave at its ``dispatch_per_day`` rate (``depotsite.dispatch``); a run with
    ``objective.queues = false`` sites as if they all left at once. The warning gives the longest wait and
    each system's mean availability with every site's queue counted, so the reader sees what was left out.
    """
    if p.queues:
        return None
    counted = replace(p, queues=True)
    waits = queue_waits(counted, ship)
    if not waits:
        return None
    worst = max(waits, key=lambda r: waits[r][1])
    if waits[worst][1] <= 0:
        return None
    units: dict[str, int] = defaultdict(int)
    total: dict[str, float] = defaultdict(float)
    last: dict[str, float] = defaultdict(float)
    for r, n in ship.items():
        if n > 0:
            arrival = arrival_h(p, r)
            units[r[2]] += n
            total[r[2]] += n * (arrival + waits[r][0])
            last[r[2]] = max(last[r[2]], arrival + waits[r][1])
    means = ", ".join(f"{w} {total[w] / units[w]:.1f} h" for w in p.systems if units[w])
    deadlines = {w: h for w, h in p.deadline_h.items() if h is not None and units[w]}
    late = [
        f"{w}'s last unit at {last[w]:.1f} h, after its {h:g} h deadline"
        for w, h in deadlines.items()
        if last[w] > h + 1e-9
    ]
    return (
        f"dispatch queues are not in this run's times (objective.queues = false): the last unit at {worst[0]} "
        f"waits {waits[worst][1]:.1f} h to leave; with every site's queue counted the mean availability is "
        f"{means}" + (f", and {'; '.join(late)}" if late else "") + "; set objective.queues = true "
        "(models/queues.toml) to site against the queues"
    )
