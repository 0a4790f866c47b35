"""Pieces of the formulation that no hand-solved optimum shows: the queue secants the model starts with.
Each case was a mutant of ``model.py`` that the model tests let through (``tests/README.md``)."""

from __future__ import annotations

import itertools
import math

from depotsite.model import first_breakpoints


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
