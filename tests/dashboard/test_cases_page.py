"""A case walked through the pages in a real browser: a violation found on inspection, filed
from the sources page by the organ head, investigated by the officer, reviewed, approved and
notified; the early decision is refused with its rule shown; then the party's written waiver,
the decision, service, performance and closing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from demo import paperwork
from geo.infra.timezone import today as beijing_today
from tests.casework import handlers, violation
from tests.conftest import PASSWORD
from tests.geo.documents.test_documents import pdf_text
from tests.webutil import browser_login

pytestmark = pytest.mark.usefixtures("users")


def as_user(browser, live_app, username: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    browser_login(page, live_app["url"], username, PASSWORD)
    return page


def choose(page, selector: str, label: str) -> None:
    page.click(selector)
    page.get_by_role("option", name=label).first.click()
    page.keyboard.press("Escape")  # a multiple choice stays open


def take(page, url: str, action: str, *, fill=None, pick=None, tick=()) -> None:
    page.goto(url)
    page.click(f'[data-action="{action}"]')
    page.wait_for_selector("#case-submit")
    shown = page.locator(".lg-case-form").inner_text()  # the form speaks words, not the model's codes
    assert not re.search(r"\b[a-z]+(_[a-z]+)+\b|\bproposed\.|\b(agree|accept|penalty|direct)\b", shown), shown
    for name, value in (fill or {}).items():
        page.locator(f'[data-field="{name}"] textarea, [data-field="{name}"] input').first.fill(value)
    for name, value in (pick or {}).items():
        choose(page, f'[data-field="{name}"] .dash-dropdown', value)
    for name in tick:
        for option in page.locator(f'[data-field="{name}"] label').all():
            option.click()
    page.click("#case-submit")
    page.wait_for_selector("#case-ok, #case-error")
    assert page.locator("#case-error").count() == 0, page.locator("#case-error").inner_text()


def desk_document(page, url: str, title: str, **fields: str) -> None:
    """Draft a document at the desk from the case; it is issued at once when complete."""
    page.goto(url)
    choose(page, "#case-doc-template", title)
    for key, value in fields.items():
        control = page.locator(f'[data-doc-field="{key}"]')
        control.wait_for()
        if control.locator(".dash-dropdown").count():
            choose(page, f'[data-doc-field="{key}"] .dash-dropdown', value)
        else:
            control.locator("input, textarea").first.fill(value)
    page.click("#case-doc-draft")
    message = page.locator("#case-doc-message")
    page.wait_for_function("() => document.querySelector('#case-doc-message').innerText.trim().length > 0")
    assert "已出具" in message.inner_text(), message.inner_text()


def seal_newest(page, url: str, title: str) -> None:
    page.goto(url)
    row = page.locator("#case-edocs > li", has_text=title).last
    row.locator("[data-seal]").click()
    page.wait_for_function("() => document.querySelector('#case-doc-message').innerText.trim().length > 0")
    assert "已盖章" in page.locator("#case-doc-message").inner_text(), page.locator("#case-doc-message").inner_text()


def terminal_post(page, path: str, body: dict) -> tuple[int, str]:
    """A request as the officer's terminal sends it (its page's CSRF token, his session)."""
    return tuple(
        page.evaluate(
            """async ([path, body]) => {
                const r = await fetch(path, {method: "POST", body: JSON.stringify(body), headers: {
                    "Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf}});
                return [r.status, await r.text()];
            }""",
            [path, body],
        )
    )


def serve_with_receipt(page, live_app, engine, url: str, case_id: int, day: str) -> None:
    """The 送达回证 drafted at the desk, signed on the terminal by the officer and by the party
    (on the officer's terminal, handed over), then sealed at the desk."""
    desk_document(page, url, "送达回证", method="直接送达", served_at=f"{day} 10:30", place="当事人经营场所")
    with Session(engine) as s:
        doc = s.execute(
            text(
                "SELECT id, pdf_sha256 FROM document WHERE case_id = :c AND template_code = 'service_receipt' "
                "AND status = 'issued' ORDER BY id DESC LIMIT 1"
            ),
            {"c": case_id},
        ).one()
    page.goto(live_app["url"] + "/m")
    for kind, name in (("officer", None), ("party", "当事人代表")):
        body = {"signer_kind": kind, "doc_sha256": doc.pdf_sha256, "image_png": paperwork.signature_png()}
        status, answer = terminal_post(
            page, f"/api/documents/{doc.id}/signatures", body | ({"signer_name": name} if name else {})
        )
        assert status == 201, answer
    seal_newest(page, url, "送达回证")


# What the served PDFs say, opened as the user opens them (the case file's PDF link).
PRINTED = {
    "penalty_notice": ("行政处罚告知书", "听证权利依据", "五个工作日"),
    "penalty_decision": ("行政处罚决定书", "十五日内", "申请行政复议"),
    "service_receipt": ("送达回证", "直接送达", "当事人经营场所"),
}


def opened_pdf(page, live_app, engine, case_id: int, template: str) -> str:
    with Session(engine) as s:
        doc = s.execute(
            text(
                "SELECT id FROM document WHERE case_id = :c AND template_code = :t AND status = 'sealed' "
                "ORDER BY id LIMIT 1"
            ),
            {"c": case_id, "t": template},
        ).scalar_one()
    answer = page.request.get(f"{live_app['url']}/api/documents/{doc}.pdf")
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    verdict = page.request.get(f"{live_app['url']}/api/documents/{doc}/verify").json()
    assert verdict["verdict"] == "valid", verdict  # sealed by the organ, unchanged
    return "".join(pdf_text(answer.body()).split())


def test_a_case_from_a_violation_to_closing_in_the_browser(browser, live_app, engine):
    with Session(engine) as s:
        started = s.execute(text("SELECT clock_timestamp()")).scalar()
        source = violation(s, note="浏览器测试：超标价销售")
        labels = [
            f"{r.name}（{r.cert_no}）"
            for r in s.execute(
                text("SELECT name, cert_no FROM officer WHERE id = ANY(:o) ORDER BY id"), {"o": handlers(s)}
            )
        ]
        s.commit()
    base = live_app["url"]

    head = as_user(browser, live_app, "t-organ_head")
    head.goto(base + "/cases/sources")
    head.click("#file-source")
    head.keyboard.type("浏览器测试")  # found by its words, newest first, saying what it is about
    head.get_by_role("option", name=f"#{source['id']} 检查发现").first.click()
    head.keyboard.press("Escape")
    choose(head, "#file-item", "market_regulation.04 价格违法行为处罚")
    for label in labels:
        choose(head, "#file-officers", label)
    head.locator("#file-facts").fill("检查发现超标价销售")
    head.locator("#file-act-continues input").check()  # the act is still going on: dated the day it was found
    head.click("#file-submit")
    link = head.locator("#file-ok")
    link.wait_for()
    case_url = base + link.get_attribute("href")

    officer = as_user(browser, live_app, "t-officer")
    take(officer, case_url, "start_investigation", tick=["rights_told"])
    take(officer, case_url, "record_evidence", pick={"kind": "书证"}, fill={"description": "价签照片三张"})
    take(
        officer,
        case_url,
        "close_investigation",
        pick={"proposed.kinds": "罚款", "proposed.tier": "有违法所得 · 违法所得 0–5 倍"},
        fill={
            "facts": "超标价销售，价签与销售记录为证",
            "proposed.fine_yuan": "5000",
            "proposed.base_yuan": "2000",
            "discretion_reason": "初次违法，从轻",
        },
    )

    reviewer = as_user(browser, live_app, "t-case_reviewer")
    reviewer.goto(base + "/cases/review")
    reviewer.get_by_text(re.compile("津滨U001立")).first.wait_for()
    take(reviewer, case_url, "review", pick={"opinion": "同意", "discretion": "认可"}, tick=["checks"])

    take(head, case_url, "approve")
    case_id = int(case_url.rsplit("/", 1)[-1])
    today = beijing_today().isoformat()
    # the notice: the sealed 告知书 served, proved by a 送达回证 signed on the terminal and sealed
    desk_document(officer, case_url, "行政处罚告知书")
    seal_newest(officer, case_url, "行政处罚告知书")
    serve_with_receipt(officer, live_app, engine, case_url, case_id, today)
    take(officer, case_url, "notify", pick={"receipt_id": "送达回证"})

    head.goto(case_url)
    refused = head.locator('[data-refused="decide"]')
    refused.wait_for()
    assert "告知后五个工作日未满" in refused.inner_text()

    take(officer, case_url, "waive", fill={"note": "当事人书面放弃陈述、申辩和听证"})
    take(head, case_url, "decide", pick={"kind": "给予行政处罚"})
    desk_document(officer, case_url, "行政处罚决定书")
    seal_newest(officer, case_url, "行政处罚决定书")
    serve_with_receipt(officer, live_app, engine, case_url, case_id, today)
    take(officer, case_url, "serve", pick={"receipt_id": "行政处罚决定书"})
    opened = {code: opened_pdf(officer, live_app, engine, case_id, code) for code in PRINTED}
    for code, words in PRINTED.items():
        for word in words:
            assert word in opened[code], f"{code}: {word}"
    with Session(engine) as s:
        number = s.execute(text("SELECT decision_no FROM case_decision WHERE case_id = :c"), {"c": case_id}).scalar()
    assert number in opened["penalty_decision"]  # the 决定书 bears the decision's number
    take(officer, case_url, "record_performance", fill={"reference": "非税缴款书 1201160000001"})
    take(head, case_url, "close")

    head.goto(case_url)
    head.wait_for_selector('#case-heading[data-status="closed"]')
    timeline = head.locator("#case-timeline").inner_text()
    for step in ("立案", "开始调查", "审核", "送达告知书", "作出决定", "送达决定书", "结案"):
        assert step in timeline
    assert f"送达文书 {number}，凭送达回证" in timeline  # the step names the 决定书 it served
    with Session(engine) as s:  # looking at a case is no refusal: none audited for anyone in the walk
        refused = s.execute(
            text(
                "SELECT actor, detail FROM audit_log WHERE action = 'refused' AND at >= :t "
                "AND actor IN ('t-organ_head', 't-officer', 't-case_reviewer')"
            ),
            {"t": started},
        ).all()
    assert refused == [], refused
    for page in (head, officer, reviewer):
        page.close()


def test_the_warnings_board_lists_cases_first_and_counts_the_sources(browser, live_app, engine):
    """A supervisor's 预警 board: an overdue case on the first page with its party and handlers and
    a link to its file; the sources summed up by kind, deadline and level."""
    import datetime as dt

    from geo.cases import clocks
    from geo.infra import db
    from tests.casework import to_review

    with db.session_scope(db.make_sessionmaker(engine)) as s:
        late = to_review(s)
        sources = [violation(s, note=f"预警看板 {i}")["id"] for i in range(3)]
        clocks.sweep(s, late["review_due"] + dt.timedelta(days=40), cases=[late["id"]], sources=sources)
    page = as_user(browser, live_app, "t-supervisor")
    page.goto(live_app["url"] + "/cases/warnings")
    page.locator("#warnings-counts").filter(has_text="案件预警").wait_for()
    link = page.locator(f'#warnings-table a[href="/case/{late["id"]}"]')
    link.wait_for()
    row = page.locator("#warnings-table tr", has=page.locator(f'a[href="/case/{late["id"]}"]'))
    assert late["party_name"] in row.inner_text() and "已超期" in row.inner_text()
    grouped = page.locator("#warnings-sources").inner_text()
    assert "检查发现" in grouped and "source:" not in page.content()
    page.close()
    with engine.begin() as c:  # the warnings of this test's future day stay with it
        c.execute(
            text("DELETE FROM case_warning WHERE case_id = :c OR source_id = ANY(:s)"),
            {"c": late["id"], "s": sources},
        )


def test_a_source_registered_is_ready_to_file_at_once_and_found_by_its_party(browser, live_app, engine):
    """案源: register a complaint and it is chosen in the filing form at once; any source is found
    by its party, place or words; columns and values in Chinese (no raw codes)."""
    import uuid

    head = as_user(browser, live_app, "t-organ_head")
    head.goto(live_app["url"] + "/cases/sources")
    words = f"某超市缺斤短两 {uuid.uuid4().hex[:6]}"
    head.locator("#source-summary").fill(words)
    head.locator("#source-reporter").fill("王先生")
    head.click("#source-submit")
    head.locator("#source-ok").wait_for()
    new_id = int(head.locator("#source-ok").inner_text().split()[0].lstrip("#"))
    chosen = head.locator("#file-source")
    chosen.filter(has_text=f"#{new_id} 投诉").wait_for()  # chosen for filing, saying what it is
    assert "王先生" in chosen.inner_text() and words[:10] in chosen.inner_text()
    table = head.locator("#sources-table").inner_text()
    assert "投诉" in table and "complaint" not in table and "registered" not in table
    with Session(engine) as s:
        found = violation(s, note="按当事人查找")  # a lead found on inspection: its party is the target
        target = s.execute(
            text("SELECT s.id, t.name FROM case_source s JOIN target t ON t.id = s.target_id WHERE s.id = :i"),
            {"i": found["id"]},
        ).one()
        s.commit()
    head.goto(live_app["url"] + "/cases/sources")
    head.click("#file-source")
    head.keyboard.type(target.name[:6])
    head.get_by_role("option", name=f"#{target.id} ").first.wait_for()
    head.close()
