"""Signatures bound to the hash of the PDF the signer saw (or a refusal with its witness), and
the organ's seal once every signature the template asks for is there."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access import policy
from geo.access.accounts import Scope
from geo.cases.rules import RULES
from geo.documents import render, seal, templates
from geo.documents.drafting import after_approval
from geo.documents.filling import context, page
from geo.documents.forms import MAX_SIGNATURE_BYTES, Kit, Sign
from geo.documents.reading import _audit, _authorize, _load, signatures, view
from geo.infra import db, images
from geo.infra.errors import Conflict, InvalidInput, Refused
from geo.infra.requests import decode_file


def _own_account_slot(session: Session, scope: Scope, doc: dict[str, Any], kind: str) -> tuple[str, str] | None:
    """The head's and the reviewer's slots are signed by them, through their own accounts, never
    for them: the organ head of the case's unit; a reviewer who gave an opinion on the case.
    Returns (name, reference) of the signer, or None for the other slots."""
    if kind not in ("head", "reviewer"):
        return None
    if doc["case_id"] is None:
        raise Refused([{"rule": "signature_own_account"}], RULES)
    unit = session.execute(text("SELECT unit_id FROM enf_case WHERE id = :c"), {"c": doc["case_id"]}).scalar()
    in_scope = scope.district_wide or unit in (scope.unit_ids or ())
    if kind == "head":
        allowed = policy.allowed(scope, "case.approve") and in_scope
    else:
        allowed = (
            session.execute(
                text("SELECT 1 FROM case_review WHERE case_id = :c AND reviewer_user = :u AND opinion IS NOT NULL"),
                {"c": doc["case_id"], "u": scope.user_id},
            ).first()
            is not None
        )
    if not allowed:
        raise Refused([{"rule": "signature_own_account"}], RULES)
    return scope.username, f"user:{scope.user_id}"


def sign(session: Session, scope: Scope, doc_id: int, body: Sign) -> dict[str, Any]:
    """A signature on the terminal: bound to the PDF's hash, the signer, the device, the time, the place."""
    doc = _load(session, scope, doc_id, lock=True)
    own_slot = _own_account_slot(session, scope, doc, body.signer_kind)
    if own_slot is None:  # the handlers' and the party's slots: on a handler's terminal
        _authorize(session, scope, doc["case_id"], doc["inspection_id"])
    if body.client_key:
        done = session.execute(
            text("SELECT 1 FROM document_signature WHERE login = :u AND client_key = :k AND document_id = :d"),
            {"u": scope.username, "k": body.client_key, "d": doc_id},
        ).first()
        if done:
            return view(session, scope, doc_id)
    if doc["status"] != "issued":
        raise Refused([{"rule": "signature_status"}], RULES)
    if body.doc_sha256 != doc["pdf_sha256"]:
        raise Refused([{"rule": "signature_hash"}], RULES)
    name, ref = own_slot or (body.signer_name, body.signer_ref)
    if body.signer_kind == "officer":
        officer = session.execute(
            text("SELECT name, cert_no FROM officer WHERE id = :o"), {"o": scope.officer_id}
        ).first()
        if officer is None:
            raise Refused([{"rule": "signature_officer_self"}], RULES)
        already = session.execute(
            text(
                "SELECT 1 FROM document_signature "
                "WHERE document_id = :d AND signer_kind = 'officer' AND signer_ref = :r"
            ),
            {"d": doc_id, "r": officer.cert_no},
        ).first()
        if already:
            raise Conflict("you have signed this document already", rule="signature_once")
        name, ref = officer.name, officer.cert_no
    if not name:
        raise InvalidInput("signer_name: the signer's name is required")
    image = None
    if body.refused:
        if not body.refusal_reason or not (body.witness or body.media_clip):
            raise Refused([{"rule": "signature_refusal_witness"}], RULES)
    else:
        image = _png(body.image_png)
    if body.device_id is not None and not policy.own_device(session, scope, body.device_id):
        raise Refused([{"rule": "signature_device"}], RULES)
    with db.refusals(session, RULES):
        session.execute(
            text(
                """INSERT INTO document_signature (document_id, signer_kind, signer_name, signer_ref, method, image,
                        image_sha256, doc_hash_at_signing, login, device_id, geom, refusal_reason, witness, media_clip,
                        client_key)
                   VALUES (:d, :k, :n, :r, :m, :img, :ih, :h, :login, :dev,
                           CASE WHEN CAST(:lat AS float8) IS NULL THEN NULL
                                ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END, :why, :wit, :clip, :key)"""
            ),
            {
                "d": doc_id,
                "k": body.signer_kind,
                "n": name,
                "r": ref,
                "m": "refused" if body.refused else "handwritten_capture",
                "img": image,
                "ih": render.sha256(image) if image else None,
                "h": body.doc_sha256,
                "login": scope.username,
                "dev": body.device_id,
                "lat": body.lat,
                "lon": body.lon,
                "why": body.refusal_reason if body.refused else None,
                "wit": body.witness,
                "clip": body.media_clip,
                "key": body.client_key,
            },
        )
    _audit(
        session,
        scope,
        "document_sign",
        doc_id,
        {"signer": body.signer_kind, "refused": body.refused, "sha256": body.doc_sha256, "client_key": body.client_key},
    )
    return view(session, scope, doc_id)


def _png(data: str | None) -> bytes:
    """The drawn signature decoded as a PNG within its limits and re-encoded (geo.infra.images)."""
    if not data:
        raise InvalidInput("image_png: the signature image is required (or refused with a reason)")
    return images.signature_png(decode_file(data, "image_png", MAX_SIGNATURE_BYTES))


def seal_document(
    session: Session, scope: Scope, kit: Kit, doc_id: int, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The finished PDF (the signatures drawn in) sealed with the organ's certificate."""
    doc = _load(session, scope, doc_id, lock=True)
    _authorize(session, scope, doc["case_id"], doc["inspection_id"])
    if doc["status"] != "issued":
        raise Refused([{"rule": "signature_status"}], RULES)
    after_approval(session, doc["template_code"], doc["case_id"])
    missing = session.execute(text("SELECT lawgrid_signatures_missing(:d)"), {"d": doc_id}).scalar_one()
    if missing:
        raise Refused([{"rule": "signatures_missing", "missing": list(missing)}], RULES, detail=", ".join(missing))
    template = templates.get(session, doc["template_code"], doc["template_version"])
    ctx = context(session, doc["case_id"], doc["inspection_id"])
    if ctx.get("organ.body_id") is None:
        raise Refused([{"rule": "seal_body"}], RULES)
    now = now or dt.datetime.now(dt.UTC)
    sigs = signatures(session, doc_id, images=True)
    finished = render.render(kit.fonts, page(template, ctx, doc["body"], doc["doc_no"], sigs, now, sealed=True))
    key = seal.ensure(session, int(ctx["organ.body_id"]), kit.passphrase)
    sealed = seal.sign(
        finished,
        key,
        kit.passphrase,
        reason=f"{template.title} {doc['doc_no'] or ''}".strip(),
        location=str(ctx["organ.name"]),
        when=now,
    )
    digest = render.sha256(sealed)
    with db.refusals(session, RULES):
        session.execute(
            text(
                """UPDATE document SET status = 'sealed', sealed_pdf = :p, sealed_sha256 = :h, sealed_at = :t,
                          seal_serial = :s, updated_at = now() WHERE id = :d"""
            ),
            {"p": sealed, "h": digest, "t": now, "s": key.serial, "d": doc_id},
        )
    _audit(session, scope, "document_seal", doc_id, {"sha256": digest, "seal": key.serial})
    return view(session, scope, doc_id)
