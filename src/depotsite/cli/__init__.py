"""The ``depotsite`` command line: a thin layer that composes the pipeline stages.

Exit codes are defined once, in ``depotsite.cli.common.EXIT_CODES`` (and shown by ``--help``).
"""

from __future__ import annotations

from depotsite.cli import reference, run, sweep, tradeoffs, transparency, why  # noqa: F401 - importing registers the commands
from depotsite.cli.common import EXIT_CODES, EXIT_CODES_HELP, app

__all__ = ["EXIT_CODES", "EXIT_CODES_HELP", "app", "main"]


def main() -> None:
    app()
