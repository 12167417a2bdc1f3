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
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo import audit, db, doc_numbers, doc_templates, items, pdf_render, policy, seal
from geo.accounts import Scope
from geo.case_rules import PENALTY_LABELS, RULES, hearing_right
from geo.doc_templates import Template
from geo.errors import Conflict, InvalidInput, NotFound, Refused
from geo.requests import decode_file
from geo.timezone import BEIJING

MAX_SIGNATURE_BYTES = 512 * 1024
PNG = b"\x89PNG\r\n\x1a\n"
SIGNER_ROLES = {"officer": "执法人员", "party": "当事人", "witness": "见证人", "reviewer": "审核人", "head": "负责人"}


@dataclass(frozen=True)
class Kit:
    """What rendering and sealing need from the installation: the font and the seal passphrase."""

    fonts: pdf_render.Fonts
    passphrase: bytes


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Value = str | bool | float | int | list[str] | None


class Draft(Body):
    template: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    case_id: int | None = Field(None, ge=1)
    inspection_id: int | None = Field(None, ge=1)
    fields: dict[str, Value] = Field(default_factory=dict, max_length=60)
    client_key: str | None = Field(
        None, max_length=80, description="a terminal's retry key: one draft however often sent"
    )


class Fields(Body):
    fields: dict[str, Value] = Field(max_length=60)


class Issue(Body):
    doc_no: str | None = Field(None, max_length=60, description="a number from the terminal's own block")


class Sign(Body):
    signer_kind: Literal["officer", "party", "witness", "reviewer", "head"]
    signer_name: str | None = Field(None, min_length=1, max_length=100, description="officers sign as themselves")
    signer_ref: str | None = Field(None, max_length=40)
    doc_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="the hash of the PDF the signer saw")
    image_png: str | None = Field(None, description="the handwritten signature, a PNG as base64 or a data: URL")
    refused: bool = False
    refusal_reason: str | None = Field(None, max_length=500)
    witness: str | None = Field(None, max_length=100)
    media_clip: str | None = Field(None, max_length=200, description="the body camera's clip of the refusal")
    device_id: int | None = Field(None, ge=1)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    client_key: str | None = Field(None, max_length=80)


class Void(Body):
    reason: str = Field(min_length=2, max_length=500)


