"""Reading cases: the list (by unit, status and warning, nearest deadline first), the case
file (parties, officers, clocks, events, evidence, documents, reviews and the steps the
caller may take now), the queues of reviewers and organ heads, and the warnings board."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access.accounts import Scope
from geo.cases import clocks, machine
from geo.cases.items import model, store
from geo.cases.rules import hearing_basis_text
from geo.documents import reading
from geo.infra import db
from geo.infra.errors import NotFound
from geo.infra.timezone import today as beijing_today

OPEN_FILTER = "e.status NOT IN ('closed', 'onsite_filed')"
LEVEL_RANK = "CASE w.level WHEN 'breach' THEN 3 WHEN 'red' THEN 2 WHEN 'amber' THEN 1 END"
APPROVAL_QUEUE = (
    "filed",
    "awaiting_approval",
    "notified",
    "statements",
    "hearing_reported",
    "hearing_requested",
    "served",
    "performed",
    "terminated",
    "investigating",
    "suspended",
)
"""The statuses in which the organ head may have a step to take (待审批)."""


def list_cases(
    session: Session,
    scope: Scope,
    *,
    status: str | None = "open",
    unit_id: int | None = None,
    warning: str | None = None,
    queue: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> dict[str, Any]:
    cond, params = scope.case_filter("e")
    if status == "open":
        cond += f" AND {OPEN_FILTER}"
    elif status and status != "all":
        cond += " AND e.status = :status"
        params["status"] = status
    if unit_id is not None:
        cond += " AND e.unit_id = :unit"
        params["unit"] = unit_id
    if warning:
        cond += " AND EXISTS (SELECT 1 FROM case_warning w WHERE w.case_id = e.id AND w.level = :warning)"
        params["warning"] = warning
    if queue == "review":
        cond += " AND e.status = 'under_review'"
        if scope.role == "case_reviewer":
            cond += (
                " AND EXISTS (SELECT 1 FROM case_review r WHERE r.case_id = e.id AND r.decided_at IS NULL "
                "AND r.kind = 'case')"
            )
    elif queue == "approval":
        cond += " AND e.status = ANY(:queue)"
        params["queue"] = list(APPROVAL_QUEUE)
    rows = session.execute(
        text(
            f"""
            SELECT e.id, e.case_no, e.procedure, e.status, e.version, e.unit_id, u.name AS unit_name, e.party_name,
                   e.item_name, e.filed_on, e.decision_due, e.next_due, e.next_clock, e.legal_review_required,
                   e.major, wl.level AS warning, wl.clock AS warning_clock
            FROM enf_case e JOIN enforcement_unit u ON u.id = e.unit_id
            LEFT JOIN LATERAL (SELECT w.level, w.clock FROM case_warning w WHERE w.case_id = e.id
                               ORDER BY {LEVEL_RANK} DESC, w.due LIMIT 1) wl ON true
            WHERE {cond}
            ORDER BY e.next_due NULLS LAST, e.id
            LIMIT :limit OFFSET :offset
            """
        ),
        {**params, "limit": limit, "offset": offset},
    ).mappings()
    return {"cases": [db.jsonable(r) for r in rows]}


def case_file(session: Session, scope: Scope, case_id: int, today: dt.date | None = None) -> dict[str, Any]:
    case = machine.load(session, scope, case_id)
    today = today or beijing_today()

    def rows(sql: str) -> list[dict[str, Any]]:
        return [db.jsonable(r) for r in session.execute(text(sql), {"c": case_id}).mappings()]

    events = rows(
        "SELECT id, at, actor, action, from_status, to_status, detail FROM case_event WHERE case_id = :c ORDER BY id"
    )
    out = db.jsonable(case)
    try:
        item: dict[str, Any] | None = model.summary(store.get(session, case["item_code"], case["item_version"]))
    except NotFound:
        item = None  # a case filed before its item was codified
    out.update(
        item=item,
        unit_name=session.execute(
            text("SELECT name FROM enforcement_unit WHERE id = :u"), {"u": case["unit_id"]}
        ).scalar(),
        party={
            "kind": case["party_kind"],
            "name": case["party_name"],
            "id_no": case["party_id_no"],
            "address": case["party_address"],
        },
        officers=rows(
            "SELECT o.id, o.name, o.cert_no, co.role, o.cert_valid_to FROM case_officer co "
            "JOIN officer o ON o.id = co.officer_id WHERE co.case_id = :c ORDER BY o.id"
        ),
        clocks=[db.jsonable(c) for c in clocks.clocks(session, case, today)],
        warnings=rows("SELECT clock, due, level, raised_at FROM case_warning WHERE case_id = :c ORDER BY due"),
        events=events,
        evidence=[{"at": e["at"], "by": e["actor"], **e["detail"]} for e in events if e["action"] == "record_evidence"],
        reviews=rows(
            "SELECT r.id, r.kind, r.submitted_on, r.due, r.opinion, r.reasons, r.checks, r.decided_at, "
            "u.username AS reviewer FROM case_review r LEFT JOIN app_user u ON u.id = r.reviewer_user "
            "WHERE r.case_id = :c ORDER BY r.id"
        ),
        notices=[
            {**n, "hearing_basis_text": hearing_basis_text(n["hearing_basis"], case["party_kind"])}
            for n in rows(
                "SELECT n.id, n.proposed, n.hearing_right, n.hearing_basis, n.hearing_waived, n.served_on, "
                "n.response_due, n.waived_on, w.provisional AS response_due_provisional FROM case_notice n "
                "LEFT JOIN work_calendar w ON w.day = n.response_due WHERE n.case_id = :c ORDER BY n.id"
            )
        ],
        statements=rows(
            "SELECT received_on, form, content, recheck_result, reasons FROM case_statement "
            "WHERE case_id = :c ORDER BY id"
        ),
        hearing=_first(
            rows(
                "SELECT h.requested_on, u.username AS host, h.notice_served_on, h.hearing_on, h.held_on, "
                "h.outcome, h.report_on FROM case_hearing h LEFT JOIN app_user u ON u.id = h.host_user "
                "WHERE h.case_id = :c"
            )
        ),
        decision=_first(
            rows(
                "SELECT kind, decision_no, decided_on, signed_by, penalty, statements_adopted, education "
                "FROM case_decision WHERE case_id = :c"
            )
        ),
        services=rows("SELECT document, method, served_on, receiver FROM case_service WHERE case_id = :c ORDER BY id"),
        documents=_documents(case, events),
        edocs=reading.for_case(session, scope, case_id, verify=True),
        actions=machine.available(session, scope, case, today),
    )
    return out


DOCUMENTS = {
    # the document each step produces (程序规定 第七十八条 archive order; templates in the next issue)
    "file": ("立案审批表", "Case filing approval form"),
    "record_evidence": ("证据材料", "Evidence"),
    "close_investigation": ("调查终结报告", "Investigation report"),
    "review": ("审核意见书", "Review opinion"),
    "approve": ("行政处罚案件有关事项审批表", "Approval form"),
    "notify": ("行政处罚告知书", "Notice of the proposed penalty"),
    "record_statement": ("陈述申辩笔录及复核意见", "Statements and re-check"),
    "hold_hearing": ("听证笔录", "Hearing transcript"),
    "report_hearing": ("听证报告", "Hearing report"),
    "record_panel": ("集体讨论笔录", "Minutes of the collective discussion"),
    "decide": ("行政处罚决定书", "Penalty decision"),
    "decide_onsite": ("当场行政处罚决定书", "On-the-spot penalty decision"),
    "serve": ("送达回证", "Proof of service"),
    "close": ("结案审批表", "Case closing approval form"),
}


def _documents(case: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    docs = []
    for e in events:
        names = DOCUMENTS.get(e["action"])
        if names:
            number = (e["detail"] or {}).get("decision_no") or (e["detail"] or {}).get("doc_no")
            docs.append(
                {"type": e["action"], "zh": names[0], "en": names[1], "at": e["at"], "by": e["actor"], "doc_no": number}
            )
    return docs


LEVELS = ("breach", "red", "amber")


def warnings_board(
    session: Session,
    scope: Scope,
    limit: int = 500,
    *,
    unit_id: int | None = None,
    level: str | None = None,
    clock: str | None = None,
) -> dict[str, Any]:
    """The 预警 board for those who act on it: the cases' warnings one by one, most severe and
    nearest first, each with its case number, party and handlers; the sources' warnings
    grouped (unit, kind of source, clock, level) and counted, never listed one by one; the
    counts per unit for the chart. Filters: unit, level, clock."""
    cond, params = scope.unit_filter("w.unit_id")
    if scope.personal:  # the warnings of the cases he acts on
        mine, params = scope.case_filter("e")
        cond += f" AND w.case_id IN (SELECT e.id FROM enf_case e WHERE {mine})"
    if unit_id is not None:
        cond += " AND w.unit_id = :f_unit"
        params = {**params, "f_unit": unit_id}
    if level is not None:
        cond += " AND w.level = :f_level"
        params = {**params, "f_level": level}
    if clock is not None:
        cond += " AND w.clock = :f_clock"
        params = {**params, "f_clock": clock}
    by_unit = session.execute(
        text(
            f"""SELECT w.unit_id, u.name AS unit_name, w.level, count(*) AS n,
                       count(*) FILTER (WHERE w.case_id IS NOT NULL) AS cases
                FROM case_warning w LEFT JOIN enforcement_unit u ON u.id = w.unit_id
                WHERE {cond} GROUP BY w.unit_id, u.name, w.level ORDER BY u.name"""
        ),
        params,
    ).mappings()
    cases = session.execute(
        text(
            f"""SELECT w.subject, w.clock, w.case_id, w.due, w.level, w.unit_id, w.raised_at,
                       u.name AS unit_name, e.case_no, e.status, e.party_name AS party,
                       (SELECT string_agg(o.name, '、' ORDER BY co.role, o.id) FROM case_officer co
                        JOIN officer o ON o.id = co.officer_id WHERE co.case_id = e.id) AS handlers,
                       coalesce(c.provisional, false) AS provisional
                FROM case_warning w JOIN enf_case e ON e.id = w.case_id
                LEFT JOIN enforcement_unit u ON u.id = w.unit_id
                LEFT JOIN work_calendar c ON c.day = w.due
                WHERE {cond} ORDER BY {LEVEL_RANK} DESC, w.due, e.id LIMIT :lim"""
        ),
        {**params, "lim": limit},
    ).mappings()
    sources = session.execute(
        text(
            f"""SELECT w.unit_id, u.name AS unit_name, s.kind, w.clock, w.level, count(*) AS n,
                       min(w.due) AS oldest_due
                FROM case_warning w JOIN case_source s ON s.id = w.source_id
                LEFT JOIN enforcement_unit u ON u.id = w.unit_id
                WHERE {cond} AND w.case_id IS NULL
                GROUP BY w.unit_id, u.name, s.kind, w.clock, w.level
                ORDER BY {LEVEL_RANK} DESC, count(*) DESC, u.name LIMIT :lim"""
        ),
        {**params, "lim": limit},
    ).mappings()
    return {
        "by_unit": [db.jsonable(r) for r in by_unit],
        "cases": [db.jsonable(r) for r in cases],
        "sources": [db.jsonable(r) for r in sources],
    }


def _first(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return rows[0] if rows else None
