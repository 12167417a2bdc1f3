"""The outbox for outside platforms: a message owed once per key, handed to one relay at a time,
retried with a growing pause, given up after its last try with the reason kept."""

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra import outbox


def test_the_pause_doubles_from_thirty_seconds_to_an_hour():
    pauses = [outbox.pause_after(n).total_seconds() for n in range(1, 10)]
    assert pauses[:4] == [30, 60, 120, 240]
    assert max(pauses) == 3600 and pauses == sorted(pauses)


def test_the_same_key_owes_one_message(session):
    first = outbox.put(session, "test.topic", "decision:1", {"amount": 500}, "t")
    again = outbox.put(session, "test.topic", "decision:1", {"amount": 999}, "t")
    assert first == again
    (message,) = outbox.claim(session, "test.topic")
    assert message.payload == {"amount": 500} and message.attempts == 1


def test_a_failed_message_waits_and_is_given_up_after_its_last_try(session):
    outbox.put(session, "test.topic", "k", {}, "t")
    (message,) = outbox.claim(session, "test.topic")
    assert outbox.failed(session, message.id, "platform down (503)")
    assert outbox.claim(session, "test.topic") == []  # not due for 30 s
    session.execute(
        text("UPDATE outbox SET next_attempt_at = now(), attempts = :n WHERE id = :i"),
        {"n": outbox.MAX_ATTEMPTS - 1, "i": message.id},
    )
    (last,) = outbox.claim(session, "test.topic")
    assert not outbox.failed(session, last.id, "platform down (503)")
    session.execute(text("UPDATE outbox SET next_attempt_at = now() WHERE id = :i"), {"i": message.id})
    assert outbox.claim(session, "test.topic") == []
    assert outbox.pending(session, "test.topic") == {"waiting": 0, "given_up": 1, "delivered": 0}
    reason = session.execute(text("SELECT last_error FROM outbox WHERE id = :i"), {"i": message.id}).scalar()
    assert reason == "platform down (503)"


def test_a_delivered_message_is_never_sent_again_and_keeps_the_answer(session):
    outbox.put(session, "test.topic", "k", {}, "t")
    (message,) = outbox.claim(session, "test.topic")
    outbox.delivered(session, message.id, {"receipt": "R-1"})
    session.execute(text("UPDATE outbox SET next_attempt_at = now() - interval '1 hour'"))
    assert outbox.claim(session, "test.topic") == []
    answer = session.execute(text("SELECT answer FROM outbox WHERE id = :i"), {"i": message.id}).scalar()
    assert answer == {"receipt": "R-1"}


def test_a_lapsed_lease_lets_another_relay_take_the_message(session):
    outbox.put(session, "test.topic", "k", {}, "t")
    (message,) = outbox.claim(session, "test.topic")
    assert outbox.claim(session, "test.topic") == []  # leased to the first relay
    session.execute(
        text("UPDATE outbox SET claimed_until = now() - interval '1 second' WHERE id = :i"), {"i": message.id}
    )
    (again,) = outbox.claim(session, "test.topic")
    assert again.id == message.id and again.attempts == 2


@pytest.fixture
def committed_topic(engine):
    topic = f"test.race_{uuid.uuid4().hex[:8]}"
    with Session(engine) as s:
        for n in range(40):
            outbox.put(s, topic, f"m{n}", {"n": n}, "t")
        s.commit()
    yield topic
    with engine.begin() as c:
        c.execute(text("DELETE FROM outbox WHERE topic = :t"), {"t": topic})


def test_two_relays_at_once_never_take_the_same_message(engine, committed_topic):
    with Session(engine) as a, Session(engine) as b:
        first = outbox.claim(a, committed_topic, limit=25)  # a's transaction still open: rows locked
        second = outbox.claim(b, committed_topic, limit=25)
        a.commit()
        b.commit()
    ids_a, ids_b = {m.id for m in first}, {m.id for m in second}
    assert len(ids_a) == 25 and len(ids_b) == 15 and not ids_a & ids_b
