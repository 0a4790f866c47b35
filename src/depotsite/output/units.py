"""Units of the reported terms, shared by the run folder, the maps and the reports (no other imports)."""

from __future__ import annotations


def risk_unit(measure: str, *, short: bool = False) -> str:
    """The unit of the risk term: Herfindahl points, or percentage points of the package value.

    Parameters
    ----------
    measure
        The risk measure: ``hhi``, ``max_host_share`` or ``expected_loss``.
    short
        The label for tables on a terminal ("HHI points", "pp").

    Returns
    -------
    str
        The unit's name.
    """
    if measure == "hhi":
        return "HHI points"
    return "pp" if short else "percentage points"
