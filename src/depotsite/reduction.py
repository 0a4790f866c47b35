r"""An exact reduction for large instances: a restricted model over few sites, and a dual proof for the rest.

With thousands of candidate sites most of them are slower, dearer or smaller than others of the same host
for every destination. ``solve_reduced`` solves the model over a subset K of the sites (each with all its
routes) and proves, from the linear relaxation's duals, that no site left out can be in a better posture:

1. K starts as the ``first_k`` fastest sites of each host for each (destination, system), and the forced
   sites.
2. The linear relaxation of the model over K is solved. Its rows are split into *site rows* (every column
   they hold belongs to one site: ``ship_from_stock``, ``site_capacity``, ``ship_only_if_open``, ``min_lot``)
   and *coupling rows* (demand, host and group rules, the site limit, the budget, the risk rows). With the
   coupling rows' duals y, the Lagrangian bound of the **full** model is

   .. math:: L = z_{LP}(K) + \sum_{s \notin K} \min(0, \phi_s)

   where :math:`\phi_s` is a lower bound of site s's reduced cost when it opens: :math:`e_{open}(s) + \sum_w`
   the cheapest ``stock_bound`` units of w at s, each costing :math:`e_{stock}(h(s), w) + e_{ship}(s, d, w)`
   for its destination d (at most the demand there). ``e`` is a column's cost less its coupling rows'
   duals, the same for every site of a host (stock), or given by the site's own numbers (opening:
   ``cost_weight fc[s]`` less the site-limit and budget duals and the fewest-sites duals of the systems s
   may hold; shipping: ``time_weight u[w] tau[s,d,w]`` less the demand row's dual). Every such formula is
   checked against the columns of the sites in K, and every column and row must be of a family the proof
   knows, or the reduction is not used.
   Sites with :math:`\phi_s < 0` are added to K and the relaxation solved again (column generation).
3. The model over K is solved (the MIP); its posture is a posture of the full model, objective z. HiGHS
   starts from the best posture over the sites the last relaxation opens at all (``support_start``: a MIP
   with every other site of K held closed, in a share of the time), which only prunes its search. The MIP
   has the site-dominance rows between the sites of K (``depotsite.dominance``: they keep its optimum, so
   its bound is still one of the posture over K); the relaxations leave them out (``without_dominance``),
   since a row between two sites is neither a site row nor a coupling row the proof prices. Measured on
   the LP of 136 of 500 generated sites, the 173 rows do not move the relaxation's optimum at all.
4. Any posture that opens a site s outside K costs at least :math:`L + \max(0, \phi_s)`. Every site with
   :math:`L + \max(0, \phi_s) < z` is added to K and step 3 repeated; when none is left, the optimum over
   K is the optimum of the full model, and the full model's bound is the smaller of the restricted
   model's bound and :math:`\min_{s \notin K} L + \max(0, \phi_s)`.

The shipments being whole at an optimum (``depotsite.shipments``) is not needed here: the proof prices
whole sites, not single routes. Only for time measures without use binaries (a mean, no dispatch queue:
``route_use_keys`` empty, ``queues`` off), where shipments enter only demand and site rows.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from depotsite.dispatch import unit_weight
from depotsite.errors import InfeasibleError, SolverError
from depotsite.instance import Instance, fewest_sites_rows
from depotsite.model import build_model, route_use_keys
from depotsite.posture import SolveOutcome
from depotsite.solve import Relaxation, best_in_support, carried_posture, new_solver, relaxation, solve
from depotsite.timelimit import Deadline

log = logging.getLogger(__name__)

AUTO_ROUTES = 20_000  # from this many routes, reduce = "auto" reduces
FIRST_K = 3  # fastest sites per (destination, system, host) in the first restricted model
PRICING_ROUNDS = 6  # column-generation rounds of the relaxation at most
ADD_PER_ROUND = 200  # sites added per pricing round at most (the most negative first)
SITE_VARS = ("open_site", "stock", "ship", "holds", "queue_slots", "queue_sq", "use_route")  # index[0] = site
COUPLING_VARS = ("host_holds", "max_share_pct", "max_share_steps", "share_sq", "makespan_h")
# the coupling rows an opening may enter
OPEN_ROWS = ("max_sites", "budget", "force_open", "site_capacity_fewest_sites")
START_SHARE = 0.25  # of the time left, at most, for the MIP over the sites the relaxation opens (the start)
SHIP_ROWS = ("meet_demand",)  # the coupling rows a shipment may enter


class ProofUnavailable(Exception):
    """The model has a column or row the proof does not price: the full model is solved instead."""


def unsupported(inst: Instance) -> str | None:
    """Why the reduction cannot apply to this instance's formulation, or None.

    Parameters
    ----------
    inst
        The full instance.

    Returns
    -------
    str or None
        The reason in words (makespan, dispatch queue, queue deadlines), None when it can apply.
    """
    if inst.time_measure == "makespan":
        return "the makespan's use binaries couple a site's routes"
    if inst.queues:
        return "the dispatch queue's rows are not priced by the proof"
    if route_use_keys(inst):
        return "queue deadlines couple a site's routes"
    return None


def wanted(inst: Instance) -> bool:
    """Whether ``[solver] reduce`` asks for the reduction on this instance (and it can apply).

    Returns
    -------
    bool
        ``on``: whenever ``unsupported`` finds nothing; ``auto``: also only from ``AUTO_ROUTES`` routes.
    """
    mode = inst.scenario.solver.reduce
    if mode == "off" or unsupported(inst) is not None:
        return False
    return mode == "on" or len(inst.routes) >= AUTO_ROUTES


def first_sites(inst: Instance, *, k: int = FIRST_K) -> set[str]:
    """The ``k`` fastest sites of each host for each (destination, system), and the forced sites.

    Every (destination, system) and every (host, system) with a route keeps one, so every coupling row of
    the full model has a column in the restricted one.
    """
    best: dict[tuple[str, str, str], list[tuple[float, str]]] = defaultdict(list)
    for s, d, w in inst.routes:
        best[d, w, inst.host_of[s]].append((inst.tau_h[s, d, w], s))
    keep = {s for s in inst.force_open if s in inst.sites}
    for options in best.values():
        keep |= {s for _, s in sorted(options)[:k]}
    return keep


def restricted(inst: Instance, keep: set[str], *, added_back: Iterable[str] = ()) -> Instance:
    """The instance over the sites in ``keep`` (each with all its routes); the others are ``pruned_sites``.
    The sites ``added_back`` by the proof dominate no other site in its rows (``Instance.dominance_skips``),
    so the posture of the model before them still keeps every row."""
    routes = tuple(r for r in inst.routes if r[0] in keep)
    reason = "left out by the exact reduction: its dual bound shows it cannot improve the posture"
    return replace(
        inst,
        sites=tuple(s for s in inst.sites if s in keep),
        allowed=tuple(a for a in inst.allowed if a[0] in keep),
        routes=routes,
        transit_h={r: inst.transit_h[r] for r in routes},
        tau_h={r: inst.tau_h[r] for r in routes},
        stock_bound={a: b for a, b in inst.stock_bound.items() if a[0] in keep},
        pruned_sites={s: reason for s in inst.sites if s not in keep},
        reduction={},
        fewest_sites_cap=fewest_sites_rows(inst),  # the full model's rows, over the sites kept
        dominance_skips=frozenset(added_back),
    )


def without_dominance(model) -> None:
    """Leave the model's site-dominance rows out of what a solver loads next (the pricing relaxations)."""
    model.site_dominance.deactivate()


