"""REST routes of the officer's terminal (移动执法): his tasks and devices, the on-site checklist,
evidence from the phone's camera. The rules are geo.onsite's; the documents and the simple
procedure go through their own routes (api_documents, api_cases)."""

from __future__ import annotations

from typing import Any

from flask import Response
from sqlalchemy import text

from dashboard.context import runtime, scope
from dashboard.rest.router import Router
from geo.access import policy
from geo.dispatch import onsite
from geo.documents import reading
from geo.infra.errors import NotFound

router = Router()


@router.route(
    "GET",
    "/my",
    permission="task.status",
    summary="The caller's officer record, devices, open tasks and documents awaiting his signature",
)
def me() -> Any:
    who = scope()
    with runtime().session() as session:
        officer = (
            session.execute(
                text(
                    "SELECT o.id, o.name, o.cert_no, o.unit_id, u.name AS unit FROM officer o "
                    "JOIN enforcement_unit u ON u.id = o.unit_id WHERE o.id = :o"
                ),
                {"o": who.officer_id},
            )
            .mappings()
            .first()
        )
        if officer is None:
            raise NotFound("this account is not an officer's", rule="officer_only")
        devices = session.execute(
            text("SELECT id, kind, protocol, identifier FROM device WHERE officer_id = :o ORDER BY id"),
            {"o": who.officer_id},
        ).mappings()
        return {
            "officer": dict(officer),
            "devices": [dict(d) for d in devices],
            "tasks": onsite.my_tasks(session, who),
            "to_sign": reading.to_sign(session, who),
        }


@router.route(
    "PUT",
    "/inspections/<id:task_id>/checklist",
    permission="task.status",
    body=onsite.Checklist,
    summary="The on-site checklist of the task's check points",
)
def checklist(task_id: int, body: onsite.Checklist) -> Any:
    with runtime().session() as session:
        return onsite.save_checklist(session, scope(), task_id, body)


@router.route(
    "POST",
    "/inspections/<id:task_id>/evidence",
    permission="task.status",
    body=onsite.Evidence,
    status=201,
    summary="A photo (with its capture time, place and hash) or a note, kept as captured",
)
def add_evidence(task_id: int, body: onsite.Evidence) -> Any:
    with runtime().session() as session:
        return onsite.add_evidence(session, scope(), task_id, body)


@router.route(
    "GET", "/evidence/<id:evidence_id>", permission="view", produces="image/jpeg|image/png", summary="A photo"
)
def evidence_file(evidence_id: int) -> Any:
    with runtime().session() as session:
        row = session.execute(
            text("SELECT inspection_id, mime, content FROM evidence WHERE id = :e AND kind = 'photo'"),
            {"e": evidence_id},
        ).first()
        if row is None:
            raise NotFound(f"no photo {evidence_id}")
        policy.task_in_scope(session, scope(), int(row.inspection_id))
    return Response(bytes(row.content), mimetype=row.mime)
