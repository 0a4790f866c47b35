"""Every rule of a scenario, checked on a plain record of a run: one ``check_<rule>`` per rule family.

The same functions serve twice: ``depotsite verify`` builds the record from the files of a run folder,
and the post-solve check (``depotsite.selfcheck``) builds it from the solver's posture before anything is
written. So they share no code with the model, the solver or the results: a record holds the input
tables as dicts (the columns of ``tables.SCHEMAS``), the resolved scenario as a TOML dict, the stock, the
deliveries, the summary and the transit hours, and each check returns one line per violation, naming
the rule and the culprit.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Pair = tuple[str, str, str]  # (site_id, destination_id, system_id)
TOL = 1e-6  # integer postures meet every rule exactly; this absorbs only floating-point round-off
HOURS_TOL = 1e-3  # hours are written with four decimals


@dataclass(frozen=True)
class DeliveryRow:
    site_id: str
    destination_id: str
    system_id: str
    units: int
    transit_h: float
    queue_h: float
    available_h: float
    last_available_h: float
    exposure_h: float | None = None  # the deliveries.csv column, when the run wrote one


@dataclass(frozen=True)
class RunRecord:
    """A run as plain data: what the checks read, whether it came from files or from memory."""

    hosts: Mapping[str, Mapping[str, Any]]
    sites: Mapping[str, Mapping[str, Any]]
    systems: Mapping[str, Mapping[str, Any]]
    destinations: Mapping[str, Mapping[str, Any]]
    demand: Mapping[tuple[str, str], int]  # (destination_id, system_id) -> units > 0
    scenario: Mapping[str, Any]  # the resolved scenario, as TOML reads it
    stock: Mapping[tuple[str, str], int]  # (site_id, system_id) -> units
    stock_hosts: Mapping[tuple[str, str], str]  # the host_id column written next to each stock row
    deliveries: tuple[DeliveryRow, ...]
    summary: Mapping[str, Any]
    transit: Mapping[Pair, float]  # hours of every pair the travel-time source knows
    depots: Mapping[str, Any] | None = None  # depots.geojson, when there is one to check
    routes: Mapping[str, Any] | None = None  # routes.geojson
    purchases: tuple[Mapping[str, Any], ...] = ()  # rows of the purchasers table (purchaser_id, ..., host_id)
    exposure: Mapping[Pair, float] = field(default_factory=dict)  # exposure hours of the pairs (0 where absent)

    @functools.cached_property
    def waits(self) -> dict[Pair, tuple[float, float]]:
        """(site, destination, system) -> hours its units wait in the site's queue: (mean, last)."""
        return dispatch_waits(self)


# --- figures every check shares ---------------------------------------------------------------------------


def requirement(r: RunRecord) -> dict[str, int]:
    """Units of each system the package needs (the sum of its demand)."""
    req: dict[str, int] = defaultdict(int)
    for (_, w), n in r.demand.items():
        req[w] += n
    return dict(req)


def package_value(r: RunRecord) -> float:
    """M USD of the whole package."""
    return sum(float(r.systems[w]["value_musd"]) * n for w, n in requirement(r).items())


def host_units(r: RunRecord) -> dict[tuple[str, str], int]:
    """(host, system) -> units stored in the host."""
    units: dict[tuple[str, str], int] = defaultdict(int)
    for (s, w), n in r.stock.items():
        units[r.sites[s]["host_id"], w] += n
    return dict(units)


def host_value(r: RunRecord) -> dict[str, float]:
    """M USD stored in each host."""
    value = dict.fromkeys(r.hosts, 0.0)
    for (s, w), n in r.stock.items():
        value[r.sites[s]["host_id"]] += float(r.systems[w]["value_musd"]) * n
    return value


def used_sites(r: RunRecord) -> list[str]:
    """Sites that hold any stock."""
    return sorted({s for (s, _), n in r.stock.items() if n > 0})


def rules(r: RunRecord, section: str) -> Mapping[str, Any]:
    """A top-level table of the scenario (empty when absent or not a table)."""
    value = r.scenario.get(section, {})
    return value if isinstance(value, Mapping) else {}