def with_dominance(model, solver) -> None:
    """Put the site-dominance rows back into ``model`` and into ``solver``, which holds it without them."""
    model.site_dominance.activate()
    solver.add_constraints(list(model.site_dominance.values()))


@dataclass
class _Routes:
    """The full instance's routes as arrays, for pricing every site at once."""

    site: np.ndarray  # index into inst.sites
    dw: np.ndarray  # index into the (destination, system) demand keys
    system: np.ndarray  # index into inst.systems
    cost: np.ndarray  # time_weight u[w] tau[r]: the route's objective coefficient per unit
    demand: np.ndarray  # dem[d, w]

    @classmethod
    def of(cls, inst: Instance) -> _Routes:
        u = unit_weight(inst)
        site_index = {s: i for i, s in enumerate(inst.sites)}
        dw_index = {k: i for i, k in enumerate(inst.demand)}
        w_index = {w: i for i, w in enumerate(inst.systems)}
        n = len(inst.routes)
        site, dw, system = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
        cost, demand = np.empty(n), np.empty(n)
        for j, (s, d, w) in enumerate(inst.routes):
            site[j], dw[j], system[j] = site_index[s], dw_index[d, w], w_index[w]
            cost[j] = inst.time_weight * u[w] * inst.tau_h[s, d, w]
            demand[j] = inst.demand[d, w]
        return cls(site=site, dw=dw, system=system, cost=cost, demand=demand)


