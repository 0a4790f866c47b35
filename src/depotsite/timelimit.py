"""One time limit for the whole solve stage: model build, solve and the infeasibility explanation.

A command creates one ``Deadline`` from ``[solver] time_limit_s`` (which ``--time-limit`` overrides) just
before it builds the model, and hands it down as a keyword. The build checks it between constraint
families, HiGHS gets what remains, and each explanation sub-solve gets what remains after the one before.
Commands that solve many times (pareto, stress, alternatives) give each solve an equal ``share`` of what
remains, so the limit bounds the command, not each point.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from depotsite.errors import SolverError


@dataclass(frozen=True)
class Deadline:
    """A time budget of ``limit_s`` seconds that started at ``started`` (``time.monotonic`` seconds).

    ``of_s`` is the command's whole limit when this budget is a ``share`` of it (for messages only).
    """

    limit_s: float
    started: float = field(default_factory=time.monotonic)
    of_s: float | None = None

    def elapsed_s(self) -> float:
        """Seconds since the budget started.

        Returns
        -------
        float
            ``time.monotonic()`` now less ``started``, in seconds.
        """
        return time.monotonic() - self.started

    def remaining_s(self) -> float:
        """Seconds left of the budget, never negative (what HiGHS and each sub-solve are given).

        Returns
        -------
        float
            ``limit_s`` less the elapsed seconds, or 0.0 once the budget is spent.
        """
        return max(0.0, self.limit_s - self.elapsed_s())

    def expired(self) -> bool:
        """Whether the budget is spent.

        Returns
        -------
        bool
            True when no time remains (at once for a limit of 0 seconds).
        """
        return self.remaining_s() <= 0.0

    def check(self, stage: str) -> None:
        """Raise when the budget is spent.

        Parameters
        ----------
        stage
            What was about to happen, as in "building the model (before min_hosts)".

        Raises
        ------
        SolverError
            "time limit reached while <stage> ...", naming the limit and how to raise it.
        """
        if self.expired():
            raise SolverError(
                f"time limit reached while {stage}: {self.elapsed_s():.1f} s of {self.name()} used; "
                "raise [solver] time_limit_s or --time-limit"
            )

    def name(self) -> str:
        """The limit in words, for messages that say which limit ran out.

        Returns
        -------
        str
            "the time limit of 20 s", or for a share "its share (2.2 s) of the time limit of 20 s".
        """
        if self.of_s is None:
            return f"the time limit of {self.limit_s:g} s"
        return f"its share ({self.limit_s:.3g} s) of the time limit of {self.of_s:g} s"

    def share(self, parts: int) -> Deadline:
        """A budget starting now with an equal share of what remains among ``parts`` solves still to run.

        Commands that solve many times take one share per solve, so the limit bounds the whole command.

        Parameters
        ----------
        parts
            How many solves (this one included) still share the remaining time; at least 1.

        Returns
        -------
        Deadline
            Never longer than this one: its end is at or before this budget's end. Its ``of_s`` is this
            budget's ``of_s``, or this budget's limit when it is not a share itself.
        """
        now = time.monotonic()
        left = max(0.0, self.limit_s - (now - self.started))
        return Deadline(limit_s=left / max(1, parts), started=now, of_s=self.of_s or self.limit_s)

    def describe(self) -> str:
        """Progress text: seconds used and left of the limit.

        Returns
        -------
        str
            As in "12 s used, 8 s of the 20 s limit left" (whole seconds).
        """
        return f"{self.elapsed_s():.0f} s used, {self.remaining_s():.0f} s of the {self.limit_s:g} s limit left"
