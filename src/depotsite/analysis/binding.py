"""Why this posture: which rules bind and what they cost, and why each open site is open.

For a solved posture (its stock, shipments and open sites):

* **slack** of every rule the scenario sets (value and unit caps of hosts and groups, minimum hosts,
  resilience, the site limit, the budget, deadlines), from the posture alone, in the rule's own unit;
  a rule binds when the posture could not take one more unit of it (a cap with less room than the
  cheapest unit the host could take, a minimum met exactly, a deadline that keeps out a route);
* **price** of the caps and resilience rules: the duals of the linear programme with every binary of the
  posture fixed (which sites are open, which hold a lot, which hosts hold a system) and the stock
  continuous: the change in the weighted objective per unit of relaxation (a percentage point of the
  package value, one unit of a system);
* **checked**: for the binding rules with the largest price (and those no dual prices: minimum hosts, the
  site limit, the budget, deadlines), the whole model re-solved with the rule relaxed by one unit, and the
  change in the objective and in each term;
* **why each open site is open**: what it holds and serves, the hours it saves over the next fastest
  allowed site for those deliveries, and the rules it satisfies.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from dataclasses import dataclass

import pyomo.core as pyo
from pyomo.contrib.solver.common.results import TerminationCondition

from depotsite.analysis.site_reasons import SiteReport, site_reasons
from depotsite.errors import InfeasibleError, SolverError
from depotsite.instance import TOLERANCE, Instance, stock_bound
from depotsite.model import build_model
from depotsite.posture import Posture, SolveOutcome
from depotsite.results import RunResult, summarise, value_shares
from depotsite.solve import new_solver, run_highs, solve
from depotsite.timelimit import Deadline

log = logging.getLogger(__name__)

BINARIES = ("open_site", "holds", "host_holds", "use_route")


@dataclass(frozen=True)
class RuleReport:
    """One rule of the scenario: how much room the posture leaves it, and what relaxing it is worth."""

    key: str  # the scenario key a reviewer would --set, e.g. "hosts.PL.max_value_share"
    label: str  # policy words, e.g. "PL at most 35% of the package value"
    unit: str  # the unit of slack and relaxation: "pp", "units", "hosts", "sites", "M USD", "h"
    limit: float  # the rule's value, in its unit
    used: float  # what the posture uses of it, in its unit
    slack: float  # room left (limit - used for caps, used - limit for minimums), in its unit
    binding: bool
    price: float | None = None  # objective change per unit of relaxation, from the LP duals
    checked: dict[str, float] | None = None  # objective and term changes when re-solved one unit looser
    checked_status: str | None = None  # "optimal", "time_limit", or why the re-solve gave nothing
    minimum: bool = False  # a lower bound (minimum hosts, resilience) rather than a cap


@dataclass(frozen=True)
class Explanation:
    rules: tuple[RuleReport, ...]
    sites: tuple[SiteReport, ...]
    notes: tuple[str, ...] = ()

    def binding(self) -> list[RuleReport]:
        return [r for r in self.rules if r.binding]


def _room(p: Instance, hosts: set[str]) -> float:
    """Value (M USD) of the cheapest single unit these hosts could still take."""
    options = [p.value[w] for s, w in p.allowed if p.host_of[s] in hosts]
    return min(options, default=float("inf"))


def rule_slacks(p: Instance, posture: Posture) -> list[RuleReport]:
    """Every rule the instance sets, with its slack in the posture (no solver).

    Parameters
    ----------
    p
        The resolved rules.
    posture
        The integer stock, shipments and open sites.

    Returns
    -------
    list of RuleReport
        Caps, minimums, resilience, site limit, budget and deadlines, in that order, without prices.
    """
    stock = posture.stock
    shares = value_shares(p, stock)
    units: dict[tuple[str, str], int] = defaultdict(int)
    for (s, w), n in stock.items():
        units[p.host_of[s], w] += n
    reports = []
    pp_unit = 100.0 / p.package  # percentage points per M USD
    for h, f in p.host_value_share.items():
        slack = 100 * f - shares[h]
        reports.append(
            RuleReport(
                f"hosts.{h}.max_value_share",
                f"{h} at most {100 * f:g}% of the package value",
                "pp",
                100 * f,
                shares[h],
                slack,
                slack < _room(p, {h}) * pp_unit - TOLERANCE,
            )
        )
    for g, f in p.group_value_share.items():
        held = sum(shares[h] for h in p.groups[g])
        slack = 100 * f - held
        reports.append(
            RuleReport(
                f"groups.{g}.max_value_share",
                f"group {g} at most {100 * f:g}% of the value",
                "pp",
                100 * f,
                held,
                slack,
                slack < _room(p, set(p.groups[g])) * pp_unit - TOLERANCE,
            )
        )
    for (h, w), cap in p.unit_cap.items():
        reports.append(
            RuleReport(
                f"hosts.{h}.max_unit_share.{w}",
                f"{h} at most {cap} {w}",
                "units",
                cap,
                units[h, w],
                cap - units[h, w],
                units[h, w] >= cap,
            )
        )
    for (g, w), cap in p.group_unit_cap.items():
        held = sum(units[h, w] for h in p.groups[g])
        reports.append(
            RuleReport(
                f"groups.{g}.max_unit_share.{w}",
                f"group {g} at most {cap} {w}",
                "units",
                cap,
                held,
                cap - held,
                held >= cap,
            )
        )
    for w, n in p.min_hosts.items():
        if w in p.requirement:
            holding = sum(1 for h in p.hosts if units[h, w] > 0)
            reports.append(
                RuleReport(
                    f"systems.{w}.min_hosts",
                    f"{w} in at least {n} hosts",
                    "hosts",
                    n,
                    holding,
                    holding - n,
                    holding == n,
                    minimum=True,
                )
            )
    for w, need in p.resilience_need.items():
        kept = min(
            sum(n for (h, w2), n in units.items() if w2 == w and h not in lost)
            for (w3, _), lost in p.lost_hosts.items()
            if w3 == w
        )
        reports.append(
            RuleReport(
                f"systems.{w}.resilience",
                f"{need} {w} left after losing any host set",
                "units",
                need,
                kept,
                kept - need,
                kept == need,
                minimum=True,
            )
        )
    for (h, w), need in p.earmarks.items():
        buyers = "+".join(p.earmarked_by.get((h, w), ()))
        reports.append(
            RuleReport(
                f"earmarks.{h}.{w}",
                f"{h} holds at least the {need} {w} {buyers} earmarked for it",
                "units",
                need,
                units[h, w],
                units[h, w] - need,
                units[h, w] == need,
                minimum=True,
            )
        )
    if p.max_sites is not None:
        n = len(posture.open_sites)
        reports.append(
            RuleReport(
                "constraints.max_sites",
                f"at most {p.max_sites} open sites",
                "sites",
                p.max_sites,
                n,
                p.max_sites - n,
                n == p.max_sites,
            )
        )
    if p.budget_musd is not None:
        spent = sum(p.fixed_cost_musd[s] for s in posture.open_sites)
        cheapest = min((p.fixed_cost_musd[s] for s in p.sites if s not in posture.open_sites), default=float("inf"))
        reports.append(
            RuleReport(
                "constraints.budget_musd",
                f"fixed cost at most {p.budget_musd:g} M USD",
                "M USD",
                p.budget_musd,
                spent,
                p.budget_musd - spent,
                p.budget_musd - spent < cheapest,
            )
        )
    reports += _deadline_slacks(p, posture)
    return reports


def _deadline_slacks(p: Instance, posture: Posture) -> list[RuleReport]:
    """A deadline binds when a route it keeps out is within an hour of it (one hour more would let it in)."""
    worst: dict[str, float] = defaultdict(float)
    for s, d, w in posture.ship:
        worst[w] = max(worst[w], p.tau_h[s, d, w])
    reports = []
    for w, limit in p.deadline_h.items():
        if limit is None:
            continue
        nearest = min((h for (_, _, w2), h in p.dropped_by_deadline.items() if w2 == w), default=None)
        reports.append(
            RuleReport(
                f"systems.{w}.deadline_h",
                f"every {w} available within {limit:g} h",
                "h",
                limit,
                worst[w],
                limit - worst[w],
                nearest is not None and nearest <= limit + 1.0,
            )
        )
    return reports


def fixed_binaries_model(p: Instance, posture: Posture) -> pyo.ConcreteModel:
    """The model with every binary fixed to the posture's structure and the stock made continuous.

    Parameters
    ----------
    p
        The resolved numbers.
    posture
        Which sites are open and what they hold and ship.

    Returns
    -------
    pyo.ConcreteModel
        A linear programme whose duals price the caps and resilience rules for this structure.
    """
    m = build_model(dataclasses.replace(p, site_dominance=False))  # the posture given, whichever site it opens
    held_hosts = {(p.host_of[s], w) for (s, w) in posture.stock}
    values = {
        "open_site": lambda k: k in posture.open_sites,
        "holds": lambda k: k in posture.stock,
        "host_holds": lambda k: k in held_hosts,
        "use_route": lambda k: k in posture.ship,
    }
    for name in BINARIES:
        var = getattr(m, name, None)
        if var is None:
            continue
        for key, v in var.items():
            v.fix(1 if values[name](key) else 0)
    for var in m.component_data_objects(pyo.Var, descend_into=True):
        if var.is_integer():  # fixed binaries too: HiGHS gives no duals while any column is integer
            var.domain = pyo.NonNegativeReals
    return m


def rule_prices(p: Instance, posture: Posture, *, deadline: Deadline, threads: int) -> dict[str, float]:
    """Objective change per unit of relaxation of each cap and resilience rule (LP duals, binaries fixed).

    Returns
    -------
    dict
        Rule key -> change of the weighted objective per percentage point (value caps) or per unit (unit
        caps, resilience); negative means relaxing the rule would lower the objective. Empty when the
        fixed-structure programme cannot be solved in time.
    """
    m = fixed_binaries_model(p, posture)
    results = run_highs(
        m,
        deadline=deadline,
        mip_gap=0.0,
        threads=threads,
        show_log=False,
        solver=new_solver(),
        stage="pricing the rules",
    )
    if results.termination_condition != TerminationCondition.convergenceCriteriaSatisfied:
        return {}
    duals = results.solution_loader.get_duals()
    prices: dict[str, float] = {}

    def dual(component: str, key) -> float:
        c = getattr(m, component, None)
        return float(duals.get(c[key], 0.0)) if c is not None and key in c else 0.0

    for h in p.host_value_share:  # the row is value <= share * V: one point of V is V / 100 M USD
        prices[f"hosts.{h}.max_value_share"] = dual("host_share_cap_value", h) * p.package / 100
    for g in p.group_value_share:
        prices[f"groups.{g}.max_value_share"] = dual("group_share_cap_value", g) * p.package / 100
    for h, w in p.unit_cap:
        prices[f"hosts.{h}.max_unit_share.{w}"] = dual("host_share_cap_units", (h, w))
    for g, w in p.group_unit_cap:
        prices[f"groups.{g}.max_unit_share.{w}"] = dual("group_share_cap_units", (g, w))
    for w in p.resilience_need:  # a >= row: relaxing lowers the need, the opposite sign of the dual
        prices[f"systems.{w}.resilience"] = -sum(dual("host_loss_resilience", k) for k in p.lost_hosts if k[0] == w)
    for h, w in p.earmarks:  # a >= row like resilience: one unit fewer earmarked
        prices[f"earmarks.{h}.{w}"] = -dual("honour_earmarks", (h, w))
    return prices


def relaxed(p: Instance, key: str) -> Instance:
    """The instance with one rule one unit looser: a point of value share, a unit (of a cap, resilience or an
    earmark), a host, a site, 1 M USD of budget (or the cheapest closed site's cost), an hour of deadline."""
    parts = key.split(".")
    if key.startswith("hosts.") and parts[-1] == "max_value_share":
        return dataclasses.replace(p, host_value_share=_plus(p.host_value_share, parts[1], 0.01))
    if key.startswith("groups.") and parts[-1] == "max_value_share":
        return dataclasses.replace(p, group_value_share=_plus(p.group_value_share, parts[1], 0.01))
    if key.startswith("hosts.") and parts[2] == "max_unit_share":
        return dataclasses.replace(p, unit_cap=_plus(p.unit_cap, (parts[1], parts[3]), 1))
    if key.startswith("groups.") and parts[2] == "max_unit_share":
        return dataclasses.replace(p, group_unit_cap=_plus(p.group_unit_cap, (parts[1], parts[3]), 1))
    if key.endswith(".min_hosts"):
        return dataclasses.replace(p, min_hosts={**p.min_hosts, parts[1]: p.min_hosts[parts[1]] - 1})
    if key.endswith(".resilience"):
        return dataclasses.replace(p, resilience_need={**p.resilience_need, parts[1]: p.resilience_need[parts[1]] - 1})
    if key.startswith("earmarks."):
        return dataclasses.replace(p, earmarks=_plus(p.earmarks, (parts[1], parts[2]), -1))
    if key == "constraints.max_sites":
        return dataclasses.replace(p, max_sites=(p.max_sites or 0) + 1)
    if key == "constraints.budget_musd":
        step = min((p.fixed_cost_musd[s] for s in p.sites), default=1.0)
        return dataclasses.replace(p, budget_musd=(p.budget_musd or 0.0) + step)
    if key.endswith(".deadline_h"):
        return _later_deadline(p, parts[1], 1.0)
    raise ValueError(f"no relaxation for {key}")


def _plus(table: dict, key, step):
    """A copy of ``table`` with ``step`` added to ``key``'s value."""
    return {**table, key: table[key] + step}


def _later_deadline(p: Instance, w: str, hours: float) -> Instance:
    """The instance with system ``w``'s deadline ``hours`` later: the routes it kept out come back."""
    limit = (p.deadline_h[w] or 0.0) + hours
    back = {r: h for r, h in p.dropped_by_deadline.items() if r[2] == w and h <= limit + TOLERANCE}
    routes = (*p.routes, *back)
    allowed = tuple(dict.fromkeys((*p.allowed, *((s, w2) for s, _, w2 in back))))
    return dataclasses.replace(
        p,
        routes=routes,
        allowed=allowed,
        deadline_h={**p.deadline_h, w: limit},
        tau_h={**p.tau_h, **{r: h + p.exposure_weight * p.exposure_h.get(r, 0.0) for r, h in back.items()}},
        transit_h={**p.transit_h, **{r: h - p.release_h[p.host_of[r[0]]] for r, h in back.items()}},
        dropped_by_deadline={r: h for r, h in p.dropped_by_deadline.items() if r not in back},
        stock_bound={**p.stock_bound, **{(s, w2): stock_bound(p.inputs, s, w2) for s, _, w2 in back}},
    )


def recheck(p: Instance, key: str, base: RunResult, *, deadline: Deadline, threads: int) -> tuple[dict | None, str]:
    """Re-solve with ``key`` one unit looser: the change of the objective and of each term, and the status."""
    try:
        model = build_model(relaxed(p, key), deadline=deadline)
        outcome: SolveOutcome = solve(model, deadline=deadline, threads=threads)
    except (InfeasibleError, SolverError) as exc:
        return None, f"not re-solved ({exc})"
    from depotsite.shipments import posture_of

    posture = posture_of(model)
    result = summarise(model.instance, posture.stock, posture.ship, posture.open_sites, outcome=outcome)
    change = {"objective": result.objective - base.objective}
    change |= {term: result.terms[term] - base.terms[term] for term in base.terms}
    return change, outcome.status


def _recheck_order(r: RuleReport) -> tuple[int, float]:
    """Priced rules by the size of their price, then the rules no dual prices, then rules priced at zero."""
    if r.price is None:
        return 1, 0.0
    return (0, -abs(r.price)) if abs(r.price) > 1e-9 else (2, 0.0)


def explain_posture(
    p: Instance, posture: Posture, base: RunResult, *, deadline: Deadline, threads: int = 2, rechecks: int = 3
) -> Explanation:
    """Which rules bind and what they cost, and why each open site is open.

    Parameters
    ----------
    p
        The resolved numbers the posture was solved for.
    posture
        The integer stock, shipments and open sites.
    base
        The posture's figures (``collect``), against which re-solves are compared.
    deadline
        The budget of the pricing LP and the re-solves; each re-solve gets an equal share of what remains.
    threads
        HiGHS threads.
    rechecks
        How many binding rules to re-solve one unit looser: those with the largest LP price first, then the
        rules no dual prices (minimum hosts, site limit, budget, deadlines).

    Returns
    -------
    Explanation
        Every rule with its slack, price and (for the rechecked ones) the re-solved change; every open site.
    """
    reports = rule_slacks(p, posture)
    prices = rule_prices(p, posture, deadline=deadline, threads=threads)
    # A dual prices a rule only where the posture leaves it no room; a slack rule is worth nothing at the margin.
    reports = [
        dataclasses.replace(r, price=(prices.get(r.key) if r.binding else 0.0) if r.key in prices else None)
        for r in reports
    ]
    chosen = {r.key for r in sorted((r for r in reports if r.binding), key=_recheck_order)[:rechecks]}
    notes = []
    done = 0
    for i, r in enumerate(reports):
        if r.key not in chosen:
            continue
        if deadline.expired():
            notes.append(f"the time limit ran out before {r.key} was re-solved")
            continue
        change, status = recheck(p, r.key, base, deadline=deadline.share(len(chosen) - done), threads=threads)
        done += 1
        reports[i] = dataclasses.replace(r, checked=change, checked_status=status)
    return Explanation(rules=tuple(reports), sites=tuple(site_reasons(p, posture)), notes=tuple(notes))