def _columns(model, rel: Relaxation) -> tuple[np.ndarray, dict[str, dict]]:
    """Each column's site (-1 for a coupling column) and, per site family, index -> column."""
    n = rel.matrix.shape[1]
    site_of = np.full(n, -2, np.int64)  # -2: unknown family
    index = {s: i for i, s in enumerate(model.instance.sites)}
    families: dict[str, dict] = {}
    for name in SITE_VARS:
        comp = getattr(model, name, None)
        found = {}
        for key, var in [] if comp is None else comp.items():
            col = rel.column.get(id(var))
            if col is not None:
                site_of[col] = index[key[0] if isinstance(key, tuple) else key]
                found[key] = col
        families[name] = found
    for name in COUPLING_VARS:
        comp = getattr(model, name, None)
        for var in [] if comp is None else comp.values():
            col = rel.column.get(id(var))
            if col is not None:
                site_of[col] = -1
    if (site_of == -2).any():
        raise ProofUnavailable("the model has variables of a family the proof does not know")
    return site_of, families


def _coupling_rows(model, rel: Relaxation, site_of: np.ndarray) -> np.ndarray:
    """True for a row that is not a site row: a site row is indexed by its site first and holds columns of
    that site only (a demand row over one site's routes is still a coupling row)."""
    csr = rel.matrix.tocsr()
    sites = site_of[csr.indices]
    starts = csr.indptr[:-1]
    empty = np.diff(csr.indptr) == 0
    safe = np.where(empty, 0, starts)
    low = np.minimum.reduceat(sites, safe) if len(sites) else np.zeros(len(starts), np.int64)
    high = np.maximum.reduceat(sites, safe) if len(sites) else np.zeros(len(starts), np.int64)
    index = {s: i for i, s in enumerate(model.instance.sites)}
    named = np.full(len(starts), -3, np.int64)  # the site the row's index names first, -3 for none
    for con, row in rel.row.items():
        key = con.index()
        first = key[0] if isinstance(key, tuple) and key else key
        if isinstance(first, str) and first in index:
            named[row] = index[first]
    return ~empty & ~((low == high) & (low == named))


@dataclass
class Prices:
    """What the relaxation says about the sites outside the model: each one's bound, and the full bound."""

    phi: dict[str, float]  # site outside K -> lower bound of its reduced cost when it opens
    lower_bound: float  # L: a lower bound of the full model's optimum