# -- the case's values ------------------------------------------------------------------------
def _date(value: Any) -> str:
    """GB/T 9704: Arabic numerals, no leading zeros."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def _datetime(value: Any) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        local = value.astimezone(BEIJING) if value.tzinfo else value
        return f"{_date(local.date())}{local.hour}时{local.minute:02d}分"
    return str(value or "")


def _yuan(value: Any) -> str:
    amount = float(value or 0)
    return f"{amount:,.2f}".rstrip("0").rstrip(".") + "元"


def penalty_text(penalty: dict[str, Any] | None) -> str:
    if not penalty:
        return ""
    parts = []
    for kind in penalty.get("kinds") or ():
        label = PENALTY_LABELS.get(kind, kind)
        if kind == "fine":
            label += f"人民币{_yuan(penalty.get('fine_yuan'))}"
        elif kind == "confiscation" and penalty.get("confiscation_yuan"):
            label += f"（计人民币{_yuan(penalty.get('confiscation_yuan'))}）"
        parts.append(label)
    return "；".join(parts)


def context(session: Session, case_id: int | None, inspection_id: int | None) -> dict[str, Any]:
    """The values a template's `from` names, for a case or an inspection (a record made on site
    before any case exists)."""
    ctx: dict[str, Any] = {}
    if case_id is not None:
        case = session.execute(text("SELECT * FROM enf_case WHERE id = :c"), {"c": case_id}).mappings().one()
        officers = (
            "SELECT o.name, o.cert_no FROM case_officer co JOIN officer o ON o.id = co.officer_id "
            "WHERE co.case_id = :i ORDER BY co.role, o.id"
        )
        ctx.update({f"case.{k}": v for k, v in case.items()})
        verdict = case["discretion"] or {}
        level = [f"裁量阶次：{verdict['level']}"] if verdict.get("level") else []
        reasons = [
            str(r.get("zh") or r.get("rule")) if isinstance(r, dict) else str(r) for r in verdict.get("reasons") or ()
        ]
        ctx["case.discretion_text"] = "；".join(
            level + reasons + ([case["discretion_reason"]] * bool(case["discretion_reason"]))
        )
        try:
            item = items.get(session, case["item_code"], case["item_version"])
            ctx["item.violated_provision"] = item.violated_provision or item.basis or case["legal_basis"]
            ctx["item.penalty_provision"] = item.penalty_provision or case["legal_basis"]
        except NotFound:
            ctx["item.violated_provision"] = ctx["item.penalty_provision"] = case["legal_basis"]
        if case["proposed"]:
            ctx["proposal.text"] = penalty_text(case["proposed"])
            ctx["proposal.hearing_right"] = hearing_right(case["proposed"], case["party_kind"])
        decision = (
            session.execute(text("SELECT * FROM case_decision WHERE case_id = :c"), {"c": case_id}).mappings().first()
        )
        if decision:
            ctx.update({f"decision.{k}": v for k, v in decision.items()})
            ctx["decision.penalty_text"] = penalty_text(decision["penalty"])
            ctx["decision.title_no"] = f"行政处罚决定书（{decision['decision_no']}）"
            ctx["decision.payment_text"] = (
                "自收到本决定书之日起十五日内，持缴款码到代收银行或通过电子支付缴纳；"
                "到期不缴纳的，每日按罚款数额的百分之三加处罚款"
            )
        unit_id, key = case["unit_id"], {"i": int(case_id)}
    else:
        task = (
            session.execute(
                text(
                    """SELECT i.unit_id, t.name, t.credit_code, t.address, ST_Y(t.geom) AS lat, ST_X(t.geom) AS lon
                   FROM inspection i JOIN target t ON t.id = i.target_id WHERE i.id = :i"""
                ),
                {"i": inspection_id},
            )
            .mappings()
            .one()
        )
        ctx.update(
            {
                "case.party_name": task["name"],
                "case.party_id_no": task["credit_code"],
                "case.party_address": task["address"],
                "position.text": f"{task['lat']:.6f}, {task['lon']:.6f}",
            }
        )
        officers = (
            "SELECT o.name, o.cert_no FROM inspection_officer io JOIN officer o ON o.id = io.officer_id "
            "WHERE io.inspection_id = :i ORDER BY o.id"
        )
        unit_id, key = task["unit_id"], {"i": int(inspection_id or 0)}
    crew = session.execute(text(officers), key).all()
    ctx["officers.text"] = "、".join(f"{r.name}（执法证号 {r.cert_no}）" for r in crew)
    organ = (
        session.execute(
            text(
                """SELECT u.name AS unit, b.id AS body_id, b.name AS body FROM enforcement_unit u
               LEFT JOIN LATERAL (SELECT id, name FROM enforcement_body WHERE unit_id = u.id
                                  ORDER BY kind <> 'organ', id LIMIT 1) b ON true
               WHERE u.id = :u"""
            ),
            {"u": unit_id},
        )
        .mappings()
        .one()
    )
    ctx["organ.name"] = organ["unit"]
    ctx["organ.body_id"] = organ["body_id"]
    ctx["unit_id"] = unit_id
    return ctx


def _fill(template: Template, ctx: dict[str, Any], given: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    unknown = set(given) - {f.key for f in template.fields}
    if unknown:
        raise InvalidInput(f"{template.code} has no field {', '.join(sorted(unknown))}")
    out = dict(old or {})
    for f in template.fields:
        from_case = ctx.get(f.source) if f.source else None
        if f.locked:
            if f.key in given and given[f.key] not in (None, "") and str(given[f.key]) != str(from_case or ""):
                raise Refused([{"rule": "document_field_locked", "field": f.key}], RULES)
            out[f.key] = db.jsonable({"v": from_case})["v"]
        elif f.key in given:
            out[f.key] = given[f.key]
        elif f.key not in out:
            out[f.key] = db.jsonable({"v": from_case})["v"]
    return out


# -- the lifecycle ------------------------------------------------------------------------------
def _authorize(session: Session, scope: Scope, case_id: int | None, inspection_id: int | None) -> None:
    policy.authorize(scope, "case.handle")
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


def draft(session: Session, scope: Scope, body: Draft) -> dict[str, Any]:
    _authorize(session, scope, body.case_id, body.inspection_id)
    have = db.retried(session, "document", scope.username, body.client_key)
    if have is not None:
        return view(session, scope, have)
    template = doc_templates.get(session, body.template)
    ctx = context(session, body.case_id, body.inspection_id)
    filled = {**template.defaults, **_fill(template, ctx, body.fields, None)}
    doc_id = session.execute(
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
    _audit(session, scope, "document_draft", doc_id, {"template": template.code, "case": body.case_id})
    return view(session, scope, doc_id)


def edit(session: Session, scope: Scope, doc_id: int, body: Fields) -> dict[str, Any]:
    doc = _load(session, scope, doc_id, lock=True)
    _authorize(session, scope, doc["case_id"], doc["inspection_id"])
    if doc["status"] != "draft":
        raise Refused([{"rule": "document_issued"}], RULES)
    template = doc_templates.get(session, doc["template_code"], doc["template_version"])
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
    template = doc_templates.get(session, doc["template_code"], doc["template_version"])
    ctx = context(session, doc["case_id"], doc["inspection_id"])
    filled = _fill(template, ctx, {}, doc["body"])
    missing = [f.label for f in template.fields if f.required and filled.get(f.key) in (None, "", [])]
    if missing:
        raise Refused([{"rule": "document_incomplete", "fields": missing}], RULES, detail="；".join(missing))
    now = now or dt.datetime.now(dt.UTC)
    doc_no = _number(session, scope, template, ctx, doc_id, body.doc_no, now)
    pdf = pdf_render.render(kit.fonts, page(template, ctx, filled, doc_no, [], now))
    digest = pdf_render.sha256(pdf)
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
        doc_numbers.link(session, doc_no, doc_id)
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
        return doc_numbers.use_issued(session, scope, given, template.doc_type, doc_id)
    year = now.astimezone(BEIJING).year
    return doc_numbers.take(session, int(ctx["unit_id"]), template.doc_type, year, scope.username, doc_id)


def page(
    template: Template,
    ctx: dict[str, Any],
    filled: dict[str, Any],
    doc_no: str | None,
    signatures: list[dict[str, Any]],
    when: dt.datetime,
    footer: str = "",
) -> pdf_render.Page:
    rows = []
    for f in template.fields:
        value = filled.get(f.key)
        if f.type == "bool":
            shown = "是" if value is True or value == "true" else ("否" if value in (False, "false") else "")
        elif f.type == "date":
            shown = _date(value)
        elif f.type == "datetime":
            shown = _datetime(value)
        elif f.type == "money":
            shown = _yuan(value)
        elif f.type == "list":
            shown = "；".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
        else:
            shown = str(value or "")
        rows.append((f.label, shown or "（无）"))
    values = {**template.defaults, **{k: str(v) for k, v in filled.items()}}
    paragraphs = [p.format_map(_Blank(values)) for p in template.text]
    party = next((s for s in signatures if s["signer_kind"] == "party" and s.get("image")), None)
    return pdf_render.Page(
        organ=str(ctx.get("organ.name") or ""),
        title=template.title,
        doc_no=doc_no,
        rows=rows,
        paragraphs=paragraphs,
        signatures=[_signature_block(s) for s in signatures],
        footer=footer,
        every_page_signature=party["image"] if party and template.sign_every_page else None,
        when=when,
    )


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _signature_block(sig: dict[str, Any]) -> dict[str, Any]:
    role = SIGNER_ROLES.get(sig["signer_kind"], sig["signer_kind"])
    at = _datetime(sig["signed_at"])
    where = f"，位置 {sig['lat']:.5f},{sig['lon']:.5f}" if sig.get("lat") is not None else ""
    if sig["method"] == "refused":
        seen = "，".join(
            x
            for x in (
                f"见证人 {sig['witness']}" if sig.get("witness") else "",
                f"执法记录仪 {sig['media_clip']}" if sig.get("media_clip") else "",
            )
            if x
        )
        caption = f"{sig['signer_name']} 拒绝签名（{sig['refusal_reason']}）；{seen}；记录于 {at}{where}"
        return {"role": role, "caption": caption}
    ref = f"（{sig['signer_ref']}）" if sig.get("signer_ref") else ""
    caption = f"{sig['signer_name']}{ref} 签于 {at}{where}；签署文本 SHA-256 {sig['doc_hash_at_signing'][:16]}…" + (
        f"；设备 {sig['device_id']}" if sig.get("device_id") else ""
    )
    return {"role": role, "caption": caption, "image": sig.get("image")}


def sign(session: Session, scope: Scope, doc_id: int, body: Sign) -> dict[str, Any]:
    """A signature on the terminal: bound to the PDF's hash, the signer, the device, the time, the place."""
    doc = _load(session, scope, doc_id, lock=True)
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
    name, ref = body.signer_name, body.signer_ref
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
                "ih": pdf_render.sha256(image) if image else None,
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
    if not data:
        raise InvalidInput("image_png: the signature image is required (or refused with a reason)")
    raw = decode_file(data, "image_png", MAX_SIGNATURE_BYTES)
    if not raw.startswith(PNG):
        raise InvalidInput(f"image_png: a PNG of at most {MAX_SIGNATURE_BYTES // 1024} KB")
    return raw


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


