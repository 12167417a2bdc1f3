"""Demo cases: violations found on inspection walked through the real procedure (geo.cases,
every gate checked) to every state, filed on past days so that some clocks are near and
some past their deadlines; complaints waiting to be verified; on-the-spot decisions. The
reviewers and heads who act are seed accounts that cannot log in (disabled)."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from demo import paperwork
from geo.access import accounts
from geo.cases import clocks, forms, machine, sources, workdays
from geo.cases.items import model, store
from geo.coverage import facts
from geo.documents import forms as documents
from geo.infra.errors import LawGridError
from geo.infra.timezone import today as beijing_today
from services import cases as case_uses
from services.context import within

ALL_CHECKS = {
    k: True for k in ("jurisdiction", "party", "facts_evidence", "characterisation", "basis", "procedure", "penalty")
}
REPORT = {
    "facts": "经查，当事人超出明码标价销售商品，有价签照片、销售小票为证",
    "proposed": {"kinds": ["fine"], "fine_yuan": 5000, "base_yuan": 2000},
    "discretion_reason": "初次违法、及时改正，按从轻档",
}
WALK: list[tuple[str, str, dict[str, Any]]] = [
    ("officer", "start_investigation", {"rights_told": True}),
    ("officer", "record_evidence", {"kind": "现场笔录", "description": "现场检查笔录一份"}),
    ("officer", "close_investigation", REPORT),
    ("reviewer", "review", {"opinion": "agree", "checks": ALL_CHECKS, "discretion": "accept"}),
    ("head", "approve", {}),
    ("officer", "notify", {}),
    ("officer", "waive", {"note": "当事人书面放弃陈述申辩"}),
    ("head", "decide", {"kind": "penalty"}),
    ("officer", "serve", {}),
    ("officer", "record_performance", {"reference": "非税缴款凭证（演示）"}),
    ("head", "close", {}),
]


def _account(session: Session, name: str, role: str, unit: str, **extra: Any) -> accounts.Scope:
    # an officer who already has an account (the demo's) acts under it: one account per officer
    uid = session.execute(
        text(
            "SELECT id FROM app_user WHERE username = :u OR officer_id = "
            "(SELECT id FROM officer WHERE cert_no = :c) ORDER BY username = :u DESC LIMIT 1"
        ),
        {"u": name, "c": extra.get("officer_cert")},
    ).scalar()
    if uid is None:
        uid = accounts.create_user(session, name, secrets.token_urlsafe(24) + "Aa1!", role, [unit], **extra)
        session.execute(text("UPDATE app_user SET active = false WHERE id = :i"), {"i": uid})
    row = session.execute(text("SELECT username, officer_id FROM app_user WHERE id = :i"), {"i": uid}).one()
    units = frozenset(session.execute(text("SELECT unit_id FROM user_unit WHERE user_id = :i"), {"i": uid}).scalars())
    return accounts.Scope(uid, row.username, role, units, 0, row.officer_id)


def lawful_proposal(item: model.Item) -> dict[str, Any]:
    """A fine in the middle of the 一般 band of the item's first tier (the demo's proposals)."""
    assert item.statutory is not None
    tier = item.statutory.tiers[0]
    if tier.fine.type == "none":
        return {"kinds": tier.kinds or ["warning"], "tier": tier.id}
    base = None
    if tier.fine.type == "multiple":
        base = Decimal(20_000) if tier.fine.floor_rule else Decimal(2_000)
    band = next(lv.bands[tier.id] for lv in item.discretion.levels if lv.level == "一般")
    mid = (band[0] + band[1]) / 2 * (base or 1)
    out: dict[str, Any] = {"kinds": ["fine"], "fine_yuan": float(round(mid)), "tier": tier.id}
    if base is not None:
        out["base_yuan"] = float(base)
    return out


def seed_cases(
    session: Session,
    kit: documents.Kit,
    n: int = 60,
    *,
    today: dt.date | None = None,
    stop_before: str | None = None,
) -> dict[str, Any]:
    """n ordinary cases spread over the units holding a penalty power, stopped at every step
    (or all just before the step `stop_before`, e.g. "decide" for the benchmark). Notices and
    decisions are served with their sealed documents and 送达回证 (demo.paperwork)."""
    today = today or beijing_today()
    units = session.execute(
        text(
            """SELECT u.id, u.code, min(p.item_code) AS item FROM enforcement_unit u
               JOIN power_item p ON p.unit_id = u.id AND p.power_type_key = 'penalty'
               WHERE (SELECT count(*) FROM officer o WHERE o.unit_id = u.id
                      AND :d + 120 BETWEEN o.cert_valid_from AND o.cert_valid_to) >= 3
               GROUP BY u.id, u.code ORDER BY u.id LIMIT 8"""
        ),
        {"d": today},
    ).all()
    made = {"cases": 0, "sources": 0, "onsite": 0}
    for index in range(n):
        unit = units[index % len(units)]
        certs = list(
            session.execute(
                text(
                    "SELECT cert_no, id FROM officer WHERE unit_id = :u AND :d - 120 >= cert_valid_from "
                    "AND :d + 120 <= cert_valid_to ORDER BY id LIMIT 3"
                ),
                {"u": unit.id, "d": today},
            )
        )
        if len(certs) < 3:
            continue
        actors = {
            "officer": _account(session, f"seed-officer-{unit.code}", "officer", unit.code, officer_cert=certs[0][0]),
            "reviewer": _account(session, f"seed-reviewer-{unit.code}", "case_reviewer", unit.code),
            "head": _account(session, f"seed-head-{unit.code}", "organ_head", unit.code),
        }
        target = session.execute(
            text(
                "SELECT t.id FROM target t JOIN unit_area a ON a.township_code = t.township_code AND a.unit_id = :u "
                "WHERE t.kind = 'entity' ORDER BY t.id OFFSET :o LIMIT 1"
            ),
            {"u": unit.id, "o": index},
        ).scalar()
        if target is None:
            continue
        stop = index % (len(WALK) + 1) if stop_before is None else [w[1] for w in WALK].index(stop_before)
        filed = workdays.wd_after(session, today - dt.timedelta(days=5 + (index * 7) % 95), 1)
        filed = min(filed, today)
        source = _violation(session, unit.id, target, filed)
        uses = within(session)  # the seed takes every step through the use cases, as a unit's staff would
        case = case_uses.file_case(
            uses,
            actors["head"],
            machine.validate(
                forms.NewCase,
                {
                    "source_id": source,
                    "item_code": unit.item,
                    "officer_ids": [certs[0][1], certs[1][1]],
                    "facts": "检查发现涉嫌违法",
                    "act_on": filed.isoformat(),
                },
            ),
            today=filed,
        )
        day = filed
        report = {**REPORT, "proposed": lawful_proposal(store.get(session, unit.item))}
        for who, name, data in WALK[:stop]:
            data = report if name == "close_investigation" else data
            if name == "decide":
                day = max(day, _after_notice(session, case["id"]))
            day = min(day, today)
            try:
                if name in paperwork.SERVED:
                    data = paperwork.service(session, actors[who], kit, case["id"], paperwork.SERVED[name], day)
                case = case_uses.perform(uses, actors[who], case["id"], name, data, today=day)
            except LawGridError:  # a step refused on these dates (e.g. the window): the case waits there
                break
        made["cases"] += 1
    for index in range(max(3, n // 10)):
        unit = units[index % len(units)]
        scope = accounts.Scope(0, "seed", "admin", None)
        sources.register(
            session,
            scope,
            sources.NewSource(
                target_id=None,
                domain=None,
                kind="complaint",
                unit_id=unit.id,
                summary=f"群众投诉：商户超标价销售（演示 {index + 1}）",
                reporter=sources.Reporter(
                    name="匿名" if index % 2 else "王先生", phone="022-00000000", real_name=index % 2 == 0
                ),
                received_on=today - dt.timedelta(days=index * 3),
            ),
            today=today,
        )
        made["sources"] += 1
    clocks.sweep(session, today)
    facts.rebuild(session)  # the violations found, dated in the past, counted in coverage too
    return made


def settle_sources(session: Session, today: dt.date | None = None) -> int:
    """The year of synthetic inspections leaves a source for every violation found; a real unit
    verifies each within its 15 working days. The ones whose window has passed are settled as
    their unit's head would: not filed, a first minor violation corrected on the spot (处罚法
    第三十三条), dated the window's last day; the recent ones stay open. How many were settled."""
    today = today or beijing_today()
    settled = 0
    units = session.execute(
        text(
            "SELECT DISTINCT s.unit_id, u.code FROM case_source s JOIN enforcement_unit u ON u.id = s.unit_id "
            "WHERE s.kind = 'inspection' AND s.status IN ('registered', 'verifying') AND s.verify_due < :d"
        ),
        {"d": today},
    ).all()
    for unit_id, code in units:
        head = _account(session, f"seed-head-{code}", "organ_head", code)
        ids = list(
            session.execute(
                text(
                    "SELECT id FROM case_source WHERE unit_id = :u AND kind = 'inspection' "
                    "AND status IN ('registered', 'verifying') AND verify_due < :d"
                ),
                {"u": unit_id, "d": today},
            ).scalars()
        )
        settled += sources.not_file_in_bulk(
            session, head, ids, "first_minor_corrected", "首次轻微违法并当场改正，不予立案（演示）", today=today
        )
    return settled


def _violation(session: Session, unit_id: int, target_id: int, day: dt.date) -> int:
    completed = dt.datetime.combine(day, dt.time(10, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    inspection = session.execute(
        text(
            "INSERT INTO inspection (target_id, domain_key, source, due_at, status, result, unit_id, created_by, "
            "note, on_site_at, completed_at) SELECT :t, domain_key, 'api', :at, 'completed', 'violation', :u, "
            "'seed', '检查发现价格违法（演示）', :at, :at FROM power_item "
            "WHERE unit_id = :u AND power_type_key = 'penalty' LIMIT 1 RETURNING id"
        ),
        {"t": target_id, "u": unit_id, "at": completed},
    ).scalar_one()
    return int(
        session.execute(text("SELECT id FROM case_source WHERE inspection_id = :i"), {"i": inspection}).scalar_one()
    )


def _after_notice(session: Session, case_id: int) -> dt.date:
    due = session.execute(
        text("SELECT served_on FROM case_notice WHERE case_id = :c ORDER BY id DESC LIMIT 1"), {"c": case_id}
    ).scalar()
    return due or beijing_today()
