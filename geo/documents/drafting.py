"""Documents (执法文书): drafted from a template and the case, issued (numbered, rendered to PDF,
hashed), signed on the terminal (a handwritten capture bound to the hash of the PDF the signer
saw, or a refusal with a witness or the camera's clip), sealed by the organ (a digital signature
of the finished PDF), or voided (its number keeps its row). CASE-PROCEDURE.md §4.4, §4.5.

Every path (API, pages, the terminal, the CLI) comes through here; the database holds the same
rules (migration 0019: the signature's hash, the signatures a seal needs, a sealed document
never changed, numbers kept)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access.accounts import Scope
from geo.cases.rules import RULES
from geo.documents import numbers, render, templates
from geo.documents.filling import _fill, context, page
from geo.documents.forms import Draft, Fields, Issue, Kit, Void
from geo.documents.reading import _audit, _authorize, _load, view
from geo.documents.templates import Template
from geo.infra import db
from geo.infra.errors import Conflict, Refused
from geo.infra.timezone import BEIJING


def draft(session: Session, scope: Scope, body: Draft) -> dict[str, Any]:
    _authorize(session, scope, body.case_id, body.inspection_id)
    template = templates.get(session, body.template)
    same = {"case_id": body.case_id, "inspection_id": body.inspection_id, "template_code": template.code}
    have = db.retried(session, "document", scope.username, body.client_key, **same)
    if have is not None:
        return view(session, scope, have)
    ctx = context(session, body.case_id, body.inspection_id)
    filled = {**template.defaults, **_fill(template, ctx, body.fields, None)}

    def insert() -> int:
        return int(
            session.execute(
                text(
                    """INSERT INTO document (case_id, inspection_id, unit_id, template_code, template_version, body,
                                             client_key, created_by)
                       VALUES (:c, :i, :u, :t, :v, CAST(:b AS jsonb), :k, :by) RETURNING id"""
                ),
                {
                    "c": body.case_id,
                    "i": body.inspection_id,
                    "u": ctx["unit_id"],
                    "t": template.code,
                    "v": template.version,
                    "b": json.dumps(filled, ensure_ascii=False, default=str),
                    "k": body.client_key,
                    "by": scope.username,
                },
            ).scalar_one()
        )

    doc_id, made = db.once(session, "document", scope.username, body.client_key, insert, **same)
    if made:
        _audit(session, scope, "document_draft", doc_id, {"template": template.code, "case": body.case_id})
    return view(session, scope, doc_id)


def edit(session: Session, scope: Scope, doc_id: int, body: Fields) -> dict[str, Any]:
    doc = _load(session, scope, doc_id, lock=True)
    _authorize(session, scope, doc["case_id"], doc["inspection_id"])
    if doc["status"] != "draft":
        raise Refused([{"rule": "document_issued"}], RULES)
    template = templates.get(session, doc["template_code"], doc["template_version"])
    filled = _fill(template, context(session, doc["case_id"], doc["inspection_id"]), body.fields, doc["body"])
    session.execute(
        text("UPDATE document SET body = CAST(:b AS jsonb), updated_at = now() WHERE id = :d"),
        {"b": json.dumps(filled, ensure_ascii=False, default=str), "d": doc_id},
    )
    return view(session, scope, doc_id)


def issue(
    session: Session, scope: Scope, kit: Kit, doc_id: int, body: Issue, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Number and render: the document the signers will see, hashed."""
    doc = _load(session, scope, doc_id, lock=True)
    _authorize(session, scope, doc["case_id"], doc["inspection_id"])
    if doc["status"] != "draft":
        raise Refused([{"rule": "document_issued"}], RULES)
    template = templates.get(session, doc["template_code"], doc["template_version"])
    after_approval(session, doc["template_code"], doc["case_id"])
    ctx = context(session, doc["case_id"], doc["inspection_id"])
    filled = _fill(template, ctx, {}, doc["body"])
    missing = [f.label for f in template.fields if f.required and filled.get(f.key) in (None, "", [])]
    if missing:
        raise Refused([{"rule": "document_incomplete", "fields": missing}], RULES, detail="；".join(missing))
    now = now or dt.datetime.now(dt.UTC)
    doc_no = _number(session, scope, template, ctx, doc_id, body.doc_no, now)
    pdf = render.render(kit.fonts, page(template, ctx, filled, doc_no, [], now))
    digest = render.sha256(pdf)
    session.execute(
        text(
            """UPDATE document SET status = 'issued', body = CAST(:b AS jsonb), doc_no = :n, pdf = :p, pdf_sha256 = :h,
                      rendered_at = :t, updated_at = now() WHERE id = :d"""
        ),
        {
            "b": json.dumps(filled, ensure_ascii=False, default=str),
            "n": doc_no,
            "p": pdf,
            "h": digest,
            "t": now,
            "d": doc_id,
        },
    )
    if doc_no and template.numbered == "block":
        numbers.link(session, doc_no, doc_id)
    _audit(session, scope, "document_issue", doc_id, {"doc_no": doc_no, "sha256": digest})
    return view(session, scope, doc_id)


