"""An independent oracle: enumerate every set of open sites and solve the rest as a linear program.

With unit footprints the remaining transportation problem has an integral optimum (its constraint
matrix is that of a bipartite network), so the linear program's value for the best open set is the
integer optimum. scipy's ``linprog`` knows nothing of pyomo or of depotsite's model code.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from scipy.optimize import linprog

from depotsite.instance import build_instance
from depotsite.model import build_model
from depotsite.solve import solve
from instances import make_inputs, make_scenario, site, system, times


def enumerate_optimum(capacity, fixed, demand, hours, cost_weight):
    """min over open sets O of cost_weight * sum fc(O) + min sum hours * ship / total demand (an LP)."""
    sites, rows = list(capacity), list(demand)
    total = sum(demand.values())
    best = np.inf
    for size in range(1, len(sites) + 1):
        for open_set in itertools.combinations(sites, size):
            pairs = [(s, d, w) for s in open_set for (d, w) in rows if (s, d, w) in hours]
            if not pairs:
                continue
            c = np.array([hours[p] / total for p in pairs])
            a_eq = np.array([[1.0 if (p[1], p[2]) == row else 0.0 for p in pairs] for row in rows])
            b_eq = np.array([demand[row] for row in rows], dtype=float)
            a_ub = np.array([[1.0 if p[0] == s else 0.0 for p in pairs] for s in open_set])
            b_ub = np.array([capacity[s] for s in open_set], dtype=float)
            lp = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            if lp.status == 0:
                best = min(best, lp.fun + cost_weight * sum(fixed[s] for s in open_set))
    return best


@pytest.mark.parametrize("seed", range(36))
def test_model_optimum_equals_enumeration(seed):
    rng = random.Random(seed)
    n_sites = rng.randint(2, 5)
    systems = ["x"] if seed % 2 == 0 else ["x", "y"]
    destinations = [f"d{j}" for j in range(rng.randint(1, 3))]
    demand = {(d, w): rng.randint(1, 6) for d in destinations for w in systems}
    need = sum(demand.values())
    capacity = {f"s{i}": rng.randint(1, need) for i in range(n_sites)}
    capacity["s0"] = max(capacity["s0"], need)  # always feasible
    fixed = {s: float(rng.randint(0, 20)) for s in capacity}
    hours = {
        (s, d, w): float(rng.randint(1, 40))
        for s in capacity
        for d in destinations
        for w in systems
        if rng.random() < 0.85 or s == "s0"
    }
    cost_weight = rng.choice([0.0, 0.1, 1.0])

    inputs = make_inputs(
        hosts=list(capacity),
        sites=[site(s, s, bays=capacity[s], cost=fixed[s]) for s in capacity],
        systems=[system(w) for w in systems],
        demand=demand,
    )
    model = build_model(build_instance(inputs, times(hours), make_scenario(objective={"cost_weight": cost_weight})))
    outcome = solve(model, time_limit_s=30)
    assert outcome.status == "optimal"
    assert outcome.objective == pytest.approx(
        enumerate_optimum(capacity, fixed, demand, hours, cost_weight), rel=1e-7, abs=1e-7
    )
