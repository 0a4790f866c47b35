"""Which rules bind, what they cost, and why each open site is open, on instances solved by hand."""

from __future__ import annotations

import json

import pytest

from conftest import invoke
from depotsite.analysis.binding import explain_posture, relaxed, rule_slacks
from depotsite.analysis.binding_words import as_dict, describe_rule, describe_site
from depotsite.instance import build_instance
from depotsite.model import build_model, posture_of
from depotsite.results import collect
from depotsite.solve import solve
from depotsite.timelimit import Deadline
from instances import make_inputs, make_scenario, site, system, times
from test_api import tiny_scenario


def solved(**rules):
    """Hosts A, B, C with one site each (a, b, c); 2 units of x (value 1) for d; a->d 1 h, b->d 3 h, c->d 2.6 h
    unless the test says otherwise. Risk and cost weigh nothing: the objective is the mean time."""
    hours = rules.pop("hours", {"a": 1, "b": 3, "c": 2.6})
    inputs = make_inputs(
        hosts=["A", "B", "C"], sites=[site(s, s.upper()) for s in hours], systems=[system("x")], demand={("d", "x"): 2}
    )
    inst = build_instance(inputs, times({(s, "d", "x"): h for s, h in hours.items()}), make_scenario(**rules))
    model = build_model(inst)
    outcome = solve(model, time_limit_s=60)
    posture = posture_of(model)
    return inst, posture, collect(inst, posture, outcome)


def report(explanation, key):
    return next(r for r in explanation.rules if r.key == key)


def test_a_binding_unit_cap_is_priced_and_rechecked():
    """A may hold 1 of the 2 units (max_unit_share 0.5), so one unit goes to b (3 h): mean (1 + 3) / 2 = 2 h;
    c (2.6 h) is excluded here. One more unit at A would bring the second unit in at 1 h: the mean falls to 1 h,
    so the LP price and the re-solved change are both -1 per unit."""
    inst, posture, base = solved(hosts={"A": {"max_unit_share": {"x": 0.5}}}, constraints={"exclude_sites": ["c"]})
    assert base.terms["time_h"] == pytest.approx(2.0)
    explanation = explain_posture(inst, posture, base, deadline=Deadline(60))
    cap = report(explanation, "hosts.A.max_unit_share.x")
    assert (cap.binding, cap.used, cap.limit, cap.slack) == (True, 1, 1, 0)
    assert cap.price == pytest.approx(-1.0)
    # risk weighs nothing but is still reported: A then holds the whole package, 100% instead of 50%
    assert cap.checked == pytest.approx({"objective": -1.0, "time_h": -1.0, "risk": 50.0, "cost_musd": 0.0})
    assert cap.checked_status == "optimal"
    assert describe_rule(cap) == (
        "hosts.A.max_unit_share.x (A at most 1 x): binds (1 of 1 units); each unit would save 1 of the objective "
        "(LP price); re-solved one unit: objective -1 (time_h -1, risk +50, cost_musd +0, optimal)"
    )


def test_a_value_cap_is_priced_per_point_and_integrality_can_hide_the_gain():
    """V = 2 M USD, A at most 50% = 1 M USD = 1 unit: it binds (no room for the cheapest unit, 50 points). The LP
    prices one point (0.02 M USD, a fiftieth of a unit) at -1 * 2 / 100 = -0.02; re-solved at 51% A still holds
    one whole unit, so the true change is 0."""
    inst, posture, base = solved(hosts={"A": {"max_value_share": 0.5}}, constraints={"exclude_sites": ["c"]})
    explanation = explain_posture(inst, posture, base, deadline=Deadline(60))
    cap = report(explanation, "hosts.A.max_value_share")
    assert cap.binding and cap.used == pytest.approx(50.0) and cap.slack == pytest.approx(0.0)
    assert cap.price == pytest.approx(-0.02)
    assert cap.checked["objective"] == pytest.approx(0.0, abs=1e-9)


def test_min_hosts_met_exactly_binds_and_one_host_fewer_is_rechecked():
    """x in at least 2 hosts: a and b (c, 2.6 h, is slower than a) hold one each, mean (1 + 2.6)/2 = 1.8 h with
    b at 3 h out of the way. With one host enough both units go to a: 1 h, a change of -0.8."""
    inst, posture, base = solved(systems={"x": {"min_hosts": 2}})
    assert base.terms["time_h"] == pytest.approx(1.8)
    explanation = explain_posture(inst, posture, base, deadline=Deadline(60))
    rule = report(explanation, "systems.x.min_hosts")
    assert (rule.binding, rule.used, rule.price) == (True, 2, None)
    assert rule.checked["time_h"] == pytest.approx(-0.8)


def test_slack_rules_and_a_deadline_that_keeps_a_route_out():
    """max_sites 3 with 2 open: slack 1 site. A deadline of 2.5 h keeps c (2.6 h) and b (3 h) out, so both units
    come from a (1 h, no cap): the deadline binds in the one-more-hour sense (c is within an hour of it), and
    re-solving with 3.5 h lets c and b in without changing the optimum (a is faster)."""
    inst, posture, base = solved(systems={"x": {"deadline_h": 2.5}}, constraints={"max_sites": 3})
    rules = {r.key: r for r in rule_slacks(inst, posture)}
    assert (rules["constraints.max_sites"].binding, rules["constraints.max_sites"].slack) == (False, 2)
    deadline = rules["systems.x.deadline_h"]
    assert deadline.binding and deadline.used == pytest.approx(1.0) and deadline.slack == pytest.approx(1.5)
    later = relaxed(inst, "systems.x.deadline_h")
    assert later.deadline_h["x"] == 3.5 and {("c", "d", "x")} <= set(later.routes) and ("c", "x") in later.allowed
    explanation = explain_posture(inst, posture, base, deadline=Deadline(60))
    assert report(explanation, "systems.x.deadline_h").checked["objective"] == pytest.approx(0.0, abs=1e-9)
    assert describe_rule(rules["constraints.max_sites"]) == (
        "constraints.max_sites (at most 3 open sites): slack 2 sites (1 of 3 used)"
    )


