"""The officer's terminal (移动执法, /m) in Chromium at 390 × 844: a task accepted, the arrival
detected from the terminal's own OsmAnd fixes, the checklist, a photo taken while the
connection is cut (queued, then sent once), a 现场笔录 whose first answer is lost (retried,
one record), signatures drawn on the screen, an on-the-spot decision numbered from the
terminal's block and sealed; then the desk opens the same case and sees the seal verified."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import uuid

import pytest
import requests
from PIL import Image
from sqlalchemy import text

from tests.conftest import PASSWORD
from tests.webutil import browser_login, phone_client, run_async, wait_for

pytestmark = pytest.mark.usefixtures("users")


def bearer(url: str, username: str) -> dict[str, str]:
    r = requests.post(url + "/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=10)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def task(engine):
    """A U001 market-regulation target, a task assigned to t-officer and t-officer2, and
    t-officer's own terminal speaking OsmAnd; committed for the web app."""
    ident = f"m-{uuid.uuid4().hex[:10]}"
    with engine.begin() as c:
        officers = dict(
            c.execute(
                text("SELECT username, officer_id FROM app_user WHERE username IN ('t-officer', 't-officer2')")
            ).all()
        )
        unit = c.execute(text("SELECT id FROM enforcement_unit WHERE code = 'U001'")).scalar_one()
        target = (
            c.execute(
                text(
                    "SELECT id, name, ST_Y(geom) AS lat, ST_X(geom) AS lon FROM target "
                    "WHERE kind = 'entity' AND 'market_regulation' = ANY(domains) ORDER BY id DESC LIMIT 1"
                )
            )
            .mappings()
            .one()
        )
        # the officer's own terminal, speaking OsmAnd (the Traccar Client) for this test; restored after
        device, protocol, old_ident = c.execute(
            text("SELECT id, protocol, identifier FROM device WHERE officer_id = :o AND kind = 'terminal'"),
            {"o": officers["t-officer"]},
        ).one()
        c.execute(
            text("UPDATE device SET protocol = 'osmand', identifier = :i WHERE id = :d"), {"i": ident, "d": device}
        )
        task_id = c.execute(
            text(
                "INSERT INTO inspection (target_id, domain_key, source, due_at, status, unit_id, created_by, "
                "assigned_at) VALUES (:t, 'market_regulation', 'api', now() + interval '2 hours', 'assigned', :u, "
                "'test', now()) RETURNING id"
            ),
            {"t": target["id"], "u": unit},
        ).scalar_one()
        for officer in officers.values():
            c.execute(
                text("INSERT INTO inspection_officer VALUES (:i, :o, (now() + interval '2 hours')::date)"),
                {"i": task_id, "o": officer},
            )
    yield {"id": task_id, "target": dict(target), "device": device, "ident": ident}
    with engine.begin() as c:  # the records stay (append-only); the terminal speaks its own protocol again
        c.execute(
            text("UPDATE device SET protocol = :p, identifier = :i WHERE id = :d"),
            {"p": protocol, "i": old_ident, "d": device},
        )


def draw(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 100)
    page.mouse.down()
    for k in range(1, 9):
        page.mouse.move(box["x"] + 20 + 35 * k, box["y"] + (30 if k % 2 else 100), steps=4)
    page.mouse.up()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 160, 200)).save(out, "JPEG")
    return out.getvalue()


def count(engine, sql: str, **params) -> int:
    with engine.connect() as c:
        return int(c.execute(text(sql), params).scalar_one())


def sign_as_second_officer(url: str, doc_id: int) -> None:
    """The second officer signs on his own terminal (his own account)."""
    headers = bearer(url, "t-officer2")
    doc = requests.get(f"{url}/api/documents/{doc_id}", headers=headers, timeout=10).json()
    png = io.BytesIO()
    Image.new("RGB", (200, 80), "white").save(png, "PNG")
    import base64

    r = requests.post(
        f"{url}/api/documents/{doc_id}/signatures",
        headers=headers,
        json={
            "signer_kind": "officer",
            "doc_sha256": doc["pdf_sha256"],
            "image_png": base64.b64encode(png.getvalue()).decode(),
        },
        timeout=10,
    )
    assert r.status_code == 201, r.text


