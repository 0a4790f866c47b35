"""Where a scenario's numbers come from: its input tables and its travel times.

Every command, and a library user, takes these two steps before building an instance; the choice between
the shipped road network and a user's own travel-time matrix is made here once.
"""

from __future__ import annotations

from depotsite.inputs import Inputs, load_inputs
from depotsite.scenario import Scenario, check_against_inputs
from depotsite.traveltimes import TravelTimes, read_matrix


def read_inputs(scenario: Scenario, *, check: bool = True) -> Inputs:
    """Load the tables the scenario's ``[data]`` section names.

    Parameters
    ----------
    scenario
        A loaded scenario (``depotsite.scenario.load_scenario``).
    check
        Also check the scenario's rules against the tables (hosts and sites it names exist, caps can be
        met) and read the purchasers table when one is named, so every problem is found before a solve.

    Returns
    -------
    Inputs
        The checked tables.

    Raises
    ------
    InputError
        With every problem found, each naming the file, row or id.
    """
    d = scenario.data
    inputs = load_inputs(hosts=d.hosts, sites=d.sites, systems=d.systems, destinations=d.destinations,
                         demand=d.demand, profiles=scenario.network.profiles, boundaries=d.boundaries)
    if check:
        check_against_inputs(scenario, inputs)
        if d.purchasers is not None:
            from depotsite.purchasers import read_purchasers

            read_purchasers(d.purchasers, inputs.systems, inputs.hosts)
    return inputs


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
