"""Golden formulation check: a tiny instance with every constraint family, written as an LP file and
compared with the reviewed copy in tests/golden/. A change to the formulation shows up here as a diff
that reads as policy language (row and column names are domain words).

Regenerate after an intended change with ``DEPOTSITE_REGOLD=1 pytest tests/test_golden_lp.py`` and
review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

from depotsite.instance import build_instance
from depotsite.model import build_model
from instances import make_inputs, make_scenario, site, system, times

GOLDEN = Path(__file__).parent / "golden" / "every_family.lp"


def test_lp_file_matches_the_reviewed_formulation(tmp_path):
    inputs = make_inputs(
        hosts={"A": "g", "B": "g", "C": None},
        sites=[
            site("a1", "A", bays=6, cost=2),
            site("b1", "B", kind="air_base", bays=4, shelters=2, cost=3),
            site("c1", "C", bays=8, cost=1),
        ],
        systems=[
            system("x", value=2, bays=1, min_lot=2, kinds="army_base;air_base"),
            system("f", value=8, bays=0, shelters=1, kinds="air_base"),
        ],
        demand={("d1", "x"): 4, ("d1", "f"): 1},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 3, ("b1", "d1", "f"): 1})
    scenario = make_scenario(
        objective={"risk_weight": 1.0, "cost_weight": 0.5},
        hosts={"A": {"max_value_share": 0.6, "max_unit_share": {"x": 0.75}}},
        groups={"g": {"max_value_share": 0.9}},
        systems={"x": {"min_hosts": 2, "deadline_h": 2.5, "resilience": {"lose_hosts": 1, "keep_fraction": 0.25}}},
        constraints={"max_sites": 3, "budget_musd": 10, "force_open": ["c1"]},
    )
    path = tmp_path / "model.lp"
    build_model(build_instance(inputs, travel, scenario)).write(str(path), io_options={"symbolic_solver_labels": True})
    text = path.read_text()
    if os.environ.get("DEPOTSITE_REGOLD"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
