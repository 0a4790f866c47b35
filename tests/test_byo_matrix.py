"""A capacitated facility location instance written as depotsite tables with its own travel-time matrix
(no roads, no boundaries). Its optimum comes from an independent enumeration oracle."""

from __future__ import annotations

import csv
import json
import random

import pytest

from conftest import invoke
from instances import HEADERS
from test_oracle import enumerate_optimum


def write_csv(path, header, rows):
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def test_facility_location_instance_solves_to_the_enumerated_optimum(tmp_path):
    rng = random.Random(2024)
    warehouses = [f"w{i}" for i in range(6)]
    customers = [f"c{j}" for j in range(9)]
    capacity = {w: rng.randint(15, 40) for w in warehouses}
    fixed = {w: float(rng.randint(20, 90)) for w in warehouses}
    demand = {(c, "goods"): rng.randint(2, 9) for c in customers}
    # the cost of serving all of c from w, as OR-Library states it; hours = cost / demand
    cost = {(w, c): float(rng.randint(10, 400)) for w in warehouses for c in customers}
    hours = {(w, c, "goods"): cost[w, c] / demand[c, "goods"] for w in warehouses for c in customers}
    total = sum(demand.values())

    write_csv(
        tmp_path / "hosts.csv",
        ["host_id", "name", "group", "release_delay_h"],
        [[f"h_{w}", w, "", 0] for w in warehouses],
    )
    write_csv(
        tmp_path / "sites.csv",
        HEADERS["sites"],
        [[w, w, f"h_{w}", 0, 0, "logistics_hub", capacity[w], 0, 10, fixed[w], "generated"] for w in warehouses],
    )
    write_csv(
        tmp_path / "systems.csv",
        HEADERS["systems"],
        [["goods", "goods", "I", "road", 1, 1, 0, 0, 1, "logistics_hub"]],
    )
    write_csv(
        tmp_path / "destinations.csv",
        ["destination_id", "name", "lat", "lon", "kind"],
        [[c, c, 0, 0, "city"] for c in customers],
    )
    write_csv(
        tmp_path / "demand.csv", ["destination_id", "system_id", "units"], [[c, w, n] for (c, w), n in demand.items()]
    )
    write_csv(
        tmp_path / "matrix.csv",
        ["site_id", "destination_id", "system_id", "hours"],
        [[*k, repr(v)] for k, v in hours.items()],
    )
    (tmp_path / "cflp.toml").write_text(f"""
name = "cflp"
[data]
hosts = "hosts.csv"
sites = "sites.csv"
systems = "systems.csv"
destinations = "destinations.csv"
demand = "demand.csv"
travel_times = "matrix.csv"
[network]
release_delay_h = 0
[network.profiles.road]
speed_kph = 1
[objective]
time_weight = {total}
risk_weight = 0
cost_weight = 1
""")
    out = tmp_path / "run"
    result = invoke("solve", tmp_path / "cflp.toml", "--out", out)
    assert result.exit_code == 0, result.output

    with (out / "allocation.csv").open() as stream:
        open_sites = {r["site_id"] for r in csv.DictReader(stream)}
    with (out / "deliveries.csv").open() as stream:
        deliveries = list(csv.DictReader(stream))
    recomputed = sum(fixed[w] for w in open_sites) + sum(
        int(r["units"]) * hours[r["site_id"], r["destination_id"], "goods"] for r in deliveries
    )
    optimum = enumerate_optimum(capacity, fixed, demand, hours, 1.0 / total) * total
    assert recomputed == pytest.approx(optimum, rel=1e-9)
    assert json.loads((out / "summary.json").read_text())["objective"] == pytest.approx(optimum, rel=1e-9)
    assert (out / "routes.geojson").is_file() and (out / "map.html").is_file()


@pytest.mark.parametrize("column", ["transit_h", "hours"])
def test_the_matrix_transit_column_is_transit_h_or_the_older_hours(tmp_path, column):
    """Both names of the transit column read the same hours; a header with neither is refused by name."""
    from depotsite.errors import InputError
    from depotsite.traveltimes import read_matrix
    from instances import make_inputs, site, system

    inputs = make_inputs(hosts=["A"], sites=[site("a", "A")], systems=[system("x")], demand={("d", "x"): 1})
    write_csv(tmp_path / "m.csv", ["site_id", "destination_id", "system_id", column], [["a", "d", "x", "2.5"]])
    assert read_matrix(tmp_path / "m.csv", inputs).hours(("a", "d", "x")) == 2.5
    write_csv(tmp_path / "bad.csv", ["site_id", "destination_id", "system_id", "minutes"], [["a", "d", "x", "150"]])
    with pytest.raises(InputError) as caught:
        read_matrix(tmp_path / "bad.csv", inputs)
    assert "transit_h" in str(caught.value) and "minutes" in str(caught.value)
