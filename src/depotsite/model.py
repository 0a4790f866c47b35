r"""The siting formulation in pyomo: one ``add_<family>`` per rule, reading only the resolved ``Instance``.

Formulation
-----------
Sets: hosts :math:`H`, groups :math:`G` (subsets of H), sites :math:`S` with host :math:`h(s)`, systems
:math:`W`, destinations :math:`D`; :math:`A \subseteq S\times W` the (site, system) pairs allowed by kind,
exclusions and footprint; :math:`R \subseteq S\times D\times W` the routes that exist, are reachable and
meet the deadline.

======================  ===============================  ==============================================
symbol                  code name                        meaning
======================  ===============================  ==============================================
S, W, H                 ``Instance.sites``               sites not excluded, systems with demand, hosts
                        ``Instance.systems``             (``m.S``, ``m.W``, ``m.H`` in the model)
                        ``Instance.hosts``
A, R                    ``Instance.allowed``             (site, system) pairs and routes allowed
                        ``Instance.routes``              (``m.A``, ``m.R``)
h(s)                    ``Instance.host_of``             the host of site s
dem[d,w]                ``Instance.demand``              units of w destination d needs
req[w]                  ``Instance.requirement``         sum over d of dem[d,w]
tau[s,d,w]              ``Instance.tau_h``               release delay of h(s) + transit hours (+ the
                                                         exposure hours the time term counts extra)
arr[s,d,w]              ``dispatch.arrival_h``           release delay of h(s) + transit hours
val[w], V               ``Instance.value``               M USD per unit; value of the whole package
                        ``Instance.package``
prio[w]                 ``Instance.priority``            weight of w in the mean time
cap[s,r], foot[w,r]     ``Instance.capacity``            site capacity and footprint per unit of the
                        ``Instance.footprint``           resources r: vehicle bays, aircraft shelters,
                                                         tonnes of net explosive mass (ammunition)
ub[s,w]                 ``Instance.stock_bound``         most units of w site s could hold: min(req, fits)
disp[s], c[w]           ``Instance.dispatch_per_day``    dispatch slots a site sends off per day; slots
                        ``Instance.slots``               one unit of w takes
u[w]                    ``dispatch.unit_weight``         weight of a unit of w in a mean time measure
                                                         (mean: prio; value: prio val; system_mean:
                                                         prio / req), normalised: sum_w u[w] req[w] = 1
pre[s,d,w]              ``rows.slot_prefix``             sum of c[w'] ship[r'] over the routes r' of s up
                                                         to r in its dispatch order (dispatch module)
fc[s]                   ``Instance.fixed_cost_musd``     M USD to keep site s open
lot[w]                  ``Instance.min_lot``             fewest units a site holds of w, if any
ucap[h,w], ucap[g,w]    ``Instance.unit_cap``            most units of w in host h (group g)
                        ``Instance.group_unit_cap``
share[h], share[g]      ``Instance.host_value_share``    most of V in host h (group g), a fraction
                        ``Instance.group_value_share``
n[w]                    ``Instance.min_hosts``           fewest hosts that hold w
keep[w], L              ``Instance.resilience_need``     units of w that survive losing any set L of
                        ``Instance.lost_hosts``          hosts
a                       ``Instance.hhi_points``          tangent points of the Herfindahl cuts
threat[h]               ``Instance.threat``              probability of losing host h
stock[s,w]              ``m.stock``                      integer units of w stored at s
ship[s,d,w]             ``m.ship``                       units of w sent from s to d in a surge (continuous;
                                                         whole at a vertex once the stock is whole)
open_site[s]            ``m.open_site``                  1 if s holds anything
holds[s,w]              ``m.holds``                      1 if s holds a lot of w (min lots)
host_holds[h,w]         ``m.host_holds``                 1 if host h holds w (min hosts)
use[s,d,w], T           ``m.use_route``                  1 if a route is used; the makespan (hours)
                        ``m.makespan_h``
z[k]                    ``m.makespan_level``             1 once a route of t_k hours or more is used
N[s,k], sq[s,k]         ``m.queue_slots``                slots of the first k systems of s's queue order,
                        ``m.queue_sq``                   in steps of g[s,k] (queues on); sq >= N^2 by secants
g[s,k]                  ``dispatch.slot_steps``          gcd of the slots per unit of those k systems
b[s,k]                  ``dispatch.queue_coefficients``  u/2c of the k-th system less the next one's
r, z[h]                 ``m.max_share_pct``              largest host share; share squared (hhi)
                        ``m.share_sq``
g, k                    ``Instance.value_step``          every val[w] a whole multiple of g (M USD);
                        ``m.max_share_steps``            r = 100 g k / V with k whole
earm[h,w]               ``Instance.earmarks``            units of w purchasers earmarked for host h
======================  ===============================  ==============================================

Constraints (one ``add_<name>`` each, registered in ``FAMILIES``)::

    meet_demand          sum_s ship[s,d,w] = dem[d,w]
    ship_from_stock      sum_d ship[s,d,w] = stock[s,w]
    ship_only_if_open    ship[s,d,w] <= dem[d,w] * open_site[s]          (valid inequality)
    site_capacity        sum_w foot[w,r] stock[s,w] <= min(cap[s,r], sum_w foot[w,r] req[w]) open_site[s]
                         (a capacity above what the whole package could use is clipped to it)
                         stock[s,w] <= ub[s,w] open_site[s]   (disaggregated: tighter LP bound)
                         sum_{s holding w} open_site[s] >= k[w], k[w] the fewest sites whose ub[s,w] add up
                         to req[w]   (valid inequality, for k[w] >= 2)
    site_kind            no stock variable where kind(s) is not allowed for w
    deadline             no ship variable where tau[s,d,w] > deadline[w]
    host_share_cap       sum_{s in h} stock[s,w] <= ucap[h,w];  sum_{s in h} sum_w val[w] stock[s,w] <= share[h] V
    group_share_cap      the same for the summed stock of a group's hosts
    min_hosts            sum_h host_holds[h,w] >= n[w];
                         lot[w] host_holds[h,w] <= sum_{s in h} stock[s,w] <= req[w] host_holds[h,w]
    min_lot              lot[w] holds[s,w] <= stock[s,w] <= req[w] holds[s,w]
    host_loss_resilience for every set L: sum_{s: h(s) not in L} stock[s,w] >= keep[w]
    max_sites, budget    sum_s open_site[s] <= n;  sum_s fc[s] open_site[s] <= budget
    force_open           open_site[s] = 1
    site_dominance       open_site[a] <= open_site[b] where site b of a's host dominates a: every route of a
                         at b no slower, capacities and stock bounds no smaller, dispatch no slower, fixed
                         cost no higher   (valid: some optimal posture meets it; depotsite.dominance)
    queue_deadline       ship[r] <= dem use[r]; with queues, for a route whose queue could be late:
                         arr[r] use[r] + 24/disp[s] pre[r] <= deadline[w] + M (1 - use[r])   (ship whole there)
    honour_earmarks      sum_{s in h} stock[s,w] >= earm[h,w]   (units purchasers earmarked for host h)
    exclude_sites/hosts  no variables at all for those sites

Objective terms (each in its own unit)::

    time  mean, value, system_mean     sum_r u[w] tau[r] ship[r]                              (hours)
                    + with queues   sum_s 24/disp[s] (sum_k b[s,k] g[s,k]^2 sq[s,k] + sum_w u[w] c[w] stock[s,w] / 2),
                                    g[s,k] N[s,k] = sum_{w in the first k} c[w] stock[s,w],
                                    sq[s,k] >= (2n+1) N[s,k] - n(n+1) open_site[s] for whole n (secants in
                                    perspective, added where a posture needs them: exact at the end)
          makespan  T >= tau[r] use[r] + 24/disp[s] pre[r], its order longest journeys first   (hours)
                    + the ladder T >= T0 + sum_k (t_k - t_k-1) z[k], z[k] >= use[r] for tau[r] = t_k,
                    z[k] >= z[k+1], z binary (t_k the distinct tau above the floor T0: valid, a far stronger LP)
    risk  max_host_share  r >= 100 (value in h) / V,  r = 100 g k / V, k whole      (percentage points)
          hhi             10 000 sum_h z[h], z[h] >= 2 a x[h] - a^2 at tangent points a   (points)
          expected_loss   100 sum_h threat[h] (value in h) / V               (percentage points)
    cost  sum_s fc[s] open_site[s]                                                        (M USD)

    minimise  time_weight * time + risk_weight * risk + cost_weight * cost
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pyomo.core as pyo

from depotsite import words
from depotsite.dispatch import (
    arrival_h,
    hours_per_slot,
    queue_coefficients,
    queue_deadline_routes,
    slot_bounds,
)
from depotsite.dominance import dominated_pairs
from depotsite.errors import InfeasibleError
from depotsite.instance import RESOURCES, Instance, fewest_sites_rows
from depotsite.rows import constraint, sites_serving, slot_prefix, stock_in
from depotsite.shipments import posture_of as posture_of  # re-exported: the model's posture, read back
from depotsite.terms import add_cost_term, add_objective, add_risk_term, add_time_term, refine_queues
from depotsite.timelimit import Deadline

log = logging.getLogger(__name__)

QUEUE_BREAKPOINTS = 16  # secants per site queue term in the first solve


# --- sets and variables ---------------------------------------------------------------------------------


def add_sets(m: pyo.ConcreteModel, inst: Instance) -> None:
    m.S = pyo.Set(initialize=inst.sites, ordered=True)
    m.W = pyo.Set(initialize=inst.systems, ordered=True)
    m.H = pyo.Set(initialize=inst.hosts, ordered=True)
    m.A = pyo.Set(initialize=inst.allowed, dimen=2, ordered=True)
    m.R = pyo.Set(initialize=inst.routes, dimen=3, ordered=True)


def host_holds_keys(inst: Instance) -> list[tuple[str, str]]:
    """(host, system) pairs that may hold a system with a min_hosts rule."""
    return sorted({(inst.host_of[s], w) for s, w in inst.allowed if w in _min_hosts(inst)})


def holds_keys(inst: Instance) -> list[tuple[str, str]]:
    """(site, system) pairs of the systems whose minimum lot exceeds one unit."""
    return [(s, w) for s, w in inst.allowed if inst.min_lot[w] > 1]


def add_variables(m: pyo.ConcreteModel, inst: Instance) -> None:
    """Every variable family; the makespan and risk variables only where the objective measures them."""
    m.stock = pyo.Var(m.A, domain=pyo.NonNegativeIntegers)
    used = route_use_keys(inst)
    queued = {s for s, _, _ in used}  # sites whose shipments enter a queue row: whole there
    m.ship = pyo.Var(m.R, domain=lambda m, s, d, w: pyo.NonNegativeIntegers if s in queued else pyo.NonNegativeReals)
    m.open_site = pyo.Var(m.S, domain=pyo.Binary)
    m.host_holds = pyo.Var(host_holds_keys(inst), domain=pyo.Binary)
    m.holds = pyo.Var(holds_keys(inst), domain=pyo.Binary)
    m.use_route = pyo.Var(used, domain=pyo.Binary)
    if inst.time_measure == "makespan":
        m.makespan_h = pyo.Var(domain=pyo.NonNegativeReals)
    else:
        bounds = slot_bounds(inst)  # in steps of g[s,k]
        m.QK = pyo.Set(initialize=sorted(queue_coefficients(inst)), dimen=2, ordered=True)
        m.QKN = pyo.Set(
            initialize=[(s, k, n) for s, k in m.QK for n in first_breakpoints(bounds[s, k])], dimen=3, ordered=True
        )
        m.queue_slots = pyo.Var(m.QK, domain=pyo.NonNegativeReals, bounds=lambda m, s, k: (0, bounds[s, k]))
        m.queue_sq = pyo.Var(m.QK, domain=pyo.NonNegativeReals)
    if inst.risk_measure == "max_host_share":
        m.max_share_pct = pyo.Var(domain=pyo.NonNegativeReals)
        if inst.value_step is not None:  # whole steps let the solver round its bound up to the next one
            m.max_share_steps = pyo.Var(domain=pyo.NonNegativeIntegers)
    elif inst.risk_measure == "hhi":
        m.share_sq = pyo.Var(m.H, domain=pyo.NonNegativeReals)


def first_breakpoints(most: int, *, count: int = QUEUE_BREAKPOINTS) -> list[int]:
    """The secants of N^2 the model starts with: about ``count`` evenly spaced whole n in [0, most).

    The rest are added where a solution needs them (``depotsite.terms.refine_queues``), so the rows stay
    few; at the end every site's queue is exact.
    """
    step = max(1, math.ceil(most / count))
    return sorted({*range(0, most, step), most - 1} - {-1})


def route_use_keys(inst: Instance) -> list[tuple[str, str, str]]:
    """Routes with a use binary: every route under the makespan, else those whose queue could be late."""
    if inst.time_measure == "makespan":
        return list(inst.routes)
    late = queue_deadline_routes(inst)
    return [r for r in inst.routes if r in late]


def _min_hosts(inst: Instance) -> dict[str, int]:
    return {w: n for w, n in inst.min_hosts.items() if w in inst.requirement}


# --- flow --------------------------------------------------------------------------------------------


def add_meet_demand(m: pyo.ConcreteModel, inst: Instance) -> None:
    """sum_s ship[s,d,w] = dem[d,w]."""
    by_dw = sites_serving(inst)
    m.meet_demand = constraint(
        "meet_demand",
        list(inst.demand),
        rule=lambda m, d, w: sum(m.ship[s, d, w] for s in by_dw[d, w]) == inst.demand[d, w],
    )


def add_ship_from_stock(m: pyo.ConcreteModel, inst: Instance) -> None:
    """sum_d ship[s,d,w] = stock[s,w]."""
    by_sw = defaultdict(list)
    for s, d, w in inst.routes:
        by_sw[s, w].append(d)
    m.ship_from_stock = constraint(
        "ship_from_stock", m.A, rule=lambda m, s, w: sum(m.ship[s, d, w] for d in by_sw[s, w]) == m.stock[s, w]
    )


def add_ship_only_if_open(m: pyo.ConcreteModel, inst: Instance) -> None:
    """ship[s,d,w] <= dem[d,w] open_site[s]: redundant, but tightens the LP relaxation a lot."""
    m.ship_only_if_open = constraint(
        "ship_only_if_open", m.R, rule=lambda m, s, d, w: m.ship[s, d, w] <= inst.demand[d, w] * m.open_site[s]
    )


# --- rules -------------------------------------------------------------------------------------------


def add_site_capacity(m: pyo.ConcreteModel, inst: Instance) -> None:
    """sum_w foot[w,r] stock[s,w] <= min(cap[s,r], sum_w foot[w,r] req[w]) open_site[s], for each resource
    some held system uses. A capacity above what the whole package could use is clipped to that, so a huge
    figure stays a small coefficient. Also, per system, stock[s,w] <= ub[s,w] open_site[s]: implied for
    whole numbers, but it cuts off fractional openings the summed row allows. And, per system, at least as
    many of the sites that may hold it open as it takes to hold its requirement
    (``site_capacity_fewest_sites``): implied for whole openings by the rows above, it lifts the relaxation's
    bound where the relaxation would open a fraction of each site in proportion to what it holds (eight F-16
    shelters of 24 for 171 aircraft, not 7.1)."""
    held, holders = defaultdict(list), defaultdict(list)  # grouped once: a scan per site or system is quadratic
    for s, w in inst.allowed:
        held[s].append(w)
        holders[w].append(s)
    keys = [(s, r) for s in inst.sites for r in RESOURCES if any(inst.footprint[w, r] > 0 for w in held[s])]

    def rule(m, s, r):
        used = sum(inst.footprint[w, r] * m.stock[s, w] for w in held[s])
        usable = sum(inst.footprint[w, r] * inst.requirement[w] for w in held[s])
        return used <= min(inst.capacity[s, r], usable) * m.open_site[s]

    m.site_capacity = constraint("site_capacity", keys, rule=rule)
    m.site_capacity_per_system = constraint(
        "site_capacity_per_system", m.A, rule=lambda m, s, w: m.stock[s, w] <= inst.stock_bound[s, w] * m.open_site[s]
    )
    fewest = fewest_sites_rows(inst)
    m.site_capacity_fewest_sites = constraint(
        "site_capacity_fewest_sites",
        [w for w, k in fewest.items() if k >= 2],
        rule=lambda m, w: sum(m.open_site[s] for s in holders[w]) >= fewest[w],
    )


def add_host_share_cap(m: pyo.ConcreteModel, inst: Instance) -> None:
    """Units: sum_{s in h} stock[s,w] <= ucap[h,w]; value: value in h <= share[h] V."""
    m.host_share_cap_units = constraint(
        "host_share_cap_units",
        list(inst.unit_cap),
        rule=lambda m, h, w: stock_in(m, inst, {h}, w) <= inst.unit_cap[h, w],
    )
    share = inst.host_value_share
    m.host_share_cap_value = constraint(
        "host_share_cap_value", list(share), rule=lambda m, h: stock_in(m, inst, {h}) <= share[h] * inst.package
    )


def add_group_share_cap(m: pyo.ConcreteModel, inst: Instance) -> None:
    """The host_share_cap rules, for the summed stock of a group's members."""
    cap, share = inst.group_unit_cap, inst.group_value_share
    m.group_share_cap_units = constraint(
        "group_share_cap_units",
        list(cap),
        rule=lambda m, g, w: stock_in(m, inst, set(inst.groups[g]), w) <= cap[g, w],
    )
    m.group_share_cap_value = constraint(
        "group_share_cap_value",
        list(share),
        rule=lambda m, g: stock_in(m, inst, set(inst.groups[g])) <= share[g] * inst.package,
    )