def _number(
    session: Session,
    scope: Scope,
    template: Template,
    ctx: dict[str, Any],
    doc_id: int,
    given: str | None,
    now: dt.datetime,
) -> str | None:
    if template.numbered == "none":
        return None
    if template.numbered == "decision":
        number = ctx.get("decision.decision_no")
        if not number:
            raise Refused([{"rule": "document_needs_decision"}], RULES)
        clash = session.execute(
            text("SELECT id FROM document WHERE doc_no = :n AND status <> 'voided' AND id <> :d"),
            {"n": number, "d": doc_id},
        ).scalar()
        if clash:
            raise Conflict(f"document {clash} already carries {number}; void it first", rule="number_used")
        return str(number)
    if given:
        return numbers.use_issued(session, scope, given, template.doc_type, doc_id)
    year = now.astimezone(BEIJING).year
    return numbers.take(session, int(ctx["unit_id"]), template.doc_type, year, scope.username, doc_id)


def void(session: Session, scope: Scope, doc_id: int, body: Void) -> dict[str, Any]:
    doc = _load(session, scope, doc_id, lock=True)
    _authorize(session, scope, doc["case_id"], doc["inspection_id"])
    if doc["status"] == "voided":
        raise Conflict(f"document {doc_id} is already voided", rule="document_sealed")
    session.execute(
        text("UPDATE document SET status = 'voided', void_reason = :r, updated_at = now() WHERE id = :d"),
        {"r": body.reason, "d": doc_id},
    )
    owned = (
        doc["doc_no"]
        and session.execute(
            text("SELECT 1 FROM doc_number WHERE doc_no = :n AND document_id = :d AND NOT voided"),
            {"n": doc["doc_no"], "d": doc_id},
        ).first()
    )
    if owned:
        numbers.void(session, scope, doc["doc_no"], body.reason)
    _audit(session, scope, "document_void", doc_id, {"reason": body.reason, "doc_no": doc["doc_no"]})
    return view(session, scope, doc_id)


# A document that records an approval is numbered and sealed only after it (ordinary procedure):
# the 告知书 after the head approved the proposed penalty, the 决定书 after the decision.
RECORDS_APPROVAL = {
    "penalty_notice": "SELECT approved_on IS NOT NULL OR procedure <> 'ordinary' FROM enf_case WHERE id = :c",
    "penalty_decision": """SELECT procedure <> 'ordinary' OR EXISTS (SELECT 1 FROM case_decision d WHERE d.case_id = :c)
                           FROM enf_case WHERE id = :c""",
}


def after_approval(session: Session, template_code: str, case_id: int | None) -> None:
    sql = RECORDS_APPROVAL.get(template_code)
    if sql is None or case_id is None:
        return
    if not session.execute(text(sql), {"c": case_id}).scalar():
        raise Refused([{"rule": "document_before_approval"}], RULES)
