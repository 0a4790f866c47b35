"""The ``depotsite`` command line: a thin layer that composes the pipeline stages.

Exit codes: 0 solved (optimal, or feasible at the time limit with a warning); 1 bad input or scenario;
2 infeasible (with the explanation); 3 solver or internal error.
"""

from __future__ import annotations

from depotsite.cli import run, tradeoffs, transparency  # noqa: F401 - importing registers the commands
from depotsite.cli.common import EXIT_CODES_HELP, app

__all__ = ["EXIT_CODES_HELP", "app", "main"]


def main() -> None:
    app()
