"""Document numbers and the API's document path: numbers come from their unit's blocks (a terminal
numbers offline from its own; a voided number keeps its row), and a decision made over the API,
retried once, signed, sealed and verified by the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.documents import drafting, forms, numbers, reading
from geo.infra.errors import Conflict, Refused
from tests.casework import handlers, scope
from tests.geo.documents.test_documents import device_of, onsite_case, pdf_text, rules, signature_png

pytestmark = pytest.mark.usefixtures("users")


def test_numbers_come_from_blocks_a_terminal_numbers_offline_and_a_voided_number_keeps_its_row(session, runtime):
    officer = scope(session, "t-officer")
    unit = reading.officer_unit(session, officer)
    block = numbers.issue_block(session, officer, unit, "onsite", 2026, 5, device_of(session, "t-officer"))
    first, last = block["numbers"]
    assert block["last_no"] - block["first_no"] == 4
    case = onsite_case(session, decision_no=first)  # numbered on the terminal while offline
    assert (
        session.execute(
            text("SELECT decision_no FROM case_decision WHERE case_id = :c"), {"c": case["id"]}
        ).scalar_one()
        == first
    )
    with pytest.raises(Conflict):
        onsite_case(session, decision_no=first)
    with pytest.raises(Refused) as not_mine:
        onsite_case(session, decision_no=first.replace(f"〔2026〕{block['first_no']}号", "〔2026〕99999号"))
    assert rules(not_mine) == {"number_block"}
    with pytest.raises(Refused) as other_officer:  # another officer cannot use this officer's block
        from geo.cases import filing, machine
        from geo.cases import forms as cases_forms

        filing.open_onsite(
            session,
            scope(session, "t-officer2"),
            machine.validate(
                cases_forms.OnsiteCase,
                {
                    "party": {"kind": "natural", "name": "李某"},
                    "item_code": "market_regulation.04",
                    "officer_ids": handlers(session),
                    "facts": "x",
                    "penalty": {"kinds": ["fine"], "fine_yuan": 100, "base_yuan": 1000},
                    "rights_told": True,
                    "decision_no": last,
                },
            ),
        )
    assert rules(other_officer) == {"number_block"}
    with pytest.raises(Refused) as foreign_device:
        numbers.issue_block(session, officer, unit, "onsite", 2026, 5, device_of(session, "t-officer2"))
    assert rules(foreign_device) == {"number_block_device"}

    # a spoiled form: the unused number is voided and keeps its row
    numbers.void(session, officer, last, "填写错误，作废")
    row = session.execute(text("SELECT voided, void_reason FROM doc_number WHERE doc_no = :d"), {"d": last}).one()
    assert row.voided and row.void_reason == "填写错误，作废"
    with pytest.raises(Conflict):
        onsite_case(session, decision_no=last)
    for sql in ("DELETE FROM doc_number WHERE doc_no = :d", "UPDATE doc_number SET voided = false WHERE doc_no = :d"):
        with pytest.raises(DBAPIError, match="number_kept"):
            with session.begin_nested():
                session.execute(text(sql), {"d": last})
    with pytest.raises(DBAPIError, match="number_block_overlap"):
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO doc_number_block (unit_id, doc_type, year, prefix, first_no, last_no, next_no, "
                    "created_by) VALUES (:u, 'onsite', 2026, 'x', :f, :f, :f, 'test')"
                ),
                {"u": unit, "f": block["first_no"]},
            )

    # desk numbers run on without gaps; a voided document's number stays voided
    notice_a = drafting.draft(
        session,
        scope(session, "t-officer"),
        forms.Draft(template="penalty_notice", case_id=case["id"], fields={"violated": "《价格法》第十三条"}),
    )
    with pytest.raises(Refused) as locked:
        drafting.edit(session, officer, notice_a["id"], forms.Fields(fields={"party_name": "别人"}))
    assert rules(locked) == {"document_field_locked"}
    a = drafting.issue(session, officer, runtime.documents, notice_a["id"], forms.Issue())
    voided = drafting.void(session, officer, a["id"], forms.Void(reason="告知内容有误，重新制作"))
    assert voided["status"] == "voided"
    b = drafting.draft(
        session,
        officer,
        forms.Draft(template="penalty_notice", case_id=case["id"], fields={"violated": "《价格法》第十三条"}),
    )
    b = drafting.issue(session, officer, runtime.documents, b["id"], forms.Issue())
    n = numbers.NUMBER.match(a["doc_no"])
    m = numbers.NUMBER.match(b["doc_no"])
    assert n and m and int(m["n"]) == int(n["n"]) + 1
    assert session.execute(text("SELECT voided FROM doc_number WHERE doc_no = :d"), {"d": a["doc_no"]}).scalar_one()


# -- over the API and the command line (committed data: the app has its own connections) -------
@pytest.fixture(scope="module")
def client(runtime):
    from lawgrid.app import create_app

    return create_app(runtime.settings, runtime).server.test_client()


def token(client, name: str) -> dict[str, str]:
    from tests.conftest import PASSWORD

    r = client.post("/api/auth/token", json={"username": name, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def test_a_decision_over_the_api_retried_once_signed_sealed_and_verified_by_the_cli(
    client, engine, db_url, tmp_path, capsys, monkeypatch
):
    from lawgrid import cli

    officer, officer2 = token(client, "t-officer"), token(client, "t-officer2")
    with engine.connect() as c:
        crew = handlers(c)
    r = client.post(
        "/api/cases/onsite",
        json={
            "party": {"kind": "natural", "name": "王某", "id_no": "120116198805051234"},
            "item_code": "market_regulation.04",
            "officer_ids": crew,
            "facts": "当场查实未明码标价",
            "penalty": {"kinds": ["fine"], "fine_yuan": 100, "base_yuan": 500},
            "rights_told": True,
        },
        headers=officer,
    )
    assert r.status_code == 201, r.get_json()
    case_id = r.get_json()["id"]
    draft = {
        "template": "onsite_decision",
        "case_id": case_id,
        "client_key": f"t-{case_id}",
        "fields": {"decided_at": "2026-12-02T09:00:00+08:00", "place": "滨海新区第三大街"},
    }
    first = client.post("/api/documents", json=draft, headers=officer)
    again = client.post("/api/documents", json=draft, headers=officer)  # the terminal's retry after a lost answer
    assert first.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]
    doc_id = first.get_json()["id"]
    issued = client.post(f"/api/documents/{doc_id}/issue", json={}, headers=officer).get_json()
    pdf = client.get(f"/api/documents/{doc_id}.pdf", headers=officer)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert issued["doc_no"] in pdf_text(pdf.data).replace(" ", "")

    bad = client.post(
        f"/api/documents/{doc_id}/signatures",
        json={"signer_kind": "party", "signer_name": "王某", "doc_sha256": issued["pdf_sha256"], "image_png": "!!"},
        headers=officer,
    )
    assert bad.status_code == 400 and "image_png" in bad.get_json()["detail"]
    for headers in (officer, officer2):
        r = client.post(
            f"/api/documents/{doc_id}/signatures",
            json={"signer_kind": "officer", "doc_sha256": issued["pdf_sha256"], "image_png": signature_png("o")},
            headers=headers,
        )
        assert r.status_code == 201, r.get_json()
    early = client.post(f"/api/documents/{doc_id}/seal", headers=officer)
    assert early.status_code == 422 and early.get_json()["rule"] == "signatures_missing"
    party = {
        "signer_kind": "party",
        "signer_name": "王某",
        "doc_sha256": issued["pdf_sha256"],
        "image_png": signature_png("w"),
        "client_key": f"sig-{doc_id}",
    }
    assert client.post(f"/api/documents/{doc_id}/signatures", json=party, headers=officer).status_code == 201
    retried = client.post(f"/api/documents/{doc_id}/signatures", json=party, headers=officer)
    assert len(retried.get_json()["signatures"]) == 3  # one party signature however often sent
    sealed = client.post(f"/api/documents/{doc_id}/seal", headers=officer).get_json()
    assert sealed["status"] == "sealed"
    assert client.get(f"/api/documents/{doc_id}/verify", headers=officer).get_json()["intact"]
    with engine.connect() as c:
        refusals = c.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'refused' AND detail->>'rule' = 'signatures_missing'")
        ).scalar_one()
    assert refusals >= 1

    data = client.get(f"/api/documents/{doc_id}.pdf", headers=officer).data
    good, bad_file = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(data)
    at = data.index(b"/Producer")
    bad_file.write_bytes(data[:at] + b"/Producex" + data[at + 9 :])
    capsys.readouterr()
    monkeypatch.setenv("LAWGRID_DATABASE_URL", db_url)
    assert cli.main(["verify-document", str(good)]) == 0
    out = capsys.readouterr().out
    assert "VALID: the file is as the organ sealed it" in out and issued["doc_no"] in out
    assert cli.main(["verify-document", str(bad_file)]) == 1
    assert "ALTERED" in capsys.readouterr().out

    # drafted at the desk, signed on the terminal: it waits in the officer's list until he signs
    receipt = client.post(
        "/api/documents",
        json={
            "template": "service_receipt",
            "case_id": case_id,
            "fields": {"method": "直接送达", "served_at": "2026-12-02T11:00:00+08:00", "place": "当事人经营场所"},
        },
        headers=officer,
    )
    receipt_id = receipt.get_json()["id"]
    issued_receipt = client.post(f"/api/documents/{receipt_id}/issue", json={}, headers=officer).get_json()
    assert issued_receipt["status"] == "issued", issued_receipt
    waiting = client.get("/api/my", headers=officer).get_json()["to_sign"]
    assert receipt_id in [d["id"] for d in waiting]
    client.post(
        f"/api/documents/{receipt_id}/signatures",
        json={"signer_kind": "officer", "doc_sha256": issued_receipt["pdf_sha256"], "image_png": signature_png("o")},
        headers=officer,
    )
    assert receipt_id not in [d["id"] for d in client.get("/api/my", headers=officer).get_json()["to_sign"]]

    # another unit's document is not there; a supervisor of that unit sees nothing
    assert client.get(f"/api/documents/{doc_id}", headers=token(client, "t-admin")).status_code == 200
    other = client.get("/api/documents/999999999", headers=officer)
    assert other.status_code == 404 and other.is_json


def test_an_officer_holds_at_most_two_hundred_unused_numbers(session):
    """One officer cannot reserve his unit's whole sequence: blocks are handed out as the old
    ones are used, in the core and in the database."""
    officer = scope(session, "t-officer")
    unit = session.execute(text("SELECT id FROM enforcement_unit WHERE code = 'U001'")).scalar_one()
    device = device_of(session, "t-officer")
    for _ in range(10):
        numbers.issue_block(session, officer, unit, "onsite", 2031, 20, device)
    with pytest.raises(Refused) as capped:
        numbers.issue_block(session, officer, unit, "onsite", 2031, 1, device)
    assert rules(capped) == {"number_block_outstanding"}
    with pytest.raises(DBAPIError, match="number_block_outstanding"):
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO doc_number_block (unit_id, doc_type, year, prefix, first_no, last_no, next_no, "
                    "issued_to_device, issued_to_officer, issued_at, created_by) VALUES (:u, 'onsite', 2031, 'x', "
                    "9001, 9001, 9001, :d, :o, now(), 'sql')"
                ),
                {"u": unit, "d": device, "o": officer.officer_id},
            )
    first = session.execute(
        text(
            "SELECT prefix, first_no FROM doc_number_block WHERE issued_to_officer = :o AND year = 2031 "
            "ORDER BY first_no LIMIT 1"
        ),
        {"o": officer.officer_id},
    ).one()
    numbers.void(session, officer, numbers.format_no(first.prefix, 2031, first.first_no), "作废一张，腾出名额")
    assert numbers.issue_block(session, officer, unit, "onsite", 2031, 1, device)["first_no"] > 0