def add_min_hosts(m: pyo.ConcreteModel, inst: Instance) -> None:
    """sum_h host_holds[h,w] >= n[w]; lot[w] host_holds <= stock in h <= req[w] host_holds."""
    wanted, keys = _min_hosts(inst), host_holds_keys(inst)
    m.min_hosts_link_low = constraint(
        "min_hosts_link_low",
        keys,
        rule=lambda m, h, w: stock_in(m, inst, {h}, w) >= inst.min_lot[w] * m.host_holds[h, w],
    )
    m.min_hosts_link_high = constraint(
        "min_hosts_link_high",
        keys,
        rule=lambda m, h, w: stock_in(m, inst, {h}, w) <= inst.requirement[w] * m.host_holds[h, w],
    )
    m.min_hosts = constraint(
        "min_hosts", list(wanted), rule=lambda m, w: sum(m.host_holds[h, w2] for h, w2 in keys if w2 == w) >= wanted[w]
    )


def add_min_lot(m: pyo.ConcreteModel, inst: Instance) -> None:
    """lot[w] holds[s,w] <= stock[s,w] <= req[w] holds[s,w], for systems whose lot exceeds 1."""
    keys = holds_keys(inst)
    m.min_lot_low = constraint(
        "min_lot_low", keys, rule=lambda m, s, w: m.stock[s, w] >= inst.min_lot[w] * m.holds[s, w]
    )
    m.min_lot_high = constraint(
        "min_lot_high", keys, rule=lambda m, s, w: m.stock[s, w] <= inst.requirement[w] * m.holds[s, w]
    )


