"""Documents (执法文书): filled from the case, numbered from blocks, rendered to PDF with an
embedded CJK font (read back with pdftotext), signed by hand bound to the PDF's hash, sealed by
the organ with its own certificate (pyHanko), verified, tampered with and found out; numbers
and signatures held by the database too."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.access import accounts
from geo.documents import drafting, filling, forms, reading, render, seal, signing
from geo.infra.errors import Conflict, InvalidInput, Misconfigured, Refused
from tests.casework import handlers, scope

pytestmark = pytest.mark.usefixtures("users")


def rules(exc) -> set[str]:
    return {v["rule"] for v in exc.value.violations}


def signature_png(name: str) -> str:
    img = Image.new("RGB", (360, 120), "white")
    pen = ImageDraw.Draw(img)
    pen.line([(20, 90), (80, 30), (140, 95), (200, 25), (260, 85), (330, 40)], fill="black", width=5)
    pen.text((20, 5), name, fill="black")
    out = io.BytesIO()
    img.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def device_of(session, username: str) -> int:
    officer = scope(session, username).officer_id
    found = session.execute(
        text("SELECT id FROM device WHERE officer_id = :o ORDER BY id LIMIT 1"), {"o": officer}
    ).scalar()
    if found is None:
        found = session.execute(
            text(
                "INSERT INTO device (kind, protocol, identifier, officer_id) "
                "VALUES ('terminal', 'osmand', :i, :o) RETURNING id"
            ),
            {"i": f"doc-test-{username}", "o": officer},
        ).scalar_one()
    return int(found)


def onsite_case(session, **extra) -> dict:
    body = {
        "party": {
            "kind": "legal",
            "name": "天津滨海某某便利店",
            "id_no": "91120116MA05K0XX1Q",
            "address": "天津市滨海新区中新生态城和畅路1号",
        },
        "item_code": "market_regulation.04",
        "officer_ids": handlers(session),
        "facts": "当场查实未按规定明码标价，涉及商品12种",
        "penalty": {"kinds": ["fine"], "fine_yuan": 1500, "base_yuan": 1000},
        "rights_told": True,
        **extra,
    }
    from geo.cases import filing, machine
    from geo.cases import forms as cases_forms

    return filing.open_onsite(session, scope(session, "t-officer"), machine.validate(cases_forms.OnsiteCase, body))


def onsite_decision(session, case: dict) -> dict:
    return drafting.draft(
        session,
        scope(session, "t-officer"),
        forms.Draft(
            template="onsite_decision",
            case_id=case["id"],
            fields={"decided_at": "2026-12-02T10:15:00+08:00", "place": "天津市滨海新区和畅路1号店内"},
        ),
    )


def sign_all(session, doc: dict, *, party_refuses: bool = False) -> dict:
    for who in ("t-officer", "t-officer2"):
        doc = signing.sign(
            session,
            scope(session, who),
            doc["id"],
            forms.Sign(
                signer_kind="officer",
                doc_sha256=doc["pdf_sha256"],
                image_png=signature_png(who),
                device_id=device_of(session, who),
                lat=39.02,
                lon=117.71,
            ),
        )
    party = (
        forms.Sign(
            signer_kind="party",
            signer_name="张某",
            doc_sha256=doc["pdf_sha256"],
            refused=True,
            refusal_reason="当事人称不认可处罚",
            media_clip="DSJ-0001/20261202-101800.mp4",
        )
        if party_refuses
        else forms.Sign(
            signer_kind="party",
            signer_name="张某",
            signer_ref="120116199001011234",
            doc_sha256=doc["pdf_sha256"],
            image_png="data:image/png;base64," + signature_png("zhang"),
        )
    )
    return signing.sign(session, scope(session, "t-officer"), doc["id"], party)


def test_an_onsite_decision_is_filled_numbered_rendered_signed_sealed_and_verified(session, runtime, artifacts):
    kit = runtime.documents
    case = onsite_case(session)
    officer = scope(session, "t-officer")
    doc = onsite_decision(session, case)
    assert doc["status"] == "draft" and doc["signatures_missing"] == ["officer:2", "party:1"]
    doc = drafting.issue(session, officer, kit, doc["id"], forms.Issue())
    decision_no = session.execute(
        text("SELECT decision_no FROM case_decision WHERE case_id = :c"), {"c": case["id"]}
    ).scalar_one()
    assert doc["doc_no"] == decision_no and doc["status"] == "issued"
    issued, _ = reading.pdf(session, officer, kit, doc["id"])
    assert render.sha256(issued) == doc["pdf_sha256"]
    words = pdf_text(issued)
    for value in (
        decision_no,
        "当场行政处罚决定书",
        "天津滨海某某便利店",
        "91120116MA05K0XX1Q",
        "罚款人民币1,500元",
        "2026年12月2日10时15分",
        "天津市滨海新区和畅路1号店内",
        "缴款途径和期限",
        "天津市滨海新区人民政府",
    ):
        assert value in words.replace(" ", ""), value
    for name, cert in session.execute(
        text("SELECT o.name, o.cert_no FROM case_officer c JOIN officer o ON o.id = c.officer_id WHERE c.case_id = :c"),
        {"c": case["id"]},
    ):
        assert name in words and cert in words

    doc = sign_all(session, doc)
    assert doc["signatures_missing"] == [] and len(doc["signatures"]) == 3
    body_id = filling.context(session, case["id"], None)["organ.body_id"]
    seal.ensure(session, body_id, kit.passphrase)
    with pytest.raises(Misconfigured, match="LAWGRID_SEAL_PASSPHRASE"):  # another installation's passphrase
        signing.seal_document(session, officer, forms.Kit(kit.fonts, b"not-this-one"), doc["id"])
    doc = signing.seal_document(session, officer, kit, doc["id"])
    assert doc["status"] == "sealed"
    sealed, _ = reading.pdf(session, officer, kit, doc["id"])
    (artifacts / "document-onsite-decision.pdf").write_bytes(sealed)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-r", "70", "-png", "-singlefile", "-", str(artifacts / "document-onsite-decision")],
            input=sealed,
            check=True,
        )
    final_words = pdf_text(sealed).replace(" ", "")
    assert "张某" in final_words and doc["pdf_sha256"][:16] not in final_words  # hashes stay out of the text
    assert "2026年" in final_words and "当事人签收" not in final_words  # its 落款; signed on the spot, no 签收 line

    verdict = reading.verify_file(session, sealed)
    assert verdict["intact"] and verdict["trusted"], verdict
    body = session.execute(
        text(
            "SELECT b.name FROM enforcement_body b JOIN enf_case e ON e.unit_id = b.unit_id WHERE e.id = :c "
            "ORDER BY b.kind <> 'organ', b.id LIMIT 1"
        ),
        {"c": case["id"]},
    ).scalar_one()
    assert body in verdict["signatures"][0]["signer"]
    assert verdict["document"]["doc_no"] == decision_no

    # one changed byte inside the signed range, and an update appended after the seal
    at = sealed.index(b"/Producer")
    tampered = sealed[:at] + b"/Producex" + sealed[at + 9 :]
    assert not seal.verify(tampered, seal.authority_pem(session))["intact"]
    appended = sealed + b"\n1 0 obj\n<< /Title (forged) >>\nendobj\n"
    assert not reading.verify_file(session, appended)["intact"]
    # a seal from another installation's authority is intact but not trusted
    assert seal.verify(sealed, None)["trusted"] is False

    with pytest.raises(DBAPIError, match="document_sealed"):
        with session.begin_nested():
            session.execute(text("UPDATE document SET body = '{}' WHERE id = :d"), {"d": doc["id"]})


def test_a_signature_is_bound_to_the_pdf_the_signer_saw_and_a_seal_needs_every_signature(session, runtime):
    kit = runtime.documents
    officer = scope(session, "t-officer")
    doc = drafting.issue(session, officer, kit, onsite_decision(session, onsite_case(session))["id"], forms.Issue())
    stale = "0" * 64
    with pytest.raises(Refused) as wrong_hash:
        signing.sign(
            session,
            officer,
            doc["id"],
            forms.Sign(signer_kind="officer", doc_sha256=stale, image_png=signature_png("x")),
        )
    assert rules(wrong_hash) == {"signature_hash"}
    with pytest.raises(DBAPIError, match="signature_hash"):  # the database holds it on any path
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO document_signature (document_id, signer_kind, signer_name, method, image, "
                    "image_sha256, doc_hash_at_signing, login) "
                    "VALUES (:d, 'party', 'x', 'handwritten_capture', '\\x00', 'x', :h, 'x')"
                ),
                {"d": doc["id"], "h": stale},
            )
    with pytest.raises(Refused) as no_witness:
        signing.sign(
            session,
            officer,
            doc["id"],
            forms.Sign(
                signer_kind="party",
                signer_name="张某",
                doc_sha256=doc["pdf_sha256"],
                refused=True,
                refusal_reason="不签",
            ),
        )
    assert rules(no_witness) == {"signature_refusal_witness"}
    with pytest.raises(InvalidInput, match="PNG"):
        signing.sign(
            session,
            officer,
            doc["id"],
            forms.Sign(
                signer_kind="party",
                signer_name="张某",
                doc_sha256=doc["pdf_sha256"],
                image_png=base64.b64encode(b"GIF89a not a png").decode(),
            ),
        )
    with pytest.raises(Refused) as other_device:
        signing.sign(
            session,
            officer,
            doc["id"],
            forms.Sign(
                signer_kind="officer",
                doc_sha256=doc["pdf_sha256"],
                image_png=signature_png("x"),
                device_id=device_of(session, "t-officer2"),
            ),
        )
    assert rules(other_device) == {"signature_device"}

    signing.sign(
        session,
        officer,
        doc["id"],
        forms.Sign(signer_kind="officer", doc_sha256=doc["pdf_sha256"], image_png=signature_png("x")),
    )
    with pytest.raises(Conflict):
        signing.sign(
            session,
            officer,
            doc["id"],
            forms.Sign(signer_kind="officer", doc_sha256=doc["pdf_sha256"], image_png=signature_png("x")),
        )
    with pytest.raises(Refused) as missing:
        signing.seal_document(session, officer, kit, doc["id"])
    assert rules(missing) == {"signatures_missing"}
    assert missing.value.violations[0]["missing"] == ["officer:2", "party:1"]
    with pytest.raises(DBAPIError, match="signatures_missing"):
        with session.begin_nested():
            session.execute(
                text("UPDATE document SET status = 'sealed', sealed_sha256 = 'x' WHERE id = :d"), {"d": doc["id"]}
            )
    # a recorded refusal with the camera's clip stands in for the party's signature
    signing.sign(
        session,
        scope(session, "t-officer2"),
        doc["id"],
        forms.Sign(signer_kind="officer", doc_sha256=doc["pdf_sha256"], image_png=signature_png("y")),
    )
    doc = signing.sign(
        session,
        officer,
        doc["id"],
        forms.Sign(
            signer_kind="party",
            signer_name="张某",
            doc_sha256=doc["pdf_sha256"],
            refused=True,
            refusal_reason="当事人拒绝签名",
            media_clip="DSJ-0001/clip-7.mp4",
        ),
    )
    doc = signing.seal_document(session, officer, kit, doc["id"])
    assert doc["status"] == "sealed"
    sealed, _ = reading.pdf(session, officer, kit, doc["id"])
    assert "拒绝签名" in pdf_text(sealed).replace(" ", "")


def test_a_document_is_issued_only_complete(session, runtime):
    officer = scope(session, "t-officer")
    case = onsite_case(session)
    doc = drafting.draft(session, officer, forms.Draft(template="onsite_decision", case_id=case["id"]))
    with pytest.raises(Refused) as incomplete:
        drafting.issue(session, officer, runtime.documents, doc["id"], forms.Issue())
    assert rules(incomplete) == {"document_incomplete"}
    assert set(incomplete.value.violations[0]["fields"]) == {"时间", "地点"}
    cert = session.execute(
        text(
            "SELECT o.cert_no FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id WHERE u.code = 'U001' "
            "AND o.id <> ALL(:crew) AND NOT EXISTS (SELECT 1 FROM app_user a WHERE a.officer_id = o.id) LIMIT 1"
        ),
        {"crew": handlers(session)},
    ).scalar_one()
    accounts.create_user(session, "t-not-on-case", "a-Long-Passw0rd-here", "officer", [], officer_cert=cert)
    with pytest.raises(Refused) as not_handler:  # an officer not on the case makes none of its documents
        drafting.draft(
            session, scope(session, "t-not-on-case"), forms.Draft(template="onsite_decision", case_id=case["id"])
        )
    assert rules(not_handler) == {"handler_only"}
    with pytest.raises(InvalidInput, match="no field"):
        drafting.edit(session, officer, doc["id"], forms.Fields(fields={"colour": "red"}))
    preview, name = reading.pdf(session, officer, runtime.documents, doc["id"])
    assert "草稿" in pdf_text(preview) and name.endswith("-draft.pdf")