def release_h(r: RunRecord, host_id: str) -> float:
    """Scenario host rule, else the hosts.csv column, else the scenario default."""
    rule = rules(r, "hosts").get(host_id, {})
    if rule.get("release_delay_h") is not None:
        return float(rule["release_delay_h"])
    own = r.hosts[host_id].get("release_delay_h")
    return float(own) if own is not None else float(rules(r, "network").get("release_delay_h", 72.0))


def time_measure(r: RunRecord) -> str:
    """The scenario's time measure (``system_mean`` when it names none)."""
    return str(rules(r, "objective").get("time", "system_mean"))


def makespan(r: RunRecord) -> bool:
    """Whether the time term is the makespan (the last arrival) rather than a weighted mean."""
    return time_measure(r) == "makespan"


def queues(r: RunRecord) -> bool:
    """Whether times count the dispatch queue: always under the makespan, else as ``objective.queues`` says."""
    return makespan(r) or bool(rules(r, "objective").get("queues", False))


def tau_h(r: RunRecord, x: DeliveryRow) -> float | None:
    """Release delay + transit hours of a delivery's route (None: unreachable)."""
    hours = r.transit.get((x.site_id, x.destination_id, x.system_id))
    return None if hours is None else release_h(r, r.sites[x.site_id]["host_id"]) + hours


def hours_counted(r: RunRecord, x: DeliveryRow) -> float:
    """Release + transit + the exposure hours the time term adds: the hours that order a site's queue."""
    return (tau_h(r, x) or 0.0) + exposure_extra_h(r, x)


def unit_weights(r: RunRecord) -> dict[str, float]:
    """Each system's weight per unit in a mean time measure, normalised over the package."""
    req, systems, measure = requirement(r), rules(r, "systems"), time_measure(r)
    raw = {}
    for w, n in req.items():
        priority = float(systems.get(w, {}).get("priority", 1.0))
        if measure == "value":
            raw[w] = priority * float(r.systems[w]["value_musd"])
        elif measure == "system_mean":
            raw[w] = priority / n
        else:
            raw[w] = priority
    total = sum(raw[w] * n for w, n in req.items())
    return {w: v / total for w, v in raw.items()}


def dispatch_waits(r: RunRecord) -> dict[Pair, tuple[float, float]]:
    """Every delivery's wait in its site's dispatch queue, (mean of its units, its last unit), in hours.

    The documented rule, simulated unit by unit: a site sends ``dispatch_per_day`` slots a day; a unit takes
    its system's ``dispatch_slots_per_unit`` and waits until its last slot has gone. Under the mean measures
    the systems leave by decreasing weight per slot (ties in systems.csv order), each system's longest
    journeys first; under the makespan every delivery by decreasing release + transit hours.
    """
    weights, order = unit_weights(r), {w: i for i, w in enumerate(r.systems)}
    slots = {w: int(r.systems[w].get("dispatch_slots_per_unit", 1)) for w in r.systems}
    rank = {w: i for i, w in enumerate(sorted(weights, key=lambda w: (-weights[w] / slots[w], order[w])))}
    by_site: dict[str, list[DeliveryRow]] = defaultdict(list)
    for x in r.deliveries:
        if tau_h(r, x) is not None and x.system_id in rank:
            by_site[x.site_id].append(x)
    waits = {}
    for s, rows in by_site.items():
        if makespan(r):
            rows.sort(key=lambda x: (-hours_counted(r, x), rank[x.system_id], x.destination_id))
        else:
            rows.sort(key=lambda x: (rank[x.system_id], -hours_counted(r, x), x.destination_id))
        hours_per_slot, gone = (24.0 / float(r.sites[s]["dispatch_per_day"]) if queues(r) else 0.0), 0
        for x in rows:
            ends = []
            for _ in range(x.units):
                gone += slots[x.system_id]
                ends.append(hours_per_slot * gone)
            if ends:
                waits[x.site_id, x.destination_id, x.system_id] = (sum(ends) / len(ends), ends[-1])
    return waits