def seal_document(
    session: Session, scope: Scope, kit: Kit, doc_id: int, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The finished PDF (the signatures drawn in) sealed with the organ's certificate."""
    doc = _load(session, scope, doc_id, lock=True)
    _authorize(session, scope, doc["case_id"], doc["inspection_id"])
    if doc["status"] != "issued":
        raise Refused([{"rule": "signature_status"}], RULES)
    missing = session.execute(text("SELECT lawgrid_signatures_missing(:d)"), {"d": doc_id}).scalar_one()
    if missing:
        raise Refused([{"rule": "signatures_missing", "missing": list(missing)}], RULES, detail=", ".join(missing))
    template = doc_templates.get(session, doc["template_code"], doc["template_version"])
    ctx = context(session, doc["case_id"], doc["inspection_id"])
    if ctx.get("organ.body_id") is None:
        raise Refused([{"rule": "seal_body"}], RULES)
    now = now or dt.datetime.now(dt.UTC)
    sigs = signatures(session, doc_id, images=True)
    footer = f"签署文本 SHA-256 {doc['pdf_sha256'][:16]}…"
    finished = pdf_render.render(kit.fonts, page(template, ctx, doc["body"], doc["doc_no"], sigs, now, footer))
    key = seal.ensure(session, int(ctx["organ.body_id"]), kit.passphrase)
    sealed = seal.sign(
        finished,
        key,
        kit.passphrase,
        reason=f"{template.title} {doc['doc_no'] or ''}".strip(),
        location=str(ctx["organ.name"]),
        when=now,
    )
    digest = pdf_render.sha256(sealed)
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
        doc_numbers.void(session, scope, doc["doc_no"], body.reason)
    _audit(session, scope, "document_void", doc_id, {"reason": body.reason, "doc_no": doc["doc_no"]})
    return view(session, scope, doc_id)


def pdf(session: Session, scope: Scope, kit: Kit, doc_id: int) -> tuple[bytes, str]:
    """The sealed PDF, else the issued one, else a preview of the draft (marked 草稿)."""
    doc = _load(session, scope, doc_id)
    if doc["sealed_pdf"] is not None:
        return bytes(doc["sealed_pdf"]), f"{doc['template_code']}-{doc_id}.pdf"
    if doc["pdf"] is not None:
        return bytes(doc["pdf"]), f"{doc['template_code']}-{doc_id}.pdf"
    template = doc_templates.get(session, doc["template_code"], doc["template_version"])
    ctx = context(session, doc["case_id"], doc["inspection_id"])
    preview = page(
        template, ctx, _fill(template, ctx, {}, doc["body"]), "（草稿，未编号）", [], doc["created_at"], "草稿"
    )
    return pdf_render.render(kit.fonts, preview), f"{doc['template_code']}-{doc_id}-draft.pdf"


def view(session: Session, scope: Scope, doc_id: int) -> dict[str, Any]:
    doc = _load(session, scope, doc_id)
    template = doc_templates.get(session, doc["template_code"], doc["template_version"])
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
        signatures=signatures(session, doc_id),
        signatures_missing=list(missing),
        pdf_url=f"/api/documents/{doc_id}.pdf",
    )
    return db.jsonable(out)


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
    if session is not None:
        known = (
            session.execute(
                text("SELECT id, doc_no, status, template_code, void_reason FROM document WHERE sealed_sha256 = :h"),
                {"h": pdf_render.sha256(data)},
            )
            .mappings()
            .first()
        )
        result["document"] = db.jsonable(dict(known)) if known else None
        if known and known["status"] == "voided":
            result["problem"] = f"the document was voided: {known['void_reason']}"
    return result


def _audit(session: Session, scope: Scope, action: str, doc_id: int, detail: dict[str, Any]) -> None:
    audit.record(session, scope.username, action, subject=f"document:{doc_id}", detail=detail)
