"""Fixtures of the dashboard tests that several modules share."""

import pytest
from sqlalchemy import text

from tests.conftest import PASSWORD
from tests.dashboard.test_dispatch_api import DUE, Client
from tests.webutil import browser_login


@pytest.fixture(scope="module")
def setting(engine):
    """A U001 target (the scoped test dispatcher acts for U001) and four U001 officers with
    JT/T 808 devices made lawful for it: on duty, certified, their area covering its township.
    Their rows are restored afterwards."""
    with engine.begin() as c:
        row = (
            c.execute(
                text(
                    """SELECT t.id AS target_id, p.domain_key, u.id AS unit_id, t.township_code,
                      ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat
               FROM target t JOIN power_item p ON p.domain_key = ANY(t.domains)
               JOIN enforcement_unit u ON u.id = p.unit_id AND u.code = 'U001'
               WHERE t.township_code IS NOT NULL ORDER BY t.id LIMIT 1"""
                )
            )
            .mappings()
            .one()
        )
        officers = (
            c.execute(
                text(
                    """SELECT o.id, o.duty_state, o.cert_valid_from, o.cert_valid_to FROM officer o
               WHERE o.unit_id = :u AND EXISTS (SELECT 1 FROM device d WHERE d.officer_id = o.id
                                               AND d.protocol = 'jt808')
               ORDER BY o.id LIMIT 4"""
                ),
                {"u": row["unit_id"]},
            )
            .mappings()
            .all()
        )
        ids = [o["id"] for o in officers]
        c.execute(
            text(
                "UPDATE officer SET duty_state = 'on_duty', cert_valid_from = CURRENT_DATE - 30, "
                "cert_valid_to = CURRENT_DATE + 365 WHERE id = ANY(:ids)"
            ),
            {"ids": ids},
        )
        added = (
            c.execute(
                text(
                    "INSERT INTO officer_area (officer_id, township_code) SELECT unnest(CAST(:ids AS int[])), :tw "
                    "ON CONFLICT DO NOTHING RETURNING officer_id"
                ),
                {"ids": ids, "tw": row["township_code"]},
            )
            .scalars()
            .all()
        )
    yield {**row, "officers": ids}
    with engine.begin() as c:  # leave no open task and no changed officer behind
        c.execute(  # a completed task stays completed, as it would in the product (its coverage fact stands)
            text("UPDATE inspection SET status = 'cancelled' WHERE due_at = :d AND status <> 'completed'"), {"d": DUE}
        )
        for o in officers:
            c.execute(
                text(
                    "UPDATE officer SET duty_state = :duty_state, cert_valid_from = :cert_valid_from, "
                    "cert_valid_to = :cert_valid_to WHERE id = :id"
                ),
                dict(o),
            )
        c.execute(
            text("DELETE FROM officer_area WHERE township_code = :tw AND officer_id = ANY(:ids)"),
            {"tw": row["township_code"], "ids": added},
        )


@pytest.fixture(scope="module")
def admin(live_app, users):
    return Client(live_app["url"], users["admin"])


@pytest.fixture(scope="module")
def dispatcher(live_app, users):
    return Client(live_app["url"], users["dispatcher"])


@pytest.fixture
def crew_officer_account(engine, setting):
    """An officer's own account for the first officer of the setting's crew (removed after)."""
    from geo.access import accounts
    from geo.infra import db

    officer = setting["officers"][0]
    with engine.connect() as c:
        existing = c.execute(text("SELECT username FROM app_user WHERE officer_id = :o"), {"o": officer}).scalar()
        cert = c.execute(text("SELECT cert_no FROM officer WHERE id = :o"), {"o": officer}).scalar_one()
    if existing:
        pytest.fail(f"officer {officer} already has the account {existing}; the test needs one of its own")
    name = f"t-crew-{officer}"
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        accounts.create_user(s, name, PASSWORD, "officer", [], officer_cert=cert)
    yield name
    with engine.begin() as c:
        c.execute(text("DELETE FROM app_user WHERE username = :u"), {"u": name})


@pytest.fixture
def page(browser, live_app, users, artifacts, request):
    width, height = getattr(request, "param", (1500, 950))
    page = browser.new_page(viewport={"width": width, "height": height})
    browser_login(page, live_app["url"], users["operator"], PASSWORD)
    page.wait_for_selector(".lg-cell")
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        page.screenshot(path=str(artifacts / f"{request.node.name}-failure.png"))
    page.close()
