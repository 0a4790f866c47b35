"""``depotsite verify``: re-derive from a run folder that every rule of its scenario holds.

This is the check an independent verifier runs, so it shares no code with the model, the solver or the
results: it reads the CSV tables, the resolved scenario (plain TOML) and the run's outputs with the
standard library and recomputes everything itself. Transit hours come from the same travel-time source
the run used (the road network or the matrix it names), which is input data, not the model.
"""

from __future__ import annotations

import itertools
import json
import math
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depotsite.tables import file_sha256, read_rows

TOL = 1e-6


@dataclass
class Verification:
    checks: list[str] = field(default_factory=list)  # what was checked
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def verify_run(run: Path) -> Verification:
    """Every rule of the run's resolved scenario, recomputed from the files. Never raises for a violation."""
    run = Path(run)
    v = Verification()
    needed = ["manifest.json", "scenario.resolved.toml", "allocation.csv", "deliveries.csv", "summary.json"]
    missing = [name for name in needed if not (run / name).is_file()]
    if missing:
        v.violations.append(f"{run}: missing {', '.join(missing)}; not a complete depotsite run folder")
        return v

    manifest = json.loads((run / "manifest.json").read_text())
    for role, entry in manifest["inputs"].items():
        path = Path(entry["path"])
        if not path.is_file():
            v.violations.append(f"input {role} ({path}) is missing; the run cannot be verified against it")
        elif (now := file_sha256(path)) != entry["sha256"]:
            v.violations.append(f"input {role} ({path}) changed after the run: SHA-256 {now[:12]}... "
                                f"differs from the manifest's {entry['sha256'][:12]}...")
    v.checks.append(f"{len(manifest['inputs'])} input files against their SHA-256 in manifest.json")
    if v.violations:
        return v  # every later check would be against inputs the run did not use

    scenario = tomllib.loads((run / "scenario.resolved.toml").read_text())
    data = scenario["data"]
    hosts = {r["host_id"]: r for r in read_rows(data["hosts"])}
    sites = {r["site_id"]: r for r in read_rows(data["sites"])}
    systems = {r["system_id"]: r for r in read_rows(data["systems"])}
    demand = {(r["destination_id"], r["system_id"]): int(float(r["units"])) for r in read_rows(data["demand"])
              if int(float(r["units"])) > 0}
    allocation = read_rows(run / "allocation.csv")
    deliveries = read_rows(run / "deliveries.csv")
    summary = json.loads((run / "summary.json").read_text())

    stock: dict[tuple[str, str], int] = defaultdict(int)
    for r in allocation:
        if r["site_id"] not in sites:
            v.violations.append(f"allocation.csv: unknown site {r['site_id']!r}")
            continue
        if sites[r["site_id"]]["host_id"] != r["host_id"]:
            v.violations.append(f"allocation.csv: site {r['site_id']} is in {sites[r['site_id']]['host_id']}, "
                                f"not {r['host_id']}")
        stock[r["site_id"], r["system_id"]] += int(r["units"])
    shipped: dict[tuple[str, str], int] = defaultdict(int)
    received: dict[tuple[str, str], int] = defaultdict(int)
    for r in deliveries:
        shipped[r["site_id"], r["system_id"]] += int(r["units"])
        received[r["destination_id"], r["system_id"]] += int(r["units"])
    if v.violations:
        return v

    # demand met exactly
    for key in sorted(set(demand) | set(received)):
        if received.get(key, 0) != demand.get(key, 0):
            v.violations.append(f"demand: {key[0]} receives {received.get(key, 0)} {key[1]} but needs "
                                f"{demand.get(key, 0)}")
    v.checks.append(f"{len(demand)} demand rows met exactly")
    # stock equals shipments
    for key in sorted(set(stock) | set(shipped)):
        if stock.get(key, 0) != shipped.get(key, 0):
            v.violations.append(f"stock: {key[0]} holds {stock.get(key, 0)} {key[1]} but ships {shipped.get(key, 0)}")
    v.checks.append("stock at every site equals what it ships")

    requirement: dict[str, int] = defaultdict(int)
    for (_, w), n in demand.items():
        requirement[w] += n
    value = {w: float(r["value_musd"]) for w, r in systems.items()}
    package = sum(value[w] * n for w, n in requirement.items())
    used_sites = sorted({s for (s, _), n in stock.items() if n > 0})

    # capacities, kinds, lots
    for s in used_sites:
        held = {w: n for (s2, w), n in stock.items() if s2 == s and n > 0}
        for resource, per_unit in (("vehicle_bays", "vehicle_bays_per_unit"),
                                   ("aircraft_shelters", "shelters_per_unit")):
            need = sum(float(systems[w][per_unit]) * n for w, n in held.items())
            if need > float(sites[s][resource]) + TOL:
                v.violations.append(f"capacity: {s} needs {need:g} {resource} but has {sites[s][resource]}")
        for w, n in held.items():
            if sites[s]["kind"] not in systems[w]["site_kinds"].split(";"):
                v.violations.append(f"site kind: {s} is a {sites[s]['kind']} but {w} may only be at "
                                    f"{systems[w]['site_kinds'].replace(';', ', ')}")
            if n < int(systems[w]["min_lot"]):
                v.violations.append(f"min lot: {s} holds {n} {w}, below the lot of {systems[w]['min_lot']}")
    v.checks.append(f"capacities, site kinds and lots at {len(used_sites)} sites")

    host_units: dict[tuple[str, str], int] = defaultdict(int)
    host_value: dict[str, float] = defaultdict(float)
    for (s, w), n in stock.items():
        host_units[sites[s]["host_id"], w] += n
        host_value[sites[s]["host_id"]] += value[w] * n
    rules_h: dict[str, Any] = scenario.get("hosts", {})
    rules_w: dict[str, Any] = scenario.get("systems", {})
    for h in hosts:
        rule = rules_h.get(h, {})
        if "max_value_share" in rule and host_value[h] > rule["max_value_share"] * package + TOL:
            v.violations.append(f"host cap: {h} holds {100 * host_value[h] / package:.2f}% of the package value, "
                                f"above its cap of {100 * rule['max_value_share']:g}%")
        for w in requirement:
            fractions = [rule.get("max_unit_share", {}).get(w), rules_w.get(w, {}).get("max_host_share")]
            fractions = [f for f in fractions if f is not None]
            if fractions and host_units[h, w] > math.floor(min(fractions) * requirement[w] + 1e-9):
                v.violations.append(f"host cap: {h} holds {host_units[h, w]} {w}, above "
                                    f"{100 * min(fractions):g}% of {requirement[w]}")
    for g, rule in scenario.get("groups", {}).items():
        members = rule.get("hosts") or [h for h, r in hosts.items() if r["group"] == g]
        held_value = sum(host_value[h] for h in members)
        if "max_value_share" in rule and held_value > rule["max_value_share"] * package + TOL:
            v.violations.append(f"group cap: {g} ({', '.join(members)}) holds {100 * held_value / package:.2f}% "
                                f"of the value, above {100 * rule['max_value_share']:g}%")
        for w, fraction in rule.get("max_unit_share", {}).items():
            units = sum(host_units[h, w] for h in members)
            if units > math.floor(fraction * requirement[w] + 1e-9):
                v.violations.append(f"group cap: {g} holds {units} {w}, above {100 * fraction:g}%")
    v.checks.append("host and group caps by value and by units")

    for w, rule in rules_w.items():
        holding = [h for h in hosts if host_units[h, w] >= int(systems[w]["min_lot"])]
        if rule.get("min_hosts") and len(holding) < rule["min_hosts"]:
            v.violations.append(f"min hosts: {w} is in {len(holding)} host(s) ({', '.join(holding)}), "
                                f"needs {rule['min_hosts']}")
        resilience = rule.get("resilience")
        if resilience:
            need = math.ceil(resilience["keep_fraction"] * requirement[w] - 1e-9)
            k = min(resilience["lose_hosts"], len(hosts))
            for lost in itertools.combinations(sorted(hosts), k):
                left = sum(n for (h, w2), n in host_units.items() if w2 == w and h not in lost)
                if left < need:
                    v.violations.append(f"resilience: losing {'+'.join(lost)} leaves {left} {w}, needs {need}")
    v.checks.append("minimum hosts and host-loss resilience")

    limits = scenario.get("constraints", {})
    open_sites = set(summary.get("open_sites", used_sites))
    if not set(used_sites) <= open_sites:
        v.violations.append(f"sites: {', '.join(sorted(set(used_sites) - open_sites))} hold stock but are not "
                            "listed as open in summary.json")
    if "max_sites" in limits and len(open_sites) > limits["max_sites"]:
        v.violations.append(f"max sites: {len(open_sites)} sites open, at most {limits['max_sites']} allowed")
    cost = sum(float(sites[s]["fixed_cost_musd"]) for s in open_sites)
    if "budget_musd" in limits and cost > limits["budget_musd"] + TOL:
        v.violations.append(f"budget: open sites cost {cost:g} M USD, above {limits['budget_musd']:g}")
    for s in limits.get("force_open", []):
        if s not in open_sites:
            v.violations.append(f"force open: {s} is not open")
    for s in used_sites:
        if s in limits.get("exclude_sites", []) or sites[s]["host_id"] in limits.get("exclude_hosts", []):
            v.violations.append(f"exclusion: {s} holds stock but is excluded")
    v.checks.append("site count, budget, forced and excluded sites")

    # deadlines and time-to-availability, from the run's own travel-time source
    default_delay = float(scenario.get("network", {}).get("release_delay_h", 72.0))

    def release(h: str) -> float:
        if "release_delay_h" in rules_h.get(h, {}):
            return float(rules_h[h]["release_delay_h"])
        own = hosts[h]["release_delay_h"].strip()
        return float(own) if own else default_delay

    transit = _transit_hours(data, scenario)
    makespan = scenario.get("objective", {}).get("time", "mean") == "makespan"
    queue = {s: 24.0 * sum(n for (s2, _), n in stock.items() if s2 == s) / float(sites[s]["dispatch_per_day"])
             for s in used_sites}
    arrival_total, worst = 0.0, 0.0
    for r in deliveries:
        s, d, w, n = r["site_id"], r["destination_id"], r["system_id"], int(r["units"])
        hours = transit.get((s, d, w))
        if hours is None:
            v.violations.append(f"route: {s} -> {d} for {w} is not reachable in the run's travel times")
            continue
        if abs(hours - float(r["transit_h"])) > 1e-3:
            v.violations.append(f"route: {s} -> {d} for {w} reports {float(r['transit_h']):.3f} h transit; the "
                                f"travel times give {hours:.3f} h")
        available = release(sites[s]["host_id"]) + hours
        deadline = rules_w.get(w, {}).get("deadline_h")
        if deadline is not None and available > deadline + 1e-6:
            v.violations.append(f"deadline: {n} {w} from {s} reach {d} at {available:.1f} h, after the "
                                f"{deadline:g} h deadline")
        arrival_total += float(rules_w.get(w, {}).get("priority", 1.0)) * available * n
        worst = max(worst, available + (queue.get(s, 0.0) if makespan else 0.0))
    v.checks.append(f"{len(deliveries)} deliveries against travel times and deadlines")

    # objective terms
    weight = sum(float(rules_w.get(w, {}).get("priority", 1.0)) * n for w, n in requirement.items())
    time_h = worst if makespan else arrival_total / weight
    shares = {h: 100.0 * host_value[h] / package for h in hosts}
    measure = scenario.get("objective", {}).get("risk", "max_host_share")
    if measure == "max_host_share":
        risk = max(shares.values())
    elif measure == "hhi":
        risk = sum(x * x for x in shares.values())
    else:
        risk = sum(float(rules_h.get(h, {}).get("threat", 0.0)) * x for h, x in shares.items())
    for name, recomputed in (("time", time_h), ("risk", risk), ("cost", cost)):
        reported = summary["terms"][name]["value"]
        if abs(reported - recomputed) > 1e-6 * max(1.0, abs(recomputed)):
            v.violations.append(f"objective: summary.json reports {name} {reported:.6g}, recomputed {recomputed:.6g}")
    v.checks.append("time, risk and cost terms recomputed")
    return v


def _transit_hours(data: dict[str, Any], scenario: dict[str, Any]) -> dict[tuple[str, str, str], float]:
    if data.get("travel_times"):
        return {(r["site_id"], r["destination_id"], r["system_id"]): float(r["hours"])
                for r in read_rows(data["travel_times"])}
    from depotsite.inputs import load_inputs
    from depotsite.network import travel_times
    from depotsite.scenario import Scenario

    inputs = load_inputs(hosts=data["hosts"], sites=data["sites"], systems=data["systems"],
                         destinations=data["destinations"], demand=data["demand"])
    times = travel_times(inputs, Scenario.model_validate(scenario))
    return {key: leg.hours for key, leg in times.legs.items()}