def available_h(r: RunRecord, x: DeliveryRow) -> tuple[float, float, float] | None:
    """A delivery's (queue wait, mean availability, last unit's availability) in hours (None: unreachable)."""
    tau = tau_h(r, x)
    wait = r.waits.get((x.site_id, x.destination_id, x.system_id))
    if tau is None or wait is None:
        return None
    return wait[0], tau + wait[0], tau + wait[1]


def exposure_extra_h(r: RunRecord, x: DeliveryRow) -> float:
    """Hours the objective counts on top of a delivery's arrival: ``exposure_weight`` x its exposure hours."""
    weight = float(rules(r, "objective").get("exposure_weight", 0.0))
    return weight * r.exposure.get((x.site_id, x.destination_id, x.system_id), 0.0)


def group_members(r: RunRecord) -> dict[str, list[str]]:
    """Every group with a rule: its explicit members, or the hosts whose ``group`` column names it."""
    return {
        g: list(rule.get("hosts") or [h for h, row in r.hosts.items() if row["group"] == g])
        for g, rule in rules(r, "groups").items()
    }


def unit_cap(r: RunRecord, host_id: str, system_id: str) -> float | None:
    """The tighter of the host's max_unit_share and the system's max_host_share (a fraction)."""
    fractions = [
        rules(r, "hosts").get(host_id, {}).get("max_unit_share", {}).get(system_id),
        rules(r, "systems").get(system_id, {}).get("max_host_share"),
    ]
    present = [float(f) for f in fractions if f is not None]
    return min(present) if present else None


def close(a: float, b: float, tol: float = TOL) -> bool:
    """Equal up to ``tol``, relative to the larger magnitude (absolute below 1)."""
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# --- the rules of the model --------------------------------------------------------------------------------


def check_ids(r: RunRecord) -> list[str]:
    """Every id in the stock and the deliveries exists, and each stock row names its site's host."""
    found = []
    for (s, w), n in r.stock.items():
        if s not in r.sites:
            found.append(f"allocation: unknown site {s!r}")
        elif r.stock_hosts.get((s, w), r.sites[s]["host_id"]) != r.sites[s]["host_id"]:
            found.append(
                f"host column: allocation.csv puts {s} in {r.stock_hosts[s, w]}, but sites.csv puts it "
                f"in {r.sites[s]['host_id']}"
            )
        if w not in r.systems:
            found.append(f"allocation: unknown system {w!r} at {s}")
        if n < 0:
            found.append(f"allocation: {s} holds {n} {w}, a negative count")
    for x in r.deliveries:
        for kind, value, known in (
            ("site", x.site_id, r.sites),
            ("destination", x.destination_id, r.destinations),
            ("system", x.system_id, r.systems),
        ):
            if value not in known:
                found.append(f"deliveries: unknown {kind} {value!r}")
        if x.units <= 0:
            found.append(f"deliveries: {x.site_id} -> {x.destination_id} ships {x.units} {x.system_id}")
    return found


def check_demand(r: RunRecord) -> list[str]:
    """meet_demand: every destination receives exactly the units it needs."""
    received: dict[tuple[str, str], int] = defaultdict(int)
    for x in r.deliveries:
        received[x.destination_id, x.system_id] += x.units
    return [
        f"demand: {d} receives {received.get((d, w), 0)} {w} but needs {r.demand.get((d, w), 0)}"
        for d, w in sorted(set(r.demand) | set(received))
        if received.get((d, w), 0) != r.demand.get((d, w), 0)
    ]


def check_stock_equals_shipments(r: RunRecord) -> list[str]:
    """ship_from_stock: what a site holds is what it ships."""
    shipped: dict[tuple[str, str], int] = defaultdict(int)
    for x in r.deliveries:
        shipped[x.site_id, x.system_id] += x.units
    return [
        f"stock: {s} holds {r.stock.get((s, w), 0)} {w} but ships {shipped.get((s, w), 0)}"
        for s, w in sorted(set(r.stock) | set(shipped))
        if r.stock.get((s, w), 0) != shipped.get((s, w), 0)
    ]


