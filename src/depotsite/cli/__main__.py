"""``python -m depotsite.cli``: the same as the ``depotsite`` command."""

from depotsite.cli import main

main()
