"""Coverage over the REST API: figures equal to the brute-force recount, clear 400s, and
audited CSV / XLSX exports."""

import datetime as dt
import io

import requests
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo import coverage
from tests.conftest import PASSWORD


def leader(url, users):
    r = requests.post(url + "/api/auth/token", json={"username": users["leader"], "password": PASSWORD}, timeout=5)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_coverage_route_equals_the_recount_and_exports_are_audited(live_app, users, engine):
    url, headers = live_app["url"], leader(live_app["url"], users)
    with Session(engine) as s:
        coverage.rebuild(s)
        s.commit()
    start, end = dt.date(2020, 1, 1), dt.date.today() + dt.timedelta(days=2)
    params = {"start": start.isoformat(), "end": end.isoformat()}
    for by in ("township", "domain", "unit", "body", "officer"):
        r = requests.get(url + "/api/coverage", params={**params, "by": by}, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        groups = r.json()["groups"]
        with Session(engine) as s:
            expected = coverage.brute_force(s, by, coverage.Window(start, end))
        assert {g["key"]: (g["numerator"], g["denominator"]) for g in groups} == expected
        assert all(g["ratio"] is None or 0 <= g["ratio"] <= 1 for g in groups)

    for bad, words in (({"by": "street"}, "by must be"), ({"start": "last week"}, "ISO dates"),
                       ({"period": "decade"}, "period"), ({"start": "2026-02-01", "end": "2026-01-01"}, "start")):
        r = requests.get(url + "/api/coverage", params=bad, headers=headers, timeout=10)
        assert r.status_code == 400 and words in r.json()["detail"], (bad, r.text)

    csv_file = requests.get(url + "/api/coverage.csv", params={**params, "by": "township"}, headers=headers, timeout=30)
    assert csv_file.status_code == 200 and csv_file.text.lstrip("\ufeff").startswith("编码 key,名称 name")
    assert len(csv_file.text.strip().splitlines()) == 1 + len(coverage_rows(url, headers, params))
    xlsx = requests.get(url + "/api/coverage.xlsx", params={**params, "by": "unit"}, headers=headers, timeout=30)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A1"].value == "编码 key" and sheet.max_row >= 2
    with engine.connect() as c:
        formats = c.execute(text("SELECT detail->>'format' FROM audit_log WHERE action = 'coverage_export' "
                                 "AND actor = :a ORDER BY id"), {"a": users["leader"]}).scalars().all()
    assert formats[-2:] == ["csv", "xlsx"]


def coverage_rows(url, headers, params):
    return requests.get(url + "/api/coverage", params={**params, "by": "township"}, headers=headers,
                        timeout=30).json()["groups"]