def add_host_loss_resilience(m: pyo.ConcreteModel, inst: Instance) -> None:
    """For every set L of lost hosts: stock outside L >= keep[w]."""
    hosts = set(inst.hosts)
    m.host_loss_resilience = constraint(
        "host_loss_resilience",
        list(inst.lost_hosts),
        rule=lambda m, w, lost: stock_in(m, inst, hosts - inst.lost_hosts[w, lost], w) >= inst.resilience_need[w],
    )


def add_max_sites(m: pyo.ConcreteModel, inst: Instance) -> None:
    """sum_s open_site[s] <= n."""
    m.max_sites = constraint(
        "max_sites",
        [0] if inst.max_sites is not None else [],
        rule=lambda m, _: sum(m.open_site[s] for s in m.S) <= inst.max_sites,
    )


def add_budget(m: pyo.ConcreteModel, inst: Instance) -> None:
    """sum_s fc[s] open_site[s] <= budget."""
    m.budget = constraint(
        "budget",
        [0] if inst.budget_musd is not None else [],
        rule=lambda m, _: sum(inst.fixed_cost_musd[s] * m.open_site[s] for s in m.S) <= inst.budget_musd,
    )


def add_queue_deadline(m: pyo.ConcreteModel, inst: Instance) -> None:
    """ship[r] <= dem use[r] for routes with a use binary; for those whose queue could be late,
    arr[r] use[r] + 24/disp pre[r] <= deadline + M (1 - use[r]): a used route's last unit is in time."""
    m.queue_deadline_link = constraint(
        "queue_deadline_link",
        list(m.use_route),
        rule=lambda m, s, d, w: m.ship[s, d, w] <= inst.demand[d, w] * m.use_route[s, d, w],
    )
    rows = queue_deadline_routes(inst)
    prefix = slot_prefix(m, inst) if rows else {}  # the slot sums only where a row reads them

    def rule(m, s, d, w):
        limit, big = inst.deadline_h[w], rows[s, d, w]
        queue = hours_per_slot(inst, s) * prefix[s, d, w]
        arrival = arrival_h(inst, (s, d, w))
        return arrival * m.use_route[s, d, w] + queue <= limit + big * (1 - m.use_route[s, d, w])

    m.queue_deadline = constraint("queue_deadline", list(rows), rule=rule)


