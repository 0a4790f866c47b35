"""The posture a solved model holds, with whole-unit shipments for its whole-unit stock.

Shipments are continuous in the model: once the stock and the open sites are whole numbers, what is left
is a transportation problem with whole supplies (stock) and demands, whose vertices are whole (its
constraint matrix is totally unimodular). A solver's basic solution is such a vertex, but a posture a
heuristic found need not be. ``whole_shipments`` then re-solves the transportation problem on the routes
the posture already uses, by the dual simplex method, which returns a vertex: the same stock, a
time term no larger (the routes are a subset, the objective linear), and every shipment whole.
``posture_of`` reads a solved model's variables (by their names only: no pyomo import here).
"""

from __future__ import annotations

import logging

import numpy as np

from depotsite.dispatch import unit_weight
from depotsite.errors import NumericsError
from depotsite.instance import Instance
from depotsite.posture import Posture
from depotsite.traveltimes import Pair

log = logging.getLogger(__name__)

WHOLE = 1e-6  # a shipment within this of a whole number is that number


def is_whole(ship: dict[Pair, float]) -> bool:
    """Whether every shipment is within ``WHOLE`` of a whole number of units."""
    return all(abs(v - round(v)) <= WHOLE for v in ship.values())


def whole_shipments(instance: Instance, stock: dict[tuple[str, str], int], ship: dict[Pair, float]) -> dict[Pair, int]:
    """Whole shipments from the given whole stock over the routes ``ship`` uses, meeting every demand.

    Parameters
    ----------
    instance
        The demand, priorities and hours of the routes.
    stock
        Whole units per (site, system), as the solver's posture holds them.
    ship
        The solver's (possibly fractional) shipments per route; only routes above ``WHOLE`` are used.

    Returns
    -------
    dict
        Route -> whole units (non-zero only), with sum over destinations equal to the stock and sum over
        sites equal to the demand.

    Raises
    ------
    NumericsError
        When no whole shipment exists on those routes (the solver's posture did not balance).
    """
    # Rarely needed; scipy is imported here because pyomo, once loaded, pulls scipy.stats in with it (0.4 s).
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    routes = [r for r, v in ship.items() if v > WHOLE]
    if not routes:
        return {}
    rows: dict[tuple, int] = {}
    for s, d, w in routes:  # one row per stock balance and one per demand
        rows.setdefault(("stock", s, w), len(rows))
        rows.setdefault(("demand", d, w), len(rows))
    i = [rows["stock", s, w] for s, _, w in routes] + [rows["demand", d, w] for _, d, w in routes]
    j = list(range(len(routes))) * 2
    a_eq = coo_matrix((np.ones(len(i)), (i, j)), shape=(len(rows), len(routes))).tocsr()
    b_eq = np.zeros(len(rows))
    for key, row in rows.items():
        b_eq[row] = stock.get((key[1], key[2]), 0) if key[0] == "stock" else instance.demand[key[1], key[2]]
    weight = unit_weight(instance)  # the time term's weights (the queue part depends on the stock only)
    cost = np.array([weight[w] * instance.tau_h[s, d, w] for s, d, w in routes])
    upper = [(0, instance.demand[d, w]) for _, d, w in routes]
    lp = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=upper, method="highs-ds")
    if lp.status != 0 or not is_whole(dict(zip(routes, lp.x, strict=True))):
        raise NumericsError(
            [
                f"the solver's shipments are not whole units and cannot be made whole on the routes "
                f"it used ({lp.message}); re-run with another [solver] threads or mip_gap"
            ]
        )
    log.info(
        "whole_shipments: the solver's shipments were fractional; re-solved %d routes by dual simplex", len(routes)
    )
    return {r: round(v) for r, v in zip(routes, lp.x, strict=True) if round(v) > 0}


def posture_of(model) -> Posture:
    """The integer posture a solved model holds: stock, shipments and open sites (non-zero only).

    Parameters
    ----------
    model
        A model from ``depotsite.model.build_model`` whose variables hold a solution (after ``solve``).

    Returns
    -------
    Posture
        Values rounded to whole units; a site is open when its binary exceeds 0.5 and it holds something (or
        is forced open). Shipments are
        continuous in the model: when the solver's are not whole, the transportation problem of the
        whole stock is re-solved to a vertex on the routes it used (``whole_shipments``).
    """

    def units(var) -> dict:
        return {k: round(v.value) for k, v in var.items() if v.value is not None and round(v.value) > 0}

    stock = units(model.stock)
    shipped = {k: v.value for k, v in model.ship.items() if v.value is not None}
    ship = units(model.ship) if is_whole(shipped) else whole_shipments(model.instance, stock, shipped)
    # A site the solver left open with nothing in it (free when cost weighs nothing) is not part of the posture.
    holding = {s for s, _ in stock} | set(model.instance.force_open)
    open_sites = tuple(
        s for s in model.S if s in holding and model.open_site[s].value is not None and model.open_site[s].value > 0.5
    )
    return Posture(stock=stock, ship=ship, open_sites=open_sites)
