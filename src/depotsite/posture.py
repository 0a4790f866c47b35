"""The plain answer of a solve: the integer posture, and how the solver got to it. No pyomo."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Posture:
    """Units stored and shipped, keyed by input ids (non-zero only), and the sites that hold anything."""

    stock: dict[tuple[str, str], int]  # (site_id, system_id) -> units
    ship: dict[tuple[str, str, str], int]  # (site_id, destination_id, system_id) -> units
    open_sites: tuple[str, ...]


@dataclass(frozen=True)
class SolveOutcome:
    """How a solve ended: ``optimal`` or ``time_limit`` (a feasible posture, with its gap and a warning)."""

    status: str  # "optimal" or "time_limit"
    objective: float
    bound: float | None
    gap: float  # relative gap between the posture and the best bound (0 when proven optimal)
    solve_s: float
    warnings: tuple[str, ...] = ()
