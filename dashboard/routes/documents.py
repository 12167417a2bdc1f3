"""REST routes of documents (执法文书): templates, drafting from a case or an inspection,
issuing (number, PDF, hash), signatures from the terminal, the organ's seal, voiding, the PDF
itself, its verification, and number blocks handed to terminals. The rules are geo.documents'."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, request
from pydantic import Field

from dashboard.context import runtime, scope, services
from dashboard.rest.router import Router
from dashboard.rest.types import Id, Listing, Model
from geo.documents import forms, numbers, reading, templates
from geo.infra.errors import InvalidInput
from geo.infra.timezone import BEIJING
from services import documents as document_uses

router = Router()

MAX_VERIFY_BYTES = 20 * 1024 * 1024


class BlockBody(Model):
    doc_type: str = Field("onsite", pattern=r"^[a-z][a-z_]{0,29}$", description="onsite: 当场行政处罚决定书")
    device_id: Id
    size: int = Field(20, ge=1, le=numbers.TERMINAL_BLOCK_MAX)
    unit_id: Id | None = Field(None, description="defaults to the officer's unit")


class VoidNumber(Model):
    doc_no: str = Field(min_length=5, max_length=60)
    reason: str = Field(min_length=2, max_length=500)


@router.route("GET", "/document-templates", permission="case.view", response=Listing, summary="The document templates")
def list_templates() -> Any:
    with runtime().session() as session:
        return {"templates": templates.listing(session)}


@router.route("GET", "/document-templates/<code>", permission="case.view", summary="A template's fields and signers")
def get_template(code: str) -> Any:
    with runtime().session() as session:
        return templates.get(session, code).model_dump(mode="json", by_alias=True)


@router.route("POST", "/documents", permission="case.handle", body=forms.Draft, status=201, summary="Draft a document")
def draft(body: forms.Draft) -> Any:
    return document_uses.draft(services(), scope(), body)


@router.route("GET", "/documents/<id:doc_id>", permission="case.view", summary="A document, its fields and signatures")
def get_document(doc_id: int) -> Any:
    with runtime().session() as session:
        return reading.view(session, scope(), doc_id)


@router.route("PATCH", "/documents/<id:doc_id>", permission="case.handle", body=forms.Fields, summary="Fill in a draft")
def edit(doc_id: int, body: forms.Fields) -> Any:
    return document_uses.edit(services(), scope(), doc_id, body)


@router.route(
    "POST", "/documents/<id:doc_id>/issue", permission="case.handle", body=forms.Issue, summary="Number and render"
)
def issue(doc_id: int, body: forms.Issue) -> Any:
    return document_uses.issue(services(), scope(), runtime().documents, doc_id, body)


@router.route(
    "POST",
    "/documents/<id:doc_id>/signatures",
    permission="case.view",  # which slot the caller may sign is the use case's rule (services.documents)
    body=forms.Sign,
    status=201,
    summary="A handwritten signature (or a refusal) bound to the issued PDF's hash; the head and the reviewer "
    "sign their own slots through their own accounts",
)
def sign(doc_id: int, body: forms.Sign) -> Any:
    return document_uses.sign(services(), scope(), doc_id, body)


@router.route("POST", "/documents/<id:doc_id>/seal", permission="case.handle", summary="Seal the finished PDF")
def seal(doc_id: int) -> Any:
    return document_uses.seal(services(), scope(), runtime().documents, doc_id)


@router.route(
    "POST", "/documents/<id:doc_id>/void", permission="case.handle", body=forms.Void, summary="Void a document"
)
def void(doc_id: int, body: forms.Void) -> Any:
    return document_uses.void(services(), scope(), doc_id, body)


@router.route(
    "GET", "/documents/<id:doc_id>.pdf", permission="case.view", produces="application/pdf", summary="The PDF"
)
def document_pdf(doc_id: int) -> Any:
    with runtime().session() as session:
        data, name = reading.pdf(session, scope(), runtime().documents, doc_id)
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f"inline; filename={name}"})


@router.route("GET", "/documents/<id:doc_id>/verify", permission="case.view", summary="Verify the sealed PDF as stored")
def verify_stored(doc_id: int) -> Any:
    with runtime().session() as session:
        data, _ = reading.pdf(session, scope(), runtime().documents, doc_id)
        return reading.verify_file(session, data)


@router.route(
    "POST", "/documents/verify", permission="case.view", summary="Verify a PDF (the request body is the file)"
)
def verify_upload() -> Any:
    data = request.get_data(cache=False)
    if not data or len(data) > MAX_VERIFY_BYTES:
        raise InvalidInput(f"send the PDF as the request body (at most {MAX_VERIFY_BYTES // 2**20} MB)")
    with runtime().session() as session:
        return reading.verify_file(session, data)


@router.route(
    "POST",
    "/number-blocks",
    permission="case.handle",
    body=BlockBody,
    status=201,
    summary="A block of document numbers for the officer's terminal (offline simple-procedure decisions)",
)
def issue_block(body: BlockBody) -> Any:
    who = scope()
    with runtime().session() as session:
        unit = body.unit_id or reading.officer_unit(session, who)
        return numbers.issue_block(
            session, who, unit, body.doc_type, dt.datetime.now(BEIJING).year, body.size, body.device_id
        )


@router.route(
    "POST", "/number-blocks/void", permission="case.handle", body=VoidNumber, summary="Void a number (its row stays)"
)
def void_number(body: VoidNumber) -> Any:
    with runtime().session() as session:
        return numbers.void(session, scope(), body.doc_no, body.reason)
