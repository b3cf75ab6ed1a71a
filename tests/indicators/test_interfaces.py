"""The command and the API give the same figures; bad arguments exit 2 / answer 400; who reads which area."""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stdout

import pytest
from django.core.management import call_command
from django.test import Client

from indicators import permissions
from indicators.services import figures

URL = "/api/indicators/"
YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out):
            call_command("indicators", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_command_prints_the_figures_as_json(dataset):  # type: ignore[no-untyped-def]
    status, out, _err = run("--region", "350121", "--from", "2025-01-01", "--to", "2025-12-31", "--json")
    assert status == 0
    data = json.loads(out)
    assert data["region"] == "350121" and data["from"] == "2025-01-01" and data["to"] == "2025-12-31"
    assert data["indicators"]["live_births"]["numerator"] == 5
    assert (data["indicators"]["mmr"]["numerator"], data["indicators"]["mmr"]["denominator"]) == (2, 5)
    expected = figures(region=dataset.personas.regions.county_a, date_from=dt.date(2025, 1, 1),
                       date_to=dt.date(2025, 12, 31))
    assert data == json.loads(json.dumps(expected))


def test_command_groups_and_prints_a_table(dataset):  # type: ignore[no-untyped-def]
    status, out, _err = run("--region", "350000", "--from", "2025-01-01", "--to", "2025-12-31", "--by", "area",
                            "--json")
    assert status == 0
    assert [g["key"] for g in json.loads(out)["groups"]] == ["350100", "350200"]
    status, out, _err = run("--region", "350121", "--from", "2025-01-01", "--to", "2025-12-31")
    assert status == 0
    assert "孕产妇死亡率" in out and "2/5" in out


@pytest.mark.parametrize(("args", "field"), [
    (["--region", "999999", "--from", "2025-01-01", "--to", "2025-12-31"], "region"),
    (["--region", "350121", "--from", "2025-13-01", "--to", "2025-12-31"], "from"),
    (["--region", "350121", "--from", "2025-02-01", "--to", "2025-01-31"], "to"),
    (["--region", "350121", "--from", "2025-01-01", "--to", "2025-12-31", "--institution", "NOPE"], "institution"),
    (["--region", "350121", "--from", "2025-01-01", "--to", "2025-12-31", "--by", "area"], "by"),
])
def test_command_exits_2_on_bad_arguments(personas, args, field):  # type: ignore[no-untyped-def]
    status, out, err = run(*args, "--json")
    assert status == 2
    assert list(json.loads(out)["errors"]) == [field]
    assert err.startswith(f"{field}: ")
    status, out, err = run(*args)
    assert status == 2 and out == "" and field in err


def test_api_answers_an_officer_of_the_area(dataset):  # type: ignore[no-untyped-def]
    users = dataset.personas.users
    response = client_for(users.mch_a).get(URL, {"region": "350121", **YEAR})
    assert response.status_code == 200
    body = response.json()
    assert body["indicators"]["mmr"] == {"numerator": 2, "denominator": 5, "value": 40000.0, "unit": "per_100000",
                                         "target": None}
    # A city officer reads her counties; a provincial one the province.
    assert client_for(users.bureau_city).get(URL, {"region": "350121", **YEAR}).status_code == 200
    assert client_for(users.bureau_province).get(URL, {"region": "350212", **YEAR}).status_code == 200
    hospital = dataset.personas.inst.hospital_a.code
    response = client_for(users.bureau_a).get(URL, {"region": "350121", "institution": hospital, **YEAR})
    assert response.status_code == 200 and response.json()["indicators"]["deliveries"]["numerator"] == 3


def test_api_answers_another_countys_region_as_missing(dataset):  # type: ignore[no-untyped-def]
    users = dataset.personas.users
    client = client_for(users.mch_b)
    other = client.get(URL, {"region": "350121", **YEAR})
    missing = client.get(URL, {"region": "999999", **YEAR})
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    # Nor a county's officer the city above her, nor another province's bureau Fujian.
    assert client.get(URL, {"region": "350200", **YEAR}).status_code == 404
    assert client_for(users.bureau_gd).get(URL, {"region": "350000", **YEAR}).status_code == 404
    # An institution of another county, inside a region she reads, is missing too.
    hospital_a = dataset.personas.inst.hospital_a.code
    assert client.get(URL, {"region": "350212", "institution": hospital_a, **YEAR}).status_code == 404


def test_api_refuses_who_reads_no_figures(personas, client):  # type: ignore[no-untyped-def]
    response = client_for(personas.users.obstetrician_a).get(URL, {"region": "350121", **YEAR})
    assert response.status_code == 403 and "detail" in response.json()
    assert client_for(personas.users.reviewer_province).get(URL, {"region": "350121", **YEAR}).status_code == 403
    assert client.get(URL, {"region": "350121", **YEAR}).status_code == 403  # not signed in


@pytest.mark.parametrize(("query", "fields"), [
    ({}, {"region", "from", "to"}),
    ({"region": "35012", **YEAR}, {"region"}),
    ({"region": "350121", "from": "2025-02-30", "to": "2025-12-31"}, {"from"}),
    ({"region": "350121", "from": "2025-12-31", "to": "2025-01-01"}, {"to"}),
    ({"region": "350121", "from": "0001-01-01", "to": "9999-12-31"}, {"from", "to"}),
])
def test_api_400_with_field_errors(personas, query, fields):  # type: ignore[no-untyped-def]
    response = client_for(personas.users.mch_a).get(URL, query)
    assert response.status_code == 400
    assert set(response.json()) == fields


def test_the_operation_is_in_the_openapi_schema(personas):  # type: ignore[no-untyped-def]
    schema = client_for(personas.users.mch_a).get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/indicators/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"region", "from", "to", "institution"}
    assert {"200", "400", "403", "404"} <= set(operation["responses"])


def test_permissions_are_written_once(personas):  # type: ignore[no-untyped-def]
    users, regions = personas.users, personas.regions
    assert permissions.can_read_region(users.mch_a, regions.county_a)
    assert not permissions.can_read_region(users.mch_a, regions.county_b)
    assert not permissions.can_read_region(users.mch_a, regions.fuzhou)
    assert permissions.can_read_region(users.bureau_city, regions.county_a2)
    assert not permissions.may_read_figures(users.duty_a)
    assert permissions.default_region(users.bureau_province) == regions.fujian
