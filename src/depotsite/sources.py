"""Where a scenario's numbers come from: its input tables and its travel times, and the check that the
scenario's rules fit those tables.

Every command, and a library user, takes these two steps before building an instance; the choice between
the shipped road network and a user's own travel-time matrix is made here once.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from depotsite.countries import read_countries
from depotsite.errors import InputError, ScenarioError
from depotsite.inputs import Inputs, load_inputs, units_fitting
from depotsite.regions import front_line_problems, region_problems
from depotsite.scenario import MAX_LOSS_SETS, Scenario
from depotsite.tables import shown
from depotsite.traveltimes import TravelTimes, read_matrix


def read_inputs(scenario: Scenario, *, check: bool = True) -> Inputs:
    """Load the tables the scenario's ``[data]`` section names.

    Parameters
    ----------
    scenario
        A loaded scenario (``depotsite.scenario.load_scenario``).
    check
        Also check the scenario's rules against the tables (hosts and sites it names exist, caps can be
        met, earmarks can be honoured), so every problem is found before a solve.

    Returns
    -------
    Inputs
        The checked tables, with the purchasers table's rows (``Inputs.purchases``) when one is named.

    Raises
    ------
    InputError
        With every problem found, each naming the file, row or id.
    """
    d = scenario.data
    inputs = load_inputs(
        hosts=d.hosts,
        sites=d.sites,
        systems=d.systems,
        destinations=d.destinations,
        demand=d.demand,
        profiles=scenario.network.profiles,
        boundaries=d.boundaries,
    )
    inputs = with_profiles(inputs, scenario)
    problems: list[str] = []
    if d.purchasers is not None:
        from depotsite.purchasers import parse_purchases

        purchases, problems = parse_purchases(d.purchasers, inputs.systems, inputs.hosts)
        inputs = replace(inputs, purchases=tuple(purchases))
    if check:
        try:
            check_against_inputs(scenario, inputs)
        except ScenarioError as exc:
            if not problems:
                raise
            problems += exc.problems
    if problems:  # the purchasers table's problems, and the scenario's with them
        raise InputError(problems)
    return inputs


def with_profiles(inputs: Inputs, scenario: Scenario) -> Inputs:
    """The tables with each system's transport profile as the scenario sets it (``systems.<id>.profile``).

    Parameters
    ----------
    inputs
        The tables as read; systems.csv's ``profile`` column gives each system's profile.
    scenario
        Its ``[systems.<id>] profile`` keys, where set, replace that column (e.g. ``het`` for tanks carried on
        heavy-equipment transporters).

    Returns
    -------
    Inputs
        The same tables when no system's profile is overridden, else a copy with the overridden systems.
    """
    changed = {
        w: rule.profile
        for w, rule in scenario.systems.items()
        if rule.profile is not None and w in inputs.systems and inputs.systems[w].profile != rule.profile
    }
    if not changed:
        return inputs
    return Inputs.assemble(
        hosts=list(inputs.hosts.values()),
        sites=list(inputs.sites.values()),
        systems=[dataclasses.replace(x, profile=changed.get(w, x.profile)) for w, x in inputs.systems.items()],
        destinations=list(inputs.destinations.values()),
        demand=inputs.demand,
        files=inputs.files,
    )


def travel_times_for(inputs: Inputs, scenario: Scenario, *, use_cache: bool = True) -> TravelTimes:
    """Transit hours from the scenario's own source: its ``[data] travel_times`` matrix when it names one,
    otherwise routed over its road network (cached by content unless ``use_cache`` is false).

    Parameters
    ----------
    inputs
        The scenario's tables (``read_inputs``).
    scenario
        The scenario; its ``[network]`` section sets speeds, delays and avoided countries for the roads.
    use_cache
        Reuse (and store) a matrix computed earlier for the same inputs and settings.

    Returns
    -------
    TravelTimes
        One leg per (site, destination, system) pair that can be reached.
    """
    if scenario.data.travel_times is not None:
        return read_matrix(scenario.data.travel_times, inputs)
    from depotsite.network import travel_times  # osmnx and the road graph only when roads are used

    return travel_times(inputs, scenario, use_cache=use_cache)


def hosts_able_to_hold(scenario: Scenario, inputs: Inputs, system_id: str) -> list[str]:
    """Hosts with a site that is not excluded, of a kind allowed for the system, with room for one unit.

    Parameters
    ----------
    scenario
        Its exclusions count.
    inputs
        The tables.
    system_id
        A system of the tables.

    Returns
    -------
    list of str
        Host ids, sorted.
    """
    c = scenario.constraints
    system = inputs.systems[system_id]
    return sorted(
        {
            site.host_id
            for s, site in inputs.sites.items()
            if s not in c.exclude_sites and site.host_id not in c.exclude_hosts and units_fitting(site, system) >= 1
        }
    )


def _check_fit(scenario: Scenario, inputs: Inputs) -> list[str]:
    """Rules whose numbers the tables or the machine cannot meet."""
    problems = []
    requirement = inputs.requirement
    for w, rule in scenario.systems.items():
        if w not in inputs.systems or requirement.get(w, 0) == 0:
            continue
        if rule.min_hosts is not None:
            able = hosts_able_to_hold(scenario, inputs, w)
            if rule.min_hosts > len(able):
                problems.append(
                    f"systems.{w}.min_hosts: {rule.min_hosts} hosts wanted but only {len(able)} can hold "
                    f"{w} ({', '.join(able) or 'none'}: a site not excluded, of an allowed kind, with "
                    "room for one unit); lower min_hosts or add sites"
                )
        if rule.resilience is not None:
            k, n = rule.resilience.lose_hosts, len(inputs.hosts)
            if k > n:
                problems.append(f"systems.{w}.resilience.lose_hosts: {k} is more than the {n} hosts in hosts.csv")
            elif math.comb(n, k) > MAX_LOSS_SETS:
                problems.append(
                    f"systems.{w}.resilience.lose_hosts: {k} of {n} hosts gives {math.comb(n, k):,} sets "
                    f"of lost hosts, more than the {MAX_LOSS_SETS:,} depotsite enumerates; lower it"
                )
    if scenario.financing.honour_earmarks:
        from depotsite.purchasers import earmark_problems

        holders = {w: hosts_able_to_hold(scenario, inputs, w) for w in {p.system_id for p in inputs.purchases}}
        problems += earmark_problems(inputs.purchases, requirement, holders)
    cpus = os.cpu_count() or 1
    if scenario.solver.threads > cpus:
        problems.append(
            f"solver.threads: {scenario.solver.threads} is more than the {cpus} CPUs of this machine; "
            f"set it to {cpus} or fewer"
        )
    return problems


def _rail_problems(scenario: Scenario, inputs: Inputs) -> list[str]:
    """Systems that can only go by rail when the scenario names no rail network, or no roads to reach it by."""
    if scenario.data.travel_times is not None:
        return []
    profiles = scenario.network.profiles
    problems = []
    for w, system in inputs.systems.items():
        modes = {profiles[p].mode for p in system.profiles if p in profiles}
        if modes == {"rail"} and scenario.data.rail is None:
            problems.append(
                f"systems.{w}: its only transport profile ({system.profile}) goes by rail but the scenario names "
                "no [data] rail; set [data] rail (the shipped network is data/rail) or give it a road profile "
                f'as well (systems.{w}.profile = ["{system.profile}", "tracked"])'
            )
    if scenario.data.rail is not None and not Path(scenario.data.rail).is_dir():
        problems.append(
            f"{scenario.data.rail}: no rail network folder; set [data] rail to a folder with nodes.csv.gz and "
            "edges.csv.gz (the shipped data/rail, or one built by scripts/build_rail.py), or leave it out"
        )
    return problems


def check_against_inputs(scenario: Scenario, inputs: Inputs) -> None:
    """Every id the scenario names must exist in the input tables, and its rules must fit them and this
    machine (``min_hosts``, ``resilience.lose_hosts``, ``solver.threads``, and with ``financing.honour_earmarks``
    the purchasers' earmarks: each for a host that can hold its system, none above the demand).

    Raises
    ------
    ScenarioError
        One line per problem: an unknown id with the closest known id, or a rule that cannot be met.
    """
    problems = _check_fit(scenario, inputs)

    def known(kind: str, value: str, choices: Any, key: str) -> None:
        if value not in choices:
            close = difflib.get_close_matches(value, list(choices), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(choices))}"
            problems.append(f"{key}: unknown {kind} {shown(value)}; {hint}")

    for h, host_rule in scenario.hosts.items():
        known("host", h, inputs.hosts, f"hosts.{h}")
        for w in host_rule.max_unit_share:
            known("system", w, inputs.systems, f"hosts.{h}.max_unit_share")
    for g, group_rule in scenario.groups.items():
        for w in group_rule.max_unit_share:
            known("system", w, inputs.systems, f"groups.{g}.max_unit_share")
        if group_rule.hosts is not None:
            for h in group_rule.hosts:
                known("host", h, inputs.hosts, f"groups.{g}.hosts")
        elif not any(host.group == g for host in inputs.hosts.values()):
            problems.append(f"groups.{g}: no host has group {g!r} in hosts.csv; set groups.{g}.hosts = [...]")
    for w in scenario.systems:
        known("system", w, inputs.systems, f"systems.{w}")
    c = scenario.constraints
    for s in (*c.force_open, *c.exclude_sites):
        known("site", s, inputs.sites, "constraints.force_open" if s in c.force_open else "constraints.exclude_sites")
    for h in c.exclude_hosts:
        known("host", h, inputs.hosts, "constraints.exclude_hosts")
    for s in set(c.force_open) & set(c.exclude_sites):
        problems.append(f"constraints: site {s!r} is both forced open and excluded; keep it in one list")
    for s in c.force_open:
        if s in inputs.sites and inputs.sites[s].host_id in c.exclude_hosts:
            problems.append(f"constraints.force_open: site {s!r} is in excluded host {inputs.sites[s].host_id}")
    for name, profile in scenario.network.profiles.items():
        if profile.rest_h > 0 and profile.max_driving_h_per_day is None:
            problems.append(f"network.profiles.{name}: rest_h needs max_driving_h_per_day")
    for w, rule in scenario.systems.items():
        for name in (rule.profile or "").split(";"):
            if name and name not in scenario.network.profiles:
                problems.append(
                    f"systems.{w}.profile: unknown transport profile {shown(name)}; use one of "
                    f"{', '.join(sorted(scenario.network.profiles))} or define it under [network.profiles]"
                )
    problems += _rail_problems(scenario, inputs)
    problems += region_problems(scenario.data.regions, scenario.network.avoid_regions)
    problems += front_line_problems(scenario.data.front_line)
    if scenario.data.countries is not None:
        try:
            read_countries(scenario.data.countries)
        except InputError as exc:
            problems += [f"[data] countries: {p}" for p in exc.problems]
    if problems:
        raise ScenarioError(problems)