def test_each_open_site_says_what_it_serves_and_the_hours_it_saves():
    """a (1 h) and b (3 h) each send one unit (A capped at 1). Against the fastest other site, a saves
    (3 - 1) * 1 / 2 = 1 h of mean time; b costs (1 - 3) / 2 = -1 h: it is open for the cap."""
    inst, posture, base = solved(hosts={"A": {"max_unit_share": {"x": 0.5}}}, hours={"a": 1, "b": 3})
    explanation = explain_posture(inst, posture, base, deadline=Deadline(60), rechecks=0)
    sites = {s.site_id: s for s in explanation.sites}
    assert sites["a"].saved_h == pytest.approx(1.0) and sites["b"].saved_h == pytest.approx(-1.0)
    assert sites["a"].serves == {"d": 1} and sites["b"].units == {"x": 1}
    assert describe_site(sites["a"]) == (
        "a (A): holds 1 x; serves d 1; saves 1 h of mean time over the next fastest site"
    )
    assert "costs 1 h of mean time against the next fastest site (chosen for spread, caps or cost)" in describe_site(
        sites["b"]
    )
    data = as_dict(explanation)
    assert {r["key"] for r in data["rules"]} == {"hosts.A.max_unit_share.x"} and data["rules"][0]["checked"] is None


def test_min_hosts_names_the_site_that_keeps_a_host():
    inst, posture, base = solved(systems={"x": {"min_hosts": 2}})
    explanation = explain_posture(inst, posture, base, deadline=Deadline(60), rechecks=0)
    assert all(s.rules == ("keeps x in 2 hosts (min_hosts)",) for s in explanation.sites)


def test_solve_explain_and_the_explain_command_agree_on_a_tiny_run(tmp_path):
    """The tiny scenario (2 units of x for d1; a1 2 h, b1 5 h) with A capped at one unit: a1 and b1 send one
    each, mean 3.5 h. One more unit at A brings the second to 2 h: -1.5 h, priced and re-solved; b1 (1 M USD,
    cost weighs nothing) then closes, and A holds the whole package (risk 50 -> 100 points)."""
    scenario = tiny_scenario(tmp_path)
    run = tmp_path / "run"
    result = invoke("solve", scenario, "--out", run, "--explain", "--set", "hosts.A.max_unit_share.x=0.5")
    assert result.exit_code == 0, result.output
    summary = json.loads((run / "summary.json").read_text())
    cap = next(r for r in summary["explanation"]["rules"] if r["key"] == "hosts.A.max_unit_share.x")
    assert cap["binding"] and cap["price"] == pytest.approx(-1.5) and cap["checked"]["time_h"] == pytest.approx(-1.5)
    assert cap["words"] == (
        "hosts.A.max_unit_share.x (A at most 1 x): binds (1 of 1 units); each unit would save 1.5 of the objective "
        "(LP price); re-solved one unit: objective -1.5 (time_h -1.5, risk +50, cost_musd -1, optimal)"
    )
    assert invoke("verify", run).exit_code == 0  # the explanation is part of the verified summary
    page = (run / "map.html").read_text()
    assert "rules that bind" in page and "hosts.A.max_unit_share.x (A at most 1 x): binds" in page
    printed = invoke("explain", run, "--json")
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["rules"] == summary["explanation"]["rules"]
    text = invoke("explain", run)
    assert "tiny+1 override: 1 rule(s) bind, 0 slack" in text.output
    assert "a1 (A): holds 1 x; serves d1 1; saves 1.5 h of mean time over the next fastest site" in text.output


def test_explain_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = invoke("explain", tmp_path)
    assert result.exit_code == 1
    assert f"{tmp_path}: not a readable depotsite run folder" in result.output


def test_solve_keeps_highs_log_in_the_run_folder_on_request(tmp_path):
    """--solver-log: HiGHS's own log lands in the run folder as highs.log, hashed like every output, so verify
    passes and notices a changed log; without it there is no log."""
    scenario = tiny_scenario(tmp_path)
    run, plain = tmp_path / "run", tmp_path / "plain"
    assert invoke("solve", scenario, "--out", run, "--no-maps", "--solver-log").exit_code == 0
    text = (run / "highs.log").read_text()
    assert "HiGHS" in text and "Optimal" in text
    assert "highs.log" in json.loads((run / "manifest.json").read_text())["outputs"]
    assert invoke("verify", run).exit_code == 0
    (run / "highs.log").write_text(text + "edited\n")
    changed = invoke("verify", run)
    assert changed.exit_code == 6 and "highs.log" in changed.output
    assert invoke("solve", scenario, "--out", plain, "--no-maps").exit_code == 0
    assert not (plain / "highs.log").exists()
