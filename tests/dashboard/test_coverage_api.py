"""Coverage over the REST API: figures equal to the brute-force recount, clear 400s, and
audited CSV / XLSX exports."""

import datetime as dt
import io

import requests
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.coverage import counts, facts, model
from geo.infra.timezone import today as beijing_today
from tests.conftest import PASSWORD


def leader(url, users):
    r = requests.post(url + "/api/auth/token", json={"username": users["leader"], "password": PASSWORD}, timeout=5)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_coverage_route_equals_the_recount_and_exports_are_audited(live_app, users, engine):
    url, headers = live_app["url"], leader(live_app["url"], users)
    with Session(engine) as s:
        facts.rebuild(s)
        s.commit()
    start, end = dt.date(2020, 1, 1), beijing_today() + dt.timedelta(days=2)
    params = {"start": start.isoformat(), "end": end.isoformat()}
    for by in ("township", "domain", "unit", "body", "officer"):
        r = requests.get(url + "/api/coverage", params={**params, "by": by}, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        groups = r.json()["groups"]
        with Session(engine) as s:
            expected = counts.brute_force(s, by, model.Window(start, end))
        assert {g["key"]: (g["numerator"], g["denominator"]) for g in groups} == expected
        assert all(g["ratio"] is None or 0 <= g["ratio"] <= 1 for g in groups)

    for bad, words in (
        ({"by": "street"}, "by must be"),
        ({"start": "last week"}, "ISO dates"),
        ({"period": "decade"}, "period"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "start"),
    ):
        r = requests.get(url + "/api/coverage", params=bad, headers=headers, timeout=10)
        assert r.status_code == 400 and words in r.json()["detail"], (bad, r.text)

    csv_file = requests.get(url + "/api/coverage.csv", params={**params, "by": "township"}, headers=headers, timeout=30)
    assert csv_file.status_code == 200 and csv_file.text.lstrip("\ufeff").startswith("编码 key,名称 name")
    assert len(csv_file.text.strip().splitlines()) == 1 + len(coverage_rows(url, headers, params))
    xlsx = requests.get(url + "/api/coverage.xlsx", params={**params, "by": "unit"}, headers=headers, timeout=30)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A1"].value == "编码 key" and sheet.max_row >= 2
    with engine.connect() as c:
        formats = (
            c.execute(
                text(
                    "SELECT detail->>'format' FROM audit_log WHERE action = 'coverage_export' "
                    "AND actor = :a ORDER BY id"
                ),
                {"a": users["leader"]},
            )
            .scalars()
            .all()
        )
    assert formats[-2:] == ["csv", "xlsx"]


def coverage_rows(url, headers, params):
    return requests.get(url + "/api/coverage", params={**params, "by": "township"}, headers=headers, timeout=30).json()[
        "groups"
    ]


def test_unit_drill_down_stays_inside_the_callers_units(live_app, users, engine):
    url = live_app["url"]
    token = requests.post(
        url + "/api/auth/token", json={"username": users["supervisor"], "password": PASSWORD}, timeout=5
    ).json()["access_token"]
    supervisor = {"Authorization": f"Bearer {token}"}
    with engine.connect() as c:
        own, other = (
            c.execute(text("SELECT id FROM enforcement_unit WHERE code IN ('U001', 'U002') ORDER BY code"))
            .scalars()
            .all()
        )
    params = {"start": "2020-01-01", "by": "unit"}
    mine = requests.get(url + "/api/coverage", params=params, headers=supervisor, timeout=30).json()["groups"]
    assert [g["key"] for g in mine] == [str(own)]  # a unit-scoped viewer sees his unit only
    r = requests.get(url + "/api/coverage", params={**params, "unit": other}, headers=supervisor, timeout=10)
    assert r.status_code == 404 and "not in your scope" in r.json()["detail"]
    officers = requests.get(
        url + "/api/coverage", params={**params, "by": "officer", "unit": own}, headers=supervisor, timeout=30
    ).json()["groups"]
    with engine.connect() as c:
        theirs = set(c.execute(text("SELECT id::text FROM officer WHERE unit_id = :u"), {"u": own}).scalars())
    assert officers and {g["key"] for g in officers} <= theirs

    leader_headers = leader(url, users)
    for bad, words in (({"risk": "9"}, "risk must be one of"), ({"unit": "x"}, "unit must be an integer")):
        r = requests.get(url + "/api/coverage", params=bad, headers=leader_headers, timeout=10)
        assert r.status_code == 400 and words in r.json()["detail"], r.text
    trend = requests.get(
        url + "/api/coverage/trend",
        params={"start": "2026-01-01", "end": "2026-03-31", "step": "month"},
        headers=leader_headers,
        timeout=30,
    )
    assert [p["start"] for p in trend.json()["points"]] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    r = requests.get(url + "/api/coverage/trend", params={"step": "hour"}, headers=leader_headers, timeout=10)
    assert r.status_code == 400 and "step must be" in r.json()["detail"]
    bins = requests.get(url + "/api/coverage/response", headers=leader_headers, timeout=30).json()["bins"]
    assert bins[0]["minutes"] == "<15" and all(b["on_time"] <= b["inspections"] for b in bins)
