"""REST routes of the officer's terminal (移动执法): his tasks and devices, the on-site checklist,
evidence from the phone's camera. The rules are geo.onsite's; the documents and the simple
procedure go through their own routes (api_documents, api_cases)."""

from __future__ import annotations

from typing import Any

from flask import Response

from dashboard.context import scope, services
from dashboard.rest.router import Router
from geo.dispatch import onsite
from services import onsite as onsite_uses

router = Router()


@router.route(
    "GET",
    "/my",
    permission="task.status",
    summary="The caller's officer record, devices, open tasks and documents awaiting his signature",
)
def me() -> Any:
    return onsite_uses.my_work(services(), scope())


@router.route(
    "PUT",
    "/inspections/<id:task_id>/checklist",
    permission="task.status",
    body=onsite.Checklist,
    summary="The on-site checklist of the task's check points",
)
def checklist(task_id: int, body: onsite.Checklist) -> Any:
    return onsite_uses.save_checklist(services(), scope(), task_id, body)


@router.route(
    "POST",
    "/inspections/<id:task_id>/evidence",
    permission="task.status",
    body=onsite.Evidence,
    status=201,
    summary="A photo (with its capture time, place and hash) or a note, kept as captured",
)
def add_evidence(task_id: int, body: onsite.Evidence) -> Any:
    return onsite_uses.add_evidence(services(), scope(), task_id, body)


@router.route(
    "GET", "/evidence/<id:evidence_id>", permission="view", produces="image/jpeg|image/png", summary="A photo"
)
def evidence_file(evidence_id: int) -> Any:
    mime, content = onsite_uses.photo(services(), scope(), evidence_id)
    return Response(content, mimetype=mime)
