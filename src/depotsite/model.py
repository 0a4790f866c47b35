r"""The siting model in pyomo. It takes data, never files.

Formulation
-----------
Sets: hosts :math:`H`, groups :math:`G` (subsets of H), sites :math:`S` with host :math:`h(s)`, systems
:math:`W`, destinations :math:`D`; :math:`A \subseteq S\times W` the (site, system) pairs allowed by kind,
exclusions and footprint; :math:`R \subseteq S\times D\times W` the routes that exist, are reachable and
meet the deadline.

======================  ===========================  ==============================================
symbol                  code name                    meaning
======================  ===========================  ==============================================
dem[d,w]                ``p.demand``                 units of w destination d needs
req[w]                  ``p.requirement``            sum over d of dem[d,w]
tau[s,d,w]              ``p.tau_h``                  release delay of h(s) + transit hours
val[w], V               ``p.value``, ``p.package``   M USD per unit; value of the whole package
prio[w]                 ``p.priority``               weight of w in the mean time
bays, shelters          ``p.site_bays`` ...          site capacity; footprints per unit
disp[s]                 ``p.dispatch``               units a site can send off per day
fc[s]                   ``p.fixed_cost``             M USD to keep site s open
stock[s,w]              ``m.stock``                  integer units of w stored at s
ship[s,d,w]             ``m.ship``                   integer units of w sent from s to d in a surge
open_site[s]            ``m.open_site``              1 if s holds anything
holds[s,w]              ``m.holds``                  1 if s holds a lot of w (min lots)
host_holds[h,w]         ``m.host_holds``             1 if host h holds w (min hosts)
======================  ===========================  ==============================================

Constraints (one ``add_<name>`` each)::

    meet_demand          sum_s ship[s,d,w] = dem[d,w]
    ship_from_stock      sum_d ship[s,d,w] = stock[s,w]
    ship_only_if_open    ship[s,d,w] <= dem[d,w] * open_site[s]          (valid inequality)
    site_capacity        sum_w bays[w] stock[s,w] <= min(bays[s], sum_w bays[w] req[w]) open_site[s]; same for
                         shelters (a capacity above what the package could use is clipped to it)
    site_kind            no stock variable where kind(s) is not allowed for w
    deadline             no ship variable where tau[s,d,w] > deadline[w]
    host_share_cap       sum_{s in h} stock[s,w] <= floor(share[h,w] req[w]);
                         sum_{s in h} sum_w val[w] stock[s,w] <= share[h] V      (hosts and groups)
    min_hosts            sum_h host_holds[h,w] >= min_hosts[w];
                         min_lot[w] host_holds[h,w] <= sum_{s in h} stock[s,w] <= req[w] host_holds[h,w]
    min_lot              min_lot[w] holds[s,w] <= stock[s,w] <= req[w] holds[s,w]
    host_loss_resilience for every set L of k hosts: sum_{s: h(s) not in L} stock[s,w] >= ceil(alpha[w] req[w])
    max_sites, budget    sum_s open_site[s] <= n;  sum_s fc[s] open_site[s] <= budget
    force_open           open_site[s] = 1
    exclude_sites/hosts  no variables at all for those sites

Objective terms (each in its own unit)::

    time  mean      sum prio[w] tau[s,d,w] ship[s,d,w] / sum_w prio[w] req[w]           (hours)
          makespan  T >= (tau[s,d,w]) use[s,d,w] + 24 sum_w stock[s,w] / disp[s]        (hours)
    risk  max_host_share  r >= 100 (value in h) / V                          (percentage points)
          hhi             10 000 sum_h z[h], z[h] >= 2 a x[h] - a^2 at tangent points a   (points)
          expected_loss   100 sum_h threat[h] (value in h) / V               (percentage points)
    cost  sum_s fc[s] open_site[s]                                                        (M USD)

    minimise  time_weight * time + risk_weight * risk + cost_weight * cost
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass

import pyomo.environ as pyo

from depotsite.errors import InfeasibleError
from depotsite.inputs import Inputs, units_fitting
from depotsite.scenario import Scenario
from depotsite.timelimit import Deadline
from depotsite.traveltimes import Pair, TravelTimes

log = logging.getLogger(__name__)

FAMILIES = (
    "site_capacity", "host_share_cap", "group_share_cap", "min_hosts", "min_lot", "host_loss_resilience",
    "max_sites", "budget", "force_open",
)


@dataclass(frozen=True)
class Parameters:
    """Every number the model uses, resolved from inputs, travel times and scenario, keyed by ids."""

    inputs: Inputs
    scenario: Scenario
    sites: tuple[str, ...]
    systems: tuple[str, ...]
    hosts: tuple[str, ...]
    host_of: dict[str, str]
    groups: dict[str, tuple[str, ...]]
    demand: dict[tuple[str, str], int]
    requirement: dict[str, int]
    value: dict[str, float]
    package: float
    priority: dict[str, float]
    release_h: dict[str, float]
    transit_h: dict[Pair, float]
    tau_h: dict[Pair, float]
    allowed: tuple[tuple[str, str], ...]
    routes: tuple[Pair, ...]
    dropped_by_deadline: dict[Pair, float]


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


def parameters(inputs: Inputs, travel: TravelTimes, scenario: Scenario) -> Parameters:
    """Resolve the numbers of the model; drop pairs that kind, exclusions, reach or deadline rule out."""
    excluded_hosts = set(scenario.constraints.exclude_hosts)
    sites = tuple(s for s, site in inputs.sites.items()
                  if s not in scenario.constraints.exclude_sites and site.host_id not in excluded_hosts)
    requirement = {w: n for w, n in inputs.requirement.items() if n > 0}
    systems = tuple(requirement)
    release = {h: release_delay_h(inputs, scenario, h) for h in inputs.hosts}
    host_of = {s: inputs.sites[s].host_id for s in inputs.sites}
    deadline = {w: (scenario.systems[w].deadline_h if w in scenario.systems else None) for w in systems}

    transit, tau, dropped = {}, {}, {}
    routes, allowed_pairs = [], set()
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
                total = release[host_of[s]] + hours
                limit = deadline[w]
                if limit is not None and total > limit + 1e-9:
                    dropped[(s, d, w)] = total
                    continue
                transit[(s, d, w)] = hours
                tau[(s, d, w)] = total
                routes.append((s, d, w))
                allowed_pairs.add((s, w))
    allowed = tuple((s, w) for s in sites for w in systems if (s, w) in allowed_pairs)
    value = {w: inputs.systems[w].value_musd for w in systems}
    return Parameters(
        inputs=inputs, scenario=scenario, sites=sites, systems=systems, hosts=tuple(inputs.hosts),
        host_of=host_of, groups=group_members(inputs, scenario), demand=dict(inputs.demand),
        requirement=requirement, value=value, package=sum(value[w] * requirement[w] for w in systems),
        priority={w: (scenario.systems[w].priority if w in scenario.systems else 1.0) for w in systems},
        release_h=release, transit_h=transit, tau_h=tau, allowed=allowed, routes=tuple(routes),
        dropped_by_deadline=dropped,
    )


def unserved_demand(p: Parameters, travel: TravelTimes) -> list[str]:
    """Demand rows that no site can serve at all, each with the reason in domain words."""
    served = {(d, w) for _, d, w in p.routes}
    reasons = []
    for (d, w), units in p.demand.items():
        if (d, w) in served:
            continue
        late = sorted((h, s) for (s, d2, w2), h in p.dropped_by_deadline.items() if (d2, w2) == (d, w))
        cut = [s for (s, d2, w2) in travel.unreachable if (d2, w2) == (d, w)]
        name = p.inputs.systems[w].name
        if late:
            rule = p.scenario.systems[w]
            reasons.append(
                f"{units} {name} ({w}) for {d}: no site can deliver within the {rule.deadline_h:g} h deadline "
                f"(fastest: {late[0][1]} at {late[0][0]:.1f} h); raise systems.{w}.deadline_h or add a closer site"
            )
        elif cut:
            reasons.append(f"{units} {name} ({w}) for {d}: every site that may hold it is cut off by avoided "
                           f"territory ({', '.join(p.scenario.network.avoid_countries)})")
        else:
            reasons.append(f"{units} {name} ({w}) for {d}: no open, allowed site can hold it (site kinds, "
                           "exclusions or the travel-time table leave none)")
    return reasons


def _constraint(name: str, *index, rule) -> pyo.Constraint:
    """A ``pyo.Constraint`` whose rule may come out trivial: skipped if always true, explained if never."""

    def checked(m, *key):
        expr = rule(m, *key)
        if expr is True:
            return pyo.Constraint.Skip
        if expr is False:
            where = "/".join(str(k) for k in key)
            raise InfeasibleError([f"{name} {where} cannot hold: no allowed site left for it (check site kinds, "
                                   "exclusions and deadlines)"])
        return expr

    return pyo.Constraint(*index, rule=checked)


# --- sets and variables ---------------------------------------------------------------------------------


def add_sets(m: pyo.ConcreteModel, p: Parameters) -> None:
    m.S = pyo.Set(initialize=p.sites, ordered=True)
    m.W = pyo.Set(initialize=p.systems, ordered=True)
    m.H = pyo.Set(initialize=p.hosts, ordered=True)
    m.A = pyo.Set(initialize=p.allowed, dimen=2, ordered=True)
    m.R = pyo.Set(initialize=p.routes, dimen=3, ordered=True)


def add_variables(m: pyo.ConcreteModel, p: Parameters) -> None:
    m.stock = pyo.Var(m.A, domain=pyo.NonNegativeIntegers)
    m.ship = pyo.Var(m.R, domain=pyo.NonNegativeIntegers)
    m.open_site = pyo.Var(m.S, domain=pyo.Binary)


def _stock_in(m: pyo.ConcreteModel, p: Parameters, hosts: set[str], w: str | None = None):
    """Linear expression of units (one system) or value (all systems) stored in ``hosts``."""
    if w is not None:
        return sum(m.stock[s, w] for s, w2 in p.allowed if w2 == w and p.host_of[s] in hosts)
    return sum(p.value[w2] * m.stock[s, w2] for s, w2 in p.allowed if p.host_of[s] in hosts)


# --- constraint families --------------------------------------------------------------------------------


def sites_serving(p: Parameters) -> dict[tuple[str, str], list[str]]:
    """(destination, system) -> the sites with a route to it."""
    by_dw: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s, d, w in p.routes:
        by_dw[d, w].append(s)
    return by_dw


def add_meet_demand(m: pyo.ConcreteModel, p: Parameters) -> None:
    """sum_s ship[s,d,w] = dem[d,w]."""
    by_dw = sites_serving(p)
    m.meet_demand = _constraint("meet_demand",
        list(p.demand), rule=lambda m, d, w: sum(m.ship[s, d, w] for s in by_dw[d, w]) == p.demand[d, w]
    )


def add_ship_from_stock(m: pyo.ConcreteModel, p: Parameters) -> None:
    """sum_d ship[s,d,w] = stock[s,w]."""
    by_sw = defaultdict(list)
    for s, d, w in p.routes:
        by_sw[s, w].append(d)
    m.ship_from_stock = _constraint(
        "ship_from_stock", m.A, rule=lambda m, s, w: sum(m.ship[s, d, w] for d in by_sw[s, w]) == m.stock[s, w]
    )


def add_ship_only_if_open(m: pyo.ConcreteModel, p: Parameters) -> None:
    """ship[s,d,w] <= dem[d,w] open_site[s]: redundant, but tightens the LP relaxation a lot."""
    m.ship_only_if_open = _constraint("ship_only_if_open", m.R, rule=lambda m, s, d, w: m.ship[s, d, w]
                                         <= p.demand[d, w] * m.open_site[s])


def add_site_capacity(m: pyo.ConcreteModel, p: Parameters) -> None:
    """sum_w bays[w] stock[s,w] <= min(bays[s], sum_w bays[w] req[w]) open_site[s]; the same for shelters."""
    systems, sites = p.inputs.systems, p.inputs.sites
    by_site: dict[str, list[str]] = defaultdict(list)  # grouped once: a scan of p.allowed per site is quadratic
    for s, w in p.allowed:
        by_site[s].append(w)
    keys = []
    for s in p.sites:
        if any(systems[w].vehicle_bays_per_unit > 0 for w in by_site[s]):
            keys.append((s, "vehicle_bays"))
        if any(systems[w].shelters_per_unit > 0 for w in by_site[s]):
            keys.append((s, "aircraft_shelters"))

    def rule(m, s, resource):
        per_unit = "vehicle_bays_per_unit" if resource == "vehicle_bays" else "shelters_per_unit"
        held = by_site[s]
        used = sum(getattr(systems[w], per_unit) * m.stock[s, w] for w in held)
        # never more room than the whole package could use, so a huge capacity stays a small coefficient
        usable = sum(getattr(systems[w], per_unit) * p.requirement[w] for w in held)
        return used <= min(getattr(sites[s], resource), usable) * m.open_site[s]

    m.site_capacity = _constraint("site_capacity", keys, rule=rule)


def _unit_caps(p: Parameters) -> dict[tuple[str, str], float]:
    """(host, system) -> fraction cap, the tighter of the host rule and the system's max_host_share."""
    caps = {}
    for h in p.hosts:
        for w in p.systems:
            fractions = []
            rule = p.scenario.hosts.get(h)
            if rule is not None and w in rule.max_unit_share:
                fractions.append(rule.max_unit_share[w])
            system_rule = p.scenario.systems.get(w)
            if system_rule is not None and system_rule.max_host_share is not None:
                fractions.append(system_rule.max_host_share)
            if fractions:
                caps[h, w] = min(fractions)
    return caps


