"""The discretion check on the procedure's own path (geo.cases) and the statutory bound in the
database: a proposal out of band needs its reason, an unlawful decision is refused by the core
and by the database whatever writes it (a hand-written row, an edited one), and the simple
procedure is held to the item's range as well as to its own limits."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.cases import filing, forms, machine
from geo.infra.errors import Refused, from_database
from tests.casework import file, handlers, scope, step, to_notified

pytestmark = pytest.mark.usefixtures("users")


def rules(exc_info) -> set[str]:
    return {v["rule"] for v in exc_info.value.violations}


def test_a_proposal_outside_its_band_needs_a_written_reason(session):
    case = file(session)
    case = step(session, case, "t-officer", "start_investigation", rights_told=True)
    out_of_band = {"kinds": ["fine"], "fine_yuan": 9000, "base_yuan": 2000}  # 4.5 倍: lawful, 一般 band is 1.5–3.5
    with pytest.raises(Refused) as bare:
        step(session, case, "t-officer", "update_facts", proposed=out_of_band)
    assert rules(bare) == {"discretion_reason", "discretion_band"}
    case = step(session, case, "t-officer", "update_facts", proposed=out_of_band, discretion_reason="拒不配合调查")
    assert (case["discretion"]["level"], case["discretion"]["verdict"]) == ("一般", "needs_reason")
    mitigated = {**out_of_band, "fine_yuan": 2000, "circumstances": {"eliminated_harm": True}}  # 1 倍, 从轻 0–1.5
    case = step(session, case, "t-officer", "update_facts", proposed=mitigated)
    assert (case["discretion"]["level"], case["discretion"]["verdict"]) == ("从轻", "ok")
    assert case["proposed"]["discretion_level"] == "从轻"


def test_an_unlawful_decision_is_refused_by_the_core_and_by_the_database(session):
    case = to_notified(session)
    case = step(session, case, "t-officer", "waive", note="书面放弃")
    heavier_base = {"kinds": ["fine"], "fine_yuan": 5000, "base_yuan": 500}  # 10 倍 of 违法所得 > 5 倍
    with pytest.raises(Refused) as core:
        step(session, case, "t-organ_head", "decide", kind="penalty", penalty=heavier_base)
    assert rules(core) == {"statutory_range"}
    with pytest.raises(DBAPIError) as raw, session.begin_nested():
        session.execute(
            text(
                "INSERT INTO case_decision (case_id, kind, decision_no, decided_on, signed_by, penalty, facts_version) "
                "SELECT id, 'penalty', 'by-hand-' || id, current_date, 'psql', "
                "proposed || '{\"base_yuan\": 500}', facts_version FROM enf_case WHERE id = :c"
            ),
            {"c": case["id"]},
        )
    assert [v["rule"] for v in from_database(raw.value).violations] == ["statutory_range"]
    case = step(session, case, "t-organ_head", "decide", kind="penalty")
    assert case["status"] == "decided"
    with pytest.raises(DBAPIError) as edited, session.begin_nested():
        session.execute(
            text("UPDATE case_decision SET penalty = penalty || '{\"base_yuan\": 500}' WHERE case_id = :c"),
            {"c": case["id"]},
        )
    assert [v["rule"] for v in from_database(edited.value).violations] == ["statutory_range"]


def test_the_simple_procedure_is_held_to_the_items_range_too(session):
    officer = scope(session, "t-officer")
    body = {
        "party": {"kind": "legal", "name": "某商店"},
        "item_code": "market_regulation.04",
        "officer_ids": handlers(session),
        "facts": "当场查实",
        "penalty": {"kinds": ["fine"], "fine_yuan": 600, "base_yuan": 100},  # within 3,000, but 6 倍 > 5 倍
        "rights_told": True,
    }
    with pytest.raises(Refused) as over:
        filing.open_onsite(session, officer, machine.validate(forms.OnsiteCase, body))
    assert rules(over) == {"statutory_range"}
    body["penalty"]["fine_yuan"] = 400
    case = filing.open_onsite(session, officer, machine.validate(forms.OnsiteCase, body))
    assert case["status"] == "onsite_decided" and case["discretion"]["verdict"] == "needs_reason"  # 4 倍: 从重 band
    assert case["discretion"]["simple_allowed"] is True


def test_a_proposal_that_reaches_the_items_legal_review_list_needs_a_legal_review(session):
    case = file(session, item_code="market_regulation.05")  # 法制审核 from 50,000 yuan (the item's list)
    assert not case["legal_review_required"]
    case = step(session, case, "t-officer", "start_investigation", rights_told=True)
    case = step(session, case, "t-officer", "record_evidence", kind="书证", description="无证经营现场照片")
    case = step(
        session,
        case,
        "t-officer",
        "update_facts",
        proposed=(proposal := {"kinds": ["fine"], "fine_yuan": 70000, "base_yuan": 5000}),
        discretion_reason="货值不足一万元，一般档",
    )
    assert case["legal_review_required"] and case["discretion"]["legal_review"]
    report = {"facts": "无证经营", "discretion_reason": "一般档", "proposed": proposal}
    case = step(session, case, "t-officer", "close_investigation", **report)
    review = session.execute(text("SELECT kind FROM case_review WHERE case_id = :c"), {"c": case["id"]}).scalar_one()
    assert review == "legal"
