"""The terminal outbox: deliveries running at once (a wake-up from a web process, a login,
the sweep) never send one text twice, and a text that could not be sent waits again."""

from __future__ import annotations

import threading

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.telemetry import downlink


def test_concurrent_claims_take_each_message_once_and_release_puts_it_back(engine):
    with Session(engine) as s:
        device = s.execute(text("SELECT id FROM device WHERE protocol = 'jt808' ORDER BY id LIMIT 1")).scalar_one()
        s.execute(
            text("UPDATE terminal_message SET sent_at = now() WHERE device_id = :d AND sent_at IS NULL"), {"d": device}
        )
        ids = [
            s.execute(
                text("INSERT INTO terminal_message (device_id, body, created_by) VALUES (:d, :b, 'test') RETURNING id"),
                {"d": device, "b": f"text {n}"},
            ).scalar_one()
            for n in range(20)
        ]
        s.commit()
    claimed: list[list[int]] = []
    barrier = threading.Barrier(2)

    def claim() -> None:
        with Session(engine) as s:
            barrier.wait()
            claimed.append([m["id"] for m in downlink.claim(s, [device])])
            s.commit()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed[0] + claimed[1]) == ids  # every text once, none twice
    with Session(engine) as s:
        downlink.release(s, ids[:3])
        s.commit()
        again = [m["id"] for m in downlink.claim(s, [device])]
        s.commit()
    assert again == ids[:3]
