"""A timeline in order: every dated act lies between its predecessor's date and today, in the
core and in the database, and an act entered after its day is a recorded 补录 (back-entry)."""

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.infra.errors import Refused
from tests.casework import file, step, to_notified, violation

pytestmark = pytest.mark.usefixtures("users")

PAPER = {"reason": "系统故障期间纸质办理", "paper_no": "津滨市监告〔2026〕12号"}


def rules(exc) -> set[str]:
    return {v["rule"] for v in exc.value.violations}


def test_filing_before_the_source_was_received_is_refused(session):
    source = violation(session)
    with pytest.raises(Refused) as early:
        file(session, today=source["received_on"] - dt.timedelta(days=1), source_id=source["id"])
    assert rules(early) == {"date_order"}


def test_the_partys_answers_are_not_before_the_notice_and_past_ones_are_back_entries(session):
    case = to_notified(session)
    served = session.execute(text("SELECT served_on FROM case_notice WHERE case_id = :c"), {"c": case["id"]}).scalar()
    statement = {"form": "written", "content": "申辩", "recheck_result": "rejected", "reasons": "不成立"}
    with pytest.raises(Refused) as before:
        step(
            session,
            case,
            "t-officer",
            "record_statement",
            received_on=(served - dt.timedelta(days=1)).isoformat(),
            back_entry=PAPER,
            **statement,
        )
    assert rules(before) == {"date_order"}
    with pytest.raises(Refused) as future:
        step(
            session,
            case,
            "t-officer",
            "record_statement",
            received_on=(served + dt.timedelta(days=30)).isoformat(),
            **statement,
        )
    assert rules(future) == {"date_in_future"}
    later = served + dt.timedelta(days=2)
    day_after = later + dt.timedelta(days=1)
    with pytest.raises(Refused) as no_paper:  # entered a day after it was received: a 补录
        step(session, case, "t-officer", "record_statement", day_after, received_on=later.isoformat(), **statement)
    assert rules(no_paper) == {"back_entry"}
    case = step(
        session,
        case,
        "t-officer",
        "record_statement",
        day_after,
        received_on=later.isoformat(),
        back_entry=PAPER,
        **statement,
    )
    event = session.execute(
        text("SELECT detail FROM case_event WHERE case_id = :c AND action = 'record_statement'"), {"c": case["id"]}
    ).scalar()
    assert event["back_entry"] == {"act_on": later.isoformat(), **PAPER}
    audited = session.execute(
        text("SELECT detail FROM audit_log WHERE action = 'case_back_entry' AND subject = :s"),
        {"s": f"case:{case['id']}"},
    ).scalar()
    assert audited["paper_no"] == PAPER["paper_no"] and audited["step"] == "record_statement"


def test_the_database_holds_the_order_against_hand_written_rows(session):
    case = to_notified(session)
    served = session.execute(text("SELECT served_on FROM case_notice WHERE case_id = :c"), {"c": case["id"]}).scalar()
    with pytest.raises(DBAPIError, match="date_order"):
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO case_statement (case_id, received_on, form, content, recheck_result, reasons, "
                    "created_by) VALUES (:c, :d, 'oral', 'x', 'rejected', 'x', 'sql')"
                ),
                {"c": case["id"], "d": served - dt.timedelta(days=3)},
            )
    with pytest.raises(DBAPIError, match="date_order"):
        with session.begin_nested():
            session.execute(
                text("UPDATE case_notice SET waived_on = :d WHERE case_id = :c"),
                {"c": case["id"], "d": served - dt.timedelta(days=1)},
            )
    with pytest.raises(DBAPIError, match="date_order"):
        with session.begin_nested():
            session.execute(
                text("INSERT INTO case_hearing (case_id, requested_on) VALUES (:c, :d)"),
                {"c": case["id"], "d": served - dt.timedelta(days=1)},
            )
