"""Helpers of the case tests: a violation found on inspection, the scopes of the test
accounts, and a case walked to a given step through the one path every door takes (services.cases)."""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cache
from typing import Any

from sqlalchemy import text

from demo import paperwork
from geo.access import accounts
from geo.cases import forms, machine, workdays
from geo.dispatch import tasks
from geo.documents import forms as forms_documents
from geo.infra.timezone import today as beijing_today
from lawgrid.runtime import fonts
from lawgrid.settings import Settings
from services import cases as case_uses
from services.context import within
from tests.conftest import SEAL_PASSPHRASE

REPORT = {
    "facts": "超标价销售商品，有价签照片与销售记录为证",
    "proposed": {"kinds": ["fine"], "fine_yuan": 5000, "base_yuan": 2000},
    "discretion_reason": "初次违法、主动改正，按从轻档",
}
ALL_CHECKS = {
    k: True for k in ("jurisdiction", "party", "facts_evidence", "characterisation", "basis", "procedure", "penalty")
}


def scope(session, username: str) -> accounts.Scope:
    uid = session.execute(text("SELECT id FROM app_user WHERE username = :u"), {"u": username}).scalar_one()
    found = accounts.scope_for(session, uid)
    assert found is not None
    return found


def violation(session, *, note: str = "价格违法：超标价销售") -> dict[str, Any]:
    """An inspection of a U001 target completed with a violation; returns its case source."""
    target = session.execute(
        text("SELECT id FROM target WHERE kind = 'entity' AND 'market_regulation' = ANY(domains) ORDER BY id LIMIT 1")
    ).scalar_one()
    unit = session.execute(text("SELECT id FROM enforcement_unit WHERE code = 'U001'")).scalar_one()
    inspection = session.execute(
        text(
            "INSERT INTO inspection (target_id, domain_key, source, due_at, status, unit_id, created_by, note, "
            "on_site_at) VALUES (:t, 'market_regulation', 'api', now(), 'on_site', :u, 'test', :n, now()) RETURNING id"
        ),
        {"t": target, "u": unit, "n": note},
    ).scalar_one()
    # completed as the product completes it (its coverage fact too), so recounts stay true
    tasks.transition(session, inspection, "completed", "test", result="violation", reason="test: for the crew")
    return dict(
        session.execute(text("SELECT * FROM case_source WHERE inspection_id = :i"), {"i": inspection}).mappings().one()
    )


def handlers(session) -> list[int]:
    return list(
        session.execute(
            text("SELECT officer_id FROM app_user WHERE username IN ('t-officer', 't-officer2') ORDER BY username")
        ).scalars()
    )


def file(session, *, today: dt.date | None = None, **overrides: Any) -> dict[str, Any]:
    source = violation(session)
    if today is not None and today < source["received_on"]:  # a case of the past: its source came first
        session.execute(
            text("UPDATE case_source SET received_on = :d, verify_due = lawgrid_wd_after(:d, 15) WHERE id = :i"),
            {"d": today, "i": source["id"]},
        )
        source = {**source, "received_on": today}
    body = {
        "source_id": source["id"],
        "item_code": "market_regulation.04",
        "officer_ids": handlers(session),
        "facts": "检查发现",
        "act_on": source["received_on"].isoformat(),  # found on the day of the act
        # a party of its own: cases committed by other tests (the browser's) are other acts (处罚法 第二十九条)
        "party": {"kind": "legal", "name": f"测试当事人 {uuid.uuid4().hex[:8]}", "id_no": None},
        **overrides,
    }
    return case_uses.file_case(
        within(session), scope(session, "t-organ_head"), machine.validate(forms.NewCase, body), today=today
    )


@cache
def kit() -> forms_documents.Kit:
    """Rendering and sealing as the test runtime does them (tests.conftest's seal passphrase)."""
    return forms_documents.Kit(fonts(Settings().font_cache_dir), SEAL_PASSPHRASE.encode())


def step(session, case: dict[str, Any], who: str, name: str, today: dt.date | None = None, **data: Any) -> dict:
    """One step through the use cases. `notify` and `serve` with no request are done as the
    officers do them: the sealed 告知书 or 决定书 served directly that day, proved by a sealed 送达回证."""
    if name in paperwork.SERVED and not data:
        served = "notice" if name == "notify" else "decision"
        data = paperwork.service(session, scope(session, who), kit(), case["id"], served, today or beijing_today())
    return case_uses.perform(within(session), scope(session, who), case["id"], name, data, today=today)


def to_review(session, today: dt.date | None = None, **overrides: Any) -> dict[str, Any]:
    case = file(session, today=today, **overrides)
    case = step(session, case, "t-officer", "start_investigation", today, rights_told=True)
    case = step(session, case, "t-officer", "record_evidence", today, kind="书证", description="价签照片 3 张")
    return step(session, case, "t-officer", "close_investigation", today, **REPORT)


def to_approved(session, today: dt.date | None = None, **overrides: Any) -> dict[str, Any]:
    case = to_review(session, today, **overrides)
    reviewer = "t-legal_reviewer" if case["legal_review_required"] else "t-case_reviewer"
    case = step(session, case, reviewer, "review", today, opinion="agree", checks=ALL_CHECKS, discretion="accept")
    return step(session, case, "t-organ_head", "approve", today)


def to_notified(session, today: dt.date | None = None, **overrides: Any) -> dict[str, Any]:
    return step(session, to_approved(session, today, **overrides), "t-officer", "notify", today)


def after_window(session, case: dict[str, Any]) -> dt.date:
    """The first day the party's five working days after the notice have run out."""
    due = session.execute(
        text("SELECT response_due FROM case_notice WHERE case_id = :c ORDER BY id DESC LIMIT 1"), {"c": case["id"]}
    ).scalar_one()
    return workdays.wd_after(session, due, 1)