def price(inst: Instance, model, rel: Relaxation, routes: _Routes, *, tol: float = 1e-7) -> Prices:
    """Price every site outside ``model``'s instance with the relaxation's duals (see the module docstring).

    Raises
    ------
    ProofUnavailable
        When a column of the model does not follow the formulas the proof assumes.
    """
    p = model.instance
    site_of, families = _columns(model, rel)
    coupling = _coupling_rows(model, rel, site_of)
    y = np.where(coupling, rel.row_dual, 0.0)
    e = rel.cost - rel.matrix.T @ y  # cost less the coupling rows' duals
    names = {row: con.parent_component().name for con, row in rel.row.items()}
    rows_of = rel.matrix.tocsc()

    def coupling_families(col: int) -> set[str]:
        rows = rows_of.indices[rows_of.indptr[col] : rows_of.indptr[col + 1]]
        return {names[r] for r in rows if coupling[r]}

    scale = max(1.0, abs(rel.objective))
    # openings: cost_weight fc[s] less the site-limit, budget and fewest-sites duals
    row_named = {names[r]: r for r in names if names[r] in ("max_sites", "budget")}
    alpha = rel.row_dual[row_named["max_sites"]] if "max_sites" in row_named else 0.0
    beta = rel.row_dual[row_named["budget"]] if "budget" in row_named else 0.0
    gamma = {
        con.index(): rel.row_dual[row] for con, row in rel.row.items() if names[row] == "site_capacity_fewest_sites"
    }
    # site -> the fewest-sites duals of the systems it may hold
    holds_dual: defaultdict[str, float] = defaultdict(float)
    for s, w in inst.allowed:
        holds_dual[s] += gamma.get(w, 0.0)

    def e_open(s: str) -> float:
        return inst.cost_weight * inst.fixed_cost_musd[s] - alpha - beta * inst.fixed_cost_musd[s] - holds_dual[s]

    for s, col in families["open_site"].items():
        if not coupling_families(col) <= set(OPEN_ROWS) or (
            s not in inst.force_open and abs(e[col] - e_open(s)) > tol * scale
        ):
            raise ProofUnavailable(f"the opening of {s} is not priced as the proof assumes")
    # shipments: time_weight u[w] tau[r] less the demand row's dual, the same for every site
    dw_index = {k: i for i, k in enumerate(inst.demand)}
    pi = np.full(len(inst.demand), np.nan)
    u = unit_weight(inst)
    for (s, d, w), col in families["ship"].items():
        if not coupling_families(col) <= set(SHIP_ROWS):
            raise ProofUnavailable(f"the shipment {s}/{d}/{w} enters rows the proof does not price")
        c = inst.time_weight * u[w] * inst.tau_h[s, d, w]
        if abs(rel.cost[col] - c) > tol * max(1.0, abs(c)):
            raise ProofUnavailable(f"the shipment {s}/{d}/{w} costs {rel.cost[col]:g}, not {c:g}")
        value = c - e[col]
        i = dw_index[d, w]
        if np.isnan(pi[i]):
            pi[i] = value
        elif abs(pi[i] - value) > tol * scale:
            raise ProofUnavailable(f"the demand dual of {d}/{w} differs between sites")
    # stock: the same reduced cost for every site of a host (host-level rows and costs only)
    e_stock: dict[tuple[str, str], float] = {}
    for (s, w), col in families["stock"].items():
        key = (inst.host_of[s], w)
        if key in e_stock and abs(e_stock[key] - e[col]) > tol * scale:
            raise ProofUnavailable(f"stock of {w} in {key[0]} is priced differently at different sites")
        e_stock.setdefault(key, float(e[col]))
    for name in ("holds", "queue_slots", "queue_sq", "use_route"):
        for col in families[name].values():
            if coupling_families(col) or abs(rel.cost[col]) > tol:
                raise ProofUnavailable(f"{name} enters rows or costs the proof does not price")
    # every site outside K, at once
    kept = set(p.sites)
    out = np.array([s not in kept for s in inst.sites])
    on = out[routes.site]
    if np.isnan(pi[routes.dw[on]]).any():
        raise ProofUnavailable("a demand of the full model has no route in the restricted one")
    hw = np.array(
        [
            e_stock.get((inst.host_of[inst.sites[si]], inst.systems[wi]), np.nan)
            for si, wi in zip(routes.site[on], routes.system[on], strict=True)
        ]
    )
    if np.isnan(hw).any():
        raise ProofUnavailable("a host holds a system only at sites outside the restricted model")
    rho = hw + routes.cost[on] - pi[routes.dw[on]]  # reduced cost of one unit stored at s and sent to d
    site, system, demand = routes.site[on], routes.system[on], routes.demand[on]
    phi = np.array([e_open(s) for s in inst.sites])
    negative = rho < 0
    if negative.any():
        site, system, demand, rho = site[negative], system[negative], demand[negative], rho[negative]
        group = site * len(inst.systems) + system
        order = np.lexsort((rho, group))
        group, rho, demand, site, system = group[order], rho[order], demand[order], site[order], system[order]
        bound = np.array([inst.stock_bound[inst.sites[a], inst.systems[b]] for a, b in zip(site, system, strict=True)])
        first = np.r_[True, group[1:] != group[:-1]]
        cum = np.cumsum(demand)
        before = cum - demand
        group_start = np.maximum.accumulate(np.where(first, before, 0))
        taken_before = before - group_start
        take = np.clip(bound - taken_before, 0, demand)
        np.add.at(phi, site, rho * take)
    values = {s: float(phi[i]) for i, s in enumerate(inst.sites) if out[i]}
    lower = rel.objective + sum(min(0.0, v) for v in values.values())
    return Prices(phi=values, lower_bound=lower)


