"""工作日历 in Chromium, as an administrator uses it: how far the State Council's schedule
reaches and the provisional days after it, next year's provisional holidays, and a schedule file
imported with its bad line named while the good days load."""

import pytest
from sqlalchemy import text

from tests.conftest import PASSWORD
from tests.webutil import browser_login, wait_for


@pytest.fixture
def next_days(engine):
    """The ten days after the official schedule, as the provisional calendar has them (so that
    entering them moves no deadline of the other tests); made provisional again afterwards."""
    with engine.connect() as c:
        last = c.execute(text("SELECT max(day) FROM work_calendar WHERE NOT provisional")).scalar()
        rows = c.execute(
            text("SELECT day, is_workday, source, note FROM work_calendar WHERE day > :l ORDER BY day LIMIT 10"),
            {"l": last},
        ).all()
    yield last, rows
    with engine.begin() as c:
        for row in rows:
            c.execute(
                text("UPDATE work_calendar SET provisional = true, source = :s, note = :n WHERE day = :d"),
                {"s": row.source, "n": row.note, "d": row.day},
            )


def test_the_administrator_reads_the_calendar_and_imports_a_schedule(browser, live_app, users, tmp_path, next_days):
    last, rows = next_days
    schedule = tmp_path / "schedule.csv"
    lines = [f"{r.day},{'workday' if r.is_workday else 'holiday'},{r.note or ''}" for r in rows]
    schedule.write_text("day,kind,note\n" + "\n".join(lines) + "\nnot-a-day,workday\n", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    try:
        browser_login(page, live_app["url"], users["admin"], PASSWORD)
        page.click("#nav-calendar")
        page.wait_for_selector("#calendar-reach")
        assert f"已载入至 {last.isoformat()}" in page.inner_text("#calendar-reach")
        holidays = page.locator("#calendar-holidays tbody tr")
        holidays.first.wait_for()
        assert holidays.count() == 13 + 1  # the statutory days, and the header row Dash draws in the body
        assert "春节" in page.inner_text("#calendar-holidays")
        page.set_input_files("#calendar-upload input[type=file]", str(schedule))
        page.wait_for_selector("#calendar-result p")
        said = page.inner_text("#calendar-result")
        assert "已载入 10 天" in said and "line 12" in said
        new_last = rows[-1].day.isoformat()
        page.wait_for_function(
            "(d) => document.querySelector('#calendar-reach').textContent.includes(d)", arg=f"已载入至 {new_last}"
        )
    finally:
        page.close()


def test_others_may_not_open_the_calendar_and_the_refusal_is_audited(browser, live_app, users, engine):
    def refusals() -> int:
        with engine.connect() as c:
            return c.execute(
                text(
                    "SELECT count(*) FROM audit_log WHERE actor = :a AND action = 'refused' "
                    "AND detail->>'rule' = 'role:calendar.manage'"
                ),
                {"a": users["dispatcher"]},
            ).scalar()

    before = refusals()
    page = browser.new_page()
    try:
        browser_login(page, live_app["url"], users["dispatcher"], PASSWORD)
        assert page.locator("#nav-calendar").is_hidden()
        page.goto(live_app["url"] + "/calendar")
        wait_for(lambda: refusals() > before, what="the refused visit in the audit trail")
        assert page.locator("#calendar-reach").count() == 0
    finally:
        page.close()
