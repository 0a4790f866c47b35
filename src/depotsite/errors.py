"""Domain exceptions.

Each subclasses a built-in so callers that do not know depotsite can still catch it. The CLI maps each
to an exit code of its own (see ``depotsite.cli.common.EXIT_CODES``): ``InputError`` and its subclasses
-> 1, ``InfeasibleError`` -> 3, ``SolverError`` -> 4, ``NumericsError`` -> 5; a run that ``verify`` finds
broken -> 6; anything else is a bug -> 70. Exit code 2 stays the command-line library's usage error.
"""

from __future__ import annotations

from collections.abc import Iterable


class DepotsiteError(Exception):
    """Base class of every error depotsite raises on purpose."""


class InputError(DepotsiteError, ValueError):
    """One or more problems in the input tables, all reported at once.

    The message is the heading with the count, then one bulleted line per problem, so a user fixes every
    problem in one pass; ``problems`` and ``heading`` stay available to callers.

    Parameters
    ----------
    problems
        One line per problem, each naming the file, the row or id, what is wrong and how to fix it.
    heading
        The first line of the message, before the count ("invalid input" unless a subclass names it).
    """

    def __init__(self, problems: Iterable[str], *, heading: str = "invalid input") -> None:
        self.problems = list(problems)
        self.heading = heading
        count = len(self.problems)
        lines = [f"{heading} ({count} problem{'s' if count != 1 else ''}):"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ScenarioError(InputError):
    """A scenario file or a ``--set`` override is invalid.

    Parameters
    ----------
    problems
        One line per problem, naming the file and key; the heading is "invalid scenario".
    """

    def __init__(self, problems: Iterable[str]) -> None:
        super().__init__(problems, heading="invalid scenario")


class NetworkError(InputError):
    """The road network cannot serve the requested points (unreachable pairs, unknown files).

    Parameters
    ----------
    problems
        One line per problem; the heading is "travel times cannot be computed".
    """

    def __init__(self, problems: Iterable[str]) -> None:
        super().__init__(problems, heading="travel times cannot be computed")


class InfeasibleError(DepotsiteError, RuntimeError):
    """The scenario has no feasible posture; ``explanation`` says which constraints conflict.

    Parameters
    ----------
    explanation
        One line per finding in policy words (as ``depotsite.explain.explain_infeasible`` returns them).
    """

    def __init__(self, explanation: Iterable[str]) -> None:
        self.explanation = list(explanation)
        lines = ["the scenario is infeasible:"] + [f"  - {e}" for e in self.explanation]
        super().__init__("\n".join(lines))


class SolverError(DepotsiteError, RuntimeError):
    """The solver failed, or stopped without any feasible posture."""


class NumericsError(SolverError):
    """The solver's posture breaks a rule of its own scenario: numerical trouble, so nothing is written.

    Raised too when the posture's objective terms disagree with their recomputation.

    Parameters
    ----------
    violations
        One line per broken rule, naming the rule and the site, host or system at fault.
    """

    def __init__(self, violations: Iterable[str]) -> None:
        self.violations = list(violations)
        lines = ["the solver's posture breaks its own rules (numerical trouble; nothing was written):"]
        lines += [f"  - {v}" for v in self.violations]
        super().__init__("\n".join(lines))