def check_capacity(r: RunRecord) -> list[str]:
    """site_capacity: vehicle bays, aircraft shelters and ammunition capacity (tonnes of net explosive mass;
    a table without the optional columns has none)."""
    found = []
    for s in used_sites(r):
        for resource, per_unit in (
            ("vehicle_bays", "vehicle_bays_per_unit"),
            ("aircraft_shelters", "shelters_per_unit"),
            ("ammo_capacity_t", "net_explosive_t_per_unit"),
        ):
            need = sum(float(r.systems[w].get(per_unit, 0.0)) * n for (s2, w), n in r.stock.items() if s2 == s)
            have = float(r.sites[s].get(resource, 0.0))
            if need > have + TOL:
                found.append(f"capacity: {s} needs {need:g} {resource} but has {have:g}")
    return found


def check_site_kind(r: RunRecord) -> list[str]:
    """site_kind: a system only at the kinds of site it may use."""
    found = []
    for (s, w), n in sorted(r.stock.items()):
        kinds = r.systems[w]["site_kinds"]
        if n > 0 and r.sites[s]["kind"] not in kinds:
            found.append(f"site kind: {s} is a {r.sites[s]['kind']} but {w} may only be at {', '.join(sorted(kinds))}")
    return found


def check_lots(r: RunRecord) -> list[str]:
    """min_lot: a site holds none of a system or at least its lot."""
    return [
        f"min lot: {s} holds {n} {w}, below the lot of {r.systems[w]['min_lot']}"
        for (s, w), n in sorted(r.stock.items())
        if 0 < n < int(r.systems[w]["min_lot"])
    ]


def check_host_caps(r: RunRecord) -> list[str]:
    """host_share_cap: by value (share of the package value) and by units (share of the requirement)."""
    found = []
    req, package, value, units = requirement(r), package_value(r), host_value(r), host_units(r)
    for h in r.hosts:
        cap = rules(r, "hosts").get(h, {}).get("max_value_share")
        if cap is not None and value[h] > float(cap) * package + TOL * max(1.0, package):
            found.append(
                f"host cap: {h} holds {100 * value[h] / package:.2f}% of the package value, above its "
                f"cap of {100 * float(cap):g}%"
            )
        for w in req:
            fraction = unit_cap(r, h, w)
            if fraction is not None and units.get((h, w), 0) > math.floor(fraction * req[w] + 1e-9):
                found.append(f"host cap: {h} holds {units[h, w]} {w}, above {100 * fraction:g}% of {req[w]}")
    return found


def check_group_caps(r: RunRecord) -> list[str]:
    """group_share_cap: the host caps, for the summed stock of a group's members."""
    found = []
    req, package, value, units = requirement(r), package_value(r), host_value(r), host_units(r)
    for g, members in group_members(r).items():
        rule = rules(r, "groups")[g]
        held = sum(value.get(h, 0.0) for h in members)
        if rule.get("max_value_share") is not None and held > float(rule["max_value_share"]) * package + TOL * max(
            1.0, package
        ):
            found.append(
                f"group cap: {g} ({', '.join(members)}) holds {100 * held / package:.2f}% of the value, "
                f"above {100 * float(rule['max_value_share']):g}%"
            )
        for w, fraction in rule.get("max_unit_share", {}).items():
            n = sum(units.get((h, w), 0) for h in members)
            if w in req and n > math.floor(float(fraction) * req[w] + 1e-9):
                found.append(f"group cap: {g} holds {n} {w}, above {100 * float(fraction):g}% of {req[w]}")
    return found


def check_min_hosts(r: RunRecord) -> list[str]:
    """min_hosts: a system held (a lot or more) in at least this many hosts."""
    found, units, req = [], host_units(r), requirement(r)
    for w, rule in rules(r, "systems").items():
        if not rule.get("min_hosts") or w not in req:
            continue
        holding = sorted(h for h in r.hosts if units.get((h, w), 0) >= int(r.systems[w]["min_lot"]))
        if len(holding) < int(rule["min_hosts"]):
            found.append(
                f"min hosts: {w} is in {len(holding)} host(s) ({', '.join(holding)}), needs {rule['min_hosts']}"
            )
    return found


