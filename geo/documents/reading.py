"""Reading documents back, for whoever may: a document's row, view and PDF, its signatures,
what is left to sign, a case's documents, the verification of a sealed file; the documents'
audit entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access import policy
from geo.access.accounts import Scope
from geo.cases.rules import RULES
from geo.documents import render, seal, templates
from geo.documents.filling import _fill, context, page
from geo.documents.forms import Kit
from geo.infra import audit, db
from geo.infra.errors import InvalidInput, NotFound, Refused


# -- the lifecycle ------------------------------------------------------------------------------
def _authorize(session: Session, scope: Scope, case_id: int | None, inspection_id: int | None) -> None:
    """The document's case is in the caller's units and he is one of its handlers (办案人员 make
    their own cases' documents), or its inspection is in his scope. His role is the use case's."""
    if case_id is not None:
        unit = session.execute(text("SELECT unit_id FROM enf_case WHERE id = :c"), {"c": case_id}).scalar()
        if unit is None:
            raise NotFound(f"no case {case_id}")
    elif inspection_id is not None:
        policy.task_in_scope(session, scope, inspection_id)
        return
    else:
        raise InvalidInput("a document belongs to a case (case_id) or an inspection (inspection_id)")
    if not scope.district_wide and unit not in (scope.unit_ids or ()):
        raise NotFound(f"no case {case_id} in your scope", rule="unit_scope")
    handler = session.execute(
        text("SELECT 1 FROM case_officer WHERE case_id = :c AND officer_id = :o"), {"c": case_id, "o": scope.officer_id}
    ).first()
    if handler is None:  # 办案人员 make their own cases' documents (as they take its steps)
        raise Refused([{"rule": "handler_only"}], RULES)


def _load(session: Session, scope: Scope, doc_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = (
        session.execute(text("SELECT * FROM document WHERE id = :d" + (" FOR UPDATE" if lock else "")), {"d": doc_id})
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no document {doc_id}")
    if not scope.district_wide and row["unit_id"] not in (scope.unit_ids or ()):
        raise NotFound(f"no document {doc_id} in your scope", rule="unit_scope")
    return dict(row)


def signatures(session: Session, doc_id: int, *, images: bool = False) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            f"""SELECT id, signer_kind, signer_name, signer_ref, method, image_sha256, doc_hash_at_signing, signed_at,
                       login, device_id, ST_Y(geom) AS lat, ST_X(geom) AS lon, refusal_reason, witness, media_clip
                       {", image" if images else ""}
                FROM document_signature WHERE document_id = :d ORDER BY id"""
        ),
        {"d": doc_id},
    ).mappings()
    return [dict(r) if images else db.jsonable(dict(r)) for r in rows]


def pdf(session: Session, scope: Scope, kit: Kit, doc_id: int) -> tuple[bytes, str]:
    """The sealed PDF, else the issued one, else a preview of the draft (marked 草稿)."""
    doc = _load(session, scope, doc_id)
    if doc["sealed_pdf"] is not None:
        return bytes(doc["sealed_pdf"]), f"{doc['template_code']}-{doc_id}.pdf"
    if doc["pdf"] is not None:
        return bytes(doc["pdf"]), f"{doc['template_code']}-{doc_id}.pdf"
    template = templates.get(session, doc["template_code"], doc["template_version"])
    ctx = context(session, doc["case_id"], doc["inspection_id"])
    preview = page(
        template, ctx, _fill(template, ctx, {}, doc["body"]), "（草稿，未编号）", [], doc["created_at"], "草稿"
    )
    return render.render(kit.fonts, preview), f"{doc['template_code']}-{doc_id}-draft.pdf"


def view(session: Session, scope: Scope, doc_id: int) -> dict[str, Any]:
    doc = _load(session, scope, doc_id)
    template = templates.get(session, doc["template_code"], doc["template_version"])
    missing = session.execute(text("SELECT lawgrid_signatures_missing(:d)"), {"d": doc_id}).scalar_one()
    out = {k: v for k, v in doc.items() if k not in ("pdf", "sealed_pdf")}
    out.update(
        title=template.title,
        title_en=template.title_en,
        fields=[
            {
                "key": f.key,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "locked": f.locked,
                "value": doc["body"].get(f.key),
            }
            for f in template.fields
        ],
        signers=[s.model_dump() for s in template.signers if s.min > 0],
        signatures=(signed := signatures(session, doc_id)),
        signatures_missing=list(missing),
        still_to_sign=_still_to_sign(template, signed),
        pdf_url=f"/api/documents/{doc_id}.pdf",
    )
    return db.jsonable(out)


SIGNER_WORDS = {
    "officer": ("执法人员", "officer"),
    "party": ("当事人", "party"),
    "witness": ("见证人", "witness"),
    "reviewer": ("审核人", "reviewer"),
    "head": ("负责人", "head"),
}


def _still_to_sign(template: Any, signed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who still has to sign, in words: each slot with how many signatures it still needs (a
    recorded refusal counts where the template lets it)."""
    out = []
    for slot in template.signers:
        if slot.kind == "organ_seal" or slot.min == 0:
            continue
        have = sum(1 for s in signed if s["signer_kind"] == slot.kind and (s["method"] != "refused" or slot.refusal))
        if have < slot.min:
            zh, en = SIGNER_WORDS.get(slot.kind, (slot.kind, slot.kind))
            out.append(
                {
                    "kind": slot.kind,
                    "still": slot.min - have,
                    "zh": f"{zh} {slot.min - have} 人",
                    "en": f"{slot.min - have} × {en}",
                }
            )
    return out


def to_sign(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Issued documents of the caller's cases (drafted at the desk, say) that wait for his signature."""
    ids = session.execute(
        text(
            """SELECT d.id FROM document d JOIN case_officer co ON co.case_id = d.case_id AND co.officer_id = :o
               JOIN officer o ON o.id = :o
               WHERE d.status = 'issued'
                 AND EXISTS (SELECT 1 FROM unnest(lawgrid_signatures_missing(d.id)) m WHERE m LIKE 'officer:%')
                 AND NOT EXISTS (
                   SELECT 1 FROM document_signature s WHERE s.document_id = d.id AND s.signer_kind = 'officer'
                     AND s.signer_ref = o.cert_no)
               ORDER BY d.id LIMIT 50"""
        ),
        {"o": scope.officer_id},
    ).scalars()
    return [view(session, scope, int(i)) for i in list(ids)]


def officer_unit(session: Session, scope: Scope) -> int:
    unit = session.execute(text("SELECT unit_id FROM officer WHERE id = :o"), {"o": scope.officer_id}).scalar()
    if unit is None:
        raise Refused([{"rule": "number_block_officer"}], RULES)
    return int(unit)


def for_case(session: Session, scope: Scope, case_id: int, *, verify: bool = False) -> list[dict[str, Any]]:
    """A case's documents, oldest first; with verify, each sealed one's seal checked as stored."""
    rows = session.execute(
        text("SELECT id, sealed_pdf FROM document WHERE case_id = :c ORDER BY id"), {"c": case_id}
    ).all()
    out = []
    for doc_id, sealed in rows:
        found = view(session, scope, int(doc_id))
        if verify and sealed is not None:
            found["verification"] = verify_file(session, bytes(sealed))
        out.append(found)
    return out


def verify_file(session: Session | None, data: bytes) -> dict[str, Any]:
    """`seal.verify` against this installation's authority, and what LawGrid knows of the file."""
    authority = seal.authority_pem(session) if session is not None else None
    result = seal.verify(data, authority)
    if session is not None and result["verdict"] == "unverified":  # online, and no seal was ever issued here
        result = seal.judged({**result, "problem": None}, "untrusted")
    if session is not None:
        known = (
            session.execute(
                text(
                    "SELECT id, doc_no, status, template_code, void_reason, seal_serial FROM document "
                    "WHERE sealed_sha256 = :h"
                ),
                {"h": render.sha256(data)},
            )
            .mappings()
            .first()
        )
        result["document"] = db.jsonable(dict(known)) if known else None
        serials = {s.get("serial") for s in result["signatures"]}
        if result["valid"] and known and known["seal_serial"] and serials != {known["seal_serial"]}:
            result = seal.judged({**result, "problem": None}, "wrong_body")
        if known and known["status"] == "voided":
            result = seal.judged({**result, "problem": f"the document was voided: {known['void_reason']}"}, "voided")
    return result


def _audit(session: Session, scope: Scope, action: str, doc_id: int, detail: dict[str, Any]) -> None:
    audit.record(session, scope.username, action, subject=f"document:{doc_id}", detail=detail)
