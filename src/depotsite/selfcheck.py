"""The post-solve check: the solver's posture against every rule of its scenario, before anything is written.

It builds the plain record that ``depotsite verify`` builds from a run folder, but from memory (the
result, the inputs, the scenario, the travel times and the summary about to be written), and runs the
same checks (``depotsite.checks``, ``depotsite.figures``). A posture that breaks a rule, or whose
objective disagrees with its recomputed terms, is numerical trouble in the solver: ``NumericsError``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from depotsite.checks import RULE_CHECKS, DeliveryRow, RunRecord, run_checks
from depotsite.errors import NumericsError
from depotsite.figures import check_depots, check_objective, check_routes, check_summary_figures
from depotsite.instance import Instance
from depotsite.results import RunResult
from depotsite.traveltimes import TravelTimes

log = logging.getLogger(__name__)


def posture_record(
    result: RunResult,
    p: Instance,
    travel: TravelTimes | None = None,
    *,
    summary: Mapping[str, Any] | None = None,
    depots: Mapping[str, Any] | None = None,
    routes: Mapping[str, Any] | None = None,
) -> RunRecord:
    """The run as the plain record the checks read, built from memory.

    Parameters
    ----------
    result, p
        The posture and the resolved numbers of its model (only ``p.inputs`` and ``p.scenario`` are read).
    travel
        The travel times the run used; without them, the hours of the model's routes.
    summary, depots, routes
        The summary and GeoJSON documents about to be written; without a summary, one with the status,
        gap, objective and terms only.
    """
    inputs = p.inputs

    def table(rows: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        return {key: dataclasses.asdict(row) for key, row in rows.items()}

    transit = {k: leg.hours for k, leg in travel.legs.items()} if travel is not None else dict(p.transit_h)
    if summary is None:
        summary = {
            "status": result.status,
            "gap": result.gap,
            "objective": result.objective,
            "open_sites": list(result.open_sites),
            "terms": {
                "time": {"value": result.terms["time_h"]},
                "risk": {"value": result.terms["risk"]},
                "cost": {"value": result.terms["cost_musd"]},
            },
        }
    return RunRecord(
        hosts=table(inputs.hosts),
        sites=table(inputs.sites),
        systems=table(inputs.systems),
        destinations=table(inputs.destinations),
        demand={k: n for k, n in inputs.demand.items() if n > 0},
        scenario=p.scenario.model_dump(mode="json", exclude_none=True),
        stock=dict(result.stock),
        stock_hosts={(s, w): inputs.sites[s].host_id for s, w in result.stock},
        deliveries=tuple(
            DeliveryRow(
                x.site_id,
                x.destination_id,
                x.system_id,
                x.units,
                x.transit_h,
                x.queue_h,
                x.available_h,
                x.last_available_h,
            )
            for x in result.deliveries
        ),
        exposure=travel.exposure() if travel is not None else dict(p.exposure_h),
        summary=summary,
        transit=transit,
        depots=depots,
        routes=routes,
        purchases=tuple(dataclasses.asdict(x) for x in inputs.purchases),
    )


def check_posture(
    result: RunResult,
    p: Instance,
    travel: TravelTimes | None = None,
    *,
    summary: Mapping[str, Any] | None = None,
    depots: Mapping[str, Any] | None = None,
    routes: Mapping[str, Any] | None = None,
    objective: bool = True,
) -> None:
    """Check a posture against every rule of its scenario and its objective against its terms.

    Parameters
    ----------
    result, p, travel, summary, depots, routes
        As for ``posture_record``.
    objective
        Whether ``result.objective`` is the scenario's weighted objective (not so for a Pareto point,
        which minimises one term under a bound on the other).

    Raises
    ------
    NumericsError
        One line per broken rule, naming the rule and the culprit; the caller writes nothing.
    """
    record = posture_record(result, p, travel, summary=summary, depots=depots, routes=routes)
    checks = RULE_CHECKS + ((("objective", check_objective),) if objective else ())
    if summary is not None:
        checks += (("summary", check_summary_figures),)
    checks += (("depots", check_depots), ("routes", check_routes))
    done, violations = run_checks(record, checks)
    if violations:
        raise NumericsError(violations)
    log.debug("check_posture: %d groups of checks hold", len(done))