def add_force_open(m: pyo.ConcreteModel, inst: Instance) -> None:
    """open_site[s] = 1 for every forced site that is not excluded."""
    forced = [s for s in inst.force_open if s in inst.sites]
    m.force_open = constraint("force_open", forced, rule=lambda m, s: m.open_site[s] == 1)


def add_honour_earmarks(m: pyo.ConcreteModel, inst: Instance) -> None:
    """sum_{s in h} stock[s,w] >= earm[h,w]: what purchasers earmarked for a host is stored there."""
    m.honour_earmarks = constraint(
        "honour_earmarks",
        list(inst.earmarks),
        rule=lambda m, h, w: stock_in(m, inst, {h}, w) >= inst.earmarks[h, w],
    )


def add_site_dominance(m: pyo.ConcreteModel, inst: Instance) -> None:
    """open_site[a] <= open_site[b] for every site a that site b of the same host dominates: b is as fast
    on every route, as big, as cheap and as quick to dispatch (``depotsite.dominance``, which proves an
    optimal posture meets these rows). They cut off postures branch and bound would otherwise search twice."""
    pairs = dominated_pairs(inst) if inst.site_dominance else []
    m.site_dominance = constraint("site_dominance", pairs, rule=lambda m, a, b: m.open_site[a] <= m.open_site[b])


