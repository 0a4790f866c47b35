"""Each rule family of the formulation in policy words, with the scenario's numbers (for explanations).

One function per family that a user can relax, named after it; each reads only the resolved ``Instance``.
``depotsite.model.FAMILIES`` names each as its family's ``describe``, and the infeasibility explanation
prints the words of every family whose relaxation alone would make the scenario feasible.
"""

from __future__ import annotations

from depotsite.instance import Instance


def _pct(fraction: float) -> str:
    return f"{100 * fraction:g}%"


def site_capacity(inst: Instance) -> str:
    """The site capacity family: what each site physically holds.

    Parameters
    ----------
    inst
        The resolved scenario (not read: the words carry no numbers).

    Returns
    -------
    str
        "site capacities (vehicle bays, aircraft shelters and ammunition storage)".
    """
    return "site capacities (vehicle bays, aircraft shelters and ammunition storage)"


def host_share_cap(inst: Instance) -> str:
    """The host caps: value share per host, unit share per host and system, unit share per host of a system.

    Parameters
    ----------
    inst
        The resolved scenario; its fractions are shown as percentages, as written in the scenario.

    Returns
    -------
    str
        As in "host caps (PL value 30%, PL hawk 50%, hawk at most 40% per host)".
    """
    parts = [f"{h} value {_pct(f)}" for h, f in inst.host_value_share.items()]
    parts += [f"{h} {w} {_pct(f)}" for (h, w), f in inst.host_unit_share.items()]
    parts += [f"{w} at most {_pct(f)} per host" for w, f in inst.system_host_share.items()]
    return f"host caps ({', '.join(parts)})"


def group_share_cap(inst: Instance) -> str:
    """The group caps: value share per host group, and unit share per group and system.

    Parameters
    ----------
    inst
        The resolved scenario; its fractions are shown as percentages, as written in the scenario.

    Returns
    -------
    str
        As in "group caps (baltic value 40%, baltic hawk 60%)".
    """
    parts = [f"{g} value {_pct(f)}" for g, f in inst.group_value_share.items()]
    parts += [f"{g} {w} {_pct(f)}" for (g, w), f in inst.group_unit_share.items()]
    return f"group caps ({', '.join(parts)})"


def min_hosts(inst: Instance) -> str:
    """The minimum number of hosts that must hold each system with such a rule.

    Parameters
    ----------
    inst
        The resolved scenario.

    Returns
    -------
    str
        As in "minimum hosts per system (hawk in at least 2)".
    """
    return "minimum hosts per system (" + ", ".join(f"{w} in at least {n}" for w, n in inst.min_hosts.items()) + ")"


def min_lot(inst: Instance) -> str:
    """The minimum lots: the fewest units a site may hold of a system if it holds any.

    Parameters
    ----------
    inst
        The resolved scenario; only systems whose minimum lot is above 1 unit are named.

    Returns
    -------
    str
        As in "minimum lots per site (hawk 4)".
    """
    return (
        "minimum lots per site ("
        + ", ".join(f"{w} {inst.min_lot[w]}" for w in inst.systems if inst.min_lot[w] > 1)
        + ")"
    )


def host_loss_resilience(inst: Instance) -> str:
    """The host-loss resilience rules: the share of a system kept after losing any few hosts.

    Parameters
    ----------
    inst
        The resolved scenario; each rule's keep fraction as a percentage and its number of lost hosts.

    Returns
    -------
    str
        As in "host-loss resilience (hawk: keep 50% after losing any 1 host(s))".
    """
    return (
        "host-loss resilience ("
        + ", ".join(
            f"{w}: keep {_pct(keep)} after losing any {lose} host(s)" for w, (keep, lose) in inst.resilience.items()
        )
        + ")"
    )


def max_sites(inst: Instance) -> str:
    """The limit on the number of open sites.

    Parameters
    ----------
    inst
        The resolved scenario.

    Returns
    -------
    str
        As in "at most 5 open sites".
    """
    return f"at most {inst.max_sites} open sites"


def budget(inst: Instance) -> str:
    """The budget on the sites' fixed costs.

    Parameters
    ----------
    inst
        The resolved scenario.

    Returns
    -------
    str
        As in "the budget of 120 M USD".
    """
    return f"the budget of {inst.budget_musd:g} M USD"


def force_open(inst: Instance) -> str:
    """The sites the scenario forces open.

    Parameters
    ----------
    inst
        The resolved scenario; the sites are named as written.

    Returns
    -------
    str
        As in "sites forced open (pl_gdynia, lt_kaunas)".
    """
    return f"sites forced open ({', '.join(inst.force_open)})"


def honour_earmarks(inst: Instance) -> str:
    """The purchasers' earmarks: units each host must hold because a purchaser bought them for it.

    Parameters
    ----------
    inst
        The resolved scenario; each earmark with its purchasers (purchasers.csv).

    Returns
    -------
    str
        As in "purchasers' earmarks (SE: 8 himars stored in RO); set financing.honour_earmarks = false or
        earmark fewer units".
    """
    parts = [
        f"{'+'.join(inst.earmarked_by.get((h, w), ()))}: {n} {w} stored in {h}" for (h, w), n in inst.earmarks.items()
    ]
    return f"purchasers' earmarks ({', '.join(parts)}); set financing.honour_earmarks = false or earmark fewer units"


def queue_deadline(inst: Instance) -> str:
    """The deadlines with the dispatch queue counted: a site's last unit must still arrive in time.

    Parameters
    ----------
    inst
        The resolved scenario: the deadlines as written.

    Returns
    -------
    str
        E.g. "deadlines counted with the dispatch queue (x 3.99 h): a site sends its units one slot at a
        time, so its last one leaves latest".
    """
    limits = ", ".join(f"{w} {h:g} h" for w, h in inst.deadline_h.items() if h is not None)
    return (
        f"deadlines counted with the dispatch queue ({limits}): a site sends its units one slot at a time, "
        "so its last one leaves latest; raise the deadline, spread the stock or raise dispatch_per_day"
    )
