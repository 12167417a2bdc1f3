"""Case warnings reach supervisors live: the sweep raises a red warning on a case nearing its
90-day limit and pushes it over Socket.IO to the district and the case's unit, not to
another unit's users."""

from __future__ import annotations

import datetime as dt

import pytest
import socketio
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access import accounts
from geo.infra.timezone import today as beijing_today
from tests.casework import file
from tests.conftest import PASSWORD
from tests.dashboard.test_live import token
from tests.webutil import wait_for

pytestmark = pytest.mark.usefixtures("users")


def listen(url: str, username: str) -> tuple[socketio.Client, list]:
    client = socketio.Client(reconnection=False)
    seen: list = []
    client.on("case_warning", lambda rows: seen.extend(rows), namespace="/live")
    client.connect(url, namespaces=["/live"], transports=["websocket"], auth={"token": token(url, username)})
    return client, seen


def test_the_sweep_pushes_a_red_warning_to_the_district_and_the_unit_only(live_app, engine):
    with Session(engine) as s:
        if s.execute(text("SELECT 1 FROM app_user WHERE username = 't-head-u002'")).first() is None:
            accounts.create_user(s, "t-head-u002", PASSWORD, "organ_head", ["U002"])
        case = file(s, today=beijing_today() - dt.timedelta(days=82))  # day 82 of 90: red
        s.commit()
    url = live_app["url"]
    oversight, seen_district = listen(url, "t-oversight")
    unit, seen_unit = listen(url, "t-supervisor")
    other, seen_other = listen(url, "t-head-u002")
    try:
        with engine.begin() as c:  # whatever the background sweep raised already: raise it again now
            c.execute(text("DELETE FROM case_warning WHERE case_id = :c"), {"c": case["id"]})
        live_app["app"].server.extensions["lawgrid_case_sweep"].run_once()
        mine = {"case_id": case["id"], "clock": "decide", "level": "red"}

        def pushed(seen: list) -> bool:
            return any(all(w.get(k) == v for k, v in mine.items()) for w in seen)

        wait_for(lambda: pushed(seen_district) and pushed(seen_unit), what="the red warning on both sockets")
        assert not pushed(seen_other)
    finally:
        for client in (oversight, unit, other):
            client.disconnect()
