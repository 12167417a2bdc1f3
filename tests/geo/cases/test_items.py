"""Codified enforcement items in the database: `lawgrid import items` (YAML and XLSX) reports
each bad item with its line while the good ones load; a loaded version never changes (the
database refuses it) and a new version replaces the current one; the bundled items cover every
penalty power of the power list; check points; the database's statutory range equals the core's;
and the items API."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import uuid
from decimal import Decimal

import openpyxl
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.cases import discretion
from geo.cases.items import loading, store
from geo.infra.errors import from_database
from lawgrid.app import create_app
from tests.conftest import PASSWORD

ITEM = """\
code: {code}
version: {version}
name: 测试事项
power_type: penalty
domain: market_regulation
penalty_provision: 《测试条例》第一条
statutory:
  tiers:
    - id: ordinary
      label: 一般情形
      fine: {{type: fixed, min_yuan: 1000, max_yuan: {max_yuan}}}
check_points:
  - {{content: 检查点甲}}
valid_from: 2025-01-01
"""
BAD_BAND = """\
code: {code}-bad-band
version: 1
name: 幅度超出法定范围
power_type: penalty
domain: market_regulation
statutory:
  tiers:
    - id: ordinary
      label: 一般情形
      fine: {{type: fixed, min_yuan: 1000, max_yuan: 5000}}
discretion:
  levels:
    - level: 从重
      bands: {{ordinary: [4000, 9000]}}