def check_resilience(r: RunRecord) -> list[str]:
    """host_loss_resilience: after losing any k hosts, a fraction of each system is left."""
    found, units, req = [], host_units(r), requirement(r)
    for w, rule in rules(r, "systems").items():
        resilience = rule.get("resilience")
        if not resilience or w not in req:
            continue
        need = math.ceil(float(resilience["keep_fraction"]) * req[w] - 1e-9)
        k = min(int(resilience.get("lose_hosts", 1)), len(r.hosts))
        for lost in itertools.combinations(sorted(r.hosts), k):
            left = sum(n for (h, w2), n in units.items() if w2 == w and h not in lost)
            if left < need:
                found.append(f"resilience: losing {'+'.join(lost)} leaves {left} {w}, needs {need}")
    return found


def check_earmarks(r: RunRecord) -> list[str]:
    """honour_earmarks: with ``[financing] honour_earmarks``, each host holds at least the units of each system
    that purchasers earmarked for it (summed over the purchasers table's rows naming the host)."""
    if not rules(r, "financing").get("honour_earmarks", False):
        return []
    earmarked: dict[tuple[str, str], int] = defaultdict(int)
    buyers: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in r.purchases:
        if p["host_id"] and int(p["units"]) > 0:
            earmarked[p["host_id"], p["system_id"]] += int(p["units"])
            buyers[p["host_id"], p["system_id"]].add(str(p["purchaser_id"]))
    units = host_units(r)
    return [
        f"earmark: {h} holds {units.get((h, w), 0)} {w}, but {'+'.join(sorted(buyers[h, w]))} earmarked {n} for it"
        for (h, w), n in sorted(earmarked.items())
        if units.get((h, w), 0) < n
    ]


def open_sites(r: RunRecord) -> list[str]:
    """The open sites the summary lists (they may include a forced site holding nothing)."""
    listed = r.summary.get("open_sites")
    return [str(s) for s in listed] if isinstance(listed, list) else used_sites(r)


def check_sites(r: RunRecord) -> list[str]:
    """Open sites, max_sites, budget, force_open, exclude_sites and exclude_hosts."""
    found, limits, opened = [], rules(r, "constraints"), open_sites(r)
    unknown = [s for s in opened if s not in r.sites]
    found += [f"sites: summary.json lists unknown open site {s!r}" for s in unknown]
    if len(set(opened)) != len(opened):
        found.append("sites: summary.json lists an open site twice")
    missing = sorted(set(used_sites(r)) - set(opened))
    if missing:
        found.append(f"sites: {', '.join(missing)} hold stock but are not listed as open in summary.json")
    if limits.get("max_sites") is not None and len(set(opened)) > int(limits["max_sites"]):
        found.append(f"max sites: {len(set(opened))} sites open, at most {limits['max_sites']} allowed")
    cost = sum(float(r.sites[s]["fixed_cost_musd"]) for s in set(opened) - set(unknown))
    if limits.get("budget_musd") is not None and cost > float(limits["budget_musd"]) + TOL:
        found.append(f"budget: open sites cost {cost:g} M USD, above {float(limits['budget_musd']):g}")
    found += [f"force open: {s} is not open" for s in limits.get("force_open", []) if s not in opened]
    for s in sorted(set(opened) | set(used_sites(r))):
        if s in r.sites and (
            s in limits.get("exclude_sites", []) or r.sites[s]["host_id"] in limits.get("exclude_hosts", [])
        ):
            found.append(f"exclusion: {s} is open or holds stock but is excluded")
    return found


