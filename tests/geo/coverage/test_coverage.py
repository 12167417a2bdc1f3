"""Coverage equals a brute-force recount from the raw tables, for every grouping, window and
filter, whether the facts were rebuilt in bulk or kept current as inspections complete; and
its invariants hold for random windows (hypothesis)."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from geo.coverage import counts, model, summary, trends
from geo.coverage import facts as coverage_facts
from geo.coverage.model import Filter, Window
from geo.dispatch import tasks as dispatch_tasks
from geo.infra.timezone import BEIJING

TODAY = dt.date(2026, 11, 20)


def load_history(session, n=1500, seed=11):
    """n completed inspections over the last 120 days by lawful-looking crews, with repeats:
    some targets inspected several times, some twice on one day, some in other domains."""
    session.execute(
        text(
            """
        WITH pick AS (
            SELECT g AS k, t.id AS target_id, t.domains, t.township_code,
                   (SELECT p.unit_id FROM power_item p WHERE p.domain_key = t.domains[1]
                    ORDER BY md5(p.unit_id::text || g) LIMIT 1) AS unit_id,
                   timestamp '2026-11-20 18:00' - (hashtext(g::text || 'd') & 127) % 120 * interval '1 day'
                       - (hashtext(g::text || 'h') & 1023) % 600 * interval '1 minute' AS done
            FROM generate_series(1, :n) g
            JOIN target t ON t.id = 1 + (hashtext(g::text || :seed) & 2147483647) % 400
        )
        INSERT INTO inspection (target_id, domain_key, source, priority, due_at, crew_size, created_by, status,
                                result, unit_id, created_at, on_site_at, completed_at)
        SELECT target_id, CASE WHEN k % 7 = 0 THEN 'health' ELSE domains[1] END, 'bulk', 2,
               timezone('Asia/Shanghai', done) + interval '2 hours', 2, 'history', 'completed',
               (ARRAY['compliant', 'violation', 'could_not_inspect'])[1 + k % 3], unit_id,
               timezone('Asia/Shanghai', done) - interval '3 hours',
               timezone('Asia/Shanghai', done) - interval '1 hour',
               timezone('Asia/Shanghai', done)
        FROM pick WHERE unit_id IS NOT NULL
        """
        ),
        {"n": n, "seed": str(seed)},
    )
    # Two officers of the crew's unit on each.
    session.execute(
        text(
            """
        INSERT INTO inspection_officer (inspection_id, officer_id, due_day)
        SELECT i.id, o.id, (timezone('Asia/Shanghai', i.due_at))::date FROM inspection i
        CROSS JOIN LATERAL (SELECT id FROM officer WHERE unit_id = i.unit_id
                            ORDER BY md5(id::text || i.id) LIMIT 2) o
        WHERE i.created_by = 'history'
        """
        )
    )


@pytest.fixture
def history(session):
    load_history(session)
    coverage_facts.rebuild(session)
    return session


WINDOWS = [
    Window(dt.date(2026, 11, 1), TODAY),
    Window(dt.date(2026, 8, 1), dt.date(2026, 9, 30)),
    Window(TODAY, TODAY),
    Window(dt.date(2025, 1, 1), TODAY),
]


def as_pairs(groups):
    return {g["key"]: (g["numerator"], g["denominator"]) for g in groups}


@pytest.mark.parametrize("by", model.GROUPINGS)
def test_every_grouping_equals_the_brute_force_recount(history, by):
    for window in WINDOWS:
        for flt in (Filter(), Filter(township="120116001"), Filter(domain="market_regulation")):
            ours = as_pairs(counts.coverage(history, by, window, flt))
            assert ours == counts.brute_force(history, by, window, flt), (by, window, flt)
    assert any(n for n, _ in as_pairs(counts.coverage(history, by, WINDOWS[3])).values())


def test_a_target_counts_once_however_often_it_was_inspected(history):
    target = history.execute(
        text("SELECT target_id FROM inspection WHERE created_by = 'history' GROUP BY 1 HAVING count(*) >= 3 LIMIT 1")
    ).scalar()
    visits = history.execute(text("SELECT count(*) FROM inspection WHERE target_id = :t"), {"t": target}).scalar()
    town = history.execute(text("SELECT township_code FROM target WHERE id = :t"), {"t": target}).scalar()
    window = WINDOWS[3]
    before = as_pairs(counts.coverage(history, "township", window))[town][0]
    history.execute(text("DELETE FROM inspection WHERE target_id = :t"), {"t": target})
    coverage_facts.rebuild(history)
    after = as_pairs(counts.coverage(history, "township", window))[town][0]
    assert visits >= 3 and before - after == 1


def test_completing_a_task_updates_the_figures_at_once(history):
    window = Window(dt.date(2026, 1, 1), dt.datetime.now(BEIJING).date())
    setting = history.execute(
        text(
            """SELECT t.id, t.domains[1] AS domain FROM target t
           WHERE NOT EXISTS (SELECT 1 FROM inspection i WHERE i.target_id = t.id)
             AND EXISTS (SELECT 1 FROM power_item p WHERE p.domain_key = t.domains[1]) LIMIT 1"""
        )
    ).one()
    officers = (
        history.execute(
            text(
                "SELECT o.id FROM officer o JOIN power_item p ON p.unit_id = o.unit_id AND p.domain_key = :d "
                "GROUP BY o.id, o.unit_id ORDER BY o.unit_id, o.id LIMIT 2"
            ),
            {"d": setting.domain},
        )
        .scalars()
        .all()
    )
    before = {by: as_pairs(counts.coverage(history, by, window)) for by in ("district", "domain", "officer")}
    task = dispatch_tasks.create_task(
        history,
        target_id=setting.id,
        domain_key=setting.domain,
        due_at=dt.datetime.now(BEIJING) + dt.timedelta(hours=2),
        actor="t",
    )
    dispatch_tasks.assign(history, task, officers, "t", override_reason="test crew")
    for status in ("accepted", "on_site"):
        dispatch_tasks.transition(history, task, status, "t", reason="test: for the crew")
    dispatch_tasks.transition(history, task, "completed", "t", result="compliant", reason="test: for the crew")
    after = {by: as_pairs(counts.coverage(history, by, window)) for by in ("district", "domain", "officer")}
    assert after["district"]["district"][0] == before["district"]["district"][0] + 1
    assert after["domain"][setting.domain][0] == before["domain"][setting.domain][0] + 1
    for by in ("district", "domain", "officer", "unit", "township"):
        assert as_pairs(counts.coverage(history, by, window)) == counts.brute_force(history, by, window), by
    # The incremental facts are exactly what a rebuild makes.
    facts = (
        "SELECT * FROM coverage_fact ORDER BY inspection_id",
        "SELECT * FROM coverage_officer_fact ORDER BY inspection_id, officer_id",
    )
    incremental = [history.execute(text(sql)).all() for sql in facts]
    coverage_facts.rebuild(history)
    assert [history.execute(text(sql)).all() for sql in facts] == incremental


def test_summary_cards(history):
    s = summary.summary(history, WINDOWS[3])
    assert s["inspections"] == sum(s["results"].values()) > 0
    assert 0 < s["coverage"]["ratio"] <= 1
    assert s["response_p50_min"] == 120.0 and s["on_time_share"] == 1.0
    assert 0 < s["participation"] <= 1
    assert set(s["blind_spots"]["by_risk"]) <= {"1", "2", "3", "4"}


def test_one_units_summary_is_that_units(history):
    unit = int(counts.coverage(history, "unit", WINDOWS[3])[0]["key"])
    mine = summary.summary(history, WINDOWS[3], Filter(unit_ids=frozenset({unit})))
    assert mine["scope"] == "unit"
    assert (mine["coverage"]["numerator"], mine["coverage"]["denominator"]) == counts.brute_force(
        history, "unit", WINDOWS[3]
    )[str(unit)]
    done = history.execute(
        text(
            "SELECT count(*) FROM inspection WHERE status = 'completed' AND unit_id = :u "
            "AND (timezone('Asia/Shanghai', completed_at))::date BETWEEN :s AND :e"
        ),
        {"u": unit, "s": WINDOWS[3].start, "e": WINDOWS[3].end},
    ).scalar_one()
    assert mine["inspections"] == done < summary.summary(history, WINDOWS[3])["inspections"]


@pytest.mark.parametrize("step", ["day", "week", "month"])
def test_trend_steps_equal_the_recount_of_each_step(history, step):
    window = trends.recent_steps(TODAY, step, 10)
    flt = Filter(domain="market_regulation")
    points = trends.trend(history, window, flt, step)
    assert len(points) == 10 and points[-1]["start"] <= TODAY.isoformat()
    ends = [dt.date.fromisoformat(p["start"]) - dt.timedelta(days=1) for p in points[1:]] + [TODAY]
    for point, end in zip(points, ends, strict=True):
        step_window = Window(dt.date.fromisoformat(point["start"]), end)
        assert (point["numerator"], point["denominator"]) == counts.brute_force(history, "district", step_window, flt)[
            "district"
        ], point


def test_response_times_are_binned(history):
    bins = summary.response_histogram(history, WINDOWS[3])
    assert [b["minutes"] for b in bins][:2] == ["<15", "15-30"] and bins[-1]["minutes"] == ">=1440"
    assert sum(b["inspections"] for b in bins) == summary.summary(history, WINDOWS[3])["inspections"]
    assert next(b for b in bins if b["minutes"] == "120-240")["inspections"] == sum(b["inspections"] for b in bins)


def test_bad_windows_and_groupings_are_refused(session):
    with pytest.raises(model.CoverageError, match="start must not be after end"):
        Window(TODAY, TODAY - dt.timedelta(days=1))
    with pytest.raises(model.CoverageError, match="by must be"):
        counts.coverage(session, "street", WINDOWS[0])
    with pytest.raises(model.CoverageError, match="ISO dates"):
        model.parse_window("yesterday", None, None, TODAY)
    assert model.parse_window(None, None, "quarter", TODAY) == Window(dt.date(2026, 10, 1), TODAY)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.integers(0, 150),
    length=st.integers(0, 120),
    by=st.sampled_from(["township", "domain", "unit", "officer", "risk"]),
    township=st.sampled_from([None, "120116001", "120116003"]),
    domain=st.sampled_from([None, "market_regulation", "health"]),
    risk=st.sampled_from([None, 1, 4]),
)
def test_invariants_on_random_windows(history, start, length, by, township, domain, risk):
    window = Window(TODAY - dt.timedelta(days=start), TODAY - dt.timedelta(days=start) + dt.timedelta(days=length))
    flt = Filter(township=township, domain=domain, risk=risk)
    groups = counts.coverage(history, by, window, flt)
    assert as_pairs(groups) == counts.brute_force(history, by, window, flt)
    assert all(0 <= g["numerator"] <= g["denominator"] for g in groups)
    district = counts.coverage(history, "district", window, flt)
    whole = district[0] if district else {"numerator": 0, "denominator": 0}
    if by in ("township", "risk"):  # each target lies in one township and has one risk level
        assert sum(g["numerator"] for g in groups) == whole["numerator"]
        assert sum(g["denominator"] for g in groups) == whole["denominator"]


def test_participation_under_a_township_divides_by_that_townships_officers(history):
    town, n_town = history.execute(
        text(
            "SELECT a.township_code, count(DISTINCT o.id) FROM officer_area a JOIN officer o ON o.id = a.officer_id "
            "WHERE o.cert_valid_from <= :e AND o.cert_valid_to >= :s GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        ),
        {"s": WINDOWS[3].start, "e": WINDOWS[3].end},
    ).one()
    district = summary.summary(history, WINDOWS[3])
    local = summary.summary(history, WINDOWS[3], Filter(township=town))
    assert local["officers_certified"] == n_town < district["officers_certified"]
    assert local["participation"] == round(local["officers_active"] / n_town, 4)


def test_a_random_plan_running_in_the_window_counts_before_it_is_due(session):
    from geo.dispatch import random_plan

    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(BEIJING).date()
    later = Window(today + dt.timedelta(days=11), today + dt.timedelta(days=20))
    later_before = summary.summary(session, later)["random_plan"]["planned"]
    plan = random_plan.draw(
        session,
        name="本月市场监管双随机抽查",
        seed="coverage-window-test",
        share=0.05,
        due_at=now + dt.timedelta(days=10),
        actor="t-dispatcher",
        domains=["market_regulation"],
    )
    tasks = (
        session.execute(text("SELECT id FROM inspection WHERE plan_id = :p ORDER BY id"), {"p": plan["plan_id"]})
        .scalars()
        .all()
    )
    assert tasks
    window = Window(today - dt.timedelta(days=29), today)
    before = summary.summary(session, window)["random_plan"]
    session.execute(
        text(
            "UPDATE inspection SET status = 'completed', result = 'compliant', on_site_at = now(), "
            "completed_at = now() WHERE id = :i"
        ),
        {"i": tasks[0]},
    )
    after = summary.summary(session, window)["random_plan"]
    assert after["plans"] >= 1 and after["planned"] >= len(tasks)
    assert (
        after["completed"] == before["completed"] + 1 and after["completed_on_time"] == before["completed_on_time"] + 1
    )
    # Another domain's filter leaves this plan's tasks out; a window after it is due too.
    other = summary.summary(session, window, Filter(domain="health"))["random_plan"]
    assert other["planned"] <= after["planned"] - len(tasks)
    assert summary.summary(session, later)["random_plan"]["planned"] == later_before
