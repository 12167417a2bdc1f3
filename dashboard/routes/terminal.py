"""REST routes of the officer's terminal (移动执法): his tasks and devices, the on-site checklist,
evidence from the phone's camera. The rules are geo.onsite's; the documents and the simple
procedure go through their own routes (api_documents, api_cases)."""

from __future__ import annotations

from typing import Any

from flask import Response
from pydantic import BaseModel, ConfigDict, Field

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


class PhotoQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    original: bool = Field(False, description="the photo as captured (the evidence), as a download")


@router.route(
    "GET",
    "/evidence/<id:evidence_id>",
    permission="view",
    query=PhotoQuery,
    produces="image/jpeg|image/png|image/webp",
    summary="A photo: the JPEG LawGrid made to display it, or the original as captured",
)
def evidence_file(evidence_id: int, query: PhotoQuery) -> Any:
    mime, content = onsite_uses.photo(services(), scope(), evidence_id, original=query.original)
    headers = {"Content-Disposition": f"attachment; filename=evidence-{evidence_id}"} if query.original else {}
    return Response(content, mimetype=mime, headers=headers)
