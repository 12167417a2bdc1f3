"""The paper behind a served notice or decision, made as the officers make it: the sealed
告知书 or 决定书 (drafted from the case, issued, sealed), then the 送达回证 drafted, signed on the
terminal by the officer and the party, and sealed. Used by the demo's cases and the tests that
walk a case; returns the `serve` or `notify` step's request."""

from __future__ import annotations

import base64
import datetime as dt
import io
from functools import cache
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access.accounts import Scope
from geo.documents import drafting, forms, signing

SERVED = {"notify": "notice", "serve": "decision"}  # the step, and the document it serves
TEMPLATE = {"notice": "penalty_notice", "decision": "penalty_decision"}


@cache
def signature_png() -> str:
    """A handwritten-looking stroke, as the terminal's pad sends it (a PNG as a data: URL)."""
    image = Image.new("L", (240, 80), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(10, 60), (50, 20), (80, 55), (120, 25), (160, 58), (220, 30)], fill=0, width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def sealed(session: Session, officer: Scope, kit: forms.Kit, case_id: int, template: str, **fields: Any) -> dict:
    """The case's sealed document of this template, made if it has none."""
    have = session.execute(
        text(
            "SELECT id FROM document WHERE case_id = :c AND template_code = :t AND status = 'sealed' "
            "ORDER BY id DESC LIMIT 1"
        ),
        {"c": case_id, "t": template},
    ).scalar()
    if have is not None and template != "service_receipt":
        return {"id": have}
    doc = drafting.draft(
        session, officer, forms.Draft.model_validate({"template": template, "case_id": case_id, "fields": fields})
    )
    doc = drafting.issue(session, officer, kit, doc["id"], forms.Issue(doc_no=None))
    for missing in doc["signatures_missing"]:
        if missing.startswith("officer"):
            _sign(session, officer, doc, "officer", None)
        elif missing.startswith("party"):
            party = session.execute(text("SELECT party_name FROM enf_case WHERE id = :c"), {"c": case_id}).scalar()
            _sign(session, officer, doc, "party", str(party))
    return signing.seal_document(session, officer, kit, doc["id"])


def _sign(session: Session, officer: Scope, doc: dict, kind: str, name: str | None) -> None:
    body = {"signer_kind": kind, "doc_sha256": doc["pdf_sha256"], "image_png": signature_png()}
    if name:
        body["signer_name"] = name
    signing.sign(session, officer, doc["id"], forms.Sign.model_validate(body))


def service(
    session: Session, officer: Scope, kit: forms.Kit, case_id: int, document: str, day: dt.date
) -> dict[str, Any]:
    """Seal the notice or the decision, serve it directly on `day` and seal the 送达回证; the
    step's request (the receipt that proves the service)."""
    served = sealed(session, officer, kit, case_id, TEMPLATE[document])
    doc_no = session.execute(text("SELECT doc_no FROM document WHERE id = :d"), {"d": served["id"]}).scalar()
    title = "行政处罚告知书" if document == "notice" else "行政处罚决定书"
    receipt = sealed(
        session,
        officer,
        kit,
        case_id,
        "service_receipt",
        served_document=f"{title}（{doc_no}）",
        method="直接送达",
        served_at=f"{day.isoformat()}T10:00",
        place="当事人经营场所",
    )
    return {"receipt_id": receipt["id"]}
