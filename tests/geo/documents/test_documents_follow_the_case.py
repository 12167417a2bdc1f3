"""Documents follow the acts they record: a 告知书 is numbered and sealed only after the head approved
the penalty it notifies, a 决定书 only after the decision (ordinary procedure), in the core and in
the database; an officer alone cannot number a notice of a case still under review."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.documents import drafting, forms, signing
from geo.infra.errors import Refused
from tests.casework import ALL_CHECKS, scope, step, to_review
from tests.geo.documents.test_documents import onsite_case, onsite_decision, signature_png

pytestmark = pytest.mark.usefixtures("users")
VIOLATED = {"violated": "《价格法》第十三条"}


def test_a_notice_is_numbered_only_after_the_approval_it_records(session, runtime):
    officer = scope(session, "t-officer")
    case = to_review(session)
    notice = drafting.draft(
        session, officer, forms.Draft(template="penalty_notice", case_id=case["id"], fields=VIOLATED)
    )
    with pytest.raises(Refused) as early:
        drafting.issue(session, officer, runtime.documents, notice["id"], forms.Issue())
    assert [v["rule"] for v in early.value.violations] == ["document_before_approval"]
    reviewer = "t-legal_reviewer" if case["legal_review_required"] else "t-case_reviewer"
    case = step(session, case, reviewer, "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
    step(session, case, "t-organ_head", "approve")
    issued = drafting.issue(session, officer, runtime.documents, notice["id"], forms.Issue())
    assert issued["status"] == "issued" and issued["doc_no"]


def test_the_database_refuses_a_decision_document_issued_before_the_decision(session):
    officer = scope(session, "t-officer")
    case = to_review(session)
    doc = drafting.draft(session, officer, forms.Draft(template="penalty_decision", case_id=case["id"]))
    with pytest.raises(DBAPIError, match="document_before_approval"):
        session.execute(text("UPDATE document SET status = 'issued' WHERE id = :d"), {"d": doc["id"]})


def test_a_simple_procedure_case_and_its_decision_have_one_number(session):
    case = onsite_case(session)
    decision_no = session.execute(
        text("SELECT decision_no FROM case_decision WHERE case_id = :c"), {"c": case["id"]}
    ).scalar_one()
    assert case["case_no"] == decision_no  # 当场处罚决定书 and its case: one number (was 31号 and 21号)


def test_the_heads_slot_is_signed_by_the_head_through_his_own_account(session, runtime):
    officer = scope(session, "t-officer")
    doc = drafting.issue(
        session, officer, runtime.documents, onsite_decision(session, onsite_case(session))["id"], forms.Issue()
    )
    forged = forms.Sign(
        signer_kind="head", signer_name="局长", doc_sha256=doc["pdf_sha256"], image_png=signature_png("局长")
    )
    with pytest.raises(Refused) as not_his:  # a handler signs nobody else's slot
        signing.sign(session, officer, doc["id"], forged)
    assert [v["rule"] for v in not_his.value.violations] == ["signature_own_account"]
    head = scope(session, "t-organ_head")
    signed = signing.sign(session, head, doc["id"], forged)
    slot = next(s for s in signed["signatures"] if s["signer_kind"] == "head")
    assert slot["signer_name"] == head.username  # his own account's name, whatever was typed
    with pytest.raises(DBAPIError, match="signature_own_account"):  # nor by a row written by hand
        session.execute(
            text(
                "INSERT INTO document_signature (document_id, signer_kind, signer_name, method, doc_hash_at_signing, "
                "login) VALUES (:d, 'reviewer', '审核员', 'handwritten_capture', :h, 't-officer')"
            ),
            {"d": doc["id"], "h": doc["pdf_sha256"]},
        )


def test_a_seal_made_with_a_self_made_certificate_is_never_valid(
    session, runtime, tmp_path, capsys, monkeypatch, db_url
):
    """One verdict everywhere: a PDF signed by a certificate named after the organ but not issued
    by this installation is `untrusted` online and `unverified` offline, never valid; the CLI says so
    in the same words, exits 1, and prints no library traceback."""
    import datetime as dt

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from geo.documents import reading, seal
    from lawgrid import cli

    officer = scope(session, "t-officer")
    doc = drafting.issue(
        session, officer, runtime.documents, onsite_decision(session, onsite_case(session))["id"], forms.Issue()
    )
    pdf = bytes(session.execute(text("SELECT pdf FROM document WHERE id = :d"), {"d": doc["id"]}).scalar_one())
    key = ec.generate_private_key(ec.SECP256R1())
    name = seal._name("滨海新区市场监管局", "滨海新区市场监管局")
    cert = seal._issue(name, key, name, key, authority=False)
    forged = seal.SealKey(
        serial=format(cert.serial_number, "x"),
        subject="滨海新区市场监管局",
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"x")
        ),
        authority_pem=cert.public_bytes(serialization.Encoding.PEM),
    )
    fake = seal.sign(pdf, forged, b"x", reason="盖章", location="滨海", when=dt.datetime.now(dt.UTC))
    online = reading.verify_file(session, fake)
    assert online["intact"] and not online["valid"] and online["verdict"] == "untrusted" and online["problem"]
    offline = reading.verify_file(None, fake)
    assert offline["verdict"] == "unverified" and not offline["valid"]
    path = tmp_path / "fake.pdf"
    path.write_bytes(fake)
    capsys.readouterr()
    assert cli.main(["verify-document", "--offline", str(path)]) == 1
    said = capsys.readouterr()
    assert "UNVERIFIED" in said.out and "INTACT" not in said.out and "Traceback" not in said.err
