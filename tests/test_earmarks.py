"""Purchasers' earmarks as a rule of the posture (``[financing] honour_earmarks``): a hand-solved optimum
that the rule changes, the explanation of a conflict in policy words, input errors before any solve, the
rule check of ``verify`` and a tampering it catches."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import invoke
from depotsite.checks import check_earmarks
from depotsite.errors import InfeasibleError, InputError
from depotsite.explain import run_solve
from depotsite.instance import build_instance
from depotsite.model import build_model
from depotsite.scenario import load_scenario
from depotsite.sources import read_inputs
from depotsite.tables import file_sha256, write_csv
from depotsite.verify import verify_run
from instances import HEADERS, make_inputs, make_scenario, site, system, times


def two_hosts(earmark: int | None, **rules):
    """Hosts A and B, one army base each (a1 in A, b1 in B, 10 bays), one system x (1 bay, value 1), 4 units
    of demand at d; a1 is 1 h from d, b1 3 h; release 0, the objective the mean time only."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", bays=10), site("b1", "B", bays=10)],
        systems=[system("x")],
        demand={("d", "x"): 4},
        earmarks={("SE", "x", "B"): earmark} if earmark is not None else None,
    )
    scenario = make_scenario(financing={"honour_earmarks": earmark is not None}, **rules)
    return build_instance(inputs, times({("a1", "d", "x"): 1.0, ("b1", "d", "x"): 3.0}), scenario)


def test_honouring_an_earmark_changes_the_hand_solved_optimum():
    """Without the earmark every unit goes to the faster a1: mean time (4 x 1 h) / 4 = 1 h. With SE's 3 units
    earmarked for host B, b1 must hold at least 3 and a1 takes the one left: (1 x 1 h + 3 x 3 h) / 4 = 2.5 h.
    An earmark of 0 units is no rule: 1 h again."""
    free = build_model(two_hosts(None))
    assert run_solve(free).objective == pytest.approx(1.0)
    assert free.stock["a1", "x"].value == pytest.approx(4)
    bound = build_model(two_hosts(3))
    assert run_solve(bound).objective == pytest.approx(2.5)
    assert (bound.stock["a1", "x"].value, bound.stock["b1", "x"].value) == pytest.approx((1, 3))
    assert list(bound.honour_earmarks) == [("B", "x")]
    assert run_solve(build_model(two_hosts(0))).objective == pytest.approx(1.0)


def test_an_earmark_that_a_host_cap_forbids_is_explained_in_policy_words():
    """B may hold at most half of x (2 units) but SE earmarked 3 for it: no posture exists, and relaxing either
    the host cap or the earmarks alone would make one."""
    model = build_model(two_hosts(3, hosts={"B": {"max_unit_share": {"x": 0.5}}}))
    with pytest.raises(InfeasibleError) as caught:
        run_solve(model, time_limit_s=30)
    text = str(caught.value)
    assert "purchasers' earmarks (SE: 3 x stored in B)" in text
    assert "host caps (B x 50%)" in text


# --- input errors before the solver ------------------------------------------------------------------------


def tables(folder: Path, purchasers: str, *, honour: bool = True) -> Path:
    """Two hosts: A with an army base, B with only an air base; systems x (army bases) and f (air bases)."""
    write_csv(folder / "hosts.csv", HEADERS["hosts"], [["A", "A", "", ""], ["B", "B", "", ""]])
    write_csv(
        folder / "sites.csv",
        HEADERS["sites"],
        [
            ["a1", "A1", "A", 50, 20, "army_base", 10, 0, 24, 1, "test"],
            ["b1", "B1", "B", 50, 21, "air_base", 10, 4, 24, 1, "test"],
        ],
    )
    write_csv(
        folder / "systems.csv",
        HEADERS["systems"],
        [
            ["x", "X", "I", "wheeled", 1, 1, 0, 1, 1, "army_base"],
            ["f", "F", "IV", "air", 2, 0, 1, 1, 1, "air_base;army_base"],
        ],
    )
    write_csv(folder / "destinations.csv", HEADERS["destinations"], [["d", "D", 49, 30, "city"]])
    write_csv(folder / "demand.csv", HEADERS["demand"], [["d", "x", 4], ["d", "f", 2]])
    write_csv(
        folder / "matrix.csv",
        ["site_id", "destination_id", "system_id", "hours"],
        [["a1", "d", "x", 1], ["b1", "d", "f", 2]],
    )
    (folder / "purchasers.csv").write_text(purchasers)
    (folder / "s.toml").write_text(
        'name = "s"\n[data]\nhosts = "hosts.csv"\nsites = "sites.csv"\nsystems = "systems.csv"\n'
        'destinations = "destinations.csv"\ndemand = "demand.csv"\ntravel_times = "matrix.csv"\n'
        f'purchasers = "purchasers.csv"\n[financing]\nhonour_earmarks = {str(honour).lower()}\n'
        "[objective]\nrisk_weight = 0\n"
    )
    return folder / "s.toml"


