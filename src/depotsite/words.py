"""Each rule family of the formulation in policy words, with the scenario's numbers (for explanations).

One function per family that a user can relax, named after it; each reads only the resolved ``Instance``.
"""

from __future__ import annotations

from depotsite.instance import Instance


def _pct(fraction: float) -> str:
    return f"{100 * fraction:g}%"


def site_capacity(inst: Instance) -> str:
    return "site capacities (vehicle bays and aircraft shelters)"


def host_share_cap(inst: Instance) -> str:
    parts = [f"{h} value {_pct(f)}" for h, f in inst.host_value_share.items()]
    parts += [f"{h} {w} {_pct(f)}" for (h, w), f in inst.host_unit_share.items()]
    parts += [f"{w} at most {_pct(f)} per host" for w, f in inst.system_host_share.items()]
    return f"host caps ({', '.join(parts)})"


def group_share_cap(inst: Instance) -> str:
    parts = [f"{g} value {_pct(f)}" for g, f in inst.group_value_share.items()]
    parts += [f"{g} {w} {_pct(f)}" for (g, w), f in inst.group_unit_share.items()]
    return f"group caps ({', '.join(parts)})"


def min_hosts(inst: Instance) -> str:
    return "minimum hosts per system (" + ", ".join(f"{w} in at least {n}" for w, n in inst.min_hosts.items()) + ")"


def min_lot(inst: Instance) -> str:
    return "minimum lots per site (" + ", ".join(
        f"{w} {inst.min_lot[w]}" for w in inst.systems if inst.min_lot[w] > 1) + ")"


def host_loss_resilience(inst: Instance) -> str:
    return "host-loss resilience (" + ", ".join(
        f"{w}: keep {_pct(keep)} after losing any {lose} host(s)" for w, (keep, lose) in inst.resilience.items()) + ")"


def max_sites(inst: Instance) -> str:
    return f"at most {inst.max_sites} open sites"


def budget(inst: Instance) -> str:
    return f"the budget of {inst.budget_musd:g} M USD"


def force_open(inst: Instance) -> str:
    return f"sites forced open ({', '.join(inst.force_open)})"
