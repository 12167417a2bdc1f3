"""A document's fields from its case (locked where the case's value must stand) and its page as
rendered, with the signature blocks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.cases.items import store
from geo.cases.rules import PENALTY_LABELS, RULES, hearing_basis, hearing_basis_text, hearing_right
from geo.documents import render
from geo.documents.forms import SIGNER_ROLES
from geo.documents.templates import Template
from geo.infra import db
from geo.infra.errors import InvalidInput, NotFound, Refused
from geo.infra.timezone import BEIJING


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
        item_hearing = None
        try:
            item = store.get(session, case["item_code"], case["item_version"])
            ctx["item.violated_provision"] = item.violated_provision or item.basis or case["legal_basis"]
            ctx["item.penalty_provision"] = item.penalty_provision or case["legal_basis"]
            item_hearing = item.hearing.model_dump(mode="json") if item.hearing else None
        except NotFound:
            ctx["item.violated_provision"] = ctx["item.penalty_provision"] = case["legal_basis"]
        if case["proposed"]:
            ctx["proposal.text"] = penalty_text(case["proposed"])
            ctx["proposal.hearing_right"] = hearing_right(case["proposed"], case["party_kind"], item_hearing)
            basis = hearing_basis(case["proposed"], case["party_kind"], item_hearing)
            ctx["proposal.hearing_basis"] = (
                hearing_basis_text(basis, case["party_kind"])
                if basis
                else "拟作出的处罚不属于依法应当告知听证权利的情形"
            )
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
        notice = session.execute(
            text(
                "SELECT doc_no FROM document WHERE case_id = :c AND template_code = 'penalty_notice' "
                "AND status = 'sealed' ORDER BY id DESC LIMIT 1"
            ),
            {"c": case_id},
        ).scalar()
        if notice:
            ctx["notice.title_no"] = f"行政处罚告知书（{notice}）"
        # the document a 送达回证 proves: the decision once made, else the notice
        ctx["served.title_no"] = ctx.get("decision.title_no") or ctx.get("notice.title_no")
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
    ctx["organ.name"] = organ["body"] or organ["unit"]  # the heading is the sealing body's
    ctx["organ.unit"] = organ["unit"]
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
            if f.choices and given[f.key] not in (None, "") and given[f.key] not in f.choices:
                raise InvalidInput(f"fields.{f.key}: one of {'、'.join(f.choices)}")
            out[f.key] = given[f.key]
        elif f.key not in out:
            out[f.key] = db.jsonable({"v": from_case})["v"]
    return out


# Documents served on the party carry its 签收 line.
RECEIPT_LINE = frozenset({"penalty_notice", "penalty_decision", "hearing_notice", "payment_demand"})


def page(
    template: Template,
    ctx: dict[str, Any],
    filled: dict[str, Any],
    doc_no: str | None,
    signatures: list[dict[str, Any]],
    when: dt.datetime,
    footer: str = "",
    *,
    sealed: bool = False,
) -> render.Page:
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
    # a numbered document (a notice, a decision) and one the organ's seal is asked for end with
    # the 落款: the sealing body and the day
    sealing = template.numbered != "none" or any(s.kind == "organ_seal" for s in template.signers)
    day = (when or dt.datetime.now(dt.UTC)).astimezone(BEIJING).date()
    return render.Page(
        organ=str(ctx.get("organ.name") or ""),
        title=template.title,
        doc_no=doc_no,
        rows=rows,
        paragraphs=paragraphs,
        signatures=[_signature_block(s) for s in signatures],
        footer=footer,
        every_page_signature=party["image"] if party and template.sign_every_page else None,
        when=when,
        closing=(str(ctx.get("organ.name") or ""), f"{day.year}年{day.month}月{day.day}日") if sealing else None,
        sealed=sealed,
        receipt_line=template.code in RECEIPT_LINE,
    )


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _signature_block(sig: dict[str, Any]) -> dict[str, Any]:
    """A signature as the paper shows it: who, in what role, when (Beijing time). The hash it is
    bound to, the device and the place stay in the signature's record and the seal, not the text."""
    role = SIGNER_ROLES.get(sig["signer_kind"], sig["signer_kind"])
    at = _datetime(sig["signed_at"])
    if sig["method"] == "refused":
        seen = "，".join(
            x
            for x in (
                f"见证人 {sig['witness']}" if sig.get("witness") else "",
                "有执法记录仪录像" if sig.get("media_clip") else "",
            )
            if x
        )
        caption = f"{sig['signer_name']} 拒绝签名（{sig['refusal_reason']}）；{seen}；记录于 {at}"
        return {"role": role, "caption": caption}
    ref = f"（{sig['signer_ref']}）" if sig.get("signer_ref") and sig["signer_kind"] == "officer" else ""
    return {"role": role, "caption": f"{sig['signer_name']}{ref}　{at}", "image": sig.get("image")}