def add_host_share_cap(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Units: sum_{s in h} stock[s,w] <= floor(share[h,w] req[w]); value: value in h <= share[h] V."""
    units = _unit_caps(p)
    m.host_share_cap_units = _constraint("host_share_cap_units",
        list(units),
        rule=lambda m, h, w: _stock_in(m, p, {h}, w) <= math.floor(units[h, w] * p.requirement[w] + 1e-9),
    )
    value = {h: r.max_value_share for h, r in p.scenario.hosts.items() if r.max_value_share is not None}
    m.host_share_cap_value = _constraint("host_share_cap_value",
        list(value), rule=lambda m, h: _stock_in(m, p, {h}) <= value[h] * p.package
    )


def add_group_share_cap(m: pyo.ConcreteModel, p: Parameters) -> None:
    """The host_share_cap rules, for the summed stock of a group's members."""
    units = [(g, w) for g, r in p.scenario.groups.items() for w in r.max_unit_share if w in p.requirement]
    m.group_share_cap_units = _constraint("group_share_cap_units",
        units,
        rule=lambda m, g, w: _stock_in(m, p, set(p.groups[g]), w)
        <= math.floor(p.scenario.groups[g].max_unit_share[w] * p.requirement[w] + 1e-9),
    )
    value = {g: r.max_value_share for g, r in p.scenario.groups.items() if r.max_value_share is not None}
    m.group_share_cap_value = _constraint(
        "group_share_cap_value", list(value),
        rule=lambda m, g: _stock_in(m, p, set(p.groups[g])) <= value[g] * p.package,
    )


def add_min_hosts(m: pyo.ConcreteModel, p: Parameters) -> None:
    """sum_h host_holds[h,w] >= n[w]; min_lot[w] host_holds <= stock in h <= req[w] host_holds."""
    wanted = {w: r.min_hosts for w, r in p.scenario.systems.items() if r.min_hosts and w in p.requirement}
    keys = sorted({(p.host_of[s], w) for s, w in p.allowed if w in wanted})
    m.host_holds = pyo.Var(keys, domain=pyo.Binary)
    m.min_hosts_link_low = _constraint("min_hosts_link_low",
        keys, rule=lambda m, h, w: _stock_in(m, p, {h}, w) >= p.inputs.systems[w].min_lot * m.host_holds[h, w]
    )
    m.min_hosts_link_high = _constraint("min_hosts_link_high",
        keys, rule=lambda m, h, w: _stock_in(m, p, {h}, w) <= p.requirement[w] * m.host_holds[h, w]
    )
    m.min_hosts = _constraint("min_hosts",
        list(wanted),
        rule=lambda m, w: sum(m.host_holds[h, w2] for h, w2 in keys if w2 == w) >= wanted[w],
    )


def add_min_lot(m: pyo.ConcreteModel, p: Parameters) -> None:
    """min_lot[w] holds[s,w] <= stock[s,w] <= req[w] holds[s,w], for systems whose lot exceeds 1."""
    keys = [(s, w) for s, w in p.allowed if p.inputs.systems[w].min_lot > 1]
    m.holds = pyo.Var(keys, domain=pyo.Binary)
    m.min_lot_low = _constraint("min_lot_low",
        keys, rule=lambda m, s, w: m.stock[s, w] >= p.inputs.systems[w].min_lot * m.holds[s, w]
    )
    m.min_lot_high = _constraint("min_lot_high",
        keys, rule=lambda m, s, w: m.stock[s, w] <= p.requirement[w] * m.holds[s, w]
    )


def add_host_loss_resilience(m: pyo.ConcreteModel, p: Parameters) -> None:
    """For every set L of k hosts: stock outside L >= ceil(alpha[w] req[w])."""
    keys, lost_sets = [], {}
    for w, rule in p.scenario.systems.items():
        if rule.resilience is None or w not in p.requirement:
            continue
        k = min(rule.resilience.lose_hosts, len(p.hosts))
        for lost in itertools.combinations(p.hosts, k):
            name = "+".join(lost)
            keys.append((w, name))
            lost_sets[w, name] = set(lost)

    def need(w: str) -> int:
        resilience = p.scenario.systems[w].resilience
        assert resilience is not None
        return math.ceil(resilience.keep_fraction * p.requirement[w] - 1e-9)

    m.host_loss_resilience = _constraint("host_loss_resilience",
        keys,
        rule=lambda m, w, lost: _stock_in(m, p, set(p.hosts) - lost_sets[w, lost], w) >= need(w),
    )


def add_site_limits(m: pyo.ConcreteModel, p: Parameters) -> None:
    """max_sites: sum open_site <= n; budget: sum fc open_site <= B; force_open: open_site[s] = 1."""
    c = p.scenario.constraints
    m.max_sites = _constraint("max_sites", [0] if c.max_sites is not None else [],
                                 rule=lambda m, _: sum(m.open_site[s] for s in m.S) <= c.max_sites)
    m.budget = _constraint("budget",
        [0] if c.budget_musd is not None else [],
        rule=lambda m, _: sum(p.inputs.sites[s].fixed_cost_musd * m.open_site[s] for s in m.S) <= c.budget_musd,
    )
    forced = [s for s in c.force_open if s in p.sites]
    m.force_open = _constraint("force_open", forced, rule=lambda m, s: m.open_site[s] == 1)


# --- objective ------------------------------------------------------------------------------------------


def add_time_term(m: pyo.ConcreteModel, p: Parameters) -> None:
    """time: priority-weighted mean time-to-availability, or the makespan with the dispatch queue."""
    if p.scenario.objective.time == "mean":
        total = sum(p.priority[w] * p.requirement[w] for w in p.systems)
        m.time_h = pyo.Expression(expr=sum(p.priority[w] * p.tau_h[s, d, w] * m.ship[s, d, w]
                                           for s, d, w in p.routes) / total)
        return
    m.makespan_h = pyo.Var(domain=pyo.NonNegativeReals)
    m.use_route = pyo.Var(m.R, domain=pyo.Binary)
    m.use_route_link = _constraint("use_route_link",
        m.R, rule=lambda m, s, d, w: m.ship[s, d, w] <= p.demand[d, w] * m.use_route[s, d, w]
    )

    def queue_h(m, s):
        return 24.0 * sum(m.stock[s2, w] for s2, w in p.allowed if s2 == s) / p.inputs.sites[s].dispatch_per_day

    m.makespan = _constraint("makespan",
        m.R, rule=lambda m, s, d, w: m.makespan_h >= p.tau_h[s, d, w] * m.use_route[s, d, w] + queue_h(m, s)
    )
    # Valid cuts that make the LP bound useful: the last unit of a destination arrives no earlier than the
    # average of its units, and no earlier than its fastest possible route.
    by_dw = sites_serving(p)
    m.makespan_average_cut = _constraint("makespan_average_cut",
        list(p.demand), rule=lambda m, d, w: m.makespan_h
        >= sum(p.tau_h[s, d, w] * m.ship[s, d, w] for s in by_dw[d, w]) / p.demand[d, w]
    )
    m.makespan_h.setlb(max(min(p.tau_h[s, d, w] for s in by_dw[d, w]) for d, w in p.demand))
    m.time_h = pyo.Expression(expr=m.makespan_h)


def hhi_tangents(count: int) -> list[float]:
    return [i / (count - 1) for i in range(count)]


def add_risk_term(m: pyo.ConcreteModel, p: Parameters) -> None:
    """risk: max host share, Herfindahl index by tangent cuts, or expected loss (percentage points)."""
    kind = p.scenario.objective.risk
    share = {h: _stock_in(m, p, {h}) / p.package for h in p.hosts}
    if kind == "max_host_share":
        m.max_share_pct = pyo.Var(domain=pyo.NonNegativeReals)
        m.max_host_share = _constraint("max_host_share", m.H, rule=lambda m, h: m.max_share_pct >= 100.0 * share[h])
        m.risk = pyo.Expression(expr=m.max_share_pct)
    elif kind == "hhi":
        points = hhi_tangents(p.scenario.objective.hhi_tangents)
        m.share_sq = pyo.Var(m.H, domain=pyo.NonNegativeReals)
        m.hhi_tangent = _constraint("hhi_tangent",
            m.H, range(len(points)),
            rule=lambda m, h, i: m.share_sq[h] >= 2 * points[i] * share[h] - points[i] ** 2,
        )
        m.risk = pyo.Expression(expr=10_000.0 * sum(m.share_sq[h] for h in m.H))
    else:
        threat = {h: (r.threat if (r := p.scenario.hosts.get(h)) else 0.0) for h in p.hosts}
        m.risk = pyo.Expression(expr=100.0 * sum(threat[h] * share[h] for h in p.hosts))


def add_cost_term(m: pyo.ConcreteModel, p: Parameters) -> None:
    """cost: sum_s fc[s] open_site[s] (M USD)."""
    m.cost_musd = pyo.Expression(expr=sum(p.inputs.sites[s].fixed_cost_musd * m.open_site[s] for s in m.S))


def add_objective(m: pyo.ConcreteModel, p: Parameters) -> None:
    o = p.scenario.objective
    m.objective = pyo.Objective(
        expr=o.time_weight * m.time_h + o.risk_weight * m.risk + o.cost_weight * m.cost_musd, sense=pyo.minimize
    )


def build_model(
    inputs: Inputs, travel: TravelTimes, scenario: Scenario, *, deadline: Deadline | None = None
) -> pyo.ConcreteModel:
    """Build the pyomo model: sets, variables, one ``add_<rule>`` per constraint family, the objective.

    The resolved numbers are kept as ``m.params`` for the solve and the results.

    Parameters
    ----------
    inputs, travel, scenario
        The data, travel times and rules of the run.
    deadline
        The solve stage's time budget, checked before each constraint family.

    Raises
    ------
    SolverError
        "time limit reached while building the model (before <family>) ..." when the deadline runs out.
    """
    started = time.perf_counter()
    p = parameters(inputs, travel, scenario)
    unserved = unserved_demand(p, travel)
    if unserved:
        raise InfeasibleError(unserved)
    m = pyo.ConcreteModel(name=scenario.name)
    m.params = p
    for add in (
        add_sets,
        add_variables,
        add_meet_demand,
        add_ship_from_stock,
        add_ship_only_if_open,
        add_site_capacity,
        add_host_share_cap,
        add_group_share_cap,
        add_min_hosts,
        add_min_lot,
        add_host_loss_resilience,
        add_site_limits,
        add_time_term,
        add_risk_term,
        add_cost_term,
        add_objective,
    ):
        if deadline is not None:
            deadline.check(f"building the model (before {add.__name__.removeprefix('add_')})")
        add(m, p)
    log.info(
        "build_model built %d stock, %d ship and %d site variables in %.2f s",
        len(m.stock), len(m.ship), len(m.open_site), time.perf_counter() - started,
    )
    return m
