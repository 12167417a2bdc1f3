"""案源: where cases come from. A violation found on inspection becomes a source by trigger
(migration 0015) in the completing transaction; complaints (投诉), reports (举报), transfers
(移送), assignments (交办) and monitoring (监测) are registered here. Each source carries its
clocks: verify within 15 working days (once extendable by 15), a complaint accepted or
refused within 7, a real-name reporter told within 5 of the decision to file or not."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access.accounts import Scope
from geo.cases import workdays
from geo.cases.rules import ACCEPT_WD, NOT_FILE_GROUNDS, REPORTER_WD, RULES, VERIFY_WD
from geo.infra import audit, db
from geo.infra.errors import Conflict, InvalidInput, NotFound, Refused
from geo.infra.timezone import today as beijing_today

KINDS = ("inspection", "complaint", "report", "transfer", "assigned", "monitoring")
OPEN = ("registered", "verifying")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Reporter(_Body):
    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=40)
    real_name: bool = False


class NewSource(_Body):
    kind: Literal["complaint", "report", "transfer", "assigned", "monitoring"]
    unit_id: int = Field(ge=1, le=2**31 - 1)
    target_id: int | None = Field(None, ge=1)
    domain: str | None = Field(None, max_length=64)
    summary: str = Field(min_length=1, max_length=2000)
    reporter: Reporter | None = None
    received_on: dt.date | None = None


def register(session: Session, scope: Scope, body: NewSource, *, today: dt.date | None = None) -> dict[str, Any]:
    today = today or beijing_today()
    received = body.received_on or today
    if received > today:
        raise Refused([{"rule": "date_in_future"}], RULES)
    if not scope.district_wide and body.unit_id not in (scope.unit_ids or ()):
        raise NotFound(f"no unit {body.unit_id} in your scope", rule="unit_scope")
    if session.execute(text("SELECT 1 FROM enforcement_unit WHERE id = :u"), {"u": body.unit_id}).first() is None:
        raise NotFound(f"no unit {body.unit_id}")
    if (
        body.target_id
        and session.execute(text("SELECT 1 FROM target WHERE id = :t"), {"t": body.target_id}).first() is None
    ):
        raise NotFound(f"no target {body.target_id}")
    reporter = body.reporter
    source_id = session.execute(
        text(
            """INSERT INTO case_source (kind, unit_id, target_id, domain_key, summary, reporter, reporter_real_name,
                   received_on, verify_due, accept_due, created_by)
               VALUES (:k, :u, :t, :d, :s, CAST(:r AS jsonb), :rn, :rec, :vd, :ad, :by) RETURNING id"""
        ),
        {
            "k": body.kind,
            "u": body.unit_id,
            "t": body.target_id,
            "d": body.domain,
            "s": body.summary,
            "r": json.dumps(reporter.model_dump(exclude={"real_name"}), ensure_ascii=False) if reporter else None,
            "rn": bool(reporter and reporter.real_name),
            "rec": received,
            "vd": workdays.wd_after(session, received, VERIFY_WD),
            "ad": workdays.wd_after(session, received, ACCEPT_WD) if body.kind == "complaint" else None,
            "by": scope.username,
        },
    ).scalar_one()
    audit.record(
        session,
        scope.username,
        "case_source_register",
        subject=f"case_source:{source_id}",
        detail={"kind": body.kind, "unit": body.unit_id},
    )
    return get(session, scope, int(source_id))


def load(session: Session, scope: Scope, source_id: int, *, lock: bool = False) -> Any:
    row = (
        session.execute(
            text("SELECT * FROM case_source WHERE id = :i" + (" FOR UPDATE" if lock else "")), {"i": source_id}
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no case source {source_id}")
    if not scope.district_wide and row["unit_id"] not in (scope.unit_ids or ()):
        raise NotFound(f"no case source {source_id} in your scope", rule="unit_scope")
    return row


def get(session: Session, scope: Scope, source_id: int) -> dict[str, Any]:
    return db.jsonable(dict(load(session, scope, source_id)))


def listing(
    session: Session,
    scope: Scope,
    status: str | None,
    limit: int,
    *,
    q: str | None = None,
    order: str = "due",
) -> list[dict[str, Any]]:
    """Sources of the caller's scope with their clocks and what they are about (the target's
    name and address, the township, the reporter): by verification due (`due`) or newest first
    (`newest`); `q` searches the party, the place and the summary."""
    cond, params = scope.unit_filter("s.unit_id")
    if status == "open":
        cond += " AND s.status IN ('registered', 'verifying')"
    elif status:
        cond += " AND s.status = :st"
        params["st"] = status
    if q:
        cond += """ AND (s.summary ILIKE :q OR t.name ILIKE :q OR t.address ILIKE :q OR tw.name ILIKE :q
                         OR s.reporter->>'name' ILIKE :q OR CAST(s.id AS text) = :exact)"""
        pattern = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.update(q=f"%{pattern}%", exact=q.strip().lstrip("#"))
    by = "s.received_on DESC, s.id DESC" if order == "newest" else "s.verify_due, s.id"
    rows = session.execute(
        text(
            f"""SELECT s.*, t.name AS target_name, t.address AS target_address, tw.name AS township
                FROM case_source s LEFT JOIN target t ON t.id = s.target_id
                LEFT JOIN township tw ON tw.code = t.township_code
                WHERE {cond} ORDER BY {by} LIMIT :lim"""
        ),
        {**params, "lim": limit},
    ).mappings()
    return [db.jsonable(dict(r)) for r in rows]


class SourceAction(_Body):
    action: Literal["verify", "accept", "extend", "not_file", "transfer", "tell_reporter"]
    reason: str | None = Field(None, max_length=2000)
    ground: Literal[NOT_FILE_GROUNDS] | None = None  # type: ignore[valid-type]
    transfer_to: str | None = Field(None, max_length=200)
    on: dt.date | None = None


SOURCE_PERMISSIONS = {
    "verify": "case.manage",
    "accept": "case.manage",
    "tell_reporter": "case.manage",
    "extend": "case.approve",
    "not_file": "case.approve",
    "transfer": "case.approve",
}


def act(
    session: Session, scope: Scope, source_id: int, body: SourceAction, *, today: dt.date | None = None
) -> dict[str, Any]:
    """A step on a source (the caller's permission is checked by the caller: SOURCE_PERMISSIONS)."""
    today = today or beijing_today()
    on = body.on or today
    if on > today:
        raise Refused([{"rule": "date_in_future"}], RULES)
    row = load(session, scope, source_id, lock=True)
    status, a = row["status"], body.action
    if a in ("verify", "accept", "extend", "not_file", "transfer") and status not in OPEN:
        raise Conflict(f"case source {source_id} is {status}; {a} applies to an open source")
    sets: dict[str, Any] = {}
    if a == "verify":
        if status != "registered":
            raise Conflict(f"case source {source_id} is already {status}")
        sets["status"] = "verifying"
    elif a == "accept":
        if row["kind"] != "complaint":
            raise Refused([{"rule": "not_a_complaint"}], RULES)
        sets["accepted_on"] = on
    elif a == "extend":
        if row["extended"]:
            raise Refused([{"rule": "verify_extension_once"}], RULES)
        _need(body.reason, "reason")
        sets.update(extended=True, verify_due=workdays.wd_after(session, row["verify_due"], VERIFY_WD))
    elif a in ("not_file", "transfer"):
        _need(body.reason, "reason")
        if a == "not_file" and body.ground is None:
            raise InvalidInput("ground is required: " + ", ".join(NOT_FILE_GROUNDS))
        if a == "transfer":
            _need(body.transfer_to, "transfer_to")
        sets.update(
            status="not_filed" if a == "not_file" else "transferred",
            outcome_on=on,
            outcome_by=scope.username,
            outcome_reason=f"{body.ground or body.transfer_to}: {body.reason}",
        )
        if row["reporter_real_name"]:
            sets["reporter_notify_due"] = workdays.wd_after(session, on, REPORTER_WD)
    elif a == "tell_reporter":
        if not row["reporter_real_name"] or row["reporter_notify_due"] is None:
            raise Refused([{"rule": "reporter_real_name"}], RULES)
        sets["reporter_told_on"] = on
    assignments = ", ".join(f"{k} = :{k}" for k in sets)
    session.execute(text(f"UPDATE case_source SET {assignments} WHERE id = :id"), {**sets, "id": source_id})
    audit.record(
        session,
        scope.username,
        f"case_source_{a}",
        subject=f"case_source:{source_id}",
        detail={k: str(v) for k, v in sets.items()},
    )
    return get(session, scope, source_id)


def not_file_in_bulk(
    session: Session,
    scope: Scope,
    source_ids: list[int],
    ground: str,
    reason: str,
    on: dt.date | None = None,
    *,
    today: dt.date | None = None,
) -> int:
    """Close many open sources as not filed on one ground (a unit settling a campaign's leads):
    the rules of `act`'s not_file, in one statement; one audit entry with the count. Each is
    dated `on`, or without it the last day of its own verification window (never after today).
    Sources outside the caller's scope or no longer open are left as they are. How many closed."""
    today = today or beijing_today()
    if on is not None and on > today:
        raise Refused([{"rule": "date_in_future"}], RULES)
    if ground not in NOT_FILE_GROUNDS:
        raise InvalidInput("ground is required: " + ", ".join(NOT_FILE_GROUNDS))
    _need(reason, "reason")
    cond, params = scope.unit_filter("unit_id")
    closed = session.execute(
        text(
            f"""WITH closed AS (UPDATE case_source SET status = 'not_filed', outcome_on = d.day, outcome_by = :by,
                       outcome_reason = :why,
                       reporter_notify_due = CASE WHEN reporter_real_name THEN lawgrid_wd_after(d.day, :wd) END
                FROM (SELECT id, least(coalesce(CAST(:on AS date), verify_due), CAST(:today AS date)) AS day
                      FROM case_source WHERE id = ANY(:ids)) d
                WHERE case_source.id = d.id AND status IN ('registered', 'verifying') AND received_on <= d.day
                  AND {cond} RETURNING 1) SELECT count(*) FROM closed"""
        ),
        {
            **params,
            "ids": list(source_ids),
            "on": on,
            "by": scope.username,
            "why": f"{ground}: {reason}",
            "wd": REPORTER_WD,
            "today": today,
        },
    ).scalar_one()
    audit.record(
        session,
        scope.username,
        "case_source_not_file_bulk",
        subject="case_source",
        detail={"closed": closed, "asked": len(source_ids), "ground": ground, "on": on.isoformat() if on else None},
    )
    return int(closed)


def mark_filed(session: Session, source_id: int, on: dt.date, actor: str) -> None:
    row = session.execute(
        text("SELECT status, reporter_real_name FROM case_source WHERE id = :i FOR UPDATE"), {"i": source_id}
    ).first()
    if row is None:
        raise NotFound(f"no case source {source_id}")
    if row.status not in OPEN:
        raise Conflict(f"case source {source_id} is {row.status}; only an open source is filed")
    session.execute(
        text(
            "UPDATE case_source SET status = 'filed', outcome_on = :on, outcome_by = :a, "
            "reporter_notify_due = :due WHERE id = :i"
        ),
        {
            "on": on,
            "a": actor,
            "i": source_id,
            "due": workdays.wd_after(session, on, REPORTER_WD) if row.reporter_real_name else None,
        },
    )


def _need(value: str | None, name: str) -> None:
    if not (value and value.strip()):
        raise InvalidInput(f"{name} is required")


def filing_choices(session: Session, unit_id: int) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
    """What a case of the unit may be filed with: its penalty items (code, name) and its officers
    certified today (id, name, certificate)."""
    items = session.execute(
        text(
            "SELECT item_code, item_name FROM power_item WHERE unit_id = :u AND power_type_key = 'penalty' "
            "ORDER BY item_code"
        ),
        {"u": unit_id},
    ).all()
    officers = session.execute(
        text(
            "SELECT id, name, cert_no FROM officer WHERE unit_id = :u AND current_date BETWEEN cert_valid_from "
            "AND cert_valid_to ORDER BY id"
        ),
        {"u": unit_id},
    ).all()
    return [(str(c), str(n)) for c, n in items], [(int(i), str(n), str(c)) for i, n, c in officers]
