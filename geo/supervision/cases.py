"""Supervision cases (监督案件) under the 行政执法监督条例: the supervising organ opens a case on a
unit from a lead (a finding, a 案卷评查, a complaint, the hotline, a 专项 plan), takes its steps
(约谈, 调阅材料, 督办函 for failure to act, 意见书 for unlawful or improper acts, each numbered
with the unit's report due), the unit replies on its own screen, an overdue or refused reply is
escalated (a proposal for the government's 决定书, or 通报), and the case is closed. Officer
measures are recorded on the officer; 取消执法资格 ends his certificate from its date (a trigger),
so he leaves every lawful crew on every path. A matter already in 复议 or 诉讼 is refused
(第三十三条; a trigger holds it too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra import db, errors

LEAD_KINDS = ("finding", "file_review", "complaint", "hotline", "special_plan")
ORGAN_STEPS = ("interview", "materials_requested", "supervision_letter", "opinion", "escalation", "circular", "closing")
STEP_KINDS = (*ORGAN_STEPS, "unit_reply")
INSTRUMENTS = {"supervision_letter": "督", "opinion": "意"}  # 督办函, 意见书: numbered
MEASURES = ("criticism", "suspension_education", "reassignment", "disqualification")
STATUSES = ("open", "instrument_issued", "answered", "escalated", "closed")

RULES: dict[str, tuple[str, str]] = {
    "in_review_or_litigation": (
        "该事项已进入行政复议或行政诉讼程序，不再重复监督（行政执法监督条例 第三十三条）",
        "the matter is already in administrative reconsideration or litigation (条例 第三十三条)",
    ),
    "closed": ("监督案件已办结，不能再办理", "the supervision case is closed"),
    "instrument_needs_due": (
        "督办函、意见书须载明报送整改情况的期限",
        "a 督办函 or 意见书 must set the day the unit's report is due",
    ),
    "escalation_not_due": (
        "被监督单位尚未逾期或拒不整改，不能提请决定书或通报",
        "escalation needs an overdue or refused reply to an instrument",
    ),
    "reply_without_instrument": (
        "尚无督办函、意见书或调阅要求需要答复",
        "there is no instrument or request to answer",
    ),
}


def _refused(rule: str, **extra: Any) -> errors.Refused:
    return errors.Refused([{"rule": rule, **extra}], RULES)


def _text(value: Any, field: str, zh: str, limit: int) -> str:
    """A required text of at most `limit` characters, stripped; named when missing."""
    text_ = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text_) <= limit:
        raise errors.InvalidInput(
            f"{field} is required (at most {limit} characters)", rule=field, zh=f"请填写{zh}（不超过 {limit} 字）"
        )
    return text_


def open_case(
    session: Session,
    actor: str,
    *,
    unit_id: int,
    subject: str,
    lead_kind: str,
    lead_ref: str | None,
    case_id: int | None,
    today: dt.date,
) -> dict[str, Any]:
    subject = _text(subject, "subject", "事由", 500)
    if lead_kind not in LEAD_KINDS:
        raise errors.InvalidInput(f"lead_kind must be one of {', '.join(LEAD_KINDS)}")
    if not session.execute(text("SELECT 1 FROM enforcement_unit WHERE id = :u"), {"u": unit_id}).first():
        raise errors.NotFound(f"no unit {unit_id}")
    if case_id is not None:
        row = session.execute(text("SELECT unit_id FROM enf_case WHERE id = :c"), {"c": case_id}).first()
        if row is None or row[0] != unit_id:
            raise errors.NotFound(f"no case {case_id} of unit {unit_id}")
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('supervision_case_no'), :y)"), {"y": today.year})
    n = session.execute(
        text("SELECT count(*) + 1 FROM supervision_case WHERE extract(year FROM opened_on) = :y"), {"y": today.year}
    ).scalar_one()
    with db.refusals(session, RULES):
        case = session.execute(
            text(
                """INSERT INTO supervision_case (case_no, unit_id, subject, lead_kind, lead_ref, case_id, opened_on,
                                                 opened_by, created_by)
                   VALUES (:no, :u, :s, :k, :r, :c, :d, :by, :by) RETURNING id"""
            ),
            {
                "no": f"津滨监〔{today.year}〕{n}号",
                "u": unit_id,
                "s": subject,
                "k": lead_kind,
                "r": lead_ref,
                "c": case_id,
                "d": today,
                "by": actor,
            },
        ).scalar_one()
    return view(session, case, today)


def take_step(
    session: Session, actor: str, case_id: int, *, kind: str, note: str, due_on: dt.date | None, today: dt.date
) -> dict[str, Any]:
    """The organ's steps. An instrument gets its number and the day the unit's report is due;
    escalation needs an instrument whose reply is overdue or refused; closing ends the case."""
    if kind not in ORGAN_STEPS:
        raise errors.InvalidInput(f"kind must be one of {', '.join(ORGAN_STEPS)}", rule="kind", zh="请选择措施")
    note = _text(note, "note", "内容与理由", 4000)
    current = _lock(session, case_id)
    if current["status"] == "closed":
        raise _refused("closed")
    if kind in INSTRUMENTS or kind == "materials_requested":
        if due_on is None or due_on <= today:
            raise _refused("instrument_needs_due")
    number = None
    if kind in INSTRUMENTS:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('supervision_instrument'), :y)"), {"y": today.year})
        n = session.execute(
            text("SELECT count(*) + 1 FROM supervision_step WHERE kind = :k AND extract(year FROM on_date) = :y"),
            {"k": kind, "y": today.year},
        ).scalar_one()
        number = f"津滨监{INSTRUMENTS[kind]}〔{today.year}〕{n}号"
    if kind == "escalation" and not _escalable(view(session, case_id, today)):
        raise _refused("escalation_not_due")
    session.execute(
        text(
            """INSERT INTO supervision_step (supervision_case_id, kind, instrument_no, due_on, note, on_date,
                                            created_by)
               VALUES (:c, :k, :no, :due, :n, :d, :by)"""
        ),
        {"c": case_id, "k": kind, "no": number, "due": due_on, "n": note, "d": today, "by": actor},
    )
    status = {
        "supervision_letter": "instrument_issued",
        "opinion": "instrument_issued",
        "escalation": "escalated",
        "circular": "escalated",
        "closing": "closed",
    }.get(kind, current["status"])
    session.execute(
        text("UPDATE supervision_case SET status = :s, closed_on = CASE WHEN :s = 'closed' THEN :d END WHERE id = :c"),
        {"s": status, "d": today, "c": case_id},
    )
    return view(session, case_id, today)


def reply(session: Session, actor: str, case_id: int, *, accepted: bool, note: str, today: dt.date) -> dict[str, Any]:
    """The supervised unit answers the open instrument or request: it accepts and reports its
    correction, or it objects (the organ may then escalate)."""
    note = _text(note, "note", "答复内容", 4000)
    current = _lock(session, case_id)
    if current["status"] == "closed":
        raise _refused("closed")
    if _open_demand(view(session, case_id, today)) is None:
        raise _refused("reply_without_instrument")
    session.execute(
        text(
            """INSERT INTO supervision_step (supervision_case_id, kind, accepted, note, on_date, created_by)
               VALUES (:c, 'unit_reply', :a, :n, :d, :by)"""
        ),
        {"c": case_id, "a": accepted, "n": note, "d": today, "by": actor},
    )
    if current["status"] == "instrument_issued":
        session.execute(text("UPDATE supervision_case SET status = 'answered' WHERE id = :c"), {"c": case_id})
    return view(session, case_id, today)


def _lock(session: Session, case_id: int) -> dict[str, Any]:
    row = (
        session.execute(
            text("SELECT id, unit_id, status FROM supervision_case WHERE id = :c FOR UPDATE"), {"c": case_id}
        )
        .mappings()
        .first()
    )
    if row is None:
        raise errors.NotFound(f"no supervision case {case_id}")
    return dict(row)


def _open_demand(case: dict[str, Any]) -> dict[str, Any] | None:
    """The latest instrument or request not yet answered by a reply after it."""
    demand = None
    for step in case["steps"]:
        if step["kind"] in (*INSTRUMENTS, "materials_requested"):
            demand = step
        elif step["kind"] == "unit_reply":
            demand = None
    return demand


def _escalable(case: dict[str, Any]) -> bool:
    """An instrument whose report is overdue, or whose reply refused it."""
    last_instrument = None
    refused_after = False
    for step in case["steps"]:
        if step["kind"] in INSTRUMENTS:
            last_instrument, refused_after = step, False
        elif step["kind"] == "unit_reply" and last_instrument is not None and not step["accepted"]:
            refused_after = True
    if last_instrument is None:
        return False
    return refused_after or bool(last_instrument.get("overdue"))


def view(session: Session, case_id: int, today: dt.date) -> dict[str, Any]:
    row = (
        session.execute(
            text(
                """SELECT s.id, s.case_no, s.unit_id, u.name AS unit_name, s.subject, s.lead_kind, s.lead_ref,
                      s.case_id, s.status, s.opened_on, s.opened_by, s.closed_on
               FROM supervision_case s JOIN enforcement_unit u ON u.id = s.unit_id WHERE s.id = :c"""
            ),
            {"c": case_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise errors.NotFound(f"no supervision case {case_id}")
    steps = [
        dict(r)
        for r in session.execute(
            text(
                """SELECT id, kind, instrument_no, due_on, accepted, note, on_date, created_by
                   FROM supervision_step WHERE supervision_case_id = :c ORDER BY id"""
            ),
            {"c": case_id},
        ).mappings()
    ]
    replied_after: set[int] = set()
    pending: list[dict[str, Any]] = []
    for step in steps:
        if step["kind"] in (*INSTRUMENTS, "materials_requested"):
            pending.append(step)
        elif step["kind"] == "unit_reply":
            replied_after.update(s["id"] for s in pending)
            pending = []
    for step in steps:
        if step["due_on"] is not None:
            step["answered"] = step["id"] in replied_after
            step["overdue"] = not step["answered"] and step["due_on"] < today
    out = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in dict(row).items()}
    out["steps"] = [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in s.items()} for s in steps]
    demand = _open_demand({"steps": steps})
    out["reply_due"] = demand["due_on"].isoformat() if demand else None
    out["overdue"] = bool(demand and demand["due_on"] < today)
    return out


def listing(
    session: Session, units: frozenset[int] | None, today: dt.date, status: str | None = None
) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise errors.InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    ids = session.execute(
        text(
            """SELECT id FROM supervision_case
               WHERE (CAST(:units AS int[]) IS NULL OR unit_id = ANY(CAST(:units AS int[])))
                 AND (CAST(:status AS text) IS NULL OR status = :status)
               ORDER BY (status = 'closed'), opened_on DESC, id DESC LIMIT 500"""
        ),
        {"units": sorted(units) if units is not None else None, "status": status},
    ).scalars()
    return [view(session, i, today) for i in ids]


def record_measure(
    session: Session,
    actor: str,
    *,
    officer_id: int,
    kind: str,
    effective_on: dt.date,
    note: str,
    supervision_case_id: int | None,
) -> dict[str, Any]:
    """A measure on an officer (批评教育, 离岗教育, 调离执法岗位, 取消执法资格); the last ends his
    certificate the day before it takes effect. Returns the measure and, for a
    disqualification, his open tasks due from that day (they need another crew)."""
    if kind not in MEASURES:
        raise errors.InvalidInput(f"kind must be one of {', '.join(MEASURES)}")
    note = _text(note, "note", "理由", 2000)
    if not session.execute(text("SELECT 1 FROM officer WHERE id = :o"), {"o": officer_id}).first():
        raise errors.NotFound(f"no officer {officer_id}")
    measure = session.execute(
        text(
            """INSERT INTO officer_measure (officer_id, supervision_case_id, kind, effective_on, note, created_by)
               VALUES (:o, :c, :k, :d, :n, :by) RETURNING id"""
        ),
        {"o": officer_id, "c": supervision_case_id, "k": kind, "d": effective_on, "n": note, "by": actor},
    ).scalar_one()
    to_reassign: list[int] = []
    if kind == "disqualification":
        to_reassign = list(
            session.execute(
                text(
                    """SELECT i.id FROM inspection_officer io JOIN inspection i ON i.id = io.inspection_id
                       WHERE io.officer_id = :o AND io.due_day >= :d
                         AND i.status NOT IN ('completed', 'cancelled', 'declined') ORDER BY i.id"""
                ),
                {"o": officer_id, "d": effective_on},
            ).scalars()
        )
    valid_to = session.execute(text("SELECT cert_valid_to FROM officer WHERE id = :o"), {"o": officer_id}).scalar_one()
    return {
        "id": measure,
        "officer_id": officer_id,
        "kind": kind,
        "effective_on": effective_on.isoformat(),
        "cert_valid_to": valid_to.isoformat(),
        "tasks_to_reassign": to_reassign,
    }
