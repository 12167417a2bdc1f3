"""Documents are the acts (issue 32, item 3): a notice is given by serving the sealed 告知书 and a
decision by serving the sealed 决定书, each proved by a sealed 送达回证 whose date and method are
the service's; electronic service needs the party's sealed 送达地址确认书; 公告送达 is deemed served
30 days after the announcement; an act done on paper is a 补录 naming the paper document. The
database refuses a service or a status without them; every template of §4.5 renders its fields."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from demo import paperwork
from geo.documents import drafting, forms, seal, templates
from geo.infra.errors import Refused
from geo.infra.timezone import today as beijing_today
from tests.casework import after_window, kit, scope, step, to_approved, to_notified
from tests.geo.documents.test_documents import pdf_text

pytestmark = pytest.mark.usefixtures("users")


def rules(exc) -> set[str]:
    return {v["rule"] for v in exc.value.violations}


def officer(session):
    return scope(session, "t-officer")


def service_row(session, case_id: int, document: str):
    return (
        session.execute(
            text("SELECT * FROM case_service WHERE case_id = :c AND document = :d ORDER BY id DESC LIMIT 1"),
            {"c": case_id, "d": document},
        )
        .mappings()
        .one()
    )


def receipt(session, case_id: int, served_document: str, method: str = "直接送达", day: dt.date | None = None) -> int:
    made = paperwork.sealed(
        session,
        officer(session),
        kit(),
        case_id,
        "service_receipt",
        served_document=served_document,
        method=method,
        served_at=f"{(day or beijing_today()).isoformat()}T09:30",
        place="当事人经营场所",
    )
    return int(made["id"])


def decided(session) -> tuple[dict, dt.date]:
    case = to_notified(session)
    day = after_window(session, case)
    return step(session, case, "t-organ_head", "decide", day, kind="penalty"), day


def test_the_notice_is_the_sealed_notice_served_and_its_receipt_gives_date_and_method(session):
    case = to_approved(session)
    with pytest.raises(Refused) as none:
        step(session, case, "t-officer", "notify", receipt_id=None, method="direct")
    assert rules(none) == {"service_document"}  # no sealed 告知书: no notice

    notice = paperwork.sealed(session, officer(session), kit(), case["id"], "penalty_notice")
    doc_no = session.execute(text("SELECT doc_no FROM document WHERE id = :d"), {"d": notice["id"]}).scalar()
    with pytest.raises(Refused) as unproved:
        step(session, case, "t-officer", "notify", method="direct")
    assert rules(unproved) == {"service_receipt"}  # served, but nothing proves it
    other = receipt(session, case["id"], "行政处罚告知书（津滨U001告〔2026〕999999号）")
    with pytest.raises(Refused) as wrong:
        step(session, case, "t-officer", "notify", receipt_id=other)
    assert rules(wrong) == {"service_receipt"}  # a receipt for another document proves nothing here

    posted = receipt(session, case["id"], f"行政处罚告知书（{doc_no}）", method="邮寄送达")
    with pytest.raises(Refused) as contradicts:
        step(session, case, "t-officer", "notify", receipt_id=posted, method="direct")
    assert rules(contradicts) == {"service_method"}
    notified = step(session, case, "t-officer", "notify", receipt_id=posted)
    assert notified["status"] == "notified"
    row = service_row(session, case["id"], "notice")
    assert (row["method"], row["served_on"]) == ("post", beijing_today())  # the receipt's, not the request's
    assert (row["document_id"], row["receipt_id"]) == (notice["id"], posted)

    # the notice says whether a hearing is offered and under which rule
    pdf = session.execute(text("SELECT sealed_pdf FROM document WHERE id = :d"), {"d": notice["id"]}).scalar()
    printed = "".join(pdf_text(bytes(pdf)).split())
    assert "听证权利依据" in printed and "不影响听证权利" in printed


def test_the_decision_is_served_only_as_its_sealed_decision(session):
    case, day = decided(session)
    with pytest.raises(Refused) as unsealed:
        step(session, case, "t-officer", "serve", day, method="direct")
    assert rules(unsealed) == {"service_document"}
    decision = paperwork.sealed(session, officer(session), kit(), case["id"], "penalty_decision")
    made = session.execute(
        text(
            "SELECT d.doc_no, d.sealed_pdf, k.decision_no FROM document d "
            "JOIN case_decision k ON k.case_id = d.case_id WHERE d.id = :d"
        ),
        {"d": decision["id"]},
    ).one()
    assert made.doc_no == made.decision_no  # the 决定书 bears the decision's number
    authority = seal.authority_pem(session)
    assert seal.verify(bytes(made.sealed_pdf), authority)["verdict"] == "valid"
    proof = receipt(session, case["id"], f"行政处罚决定书（{made.doc_no}）", day=day)
    served = step(session, case, "t-officer", "serve", day, receipt_id=proof)
    assert served["status"] == "executing"
    row = service_row(session, case["id"], "decision")
    assert (row["document_id"], row["receipt_id"], row["served_on"]) == (decision["id"], proof, day)


def test_public_notice_is_served_thirty_days_after_it_is_announced(session):
    case, day = decided(session)
    paperwork.sealed(session, officer(session), kit(), case["id"], "penalty_decision")
    with pytest.raises(Refused) as early:
        step(session, case, "t-officer", "serve", day + dt.timedelta(days=10), method="public_notice", announced_on=day)
    assert rules(early) == {"public_notice_period"}
    served = step(
        session, case, "t-officer", "serve", day + dt.timedelta(days=30), method="public_notice", announced_on=day
    )
    assert served["status"] == "executing"
    row = service_row(session, case["id"], "decision")
    assert (row["method"], row["announced_on"], row["served_on"]) == ("public_notice", day, day + dt.timedelta(days=30))


def test_electronic_service_needs_the_partys_sealed_address_confirmation(session):
    case, day = decided(session)
    paperwork.sealed(session, officer(session), kit(), case["id"], "penalty_decision")
    with pytest.raises(Refused) as unconfirmed:
        step(session, case, "t-officer", "serve", day, method="electronic")
    assert rules(unconfirmed) == {"service_method"}
    confirmation = paperwork.sealed(
        session,
        officer(session),
        kit(),
        case["id"],
        "address_confirmation",
        phone="13800000000",
        address="天津市滨海新区第三大街 1 号",
        electronic_accepted=True,
    )
    served = step(session, case, "t-officer", "serve", day, method="electronic", confirmation_id=confirmation["id"])
    assert served["status"] == "executing"
    assert service_row(session, case["id"], "decision")["confirmation_id"] == confirmation["id"]


def test_a_notice_served_on_paper_is_a_back_entry_naming_the_paper(session):
    start = beijing_today() - dt.timedelta(days=10)
    case = to_approved(session, start)
    paper = {"reason": "系统故障，现场送达纸质告知书", "paper_no": "津滨U001告〔2026〕纸001号"}
    with pytest.raises(Refused) as no_reason:
        step(session, case, "t-officer", "notify", start + dt.timedelta(days=2), served_on=start + dt.timedelta(days=1))
    assert rules(no_reason) == {"back_entry"}  # a past day with no receipt: a 补录, with its paper
    notified = step(
        session,
        case,
        "t-officer",
        "notify",
        start + dt.timedelta(days=2),
        served_on=start + dt.timedelta(days=1),
        back_entry=paper,
    )
    assert notified["status"] == "notified"
    row = service_row(session, case["id"], "notice")
    assert (row["paper_no"], row["document_id"], row["served_on"]) == (
        paper["paper_no"],
        None,
        start + dt.timedelta(days=1),
    )


def test_the_database_refuses_a_service_or_a_status_without_its_documents(session):
    case, day = decided(session)
    with pytest.raises(DBAPIError, match="service_document"):
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO case_service (case_id, document, method, served_on) "
                    "VALUES (:c, 'decision', 'direct', :d)"
                ),
                {"c": case["id"], "d": day},
            )
    with pytest.raises(DBAPIError, match="service_document"):
        with session.begin_nested():
            session.execute(text("UPDATE enf_case SET status = 'served' WHERE id = :c"), {"c": case["id"]})
    decision = paperwork.sealed(session, officer(session), kit(), case["id"], "penalty_decision")
    with pytest.raises(DBAPIError, match="service_receipt"):
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO case_service (case_id, document, method, served_on, document_id) "
                    "VALUES (:c, 'decision', 'direct', :d, :doc)"
                ),
                {"c": case["id"], "d": day, "doc": decision["id"]},
            )


SAMPLE = {
    "text": "示例内容",
    "longtext": "示例内容，逐项填写。",
    "date": "2026-12-08",
    "datetime": "2026-12-08T10:00",
    "money": 5000,
    "bool": True,
    "list": ["甲", "乙"],
}


def test_every_template_renders_each_of_its_fields(session):
    """Each template of §4.5, drafted on a decided case with its fields filled, prints every label."""
    case, _day = decided(session)
    codes = sorted({t.code for t in templates.parse_file(templates.SEED_FILE)})
    assert {
        "source_register",
        "filing_approval",
        "investigation_report",
        "review_opinion",
        "hearing_notice",
        "hearing_transcript",
        "hearing_report",
        "panel_record",
        "address_confirmation",
        "payment_demand",
        "closing_approval",
        "penalty_summary",
        "evidence_extraction",
        "preservation_notice",
        "installment_approval",
    } <= set(codes)
    who = officer(session)
    for code in codes:
        template = templates.get(session, code)
        fields = {f.key: (f.choices[0] if f.choices else SAMPLE[f.type]) for f in template.fields if not f.locked}
        doc = drafting.draft(
            session, who, forms.Draft.model_validate({"template": code, "case_id": case["id"], "fields": fields})
        )
        issued = drafting.issue(session, who, kit(), doc["id"], forms.Issue(doc_no=None))
        pdf = session.execute(text("SELECT pdf FROM document WHERE id = :d"), {"d": issued["id"]}).scalar()
        printed = "".join(pdf_text(bytes(pdf)).split())
        missing = [f.label for f in template.fields if "".join(f.label.split()) not in printed]
        assert not missing, f"{code}: {missing}"
        assert template.title in printed
        drafting.void(session, who, issued["id"], forms.Void(reason="模板测试"))