def support_start(model, rel: Relaxation, *, deadline: Deadline, threads: int, mip_gap: float) -> dict | None:
    """A first posture for the restricted MIP, handed to ``rel.solver`` (which holds ``model``) as its start:
    the best posture over the sites the relaxation opens at all and the sites that dominate them, found by a
    MIP with every other site held closed, within ``START_SHARE`` of the time left. Its posture keeps every
    rule of the model, so it only prunes the MIP's search (the optimum is the MIP's to prove). Returns what
    the reduction's record says of it, or None when there is no smaller part to solve, too little time, or
    no posture in the part.
    """
    column = {s: rel.column[id(v)] for s, v in model.open_site.items() if id(v) in rel.column}
    opened = {s for s, c in column.items() if rel.col_value[c] > 1e-6}
    # a site that dominates a site the relaxation opens stays in the part: the rows may move that site's
    # stock there (without it, the part would hold the dominated site closed too)
    dominators = {b for a, b in model.site_dominance if a in opened}
    closed = [c for s, c in column.items() if s not in opened and s not in dominators]
    support = len(column) - len(closed)
    budget_s = START_SHARE * deadline.remaining_s()
    if not closed or budget_s < 1.0:
        return None
    best = best_in_support(rel, closed=closed, time_limit_s=budget_s, threads=threads, mip_gap=mip_gap)
    if best is None:
        return None
    rel.solver.start_at_columns(best.col_value)
    log.info(
        "reduction: start over the %d sites the relaxation opens and their dominators: %.6g (%s) in %.2f s",
        support,
        best.objective,
        "best of them" if best.proven else "time limit",
        best.solve_s,
    )
    return {
        "support_sites": support,
        "objective": best.objective,
        "proven_in_support": best.proven,
        "seconds": round(best.solve_s, 3),
    }


def _model(inst: Instance, keep: set[str], deadline: Deadline, *, added_back: Iterable[str] = ()):
    return build_model(restricted(inst, keep, added_back=added_back), deadline=deadline)


def solve_reduced(
    inst: Instance,
    *,
    deadline: Deadline,
    mip_gap: float = 0.0,
    threads: int = 2,
    show_log: bool = False,
    explain=None,
    watcher=None,
    log_file: str | None = None,
    first_k: int = FIRST_K,
):
    """Build and solve ``inst`` by the exact reduction (the module docstring); the full model if the proof
    cannot price it.

    Parameters
    ----------
    inst
        The full instance.
    deadline
        One budget for every build, relaxation and solve.
    mip_gap, threads, show_log, explain, watcher, log_file
        As for ``depotsite.solve.solve``.
    first_k
        Fastest sites per (destination, system, host) in the first restricted model.

    Returns
    -------
    (model, SolveOutcome)
        The last model solved (over the sites kept; ``model.instance.pruned_sites`` names the others and
        ``model.instance.reduction`` records the proof) and the outcome against the full model's bound.
    """

    def solve_full():
        """The full model, built and solved: where the proof cannot price the instance or the sites kept
        cannot meet the rules."""
        full = build_model(inst, deadline=deadline)
        outcome = solve(
            full,
            deadline=deadline,
            mip_gap=mip_gap,
            threads=threads,
            show_log=show_log,
            explain=explain,
            watcher=watcher,
            log_file=log_file,
        )
        return full, outcome

    started = time.perf_counter()
    routes = _Routes.of(inst)
    keep = first_sites(inst, k=first_k)
    record: dict = {"candidate_sites": len(inst.sites), "candidate_routes": len(inst.routes)}
    timings: defaultdict[str, float] = defaultdict(float)
    try:
        for rounds in range(1, PRICING_ROUNDS + 1):
            t = time.perf_counter()
            model = _model(inst, keep, deadline)
            without_dominance(model)
            timings["build_s"] += time.perf_counter() - t
            rel = relaxation(model, deadline=deadline, threads=threads)
            timings["relaxation_s"] += rel.solve_s
            prices = price(inst, model, rel, routes)
            tol = 1e-7 * max(1.0, abs(rel.objective))
            negative = sorted((v, s) for s, v in prices.phi.items() if v < -tol)
            log.info(
                "reduction: pricing round %d, %d sites, LP %.6g, %d sites priced below zero",
                rounds,
                len(keep),
                rel.objective,
                len(negative),
            )
            if not negative or rounds == PRICING_ROUNDS:
                break
            keep |= {s for _, s in negative[:ADD_PER_ROUND]}
    except (ProofUnavailable, SolverError) as why:  # SolverError: the restricted relaxation has no optimum
        log.info("reduction not used: %s", why)
        return solve_full()
    record |= {
        "pricing_rounds": rounds,
        "lp_bound": rel.objective,
        "lp_method": rel.method,
        "lower_bound": prices.lower_bound,
    }
    added_back: list[str] = []
    restarts_accepted: list[bool | None] = []  # per solve after an add-back: whether HiGHS took its start
    loaded = rel.solver  # the last relaxation's solver holds this model already: the MIP need not load it again
    with_dominance(model, loaded)
    t = time.perf_counter()
    start = support_start(model, rel, deadline=deadline, threads=threads, mip_gap=mip_gap)
    timings["start_s"] += time.perf_counter() - t
    while True:
        t = time.perf_counter()
        try:
            outcome = solve(
                model,
                solver=loaded,
                deadline=deadline,
                mip_gap=mip_gap,
                threads=threads,
                show_log=show_log,
                explain=None,
                watcher=watcher,
                log_file=log_file,
            )
        except InfeasibleError:  # the sites kept cannot meet the rules, the full model may: solve that
            log.info("reduction: the restricted model is infeasible; solving the full model")
            return solve_full()
        timings["mip_s"] += time.perf_counter() - t
        if start is not None and "accepted" not in start:
            start["accepted"] = loaded.start_accepted
        if added_back:  # every solve after the first follows an add-back, started at the posture before it
            restarts_accepted.append(loaded.start_accepted)
        z = outcome.objective
        tol = 1e-7 * max(1.0, abs(z))
        unsafe = [s for s, v in prices.phi.items() if s not in keep and prices.lower_bound + max(0.0, v) < z - tol]
        if not unsafe or deadline.expired():
            break
        log.info("reduction: %d left-out sites could improve the posture (%.6g); adding them back", len(unsafe), z)
        added_back += unsafe
        keep |= set(unsafe)
        t = time.perf_counter()
        solved, model = model, _model(inst, keep, deadline, added_back=added_back)
        timings["build_s"] += time.perf_counter() - t
        loaded = new_solver()
        loaded.start_from(carried_posture(solved, model))  # the posture found so far, the added sites closed
    outside = [prices.lower_bound + max(0.0, v) for s, v in prices.phi.items() if s not in keep]
    bound = min([b for b in (outcome.bound,) if b is not None] + outside, default=None)
    proven = outcome.status == "optimal" and not unsafe
    outcome = _against_full(outcome, bound, proven)
    record |= {
        "kept_sites": len(keep),
        "pruned_sites": len(inst.sites) - len(keep),
        "added_back_by_the_proof": len(added_back),
        "site_dominance_rows": len(model.site_dominance),  # in the last restricted MIP
        "restarts_accepted": restarts_accepted,
        "start": start,
        "full_bound": bound,
        "proven": proven,
        "why": (
            "every site left out has a Lagrangian bound (relaxation duals of the coupling rows) at or above "
            "the posture's objective, so no posture that opens one is better"
            if not unsafe
            else f"{len(unsafe)} sites left out could still improve the posture when the time ran out"
        ),
        "timings_s": {k: round(v, 3) for k, v in timings.items()} | {"total": round(time.perf_counter() - started, 3)},
    }
    model.instance.reduction.update(record)
    return model, outcome