valid_from: 2025-01-01
"""
BAD_DOMAIN = """\
code: {code}-bad-domain
version: 1
name: 领域不存在
power_type: inspection
domain: no_such_domain
valid_from: 2025-01-01
"""


def write(path, *docs):
    path.write_text("---\n" + "---\n".join(docs), encoding="utf-8")
    return path


def test_an_import_loads_the_good_items_and_reports_each_bad_one_by_line(session, tmp_path):
    code = f"test-{uuid.uuid4().hex[:8]}"
    path = write(
        tmp_path / "items.yaml",
        ITEM.format(code=code, version=1, max_yuan=10000),
        BAD_BAND.format(code=code),
        BAD_DOMAIN.format(code=code),
    )
    report = loading.import_items(session, path, "test")
    assert (report.loaded, report.unchanged) == (1, 0)
    assert [(line, c) for line, c, _ in report.rejects] == [(17, f"{code}-bad-band"), (33, f"{code}-bad-domain")]
    assert "is not inside" in report.rejects[0][2] and "not in the taxonomy" in report.rejects[1][2]
    with open(report.reject_file, encoding="utf-8") as f:
        assert [row["line"] for row in csv.DictReader(f)] == ["17", "33"]
    stored = store.get(session, code)
    assert stored.bands_derived  # no published bands: 30/40/30, marked
    assert [lv.bands["ordinary"] for lv in stored.discretion.levels] == [
        (Decimal(1000), Decimal(3700)),
        (Decimal(3700), Decimal(7300)),
        (Decimal(7300), Decimal(10000)),
    ]
    assert loading.import_items(session, path, "test").unchanged == 1  # the same again changes nothing


def test_a_version_never_changes_and_a_new_one_replaces_it(session, tmp_path):
    code = f"test-{uuid.uuid4().hex[:8]}"
    loading.import_items(session, write(tmp_path / "v1.yaml", ITEM.format(code=code, version=1, max_yuan=10000)), "t")
    edited = loading.import_items(
        session, write(tmp_path / "e.yaml", ITEM.format(code=code, version=1, max_yuan=9000)), "t"
    )
    assert edited.loaded == 0 and "a version never changes, load it as version 2" in edited.rejects[0][2]
    for sql in (
        "UPDATE enforcement_item SET statutory = '{}' WHERE code = :c",
        "DELETE FROM enforcement_item WHERE code = :c",
    ):
        with pytest.raises(DBAPIError) as refused, session.begin_nested():
            session.execute(text(sql), {"c": code})
        assert [v["rule"] for v in from_database(refused.value).violations] == ["item_version_immutable"]
    v2 = ITEM.format(code=code, version=2, max_yuan=20000).replace("2025-01-01", "2026-01-01")
    assert loading.import_items(session, write(tmp_path / "v2.yaml", v2), "t").loaded == 1
    assert store.get(session, code).version == 2
    history = store.versions(session, code)
    assert [(h["version"], str(h["valid_to"])) for h in history] == [(2, "None"), (1, "2025-12-31")]
    assert store.get(session, code, 1).tier(None).fine.max_yuan == Decimal(10000)  # the old rules stay readable


def test_an_xlsx_sheet_is_read_row_by_row(session, tmp_path):
    code = f"test-{uuid.uuid4().hex[:8]}"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "version", "name", "power_type", "domain", "statutory", "valid_from"])
    tiers = yaml.safe_dump(
        {"tiers": [{"id": "a", "label": "甲", "fine": {"type": "fixed", "min_yuan": 0, "max_yuan": 500}}]}
    )
    sheet.append([code, 1, "表格事项", "penalty", "market_regulation", tiers, "2025-01-01"])
    sheet.append([code + "-x", 1, "缺少法定档次", "penalty", "market_regulation", None, "2025-01-01"])
    book.save(tmp_path / "items.xlsx")
    report = loading.import_items(session, tmp_path / "items.xlsx", "t")
    assert report.loaded == 1
    assert [(line, c) for line, c, _ in report.rejects] == [(3, code + "-x")]
    assert "states its statutory tiers" in report.rejects[0][2]


def test_every_penalty_power_is_codified_with_check_points(session):
    uncodified = session.execute(
        text(
            """SELECT DISTINCT p.item_code FROM power_item p
               LEFT JOIN enforcement_item e ON e.code = p.item_code AND e.valid_to IS NULL WHERE e.code IS NULL"""
        )
    ).all()
    assert uncodified == []
    points = store.check_points(session, ["market_regulation.01", "market_regulation.06"])
    assert [p["code"] for p in points] == ["market_regulation.01"] * 2 + ["market_regulation.06"] * 2
    assert points[0]["content"] == "食品经营许可证的取得、公示和有效期"
    unit_items = store.listing(session, unit_ids=[1])
    assert {i["domain"] for i in unit_items} == {"market_regulation"}
    assert {"market_regulation.04", "market_regulation.05", "market_regulation.06"} <= {i["code"] for i in unit_items}


def test_the_database_and_the_core_agree_on_every_statutory_range(session):
    for item in (store.get(session, c) for c in session.execute(text("SELECT code FROM enforcement_item")).scalars()):
        for tier in item.statutory.tiers if item.statutory else ():
            for base in (None, Decimal("0"), Decimal("9999.99"), Decimal(10_000), Decimal("123456.78")):
                ours, _ = discretion.statutory_range(tier.fine, base)
                theirs = session.execute(
                    text("SELECT lower(r), upper(r) FROM lawgrid_fine_range(CAST(:f AS jsonb), :b) r"),
                    {"f": tier.fine.model_dump_json(), "b": base},
                ).one()
                expected = (None, None) if ours is None else ours
                assert tuple(theirs) == expected, (item.code, tier.id, base)


@pytest.fixture(scope="module")
def client(runtime, users):
    app = create_app(runtime.settings, runtime).server.test_client()
    token = app.post("/api/auth/token", json={"username": "t-officer", "password": PASSWORD}).get_json()
    return app, {"Authorization": f"Bearer {token['access_token']}"}


def test_the_items_api_looks_up_and_checks(client):
    app, auth = client
    found = app.get("/api/items?q=无照", headers=auth)
    assert found.status_code == 200 and [i["code"] for i in found.get_json()["items"]] == ["market_regulation.06"]
    item = app.get("/api/items/market_regulation.06", headers=auth).get_json()
    assert item["discretion"]["source"].startswith("台安县") and item["versions"][0]["version"] == 1
    verdict = app.post(
        "/api/items/check",
        json={
            "item_code": "market_regulation.06",
            "party_kind": "legal",
            "penalty": {
                "kinds": ["fine"],
                "fine_yuan": 120000,
                "tier": "refuse_to_correct",
                "factors": {"turnover_yuan": 50000, "harm": False},
            },
        },
        headers=auth,
    )
    assert verdict.status_code == 200
    assert (verdict.get_json()["level"], verdict.get_json()["verdict"]) == ("从轻", "unlawful")
    assert app.get("/api/items/no-such-item", headers=auth).status_code == 404
    bad = app.post("/api/items/check", json={"item_code": "x", "party_kind": "robot", "penalty": {}}, headers=auth)
    assert bad.status_code == 400 and bad.is_json
    points = app.get("/api/items/check-points?items=transport.01,transport.03", headers=auth).get_json()
    assert [p["code"] for p in points["check_points"]] == ["transport.01", "transport.01", "transport.03"]
    assert app.get("/api/items").status_code == 401


def test_lawgrid_import_items_from_the_command_line(databases, tmp_path):
    env = {**os.environ, "LAWGRID_DATABASE_URL": databases.fresh("lawgrid_items_cli")}

    def lawgrid(*args):
        return subprocess.run(
            [sys.executable, "-m", "lawgrid.cli", *args], env=env, capture_output=True, text=True, timeout=300
        )

    assert lawgrid("db", "upgrade").returncode == 0
    code = f"cli-{uuid.uuid4().hex[:8]}"
    path = write(tmp_path / "cli.yaml", ITEM.format(code=code, version=1, max_yuan=10000), BAD_BAND.format(code=code))
    result = lawgrid("import", "items", str(path))
    assert result.returncode == 0, result.stderr
    assert "items: 1 loaded, 0 unchanged, 1 rejected" in result.stdout
    assert f"line 17 {code}-bad-band" in result.stdout and (tmp_path / "cli.yaml.rejects.csv").exists()
    missing = lawgrid("import", "items", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1 and "cannot be read" in missing.stderr
    # a tag that would build a Python object rejects its item by line: no traceback, the others load
    hostile = write(
        tmp_path / "hostile.yaml",
        ITEM.format(code=f"{code}-a", version=1, max_yuan=10000),
        "!!python/object/apply:os.system ['echo pwned']\n",
        ITEM.format(code=f"{code}-b", version=1, max_yuan=10000),
    )
    tagged = lawgrid("import", "items", str(hostile))
    assert tagged.returncode == 0 and "Traceback" not in tagged.stderr + tagged.stdout
    assert "items: 2 loaded, 0 unchanged, 1 rejected" in tagged.stdout and "cannot be read" in tagged.stdout
    assert "peak memory" in tagged.stderr


def test_an_inspection_carries_the_check_points_of_its_items(session):
    from geo.dispatch import tasks

    target = session.execute(text("SELECT id FROM target ORDER BY id LIMIT 1")).scalar_one()
    named, unnamed = (
        session.execute(
            text(
                "INSERT INTO inspection (target_id, domain_key, source, due_at, status, created_by, items) "
                "VALUES (:t, 'transport', 'api', now(), 'created', 'test', :i) RETURNING id"
            ),
            {"t": target, "i": codes},
        ).scalar_one()
        for codes in (["transport.03"], [])
    )
    assert [p["content"] for p in tasks.task_view(session, named)["check_points"]] == ["车货总质量、轴荷与外廓尺寸检测"]
    assert {p["code"] for p in tasks.task_view(session, unnamed)["check_points"]} == {"transport.01", "transport.02"}


def test_a_large_item_file_is_read_document_by_document_with_progress(session, tmp_path):
    """2,500 documents: read one at a time (a generator, never the whole file), progress told
    every 1,000, each bad one rejected by its line."""
    path = tmp_path / "many.yaml"
    with open(path, "w", encoding="utf-8") as f:
        for i in range(2_500):
            f.write(f"---\ncode: many-{i}\nversion: 1\nname: 缺少领域\n")
    docs = loading.read_file(path)
    assert iter(docs) is docs  # a generator: the file is not parsed ahead
    told: list[tuple[int, int]] = []
    report = loading.load(
        session, docs, "t", loading.LoadReport(path=str(path)), lambda r, line: told.append((line, len(r.rejects)))
    )
    assert len(report.rejects) == 2_500 and report.rejects[-1][0] == 2_500 * 4 - 2
    assert [n for _, n in told] == [999, 1_999]  # told before the 1,000th and the 2,000th
