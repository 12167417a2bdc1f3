"""The law at the act (处罚法 第三十六、三十七、二十九条): a case is dated by its act, judged under the
item version in force that day unless the one in force at the decision is lighter, within the
limitation period (two years, five for life, health or financial safety with harm), and one act
of one party is fined once."""

import datetime as dt
import json

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from geo.cases import forms
from geo.infra.errors import Refused
from geo.infra.timezone import today as beijing_today
from tests.casework import file, step, to_notified

pytestmark = pytest.mark.usefixtures("users")
CODE = "market_regulation.04"


def rules(exc) -> set[str]:
    return {v["rule"] for v in exc.value.violations}


def test_a_case_names_the_day_of_its_act_or_why_it_continues():
    base = {"source_id": 1, "item_code": CODE, "officer_ids": [1, 2]}
    with pytest.raises(ValidationError, match="act_on"):
        forms.NewCase(**base)
    with pytest.raises(ValidationError, match="act_on"):
        forms.NewCase(**base, act_continues=True)
    assert forms.NewCase(**base, act_continues=True, act_continues_reason="仍在销售").act_on is None
    assert forms.NewCase(**base, act_on="2026-11-30").act_on == dt.date(2026, 11, 30)


def new_version(session, max_times: int, days_ago: int) -> int:
    """A new version of the item in force from `days_ago` days ago, its first tier's top at max_times."""
    today = beijing_today()
    current = session.execute(
        text("SELECT version, statutory, discretion FROM enforcement_item WHERE code = :c AND valid_to IS NULL"),
        {"c": CODE},
    ).one()
    statutory, discretion = current.statutory, current.discretion
    tier = statutory["tiers"][0]
    scale = max_times / float(tier["fine"]["max_times"])
    tier["fine"]["max_times"] = max_times
    for level in discretion.get("levels", []):  # the published bands scale with the range
        band = level.get("bands", {}).get(tier["id"])
        if band:
            level["bands"][tier["id"]] = [round(float(x) * scale, 2) for x in band]
    since = today - dt.timedelta(days=days_ago)
    session.execute(
        text("UPDATE enforcement_item SET valid_to = :d WHERE code = :c AND valid_to IS NULL"), {"d": since, "c": CODE}
    )
    columns = [
        r[0]
        for r in session.execute(
            text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'enforcement_item' "
                "AND column_name NOT IN ('version', 'statutory', 'discretion', 'valid_from', 'valid_to') "
                "ORDER BY ordinal_position"
            )
        )
    ]
    listed = ", ".join(columns)
    session.execute(
        text(
            f"""INSERT INTO enforcement_item ({listed}, version, statutory, discretion, valid_from)
                SELECT {listed}, :nv, CAST(:s AS jsonb), CAST(:dis AS jsonb), :d FROM enforcement_item
                WHERE code = :c AND version = :v"""
        ),
        {
            "c": CODE,
            "v": current.version,
            "nv": current.version + 1,
            "s": json.dumps(statutory),
            "dis": json.dumps(discretion),
            "d": since,
        },
    )
    return current.version


def test_the_lighter_law_in_force_at_the_decision_applies_and_both_are_named(session):
    at_act = new_version(session, max_times=3, days_ago=30)  # lighter: 0–3 times instead of 0–5
    act_on = beijing_today() - dt.timedelta(days=60)
    case = to_notified(session, act_on=act_on.isoformat())
    assert case["item_version"] == at_act  # filed under the law of the act's day
    case = step(session, case, "t-officer", "waive", note="书面放弃")
    decided = step(session, case, "t-organ_head", "decide", kind="penalty")
    law = session.execute(
        text("SELECT detail->'law' FROM case_event WHERE case_id = :c AND action = 'decide'"), {"c": case["id"]}
    ).scalar()
    assert law == {"at_act": at_act, "at_decision": at_act + 1, "applied": at_act + 1}
    assert decided["item_version"] == at_act + 1


def test_a_heavier_law_in_force_at_the_decision_does_not_apply(session):
    at_act = new_version(session, max_times=8, days_ago=30)
    case = to_notified(session, act_on=(beijing_today() - dt.timedelta(days=60)).isoformat())
    case = step(session, case, "t-officer", "waive", note="书面放弃")
    decided = step(session, case, "t-organ_head", "decide", kind="penalty")
    assert decided["item_version"] == at_act


def test_the_limitation_is_two_years_and_five_for_life_health_or_finance_with_harm(session):
    long_ago = (beijing_today() - dt.timedelta(days=3 * 366)).isoformat()
    with pytest.raises(Refused) as late:
        file(session, act_on=long_ago)
    assert rules(late) == {"limitation"}
    with pytest.raises(Refused):
        file(session, act_on=long_ago, grave_interest=True)  # harm is needed too
    case = file(session, act_on=long_ago, grave_interest=True, harmful_consequences=True)
    assert case["status"] == "filed"


def test_one_act_of_one_party_is_fined_once(session):
    act_on = beijing_today().isoformat()
    party = {"kind": "legal", "name": "某超市有限公司", "id_no": "91120116MA05LGRD3X"}
    first = to_notified(session, act_on=act_on, party=party)
    first = step(session, first, "t-officer", "waive", note="书面放弃")
    assert step(session, first, "t-organ_head", "decide", kind="penalty")["status"] == "decided"
    second = to_notified(session, act_on=act_on, party=party)  # the same party, item and day: the same act
    second = step(session, second, "t-officer", "waive", note="书面放弃")
    with pytest.raises(Refused) as twice:
        step(session, second, "t-organ_head", "decide", kind="penalty")
    assert "one_act_one_fine" in rules(twice)
