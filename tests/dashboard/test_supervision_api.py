"""Supervision over the REST API (issue 35): figures counted by hand on a small committed
fixture of LawGrid's own records (inspections, cases, sources), in a year no other test
writes; a unit's head sees only his units, an officer none; bad periods and unknown
indicators are explained (4xx, never 500); the export is the list, audited."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text

from lawgrid.app import create_app
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("users")
YEAR = "2019"


@pytest.fixture(scope="module")
def client(runtime):
    return create_app(runtime.settings, runtime).server.test_client()


@pytest.fixture(scope="module")
def tokens(client, users):
    out = {}
    for name in ("t-oversight", "t-organ_head", "t-officer", "t-supervisor"):
        r = client.post("/api/auth/token", json={"username": name, "password": PASSWORD})
        out[name] = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    return out


@pytest.fixture(scope="module")
def planted(engine):
    """A unit of its own (SUP19, so U001's invariants other tests hold stay true) in 2019: 4
    officers certified that year (one more expired in 2018), 2 took part on completed
    inspections citing one of U001's codified items; one more completed inspection without
    officers; a case source past its verify clock with no outcome (有案不立) and one filed in
    time; and one inspection of U001 (for its head's scope)."""
    with engine.begin() as c:
        unit = c.execute(
            text(
                """INSERT INTO enforcement_unit (code, name, kind, domains)
                   VALUES ('SUP19', '考核测试单位', 'department', ARRAY['market_regulation'])
                   ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id"""
            )
        ).scalar_one()
        u001 = c.execute(text("SELECT id FROM enforcement_unit WHERE code = 'U001'")).scalar_one()
        item = c.execute(
            text("SELECT item_code FROM power_item WHERE unit_id = :u ORDER BY id LIMIT 1"), {"u": u001}
        ).scalar_one()
        target = c.execute(text("SELECT id FROM target ORDER BY id LIMIT 1")).scalar_one()
        officers = list(
            c.execute(
                text(
                    """INSERT INTO officer (cert_no, name, unit_id, cert_valid_from, cert_valid_to)
                       SELECT 'SUP19-' || g, '考核' || g, :u, DATE '2018-01-01',
                              CASE WHEN g = 5 THEN DATE '2018-12-31' ELSE DATE '2020-12-31' END
                       FROM generate_series(1, 5) g RETURNING id"""
                ),
                {"u": unit},
            ).scalars()
        )
        inspections = list(
            c.execute(
                text(
                    """INSERT INTO inspection (target_id, domain_key, items, source, due_at, status, result, unit_id,
                                               created_by, created_at, on_site_at, completed_at)
                       SELECT :t, 'market_regulation', ARRAY[:item], 'api', TIMESTAMPTZ '2019-05-01 10:00+08',
                              'completed', 'compliant', :u, 'test', TIMESTAMPTZ '2019-04-30 10:00+08',
                              TIMESTAMPTZ '2019-05-01 09:00+08', CAST('2019-05-0' || g || ' 10:00+08' AS timestamptz)
                       FROM generate_series(1, 3) g RETURNING id"""
                ),
                {"t": target, "u": unit, "item": item},
            ).scalars()
        )
        extra = c.execute(
            text(
                """INSERT INTO inspection (target_id, domain_key, source, due_at, status, result, unit_id, created_by,
                                           created_at, on_site_at, completed_at)
                   VALUES (:t, 'market_regulation', 'api', TIMESTAMPTZ '2019-07-01 10:00+08', 'completed', 'compliant',
                           :u, 'test', TIMESTAMPTZ '2019-06-30 10:00+08', TIMESTAMPTZ '2019-07-01 09:00+08',
                           TIMESTAMPTZ '2019-07-01 10:00+08') RETURNING id"""
            ),
            {"t": target, "u": u001},
        ).scalar_one()
        c.execute(
            text(
                "INSERT INTO inspection_officer (inspection_id, officer_id, due_day) VALUES "
                "(:a, :o1, DATE '2019-05-01'), (:a, :o2, DATE '2019-05-01'), (:b, :o1, DATE '2019-05-01')"
            ),
            {"a": inspections[0], "b": inspections[1], "o1": officers[0], "o2": officers[1]},
        )
        late, in_time = c.execute(
            text(
                """INSERT INTO case_source (kind, unit_id, summary, received_on, verify_due, status, outcome_on,
                                             created_by)
                   VALUES ('report', :u, '考核测试：逾期未核查', DATE '2019-06-03', DATE '2019-06-24', 'registered',
                           NULL, 'test'),
                          ('report', :u, '考核测试：按时立案', DATE '2019-06-03', DATE '2019-06-24', 'filed',
                           DATE '2019-06-10', 'test')
                   RETURNING id"""
            ),
            {"u": unit},
        ).scalars()
    yield {"unit": unit, "u001": u001, "officers": officers, "inspections": inspections, "late_source": late}
    # the shared database is the seeded district other tests count (55 units, every officer with
    # an area): leave it as found
    with engine.begin() as c:
        gone = [*inspections, extra]
        c.execute(text("DELETE FROM inspection_officer WHERE inspection_id = ANY(:i)"), {"i": gone})
        c.execute(text("DELETE FROM case_source WHERE unit_id = :u OR inspection_id = ANY(:i)"), {"u": unit, "i": gone})
        c.execute(text("DELETE FROM coverage_fact WHERE inspection_id = ANY(:i)"), {"i": gone})
        c.execute(text("DELETE FROM inspection WHERE id = ANY(:i)"), {"i": gone})
        c.execute(text("DELETE FROM officer WHERE id = ANY(:o)"), {"o": officers})
        c.execute(text("DELETE FROM enforcement_unit WHERE id = :u"), {"u": unit})


def get(client, tokens, who, path, **params):
    return client.get(path, query_string=params, headers=tokens[who])


def figure(client, tokens, who, key, by="district", period=YEAR):
    r = get(client, tokens, who, "/api/supervision/figures", period=period, by=by, indicator=key)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["indicators"][0]


def unit_row(fig, unit):
    return next(r for r in fig["rows"] if r["key"] == unit)


def test_hand_counts_of_lawgrid_records(client, tokens, planted):
    unit = planted["unit"]
    part = unit_row(figure(client, tokens, "t-oversight", "participation", by="unit"), unit)
    assert (part["num"], part["den"]) == (2, 4)  # 2 of the 4 certified in 2019 were on inspections
    insp = unit_row(figure(client, tokens, "t-oversight", "inspections", by="unit"), unit)
    assert insp["value"] == 3
    unfiled = unit_row(figure(client, tokens, "t-oversight", "unfiled", by="unit"), unit)
    assert unfiled["value"] == 1
    listed = get(
        client,
        tokens,
        "t-oversight",
        "/api/supervision/indicators/unfiled/records",
        period=YEAR,
        by="unit",
        value=str(unit),
    ).get_json()
    assert [r["id"] for r in listed["records"]] == [planted["late_source"]]


def test_a_unit_head_sees_his_units_and_an_officer_none(client, tokens, planted):
    head = figure(client, tokens, "t-organ_head", "inspections", by="unit")
    assert [r["key"] for r in head["rows"]] == [planted["u001"]]  # U001 only
    r = get(client, tokens, "t-officer", "/api/supervision/figures", period=YEAR)
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"


def test_bad_requests_are_explained(client, tokens, planted):
    r = get(client, tokens, "t-oversight", "/api/supervision/figures", period="last spring")
    assert r.status_code == 400 and "2024-Q2" in r.get_json()["detail"]
    r = get(client, tokens, "t-oversight", "/api/supervision/indicators/no_such/records", period=YEAR)
    assert r.status_code == 404
    r = get(
        client, tokens, "t-oversight", "/api/supervision/figures", period=YEAR, by="officer", indicator="performance"
    )
    assert r.status_code == 400 and r.get_json()["rule"] == "dimension"
    r = get(client, tokens, "t-oversight", "/api/supervision/indicators/inspections/records", period=YEAR, limit=0)
    assert r.status_code == 400


def test_the_export_is_the_list_and_is_audited(client, tokens, planted, engine):
    r = get(
        client,
        tokens,
        "t-oversight",
        "/api/supervision/indicators/inspections/records.csv",
        period=YEAR,
        by="unit",
        value=str(planted["unit"]),
    )
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    ids = sorted(int(row[1]) for row in rows[2:])
    assert ids == sorted(planted["inspections"])
    with engine.connect() as c:
        detail = c.execute(
            text(
                "SELECT detail FROM audit_log WHERE action = 'supervision_export' AND actor = 't-oversight' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
    assert detail["rows"] == 3 and detail["period"] == YEAR
