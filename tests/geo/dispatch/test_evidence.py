"""Evidence photos decoded before they are kept (issue 33, item 2): a page of HTML behind a JPEG
header is refused, a photo keeps its bytes as evidence (hashed) and is shown from LawGrid's own
bounded JPEG; evidence is taken on site, never added to a completed task."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io

import pytest
from PIL import Image
from sqlalchemy import text

from geo.dispatch import onsite, tasks
from geo.infra.errors import InvalidInput, Refused
from services import onsite as onsite_uses
from services.context import within
from tests.casework import scope

pytestmark = pytest.mark.usefixtures("users")


def on_site_task(session) -> int:
    officer = scope(session, "t-officer").officer_id
    task = session.execute(
        text(
            "INSERT INTO inspection (target_id, domain_key, source, due_at, status, unit_id, created_by, on_site_at) "
            "SELECT t.id, 'market_regulation', 'api', now(), 'on_site', u.id, 'test', now() FROM target t, "
            "enforcement_unit u WHERE t.kind = 'entity' AND u.code = 'U001' ORDER BY t.id LIMIT 1 RETURNING id"
        )
    ).scalar_one()
    session.execute(text("INSERT INTO inspection_officer VALUES (:i, :o, CURRENT_DATE)"), {"i": task, "o": officer})
    return int(task)


def photo(body: bytes) -> onsite.Evidence:
    return onsite.Evidence(
        kind="photo", image=base64.b64encode(body).decode(), taken_at=dt.datetime.now(dt.UTC), lat=39.0, lon=117.7
    )


def jpeg(size=(3_000, 2_000)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "orange").save(out, format="JPEG")
    return out.getvalue()


def test_a_photo_is_decoded_kept_as_taken_and_shown_from_our_own_jpeg(session):
    task = on_site_task(session)
    officer = scope(session, "t-officer")
    disguised = b"\xff\xd8\xff\xe0<html><script>alert(document.cookie)</script></html>"
    with pytest.raises(InvalidInput, match="not a readable image"):
        onsite_uses.add_evidence(within(session), officer, task, photo(disguised))
    taken = jpeg()
    saved = onsite_uses.add_evidence(within(session), officer, task, photo(taken))
    assert saved["sha256"] == hashlib.sha256(taken).hexdigest() and saved["mime"] == "image/jpeg"
    mime, shown = onsite_uses.photo(within(session), officer, saved["id"])
    assert mime == "image/jpeg" and max(Image.open(io.BytesIO(shown)).size) == 1_600
    mime, original = onsite_uses.photo(within(session), officer, saved["id"], original=True)
    assert original == taken  # the evidence, byte for byte
    count = session.execute(text("SELECT count(*) FROM evidence WHERE inspection_id = :i"), {"i": task}).scalar()
    assert count == 1  # the refused one left the task as it was


def test_no_evidence_is_added_to_a_completed_task(session):
    task = on_site_task(session)
    tasks.transition(session, task, "completed", "test", result="compliant", reason="test")
    with pytest.raises(Refused) as refused:
        onsite_uses.add_evidence(within(session), scope(session, "t-officer"), task, photo(jpeg((800, 600))))
    assert {v["rule"] for v in refused.value.violations} == {"evidence_on_site"}


def test_a_retry_key_is_bound_to_its_task_and_racing_resends_answer_alike(engine):
    """A key replayed on another task is refused (the second photo is not lost behind the first's
    record); 30 resends of one key at once all answer with the one record saved."""
    from concurrent.futures import ThreadPoolExecutor

    from geo.infra import db
    from geo.infra.errors import Conflict

    factory = db.make_sessionmaker(engine)
    with db.session_scope(factory) as s:
        first, second = on_site_task(s), on_site_task(s)
        officer = scope(s, "t-officer")
    key = f"photo-{first}-{dt.datetime.now(dt.UTC).timestamp()}"
    body = photo(jpeg((640, 480))).model_copy(update={"client_key": key})

    def send(task: int) -> dict:
        with db.session_scope(factory) as s:
            return onsite.add_evidence(s, officer, task, body)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(send, [first] * 30))
    assert len({a["id"] for a in answers}) == 1  # every resend answered with the record saved
    with pytest.raises(Conflict) as reused:
        send(second)
    assert reused.value.rule == "retry_key_reused"
    with engine.connect() as c:
        kept = c.execute(
            text("SELECT inspection_id, count(*) FROM evidence WHERE client_key = :k GROUP BY 1"), {"k": key}
        ).all()
    assert kept == [(first, 1)]
    with engine.begin() as c:  # the crew leaves: no open task of this test stays behind
        c.execute(text("UPDATE inspection SET status = 'cancelled' WHERE id IN (:a, :b)"), {"a": first, "b": second})
