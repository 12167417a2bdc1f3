"""A signature is an image decoded within limits before it is kept (issue 33, item 2): a 140 KB
PNG of 12,000 × 12,000 px or `\\x89PNG` and garbage is refused, the document stays as it was and
is sealed afterwards as before; a good signature is kept re-encoded, small."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from sqlalchemy import text

from geo.documents import drafting, forms, signing
from geo.infra.errors import InvalidInput
from tests.casework import kit, scope
from tests.geo.documents.test_documents import onsite_case, onsite_decision, sign_all

pytestmark = pytest.mark.usefixtures("users")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_bad_signature_images_are_refused_and_the_document_is_sealed_as_before(session):
    officer = scope(session, "t-officer")
    doc = drafting.issue(session, officer, kit(), onsite_decision(session, onsite_case(session))["id"], forms.Issue())
    bomb = png(Image.new("1", (12_000, 12_000), 1))
    for image, said in ((bomb, "too large"), (b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 64, "not a readable image")):
        with pytest.raises(InvalidInput, match=said):
            signing.sign(
                session,
                officer,
                doc["id"],
                forms.Sign(signer_kind="officer", doc_sha256=doc["pdf_sha256"], image_png=b64(image)),
            )
    kept = session.execute(text("SELECT count(*) FROM document_signature WHERE document_id = :d"), {"d": doc["id"]})
    assert kept.scalar() == 0  # nothing of the refused ones was kept
    doc = sign_all(session, doc)
    sealed = signing.seal_document(session, officer, kit(), doc["id"])
    assert sealed["status"] == "sealed"
    sizes = session.execute(
        text("SELECT length(image) FROM document_signature WHERE document_id = :d AND image IS NOT NULL"),
        {"d": doc["id"]},
    ).scalars()
    for size in sizes:  # re-encoded by LawGrid: greyscale, at most 1,200 × 600
        assert size < 64 * 1024


def test_a_document_says_in_words_who_still_has_to_sign(session):
    officer = scope(session, "t-officer")
    doc = drafting.issue(session, officer, kit(), onsite_decision(session, onsite_case(session))["id"], forms.Issue())
    assert [w["zh"] for w in doc["still_to_sign"]] == ["执法人员 2 人", "当事人 1 人"]
    drawn = base64.b64encode(png(Image.new("L", (300, 100), 255))).decode()
    doc = signing.sign(
        session, officer, doc["id"], forms.Sign(signer_kind="officer", doc_sha256=doc["pdf_sha256"], image_png=drawn)
    )
    assert [w["zh"] for w in doc["still_to_sign"]] == ["执法人员 1 人", "当事人 1 人"]
    assert [w["en"] for w in doc["still_to_sign"]] == ["1 × officer", "1 × party"]
