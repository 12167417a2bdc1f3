"""Each decision gate refused on each path: the REST API, the command line and the database
itself (a decision row written by hand); the core path is tests/geo/cases/test_cases.py. Cases are
committed, since the API and the CLI have their own connections."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo.infra.errors import from_database
from geo.infra.timezone import today as beijing_today
from lawgrid.app import create_app
from tests.casework import ALL_CHECKS, step, to_notified, to_review
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("users")
ADOPTED = "未采纳：理由见复核意见"


def awaiting_approval(s):
    case = to_review(s)
    return step(s, case, "t-case_reviewer", "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")


def heavier_after_statements(s):
    case = to_notified(s)
    case = step(
        s,
        case,
        "t-officer",
        "record_statement",
        form="written",
        content="申辩",
        recheck_result="rejected",
        reasons="不成立",
    )
    return step(
        s, case, "t-officer", "update_facts", proposed={"kinds": ["fine"], "fine_yuan": 8000, "base_yuan": 2000}
    )


def past_ninety_days(s):
    filed = beijing_today() - dt.timedelta(days=100)
    case = to_notified(s, filed)
    return step(s, case, "t-officer", "waive", filed, note="书面放弃")


def major_without_panel(s):
    case = to_review(s, major=True)
    case = step(s, case, "t-legal_reviewer", "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
    case = step(s, case, "t-organ_head", "approve")
    case = step(s, case, "t-officer", "notify")
    return step(s, case, "t-officer", "waive", note="书面放弃")


GATES = {
    "notice_served": (awaiting_approval, {"notice_served"}),
    "notice_window": (to_notified, {"notice_window"}),
    # a statement is no waiver: the window still runs beside the other two
    "review_passed+not_heavier": (
        heavier_after_statements,
        {"review_passed", "not_heavier_than_notified", "notice_window"},
    ),
    "decision_time_limit": (past_ninety_days, {"decision_time_limit"}),
    "panel_discussion": (major_without_panel, {"panel_discussion"}),
}


@pytest.fixture(scope="module")
def committed(engine, users):
    made = {}
    for name, (build, _rules) in GATES.items():
        with Session(engine) as s:
            made[name] = build(s)
            s.commit()
    return made


@pytest.fixture(scope="module")
def client(runtime):
    return create_app(runtime.settings, runtime).server.test_client()


def rules_of(body: dict) -> set[str]:
    return {v["rule"] for v in body["violations"]}


@pytest.mark.parametrize("gate", list(GATES))
def test_the_api_refuses_with_the_rules_named(gate, committed, client):
    token = client.post("/api/auth/token", json={"username": "t-organ_head", "password": PASSWORD}).get_json()
    r = client.post(
        f"/api/cases/{committed[gate]['id']}/actions",
        json={"action": "decide", "kind": "penalty", "statements_adopted": ADOPTED},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert r.status_code == 422
    assert rules_of(r.get_json()) == GATES[gate][1]


@pytest.mark.parametrize("gate", ["notice_window", "decision_time_limit"])
def test_the_command_line_refuses_and_audits(gate, committed, runtime, engine):
    case_id = committed[gate]["id"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lawgrid.cli",
            "case",
            str(case_id),
            "decide",
            "--as",
            "t-organ_head",
            "--data",
            json.dumps({"kind": "penalty"}),
        ],
        env={**os.environ, "LAWGRID_DATABASE_URL": runtime.url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert gate in result.stderr
    with engine.connect() as c:
        detail = c.execute(
            text("SELECT detail FROM audit_log WHERE action = 'refused' AND subject = :s ORDER BY id DESC LIMIT 1"),
            {"s": f"cli case {case_id}"},
        ).scalar_one()
    assert detail["rule"] == gate


@pytest.mark.parametrize("gate", list(GATES))
def test_the_database_refuses_a_decision_written_by_hand(gate, committed, engine):
    case = committed[gate]
    with engine.connect() as c, pytest.raises(DBAPIError) as refused:
        c.execute(
            text(
                "INSERT INTO case_decision (case_id, kind, decision_no, decided_on, signed_by, penalty, "
                "facts_version) SELECT id, 'penalty', 'by-hand-' || id, current_date, 'psql', proposed, facts_version "
                "FROM enf_case WHERE id = :c"
            ),
            {"c": case["id"]},
        )
    assert {v["rule"] for v in from_database(refused.value).violations} == GATES[gate][1]


def test_the_database_refuses_a_decision_before_the_hearing_report(engine):
    with Session(engine) as s:
        case = to_review(s, party={"kind": "natural", "name": "赵某"})
        case = step(s, case, "t-case_reviewer", "review", opinion="supplement", reasons="罚款需重新核定")
        case = step(
            s,
            case,
            "t-officer",
            "close_investigation",
            facts="重核",
            discretion_reason="一般",
            proposed={"kinds": ["fine"], "fine_yuan": 20000, "base_yuan": 5000},
        )
        case = step(s, case, "t-case_reviewer", "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
        case = step(s, case, "t-organ_head", "approve")
        case = step(s, case, "t-officer", "notify")
        case = step(s, case, "t-officer", "request_hearing")
        s.execute(text("UPDATE case_notice SET waived_on = served_on WHERE case_id = :c"), {"c": case["id"]})
        with pytest.raises(DBAPIError) as refused, s.begin_nested():
            s.execute(
                text(
                    "INSERT INTO case_decision (case_id, kind, decision_no, decided_on, signed_by, penalty, "
                    "facts_version) SELECT id, 'penalty', 'by-hand-h' || id, current_date, 'psql', proposed, "
                    "facts_version FROM enf_case WHERE id = :c"
                ),
                {"c": case["id"]},
            )
        assert "hearing_report" in {v["rule"] for v in from_database(refused.value).violations}
        s.rollback()
