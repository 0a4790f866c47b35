"""Pieces of the formulation that no hand-solved optimum shows: the queue secants the model starts with, the
build's record of its steps, its log line and its deadline message.
Each case was a mutant of ``model.py`` that the model tests let through (``tests/README.md``)."""

from __future__ import annotations

import itertools
import logging
import math
import re
import time

import pytest

from depotsite.errors import InfeasibleError, SolverError
from depotsite.instance import build_instance
from depotsite.model import FAMILIES, build_model, first_breakpoints, posture_of
from depotsite.results import collect
from depotsite.solve import solve
from depotsite.terms import refine_queues
from depotsite.timelimit import Deadline
from instances import make_inputs, make_scenario, site, system, times


def test_first_breakpoints_are_evenly_spaced_whole_numbers_below_most():
    """step = max(1, ceil(most / count)): 10 by 4 gives step 3, so 0, 3, 6 and the last whole n below most,
    9; 3 by 8 gives step 1 (every n); nothing below 1 gives nothing (never -1)."""
    assert first_breakpoints(10, count=4) == [0, 3, 6, 9]
    assert first_breakpoints(11, count=4) == [0, 3, 6, 9, 10]
    assert first_breakpoints(3, count=8) == [0, 1, 2]
    assert first_breakpoints(1, count=4) == [0]
    assert first_breakpoints(0, count=4) == []
    for most in range(1, 60):
        points = first_breakpoints(most, count=7)
        step = max(1, math.ceil(most / 7))
        assert points[0] == 0 and points[-1] == most - 1
        assert all(b - a == step for a, b in itertools.pairwise(points[:-1]))


def _tiny():
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 2}
    )
    travel = times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0})
    return build_instance(inputs, travel, make_scenario())


def test_build_model_records_each_steps_rows_and_logs_its_size(caplog):
    """Two sites, one system, two routes: 2 stock, 2 ship and 2 site variables; the steps are named as
    ``family_rows`` documents (sets and variables add no rows); the refinement hook is the queues'."""
    instance = _tiny()
    with caplog.at_level(logging.INFO, logger="depotsite.model"):
        started = time.perf_counter()
        m = build_model(instance)
        outer_s = time.perf_counter() - started
    assert list(m.family_rows)[:2] == ["sets", "variables"]
    assert list(m.family_rows)[2:] == [f.name for f in FAMILIES]
    assert m.family_rows["sets"] == m.family_rows["variables"] == ()
    assert m.refine is refine_queues
    [message] = [r.getMessage() for r in caplog.records if r.name == "depotsite.model"]
    found = re.fullmatch(r"build_model built 2 stock, 2 ship and 2 site variables in ([0-9.]+) s", message)
    assert found, message
    assert float(found.group(1)) <= outer_s + 0.005  # the build's own time, within the time around it


def test_build_model_names_the_step_it_stopped_before():
    with pytest.raises(SolverError) as caught:
        build_model(_tiny(), deadline=Deadline(0.0))
    assert str(caught.value).startswith("time limit reached while building the model (before sets): ")


def test_an_earmark_no_site_of_its_host_may_hold_names_its_family(caplog):
    """P earmarked 1 x in B, whose only site is an air base, and x may only be held at army bases. The row is
    a domain answer (InfeasibleError, exit 3, explained): pyomo's own ERROR lines for it are dropped."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("b1", "B", kind="air_base")],
        systems=[system("x")],
        demand={("d1", "x"): 2},
        earmarks={("P", "x", "B"): 1},
    )
    instance = build_instance(
        inputs, times({("a1", "d1", "x"): 1.0}), make_scenario(financing={"honour_earmarks": True})
    )
    with caplog.at_level("ERROR", logger="pyomo"), pytest.raises(InfeasibleError) as caught:
        build_model(instance)
    assert caught.value.explanation == [
        "honour_earmarks B/x cannot hold: no allowed site left for it (check site kinds, exclusions and deadlines)"
    ]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pyomo")] == []


def test_a_groups_unit_cap_counts_only_its_system():
    """Group g = {A} may hold half of x's 4 units; y (5 M USD a unit, 2 units) has no cap. a1 is the fastest
    site for both, so it takes 2 x and both y; c1 the other 2 x."""
    inputs = make_inputs(
        hosts={"A": "g", "C": None},
        sites=[site("a1", "A"), site("c1", "C")],
        systems=[system("x"), system("y", value=5.0)],
        demand={("d1", "x"): 4, ("d1", "y"): 2},
    )
    travel = times({(s, "d1", w): hours for s, hours in (("a1", 1.0), ("c1", 3.0)) for w in ("x", "y")})
    instance = build_instance(inputs, travel, make_scenario(groups={"g": {"max_unit_share": {"x": 0.5}}}))
    model = build_model(instance)
    outcome = solve(model, time_limit_s=30)
    assert collect(model.instance, posture_of(model), outcome).stock == {
        ("a1", "x"): 2,
        ("c1", "x"): 2,
        ("a1", "y"): 2,
    }
