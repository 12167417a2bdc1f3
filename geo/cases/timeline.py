"""A timeline in order (issue 32, item 2): every dated act of a case lies between its
predecessor's date and today, and an act entered after the day it happened (on paper, the
system out of reach) is a recorded 补录 with its reason and the paper document's number.

Each step's act date and its predecessor are listed here once; `machine.perform` checks them on
every path, and migration 0024's triggers hold the same order in the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.cases.rules import RULES
from geo.infra.errors import Refused

# The act-date field of each step, and the SQL of the date it may not precede (:c = the case).
NOTICE_SERVED = "SELECT served_on FROM case_notice WHERE case_id = :c ORDER BY id DESC LIMIT 1"
PREDECESSOR: dict[str, tuple[str, str, str]] = {
    # step: (its date field, what it may not precede, the SQL of that date)
    "notify": ("served_on", "approval", "SELECT approved_on FROM enf_case WHERE id = :c"),
    "waive": ("waived_on", "notice", NOTICE_SERVED),
    "record_statement": ("received_on", "notice", NOTICE_SERVED),
    "request_hearing": ("requested_on", "notice", NOTICE_SERVED),
    "serve": ("served_on", "decision", "SELECT decided_on FROM case_decision WHERE case_id = :c"),
    "record_performance": ("performed_on", "service", "SELECT served_on FROM enf_case WHERE id = :c"),
    "record_panel": ("held_on", "filing", "SELECT filed_on FROM enf_case WHERE id = :c"),
    "record_evidence": (
        "collected_on",
        "source",
        """SELECT s.received_on FROM enf_case e
                                                     JOIN case_source s ON s.id = e.source_id WHERE e.id = :c""",
    ),
}


class BackEntry(BaseModel):
    """补录: an act entered after the day it happened."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=1000, description="why it is entered late")
    paper_no: str = Field(min_length=1, max_length=100, description="the number of the paper document it was done on")


def check(session: Session, case_id: int, step: str, body: BaseModel, today: dt.date) -> dict[str, Any] | None:
    """Refuse an act dated in the future, before its predecessor, or in the past without its
    补录; returns the 补录 to record with the step, if any."""
    field = PREDECESSOR.get(step, ("", "", ""))[0]
    day = getattr(body, field, None) if field else None
    back = getattr(body, "back_entry", None)
    if day is None:
        return None
    in_order(session, case_id, step, day, today)
    if day < today:
        if back is None:
            raise Refused([{"rule": "back_entry"}], RULES)
        return {"act_on": day.isoformat(), "reason": back.reason, "paper_no": back.paper_no}
    return None


def in_order(session: Session, case_id: int, step: str, day: dt.date, today: dt.date) -> None:
    """The act's day is not in the future nor before its predecessor's."""
    if day > today:
        raise Refused([{"rule": "date_in_future"}], RULES)
    _, name, sql = PREDECESSOR[step]
    floor = session.execute(text(sql), {"c": case_id}).scalar()
    if floor is not None and day < floor:
        raise Refused([{"rule": "date_order", "before": name, "floor": floor.isoformat()}], RULES)


def filing(received_on: dt.date, filed_on: dt.date) -> None:
    """立案 is not before its source was received."""
    if filed_on < received_on:
        raise Refused([{"rule": "date_order", "before": "source", "floor": received_on.isoformat()}], RULES)
