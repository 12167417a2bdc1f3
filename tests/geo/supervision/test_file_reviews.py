"""案卷评查 (issue 35, item 5): the draw is reproducible from its seed and stays inside the unit
and period; a file is scored against the whole checklist (an incomplete one is refused by
name); the pass rate is an indicator whose list is the reviews; a failed file is a lead."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geo.access.accounts import Scope
from geo.infra.errors import InvalidInput
from geo.supervision import engine, file_reviews
from geo.supervision.model import Period
from services import supervision
from services.context import within
from tests import casework

ORGAN = Scope(user_id=0, username="t-oversight", role="oversight", unit_ids=None)
pytestmark = pytest.mark.usefixtures("users")
ALL_MET = dict.fromkeys(file_reviews.CHECKLIST, True)


def decided_cases(session, n: int) -> tuple[int, list[int], int]:
    """n cases of U001 decided through the real steps; (unit, their ids, the decisions' year)."""
    ids, year = [], None
    for _ in range(n):
        case = casework.to_notified(session)
        day = casework.after_window(session, case)
        case = casework.step(session, case, "t-organ_head", "decide", day, kind="penalty")
        ids.append(case["id"])
        year = day.year
    unit = session.execute(text("SELECT id FROM enforcement_unit WHERE code = 'U001'")).scalar_one()
    return unit, ids, year


def test_the_draw_is_reproducible_and_scored_files_count(session):
    ctx = within(session, source="test")
    unit, ids, year = decided_cases(session, 3)
    decided = set(
        session.execute(
            text(
                "SELECT c.id FROM enf_case c JOIN case_decision d ON d.case_id = c.id WHERE c.unit_id = :u "
                "AND extract(year FROM d.decided_on) = :y"
            ),
            {"u": unit, "y": year},
        ).scalars()
    )
    everything = supervision.draw_files(ctx, ORGAN, unit, period=str(year), n=200, seed="评查-1")
    assert {f["id"] for f in everything["files"]} == decided >= set(ids)  # the unit's year, nothing else
    first = supervision.draw_files(ctx, ORGAN, unit, period=str(year), n=2, seed="评查-1")
    again = supervision.draw_files(ctx, ORGAN, unit, period=str(year), n=2, seed="评查-1")
    drawn = [f["id"] for f in first["files"]]
    assert drawn == [f["id"] for f in again["files"]] and len(drawn) == 2
    assert supervision.draw_files(ctx, ORGAN, unit, period="2015", n=5, seed="x")["files"] == []
    with pytest.raises(InvalidInput, match="archive"):
        supervision.review_file(ctx, ORGAN, drawn[0], {k: True for k in list(file_reviews.CHECKLIST)[:-1]})
    day = dt.date(2015, 9, 1)
    good = supervision.review_file(ctx, ORGAN, drawn[0], ALL_MET, seed="评查-1", today=day)
    bad = supervision.review_file(
        ctx,
        ORGAN,
        drawn[1],
        {**ALL_MET, "procedure": False, "documents": False},
        note="未告知听证权利；送达回证缺签收",
        today=day,
    )
    assert (good["score"], good["passed"]) == (100.0, True)
    assert (bad["score"], bad["passed"]) == (71.43, False)
    assert bad["failed_items"] == [file_reviews.CHECKLIST["procedure"], file_reviews.CHECKLIST["documents"]]
    (fig,) = engine.figures(session, ["file_review_pass"], Period.parse("2015"), units=frozenset({unit}))
    assert (fig["rows"][0]["num"], fig["rows"][0]["den"], fig["rows"][0]["value"]) == (1, 2, 50.0)
    listed = engine.records(session, "file_review_pass", Period.parse("2015"), side="all", units=frozenset({unit}))
    assert sorted(r["id"] for r in listed["records"]) == sorted([good["id"], bad["id"]])