def _against_full(outcome: SolveOutcome, bound: float | None, proven: bool) -> SolveOutcome:
    """The outcome with the full model's bound and gap (proven optimal only when the proof holds)."""
    gap = 0.0
    if bound is not None:
        gap = max(0.0, outcome.objective - bound) / max(abs(outcome.objective), 1e-9)
    if gap < 1e-9:
        gap = 0.0
    status = "optimal" if proven else "time_limit"
    warnings = outcome.warnings
    if status == "time_limit" and not warnings:
        warnings = (
            f"stopped with a feasible posture; it is within {100 * gap:.2f}% of the full model's bound, not "
            "proven optimal",
        )
    return replace(outcome, status=status, bound=bound, gap=gap if not proven else 0.0, warnings=warnings)


def build_and_solve(
    inst: Instance,
    *,
    deadline: Deadline,
    mip_gap: float = 0.0,
    threads: int = 2,
    show_log: bool = False,
    watcher=None,
    log_file: str | None = None,
):
    """The model of ``inst`` built and solved: by the exact reduction when ``[solver] reduce`` asks for it
    (``wanted``), else the full model; an infeasible scenario is explained (``explain_infeasible``).

    Returns
    -------
    (model, SolveOutcome)
        The model solved (its variables hold the posture; ``model.instance`` is the instance it was built
        from) and the outcome.
    """
    from depotsite.explain import explain_infeasible

    options = {"mip_gap": mip_gap, "threads": threads, "show_log": show_log, "watcher": watcher, "log_file": log_file}
    if wanted(inst):
        return solve_reduced(inst, deadline=deadline, explain=explain_infeasible, **options)
    model = build_model(inst, deadline=deadline)
    return model, solve(model, deadline=deadline, explain=explain_infeasible, **options)
