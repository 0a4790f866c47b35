"""Helpers every family of the formulation uses: rows with domain names, stock sums, the sites serving a demand.

No formulation here: ``depotsite.model`` and ``depotsite.terms`` build the rows with these.
"""

from __future__ import annotations

import logging
import sys
from collections import defaultdict
from typing import Any

import pyomo.core as pyo

from depotsite.dispatch import dispatch_order
from depotsite.errors import InfeasibleError
from depotsite.instance import Instance
from depotsite.traveltimes import Pair


class _QuietWhenExplained(logging.Filter):
    """Drops pyomo's two ERROR lines ("Rule failed ...", "Constructing component ... failed") for a row that
    can never hold: pyomo logs every exception raised while it builds a row before passing it on, but this
    one is a domain answer (``InfeasibleError``: exit 3, with its explanation), not a failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not isinstance(sys.exc_info()[1], InfeasibleError)  # called inside pyomo's except block


logging.getLogger("pyomo.core").addFilter(_QuietWhenExplained())


def constraint(name: str, *index, rule) -> pyo.Constraint:
    """A ``pyo.Constraint`` whose rule may come out trivial: skipped if always true, explained if never.

    Parameters
    ----------
    name
        The family's row name, used in the explanation when a row can never hold.
    index
        The index sets of the rows.
    rule
        ``rule(m, *key)`` -> a pyomo relation, or True / False for a trivial row.

    Returns
    -------
    pyo.Constraint
        The rows, named as the caller assigns them on the model.
    """

    def checked(m, *key):
        expr = rule(m, *key)
        if expr is True:
            return pyo.Constraint.Skip
        if expr is False:
            where = "/".join(str(k) for k in key)
            raise InfeasibleError(
                [
                    f"{name} {where} cannot hold: no allowed site left for it (check site kinds, "
                    "exclusions and deadlines)"
                ]
            )
        return expr

    return pyo.Constraint(*index, rule=checked)


def stock_in(m: pyo.ConcreteModel, inst: Instance, hosts: set[str] | frozenset[str], w: str | None = None):
    """Linear expression of units (one system) or value (all systems) stored in ``hosts``."""
    if w is not None:
        return sum(m.stock[s, w] for s, w2 in inst.allowed if w2 == w and inst.host_of[s] in hosts)
    return sum(inst.value[w2] * m.stock[s, w2] for s, w2 in inst.allowed if inst.host_of[s] in hosts)


def sites_serving(inst: Instance) -> dict[tuple[str, str], list[str]]:
    """(destination, system) -> the sites with a route to it."""
    by_dw: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s, d, w in inst.routes:
        by_dw[d, w].append(s)
    return by_dw


def slot_prefix(m: pyo.ConcreteModel, inst: Instance) -> dict[Pair, Any]:
    """Route -> the dispatch slots its site has sent once the route's last unit has gone (linear in ship)."""
    prefix: dict[Pair, Any] = {}
    for routes in dispatch_order(inst).values():
        running: Any = 0
        for r in routes:
            running = running + inst.slots[r[2]] * m.ship[r]
            prefix[r] = running
    return prefix