def test_earmarks_no_posture_can_honour_are_input_errors_all_at_once(tmp_path):
    """An earmark for a host that cannot hold the system (B has no army base for x), earmarks above the
    demand (3 + 2 f for 2 needed), an unknown system and an unknown host: every one, with file and line."""
    scenario = tables(
        tmp_path,
        "purchaser_id,system_id,units,host_id\nSE,x,2,B\nNL,f,3,B\nDK,f,2,A\nNO,xx,1,\nPL,x,1,Q\n",
    )
    with pytest.raises(InputError) as caught:
        read_inputs(load_scenario(scenario))
    assert caught.value.problems == [
        "purchasers.csv line 5: unknown system_id 'xx' (did you mean 'x'?)",
        "purchasers.csv line 6: unknown host_id 'Q' (known ids: A, B)",
        "purchasers.csv line 2 (SE: 2 x for B): host B cannot hold x (no site of an allowed kind with room that "
        "is not excluded; hosts that can: A); earmark another host, leave host_id empty or set "
        "financing.honour_earmarks = false",
        "purchasers.csv line 4 (DK: 2 f for A): host A cannot hold f (no site of an allowed kind with room that "
        "is not excluded; hosts that can: B); earmark another host, leave host_id empty or set "
        "financing.honour_earmarks = false",
        "purchasers.csv lines 3, 4: 5 f earmarked for hosts, more than the 2 the demand needs; lower the "
        "earmarked units or raise the demand for f",
    ]
    result = invoke("validate", scenario)
    assert result.exit_code == 1
    assert "host B cannot hold x" in result.output


def test_without_honour_earmarks_an_unmet_earmark_is_only_reported(tmp_path):
    """The same earmark for a host that cannot hold x loads when earmarks are not rules (the report warns)."""
    scenario = tables(tmp_path, "purchaser_id,system_id,units,host_id\nSE,x,2,B\n", honour=False)
    inputs = read_inputs(load_scenario(scenario))
    assert [(p.purchaser_id, p.units, p.host_id, p.line) for p in inputs.purchases] == [("SE", 2, "B", 2)]


# --- verify: the rule check and a tampering ----------------------------------------------------------------


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def test_verify_recomputes_the_earmarks_and_catches_a_tampered_allocation(tmp_path):
    """Two army bases, a1 in A (1 h) and b1 in B (3 h); SE earmarked 3 of the 4 x for B. The solved run keeps
    3 at b1 and verify passes; moving them to a1 in the allocation and the deliveries (with a1's hours, the
    manifest resealed) is caught as an earmark B no longer holds."""
    scenario = tables(tmp_path, "purchaser_id,system_id,units,host_id\nSE,x,3,B\n")
    sites = rows(tmp_path / "sites.csv")
    sites[1].update(kind="army_base")
    write_csv(tmp_path / "sites.csv", HEADERS["sites"], [list(r.values()) for r in sites])
    write_csv(
        tmp_path / "matrix.csv",
        ["site_id", "destination_id", "system_id", "hours"],
        [["a1", "d", "x", 1], ["b1", "d", "x", 3], ["b1", "d", "f", 2]],
    )
    run = tmp_path / "run"
    result = invoke("solve", scenario, "--out", run, "--no-maps")
    assert result.exit_code == 0, result.output
    held = {(r["site_id"], r["system_id"]): int(r["units"]) for r in rows(run / "allocation.csv")}
    assert held[("b1", "x")] == 3 and held[("a1", "x")] == 1
    verdict = verify_run(run, scenario=scenario)
    assert verdict.ok, verdict.violations
    assert "purchasers' earmarks" in verdict.checks

    allocation = [r for r in rows(run / "allocation.csv") if (r["site_id"], r["system_id"]) != ("b1", "x")]
    next(r for r in allocation if (r["site_id"], r["system_id"]) == ("a1", "x"))["units"] = "4"
    write_csv(
        run / "allocation.csv", ["site_id", "host_id", "system_id", "units"], [list(r.values()) for r in allocation]
    )
    deliveries = [r for r in rows(run / "deliveries.csv") if r["system_id"] != "x"]
    deliveries.append(
        {
            "site_id": "a1",
            "destination_id": "d",
            "system_id": "x",
            "units": "4",
            "transit_h": "1.0000",
            "queue_h": "0.0000",
            "available_h": "73.0000",
            "last_available_h": "73.0000",
            "ukraine_h": "0.0000",
            "exposure_h": "0.0000",
        }
    )
    write_csv(run / "deliveries.csv", list(deliveries[0]), [list(r.values()) for r in deliveries])
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["outputs"].update({n: file_sha256(run / n) for n in ("allocation.csv", "deliveries.csv")})
    (run / "manifest.json").write_text(json.dumps(manifest))
    violations = verify_run(run).violations
    assert "earmark: B holds 0 x, but SE earmarked 3 for it" in violations


def test_check_earmarks_reads_the_rule_only_when_the_scenario_honours_them():
    """The same record breaks the rule with honour_earmarks true and keeps it with false (report only)."""
    from depotsite.checks import RunRecord

    def record(honour: bool) -> RunRecord:
        return RunRecord(
            hosts={"A": {}, "B": {}},
            sites={"a1": {"host_id": "A"}},
            systems={"x": {}},
            destinations={},
            demand={("d", "x"): 2},
            scenario={"financing": {"honour_earmarks": honour}},
            stock={("a1", "x"): 2},
            stock_hosts={},
            deliveries=(),
            summary={},
            transit={},
            purchases=({"purchaser_id": "SE", "system_id": "x", "units": 1, "host_id": "B"},),
        )

    assert check_earmarks(record(True)) == ["earmark: B holds 0 x, but SE earmarked 1 for it"]
    assert check_earmarks(record(False)) == []
