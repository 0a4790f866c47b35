"""Why each open site of a posture is open: what it holds and serves, the hours it saves, the rules it meets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from depotsite.dispatch import unit_weight
from depotsite.instance import Instance
from depotsite.posture import Posture


@dataclass(frozen=True)
class SiteReport:
    """Why one open site is open: its stock, whom it serves, the hours it saves, the rules it meets."""

    site_id: str
    host_id: str
    units: dict[str, int]  # system -> units held
    serves: dict[str, int]  # destination -> units sent
    saved_h: float  # mean-time hours saved against the next fastest allowed site for its deliveries
    rules: tuple[str, ...]


def site_reasons(p: Instance, posture: Posture) -> list[SiteReport]:
    """Why each open site is open: stock, destinations, hours saved against the next fastest site, rules.

    ``saved_h`` is the site's contribution to the mean time: for each of its deliveries, the hours the
    fastest other allowed site (open or not) would take longer, weighted as in the time term. A negative
    value means faster sites exist: the site is open for a rule (caps, minimum hosts, resilience), not speed.
    """
    weight = unit_weight(p)  # a unit's weight in the time term (release + transit; queues aside)
    by_dw: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    for (site, d, w), h in p.tau_h.items():
        by_dw[d, w].append((h, site))
    hosts_of: dict[str, set[str]] = defaultdict(set)
    for site, w in posture.stock:
        hosts_of[w].add(p.host_of[site])
    reports = []
    for s in posture.open_sites:
        units = {w: n for (s2, w), n in posture.stock.items() if s2 == s}
        serves: dict[str, int] = defaultdict(int)
        saved = 0.0
        for (s2, d, w), n in posture.ship.items():
            if s2 != s:
                continue
            serves[d] += n
            own = p.tau_h[s, d, w]
            alternative = min((h for h, other in by_dw[d, w] if other != s), default=own)
            saved += weight[w] * (alternative - own) * n
        rules = []
        if s in p.force_open:
            rules.append("forced open")
        for w in units:
            least = p.min_hosts.get(w)
            here = [s2 for (s2, w2) in posture.stock if w2 == w and p.host_of[s2] == p.host_of[s]]
            if least is not None and len(hosts_of[w]) == least and here == [s]:
                rules.append(f"keeps {w} in {least} hosts (min_hosts)")
        reports.append(SiteReport(s, p.host_of[s], units, dict(serves), saved, tuple(rules)))
    return reports