def sign_and_seal(page, live_app, doc_id: int, party: str) -> None:
    page.wait_for_selector(f"#doc-{doc_id}")
    draw(page, "#officer-pad")
    page.click("#sign-officer")
    page.wait_for_selector(f"#doc-{doc_id} .sigs li")
    sign_as_second_officer(live_app["url"], doc_id)
    page.click(f"#doc-{doc_id}-refresh")
    page.wait_for_function(f"() => document.querySelectorAll('#doc-{doc_id} .sigs li').length === 2")
    page.fill("#party-name", party)
    draw(page, "#party-pad")
    page.click("#sign-party")
    page.wait_for_function(f"() => !document.querySelector('#doc-{doc_id}-seal').disabled")
    page.click(f"#doc-{doc_id}-seal")
    page.wait_for_selector(f"#doc-{doc_id}-sealed")


def test_an_officer_on_the_spot_with_the_connection_cut_once(browser, live_app, engine, task, artifacts):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        browser_login(page, live_app["url"], "t-officer", PASSWORD)
        page.goto(live_app["url"] + "/m")
        tid = task["id"]
        page.click(f"#task-{tid}-accepted")
        page.wait_for_selector(f"#task-{tid}-en_route")
        page.click(f"#task-{tid}-en_route")
        page.wait_for_function(f"() => document.querySelector('#task-{tid}-status').dataset.status === 'en_route'")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

        # the phone's own fixes at the target: the server judges the arrival
        async def arrive():
            phone = phone_client(task["ident"], live_app["osmand"])
            for k in range(3):
                when = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=3 - k)
                assert (await phone.position(task["target"]["lat"], task["target"]["lon"] + 0.00005, when))[0] == 200
            await phone.close()

        run_async(arrive())
        page.wait_for_selector(f"#task-{tid}-open")
        page.screenshot(path=str(artifacts / "terminal-tasks.png"))
        page.click(f"#task-{tid}-open")

        # the checklist: one point found in breach
        first = page.locator("fieldset.point").first
        first.locator("input[value=violation]").check()
        for box in page.locator("fieldset.point").all()[1:]:
            box.locator("input[value=ok]").check()
        page.click("#checklist-save")
        wait_for(
            lambda: count(engine, "SELECT count(*) FROM inspection WHERE id = :i AND checklist IS NOT NULL", i=tid),
            what="the checklist",
        )

        # a photo while the connection is cut: queued, then sent exactly once
        photo = jpeg()
        context.set_offline(True)
        page.set_input_files("#photo-input", files=[{"name": "shop.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        page.fill("#note-input", "货架价签缺失")
        page.click("#evidence-save")
        page.wait_for_function("() => document.querySelector('#m-queue').dataset.count === '1'")
        assert count(engine, "SELECT count(*) FROM evidence WHERE inspection_id = :i", i=tid) == 0
        page.screenshot(path=str(artifacts / "terminal-offline-queued.png"))
        context.set_offline(False)
        page.wait_for_function("() => document.querySelector('#m-queue').dataset.count === '0'")
        with engine.connect() as c:
            rows = c.execute(text("SELECT sha256, kind FROM evidence WHERE inspection_id = :i"), {"i": tid}).all()
        assert rows == [(hashlib.sha256(photo).hexdigest(), "photo")]

        # 现场笔录: the server's first answer is lost; the terminal resends, one record is made
        lost = {"n": 0}

        def lose_first(route):
            if route.request.method == "POST" and lost["n"] == 0:
                lost["n"] += 1
                route.fetch()  # the server makes the record ...
                route.abort("connectionreset")  # ... and the answer never arrives
            else:
                route.continue_()

        page.route(re.compile(r".*/api/documents(\?.*)?$"), lose_first)
        page.fill("#rec-present", "店主张某（经营者本人）")
        page.fill("#rec-observed", "店内在售商品12种未标明价格，货架价签缺失")
        page.click("#record-issue")
        record_id = wait_for(lambda: page.evaluate("document.querySelector('#doc-panel .doc')?.id"), what="the record")
        assert lost["n"] == 1
        assert count(engine, "SELECT count(*) FROM document WHERE inspection_id = :i", i=tid) == 1
        sign_and_seal(page, live_app, int(record_id.split("-")[1]), "张某")

        # the on-the-spot decision, numbered from the terminal's own block
        page.wait_for_selector("#onsite-item option[value='market_regulation.04']", state="attached")
        page.select_option("#onsite-item", "market_regulation.04")
        page.fill("#onsite-facts", "未按规定明码标价，涉及商品12种")
        page.fill("#onsite-fine", "12000")  # 12 times the base: outside the law's range
        page.fill("#onsite-base", "1000")
        page.check("#onsite-rights")
        page.click("#onsite-decide")
        refusal = page.locator("#m-flash.bad")
        refusal.wait_for()
        said = refusal.inner_text()  # in the terminal's language, with the lawful range
        assert re.search(r"[\u4e00-\u9fff]", said) and "元）" in said and "outside" not in said, said
        page.fill("#onsite-fine", "1500")
        page.click("#onsite-decide")
        page.wait_for_function(
            "() => document.querySelector('#doc-panel .doc h3')?.textContent.includes('当场行政处罚决定书')",
        )
        decision_doc = int(page.evaluate("document.querySelector('#doc-panel .doc').id").split("-")[1])
        sign_and_seal(page, live_app, decision_doc, "张某")
        page.screenshot(path=str(artifacts / "terminal-decision-sealed.png"), full_page=True)
        with engine.connect() as c:
            case_id, decision_no, block_officer = c.execute(
                text(
                    """SELECT d.case_id, cd.decision_no, b.issued_to_officer FROM document d
                       JOIN case_decision cd ON cd.case_id = d.case_id
                       JOIN doc_number n ON n.doc_no = cd.decision_no JOIN doc_number_block b ON b.id = n.block_id
                       WHERE d.id = :d"""
                ),
                {"d": decision_doc},
            ).one()
            officer = c.execute(text("SELECT officer_id FROM app_user WHERE username = 't-officer'")).scalar_one()
        assert block_officer == officer  # the number came from the terminal's block, not the desk's

        page.click(f"#task-{tid}-violation")
        wait_for(
            lambda: count(engine, "SELECT count(*) FROM case_source WHERE inspection_id = :i", i=tid),
            what="the case source",
        )
    finally:
        context.close()

    # the desk opens the same case: the decision, its three signatures, the seal verified
    desk = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        browser_login(desk, live_app["url"], "t-officer", PASSWORD)
        desk.goto(f"{live_app['url']}/case/{case_id}")
        desk.wait_for_selector(f"#case-edoc-{decision_doc}-verified")
        row = desk.inner_text(f"#case-edoc-{decision_doc}")
        assert decision_no in row and "张某" in row and row.count("✓") >= 3
        desk.screenshot(path=str(artifacts / "desk-case-documents.png"), full_page=True)
        pdf = requests.get(
            f"{live_app['url']}/api/documents/{decision_doc}.pdf",
            headers=bearer(live_app["url"], "t-officer"),
            timeout=10,
        )
        check = requests.post(
            f"{live_app['url']}/api/documents/verify",
            data=pdf.content,
            headers=bearer(live_app["url"], "t-officer"),
            timeout=10,
        ).json()
        assert check["intact"] and check["trusted"] and check["document"]["doc_no"] == decision_no
    finally:
        desk.close()
