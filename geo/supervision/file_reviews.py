"""案卷评查 (行政执法监督条例 第十五条: is the decision lawful and proportionate, are the documents
in form, is the evidence true and complete): the organ draws a unit's decided case files at
random, reproducibly from a published seed, and scores each against the checklist; the score
is the share of points met. A file below PASS_MARK is a lead for a supervision case."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra import errors

CHECKLIST: dict[str, str] = {
    "subject": "执法主体合法、执法人员持证",
    "facts_evidence": "事实清楚、证据真实完整",
    "basis": "适用法律依据正确",
    "procedure": "程序合法（告知、听证、法制审核、集体讨论）",
    "discretion": "裁量适当、理由充分",
    "documents": "文书规范、送达合法",
    "archive": "案卷归档完整",
}
PASS_MARK = 80.0
MAX_DRAW = 200


def draw(session: Session, unit_id: int, start: dt.date, end: dt.date, n: int, seed: str) -> list[dict[str, Any]]:
    """n of the unit's case files decided in [start, end), the same ones for the same seed:
    each file's rank is the SHA-256 of seed and case number (anyone can redo the draw)."""
    if not seed.strip():
        raise errors.InvalidInput("publish a seed: anyone must be able to redo the draw", rule="seed")
    if not 1 <= n <= MAX_DRAW:
        raise errors.InvalidInput(f"draw 1 to {MAX_DRAW} files", rule="draw")
    rows = session.execute(
        text(
            """SELECT c.id, c.case_no, c.party_name, d.decision_no, d.decided_on
               FROM enf_case c JOIN case_decision d ON d.case_id = c.id
               WHERE c.unit_id = :u AND d.decided_on >= :s AND d.decided_on < :e"""
        ),
        {"u": unit_id, "s": start, "e": end},
    ).mappings()
    ranked = sorted(rows, key=lambda r: hashlib.sha256(f"{seed}:{r['case_no']}".encode()).hexdigest())
    return [{**dict(r), "decided_on": r["decided_on"].isoformat()} for r in ranked[:n]]


def score(checks: dict[str, bool]) -> float:
    return round(100.0 * sum(1 for k in CHECKLIST if checks.get(k)) / len(CHECKLIST), 2)


def record(
    session: Session, actor: str, case_id: int, checks: Any, *, note: str | None, seed: str | None, today: dt.date
) -> dict[str, Any]:
    """One file scored against the whole checklist (every item answered, nothing else)."""
    if (
        not isinstance(checks, dict)
        or set(checks) != set(CHECKLIST)
        or not all(isinstance(v, bool) for v in checks.values())
    ):
        missing = sorted(set(CHECKLIST) - set(checks or {})) if isinstance(checks, dict) else list(CHECKLIST)
        raise errors.InvalidInput(
            f"answer every checklist item with true or false: {', '.join(CHECKLIST)}"
            + (f" (missing: {', '.join(missing)})" if missing else ""),
            rule="checklist",
            zh="请逐项评查：" + "、".join(CHECKLIST.values()),
        )
    case = session.execute(text("SELECT unit_id FROM enf_case WHERE id = :c"), {"c": case_id}).first()
    if case is None:
        raise errors.NotFound(f"no case {case_id}")
    points = score(checks)
    review = session.execute(
        text(
            """INSERT INTO file_review (case_id, unit_id, seed, checks, score, note, reviewed_on, created_by)
               VALUES (:c, :u, :seed, CAST(:checks AS jsonb), :score, :note, :d, :by) RETURNING id"""
        ),
        {
            "c": case_id,
            "u": case[0],
            "seed": seed,
            "checks": json.dumps(checks),
            "score": points,
            "note": note,
            "d": today,
            "by": actor,
        },
    ).scalar_one()
    failed = [CHECKLIST[k] for k in CHECKLIST if not checks[k]]
    return {
        "id": review,
        "case_id": case_id,
        "unit_id": case[0],
        "score": points,
        "passed": points >= PASS_MARK,
        "failed_items": failed,
    }