def check_deadlines_and_transit(r: RunRecord) -> list[str]:
    """Each delivery's route exists, its transit hours are the source's, and it meets its deadline."""
    found = []
    for x in r.deliveries:
        hours = r.transit.get((x.site_id, x.destination_id, x.system_id))
        if hours is None:
            found.append(
                f"route: {x.site_id} -> {x.destination_id} for {x.system_id} is not reachable in the run's travel times"
            )
            continue
        if abs(hours - x.transit_h) > HOURS_TOL:
            found.append(
                f"transit: {x.site_id} -> {x.destination_id} for {x.system_id} reports {x.transit_h:.3f} h; "
                f"the travel times give {hours:.3f} h"
            )
        exposure = r.exposure.get((x.site_id, x.destination_id, x.system_id), 0.0)
        if x.exposure_h is not None and abs(exposure - x.exposure_h) > HOURS_TOL:
            found.append(
                f"exposure: {x.site_id} -> {x.destination_id} for {x.system_id} reports {x.exposure_h:.3f} h "
                f"exposed; the travel times give {exposure:.3f} h"
            )
        times = available_h(r, x)
        deadline = rules(r, "systems").get(x.system_id, {}).get("deadline_h")
        if times is not None and deadline is not None and times[2] > float(deadline) + TOL:
            found.append(
                f"deadline: the last of {x.units} {x.system_id} from {x.site_id} reaches {x.destination_id} at "
                f"{times[2]:.1f} h (its wait in the dispatch queue included), after the {float(deadline):g} h deadline"
            )
    return found


def check_available_h(r: RunRecord) -> list[str]:
    """queue_h, available_h and last_available_h: release delay + the wait in the site's queue + transit."""
    found = []
    for x in r.deliveries:
        times = available_h(r, x)
        if times is None:
            continue
        for column, shown, recomputed in zip(
            ("queue_h", "available_h", "last_available_h"),
            (x.queue_h, x.available_h, x.last_available_h),
            times,
            strict=True,
        ):
            if abs(shown - recomputed) > HOURS_TOL:
                found.append(
                    f"{column}: {x.site_id} -> {x.destination_id} for {x.system_id} reports {shown:.3f} h; "
                    f"release delay, transit and the dispatch queue give {recomputed:.3f} h"
                )
    return found


RuleCheck = Callable[[RunRecord], list[str]]

RULE_CHECKS: tuple[tuple[str, RuleCheck], ...] = (
    ("demand met exactly", check_demand),
    ("stock at every site equals what it ships", check_stock_equals_shipments),
    ("site capacities", check_capacity),
    ("site kinds", check_site_kind),
    ("minimum lots", check_lots),
    ("host caps by value and by units", check_host_caps),
    ("group caps by value and by units", check_group_caps),
    ("minimum hosts", check_min_hosts),
    ("host-loss resilience", check_resilience),
    ("purchasers' earmarks", check_earmarks),
    ("open sites, max sites, budget, forced and excluded sites", check_sites),
    ("transit hours and deadlines", check_deadlines_and_transit),
    ("available_h of every delivery", check_available_h),
)


def transit_sha256(hours: Mapping[Pair, float]) -> str:
    """SHA-256 of a travel-time table: its sorted ``site,destination,system,hours`` rows (six decimals).

    Parameters
    ----------
    hours
        Transit hours by (site, destination, system).

    Returns
    -------
    str
        The hex digest the manifest records and ``verify`` recomputes (six decimals absorb round-off).
    """
    lines = "".join(f"{s},{d},{w},{h:.6f}\n" for (s, d, w), h in sorted(hours.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def run_checks(r: RunRecord, checks: tuple[tuple[str, RuleCheck], ...]) -> tuple[list[str], list[str]]:
    """Run ``checks`` after the id check; a check that meets a malformed value reports it, never raises.

    Parameters
    ----------
    r
        The run as plain data.
    checks
        (name, check) pairs, e.g. ``RULE_CHECKS`` and ``figures.FIGURE_CHECKS``.

    Returns
    -------
    tuple of list of str
        The names of the checks run, and one line per violation.
    """
    found = check_ids(r)
    if found:  # later checks would look up ids that do not exist
        return ["ids in the allocation and the deliveries"], found
    done = ["ids in the allocation and the deliveries"]
    for name, check in checks:
        try:
            found += check(r)
        except (KeyError, ValueError, TypeError, ZeroDivisionError, AttributeError) as exc:
            found.append(f"{name}: cannot be checked, a value is missing or malformed ({type(exc).__name__}: {exc})")
        done.append(name)
    return done, found
