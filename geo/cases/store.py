"""The cases' SQL that is not a step: the case row's update, its append-only history, the
database's gates, inserting a case, its officers and a decision row, numbering, and reading
the party, the officer's unit and the unit's penalty item."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access.accounts import Scope
from geo.cases import workdays
from geo.cases.forms import Party
from geo.cases.rules import (
    DECISION_DAYS,
    RULES,
)
from geo.documents import numbers
from geo.infra import db
from geo.infra.errors import InvalidInput, NotFound, Refused


def _event(
    session: Session, case_id: int, actor: str, name: str, frm: str | None, to: str | None, detail: dict[str, Any]
) -> None:
    session.execute(
        text(
            "INSERT INTO case_event (case_id, actor, action, from_status, to_status, detail) "
            "VALUES (:c, :a, :n, :f, :t, CAST(:d AS jsonb))"
        ),
        {
            "c": case_id,
            "a": actor,
            "n": name,
            "f": frm,
            "t": to,
            "d": json.dumps({k: v for k, v in detail.items() if v is not None}, ensure_ascii=False, default=str),
        },
    )


def _update(session: Session, case_id: int, **sets: Any) -> None:
    casts = {"proposed": "CAST(:proposed AS jsonb)", "discretion": "CAST(:discretion AS jsonb)"}
    assignments = ", ".join(f"{k} = {casts.get(k, ':' + k)}" for k in sets)
    session.execute(text(f"UPDATE enf_case SET {assignments} WHERE id = :case_id"), {**sets, "case_id": case_id})


def _gates(session: Session, sql: str, params: dict[str, Any]) -> None:
    broken = session.execute(text(sql), params).scalar_one()
    if broken:
        raise Refused([{"rule": r} for r in broken], RULES)


def _penalty_item(session: Session, unit_id: int, item_code: str, on: dt.date | None = None) -> Any:
    """The unit's penalty power for the item, with the codified version in force on the day of the
    act (the current one without a day; the first one for an act before any version)."""
    return session.execute(
        text(
            "SELECT p.item_code, p.item_name, p.legal_basis, p.legal_review, e.version AS item_version "
            "FROM power_item p LEFT JOIN LATERAL ("
            "  SELECT version FROM enforcement_item e WHERE e.code = p.item_code "
            "  ORDER BY (CAST(:on AS date) IS NULL AND e.valid_to IS NULL) DESC, "
            "           (e.valid_from <= coalesce(CAST(:on AS date), e.valid_from)) DESC, "
            "           CASE WHEN e.valid_from <= coalesce(CAST(:on AS date), e.valid_from) THEN e.valid_from END "
            "           DESC NULLS LAST, e.valid_from, e.version DESC LIMIT 1) e ON true "
            "WHERE p.unit_id = :u AND p.item_code = :i AND p.power_type_key = 'penalty'"
        ),
        {"u": unit_id, "i": item_code, "on": on},
    ).first()


def _party_of_target(session: Session, target_id: int | None) -> Party | None:
    if target_id is None:
        return None
    row = session.execute(
        text("SELECT kind, name, credit_code, address FROM target WHERE id = :t"), {"t": target_id}
    ).first()
    if row is None:
        raise NotFound(f"no target {target_id}")
    return Party(
        kind="legal" if row.kind == "entity" else "other", name=row.name, id_no=row.credit_code, address=row.address
    )


def _officer_unit(session: Session, officer_id: int | None) -> int:
    unit = session.execute(text("SELECT unit_id FROM officer WHERE id = :o"), {"o": officer_id}).scalar()
    if unit is None:
        raise Refused([{"rule": "handler_only"}], RULES)
    return int(unit)


def _insert_case(
    session: Session,
    scope: Scope,
    procedure: str,
    status: str,
    unit_id: int,
    target_id: int | None,
    party: Party,
    item: Any,
    facts: str,
    today: dt.date,
    *,
    source_id: int | None = None,
    major: bool = False,
    act_ended_on: dt.date | None = None,
    act: dict[str, Any] | None = None,
    legal_review_reason: str | None = None,
    proposed: dict[str, Any] | None = None,
    client_key: str | None = None,
    case_no: str | None = None,
) -> int:
    legal = bool(item.legal_review or major or legal_review_reason)
    reason = legal_review_reason or ("法制审核目录事项" if item.legal_review else "重大案件" if major else None)
    number = case_no or _number(
        session, unit_id, "case" if procedure == "ordinary" else "onsite", today.year, scope.username
    )
    due = workdays.cd_after(session, today, DECISION_DAYS) if procedure == "ordinary" else None
    case_id = session.execute(
        text("""INSERT INTO enf_case (case_no, source_id, procedure, status, unit_id, target_id, party_kind, party_name,
                    party_id_no, party_address, item_code, item_version, item_name, legal_basis, facts, proposed,
                    legal_review_required, legal_review_reason, major, act_ended_on, filed_on, decision_due,
                    created_by, client_key, act_on, act_continues_reason, grave_interest, harmful_consequences,
                    item_version_at_act)
                VALUES (:no, :src, :proc, :st, :u, :t, :pk, :pn, :pid, :pa, :ic, :iv, :iname, :basis, :facts,
                    CAST(:prop AS jsonb), :legal, :lr, :major, :ended, :filed, :due, :by, :key, :act_on,
                    :act_why, :grave, :harm, :iv) RETURNING id"""),
        {
            "no": number,
            "src": source_id,
            "proc": procedure,
            "st": status,
            "u": unit_id,
            "t": target_id,
            "pk": party.kind,
            "pn": party.name,
            "pid": party.id_no,
            "pa": party.address,
            "ic": item.item_code,
            "iv": item.item_version,
            "iname": item.item_name,
            "basis": item.legal_basis,
            "facts": facts,
            "prop": json.dumps(proposed) if proposed else None,
            "legal": legal,
            "lr": reason,
            "major": major,
            "ended": act_ended_on,
            "filed": today,
            "due": due,
            "by": scope.username,
            "key": client_key,
            "act_on": (act or {}).get("on", today),
            "act_why": (act or {}).get("continues_reason"),
            "grave": bool((act or {}).get("grave_interest")),
            "harm": bool((act or {}).get("harmful_consequences")),
        },
    ).scalar_one()
    return int(case_id)


def _add_officers(session: Session, case_id: int, officer_ids: list[int]) -> None:
    if len(set(officer_ids)) != len(officer_ids):
        raise InvalidInput("officer_ids lists an officer twice")
    found = session.execute(text("SELECT count(*) FROM officer WHERE id = ANY(:o)"), {"o": officer_ids}).scalar_one()
    if found != len(officer_ids):
        raise NotFound("an officer in officer_ids does not exist")
    session.execute(
        text("INSERT INTO case_officer (case_id, officer_id) SELECT :c, unnest(CAST(:o AS int[]))"),
        {"c": case_id, "o": officer_ids},
    )
    day = session.execute(text("SELECT filed_on FROM enf_case WHERE id = :c"), {"c": case_id}).scalar_one()
    _gates(session, "SELECT lawgrid_crew_gates(:c, :d)", {"c": case_id, "d": day})


def _insert_decision(
    session: Session,
    scope: Scope,
    case_id: int,
    unit_id: int,
    kind: str,
    penalty: dict[str, Any] | None,
    today: dt.date,
    doc_type: str,
    *,
    statements: str | None = None,
    education: str | None = None,
    number: str | None = None,
    taken: bool = False,
) -> str:
    """A decision row; `number` is an officer's block number to use, or (taken) one already used."""
    if number and not taken:
        number = numbers.use_issued(session, scope, number, doc_type)
    elif not number:
        number = _number(session, unit_id, doc_type, today.year, scope.username)
    version = session.execute(text("SELECT facts_version FROM enf_case WHERE id = :c"), {"c": case_id}).scalar_one()
    with db.refusals(session, RULES):
        session.execute(
            text("""INSERT INTO case_decision (case_id, kind, decision_no, decided_on, signed_by, penalty,
                        statements_adopted, education, facts_version)
                    VALUES (:c, :k, :no, :d, :by, CAST(:p AS jsonb), :s, :e, :v)"""),
            {
                "c": case_id,
                "k": kind,
                "no": number,
                "d": today,
                "by": scope.username,
                "p": json.dumps(penalty) if penalty else None,
                "s": statements,
                "e": education,
                "v": version,
            },
        )
    return number


def _number(session: Session, unit_id: int, doc_type: str, year: int, by: str = "system") -> str:
    """`prefix〔year〕n号` from the unit's number blocks (geo.doc_numbers)."""
    return numbers.take(session, unit_id, doc_type, year, by)