# --- the registry ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """One rule family: its ``add_<name>`` and, for a rule a user can relax, its words.

    ``kind`` is ``flow`` (conservation of units), ``rule`` (a policy the scenario sets), ``capacity`` (what
    a site physically holds), ``valid`` (rows an optimal posture meets, for a tighter search) or
    ``objective``. The infeasibility explanation relaxes rules first, then
    capacities. The constraint components a flow, rule or capacity family adds carry its name, so the
    LP file's rows read as policy.
    """

    name: str
    add: Callable[[pyo.ConcreteModel, Instance], None]
    kind: str
    describe: Callable[[Instance], str] | None = None


FAMILIES = (
    Family("meet_demand", add_meet_demand, "flow"),
    Family("ship_from_stock", add_ship_from_stock, "flow"),
    Family("ship_only_if_open", add_ship_only_if_open, "flow"),
    Family("site_capacity", add_site_capacity, "capacity", words.site_capacity),
    Family("host_share_cap", add_host_share_cap, "rule", words.host_share_cap),
    Family("group_share_cap", add_group_share_cap, "rule", words.group_share_cap),
    Family("min_hosts", add_min_hosts, "rule", words.min_hosts),
    Family("min_lot", add_min_lot, "rule", words.min_lot),
    Family("host_loss_resilience", add_host_loss_resilience, "rule", words.host_loss_resilience),
    Family("max_sites", add_max_sites, "rule", words.max_sites),
    Family("budget", add_budget, "rule", words.budget),
    Family("force_open", add_force_open, "rule", words.force_open),
    Family("queue_deadline", add_queue_deadline, "rule", words.queue_deadline),
    Family("honour_earmarks", add_honour_earmarks, "rule", words.honour_earmarks),
    Family("site_dominance", add_site_dominance, "valid"),
    Family("time_term", add_time_term, "objective"),
    Family("risk_term", add_risk_term, "objective"),
    Family("cost_term", add_cost_term, "objective"),
    Family("objective", add_objective, "objective"),
)


def build_model(instance: Instance, *, deadline: Deadline | None = None) -> pyo.ConcreteModel:
    """Build the pyomo model: sets, every variable, one ``add_<family>`` per entry of ``FAMILIES``.

    The instance is kept as ``m.instance``, and the constraint components each family added as
    ``m.family_rows`` (step or family name -> constraint component names), for the explanation.

    Parameters
    ----------
    instance
        The resolved numbers (``build_instance``).
    deadline
        The solve stage's time budget, checked before each step of the build.

    Returns
    -------
    pyo.ConcreteModel
        The model, named after the scenario.

    Raises
    ------
    InfeasibleError
        When some demand no site can serve (``instance.unserved``), or a family's rule cannot hold.
    SolverError
        "time limit reached while building the model (before <family>) ..." when the deadline runs out.
    """
    started = time.perf_counter()
    if instance.unserved:
        raise InfeasibleError(list(instance.unserved))
    m = pyo.ConcreteModel(name=instance.name)
    m.instance = instance
    m.refine = refine_queues  # after each solve: the secants its queues need (depotsite.solve runs it)
    m.family_rows = {}
    steps = (("sets", add_sets), ("variables", add_variables), *((f.name, f.add) for f in FAMILIES))
    for name, add in steps:
        if deadline is not None:
            deadline.check(f"building the model (before {name})")
        before = set(m.component_map(pyo.Constraint))
        add(m, instance)
        m.family_rows[name] = tuple(c for c in m.component_map(pyo.Constraint) if c not in before)
    log.info(
        "build_model built %d stock, %d ship and %d site variables in %.2f s",
        len(m.stock),
        len(m.ship),
        len(m.open_site),
        time.perf_counter() - started,
    )
    return m
