"""Accounts, roles, unit scopes and login throttling. Passwords are hashed with argon2."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra.errors import InvalidInput, NotFound

ROLES = (
    "admin",
    "operator",
    "dispatcher",
    "leader",
    "supervisor",
    "auditor",
    # case handling (办案)
    "officer",  # 办案人员: linked to his officer row, acts for its unit
    "legal_reviewer",  # 法制审核人员
    "case_reviewer",  # 案件审核人员
    "organ_head",  # 行政机关负责人: files, approves and decides
    "hearing_officer",  # 听证主持人
    "oversight",  # 执法监督机构: reads every unit's cases and warnings
)
UNIT_SCOPED_ROLES = (
    "dispatcher",
    "supervisor",
    "officer",
    "legal_reviewer",
    "case_reviewer",
    "organ_head",
    "hearing_officer",
)
# Roles that act on their own work, not their unit's: an officer sees his own tasks, his own
# devices' tracks and the live positions of his crew while on a task together; reviewers and
# hearing officers see the cases they act on, and no one's position.
PERSONAL_ROLES = ("officer", "legal_reviewer", "case_reviewer", "hearing_officer")
ON_TASK = ("assigned", "accepted", "en_route", "on_site")  # a crew is together on its task
MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 3  # zxcvbn: 0 too guessable ... 4 very unguessable
THROTTLE_FAILURES = 5  # an address's failures on one account within the window hold it there...
THROTTLE_FAILURES_PER_ADDRESS = 20  # ...or on any accounts (higher: many users share a NAT)
THROTTLE_STEP_UP_S = 2.0  # past THROTTLE_FAILURES on the account from anywhere: each try waits this
THROTTLE_ACCOUNT_SIEGE = 50  # ...and past this many, only the addresses its owner used get through
THROTTLE_WINDOW_MIN = 15

_hasher = PasswordHasher()


class AccountError(InvalidInput):
    """A request about accounts that cannot be honoured, with the reason."""


@dataclass(frozen=True)
class Scope:
    """Who is asking and what they may see: unit_ids None means the whole district."""

    user_id: int
    username: str
    role: str
    unit_ids: frozenset[int] | None
    session_version: int = 0
    """Written into the session cookie and tokens at login; a newer one in the database
    (logout, password change, account disabled) ends them."""
    officer_id: int | None = None
    """The officer row of the account, if it is an officer's (officers, and anyone else who
    holds an enforcement certificate): handlers never review or hear their own cases."""

    @property
    def district_wide(self) -> bool:
        return self.unit_ids is None

    @property
    def personal(self) -> bool:
        return self.role in PERSONAL_ROLES

    def people_filter(self, officer_column: str, unit_column: str) -> tuple[str, dict[str, Any]]:
        """SQL condition restricting the officers whose devices, positions and alarms are shown:
        the scope's units; for a personal role, the caller and his crew while on a task together
        (nobody, for a reviewer or a hearing officer)."""
        if not self.personal:
            return self.unit_filter(unit_column)
        if self.officer_id is None:
            return "false", {}
        return (
            f"""{officer_column} IN (SELECT CAST(:scope_me AS int) UNION
                SELECT mate.officer_id FROM inspection_officer me
                JOIN inspection i ON i.id = me.inspection_id AND i.status = ANY(:scope_on_task)
                JOIN inspection_officer mate ON mate.inspection_id = i.id WHERE me.officer_id = :scope_me)""",
            {"scope_me": self.officer_id, "scope_on_task": list(ON_TASK)},
        )

    def case_filter(self, alias: str = "e") -> tuple[str, dict[str, Any]]:
        """SQL condition on enf_case `alias`: the scope's units; for a personal role, the cases
        he acts on (an officer: those he handles; a reviewer: those sent to review, waiting or
        reviewed; a hearing officer: those whose hearing waits for a host or is his)."""
        cond, params = self.unit_filter(f"{alias}.unit_id")
        if not self.personal:
            return cond, params
        mine = {
            "officer": f"""EXISTS (SELECT 1 FROM case_officer co WHERE co.case_id = {alias}.id
                           AND co.officer_id = :scope_me)""",
            "legal_reviewer": f"EXISTS (SELECT 1 FROM case_review r WHERE r.case_id = {alias}.id)",
            "hearing_officer": f"""EXISTS (SELECT 1 FROM case_hearing h WHERE h.case_id = {alias}.id
                                   AND (h.host_user IS NULL OR h.host_user = :scope_user))""",
        }
        mine["case_reviewer"] = mine["legal_reviewer"]
        return (
            f"{cond} AND {mine[self.role]}",
            {**params, "scope_me": self.officer_id or 0, "scope_user": self.user_id},
        )

    def unit_filter(self, column: str) -> tuple[str, dict[str, Any]]:
        """SQL condition restricting `column` (a unit id) to this scope, and its params."""
        if self.unit_ids is None:
            return "true", {}
        return f"{column} = ANY(:scope_units)", {"scope_units": sorted(self.unit_ids)}


def _officer(session: Session, cert: str) -> Any:
    """(id, unit code) of the officer holding the certificate, or AccountError."""
    found = session.execute(
        text("SELECT o.id, u.code FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id WHERE o.cert_no = :c"),
        {"c": cert},
    ).first()
    if found is None:
        raise AccountError(f"no officer holds certificate {cert!r}")
    return found


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    unit_codes: list[str] | None = None,
    *,
    officer_cert: str | None = None,
    legal_qualification_no: str | None = None,
) -> int:
    """An account. An officer's account names his certificate (`officer_cert`) and acts for
    his officer row's unit; a legal reviewer may carry his 法律职业资格 number."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    check_password(password, username)
    unit_codes = list(unit_codes or [])
    officer_id = None
    if officer_cert is not None:
        found = _officer(session, officer_cert)
        officer_id = found.id
        if role == "officer" and not unit_codes:
            unit_codes = [found.code]
    elif role == "officer":
        raise AccountError("an officer's account names his certificate: give --officer CERT_NO")
    if role in UNIT_SCOPED_ROLES and not unit_codes:
        raise AccountError(f"a {role} acts for one or more units: give --unit CODE")
    if role not in UNIT_SCOPED_ROLES and unit_codes:
        raise AccountError(f"a {role} is district-wide; --unit applies to {', '.join(UNIT_SCOPED_ROLES)}")
    units: dict[str, int] = dict(
        session.execute(text("SELECT code, id FROM enforcement_unit WHERE code = ANY(:c)"), {"c": unit_codes}).all()
    )
    missing = [c for c in unit_codes if c not in units]
    if missing:
        raise AccountError(f"unknown enforcement unit {', '.join(missing)}")
    exists = session.execute(text("SELECT 1 FROM app_user WHERE username = :u"), {"u": username}).first()
    if exists:
        raise AccountError(f"user {username!r} already exists")
    user_id = session.execute(
        text(
            "INSERT INTO app_user (username, password_hash, role, officer_id, legal_qualification_no) "
            "VALUES (:u, :h, :r, :o, :q) RETURNING id"
        ),
        dict(u=username, h=_hasher.hash(password), r=role, o=officer_id, q=legal_qualification_no),
    ).scalar_one()
    for unit_id in units.values():
        session.execute(text("INSERT INTO user_unit VALUES (:u, :unit)"), dict(u=user_id, unit=unit_id))
    return int(user_id)


QUALIFICATION = re.compile(r"^[A-Z0-9]{6,30}$")  # 法律职业资格证书编号 as issued (letters and digits)


def update_user(
    session: Session,
    username: str,
    *,
    role: str | None = None,
    unit_codes: list[str] | None = None,
    officer_cert: str | None = None,
    legal_qualification_no: str | None = None,
) -> dict[str, Any]:
    """Change an account's role, units, officer link or 法律职业资格 number, with the rules of
    `create_user` (an officer names his certificate and acts for its unit; unit-scoped roles
    have units, district-wide ones none). Its sessions and tokens end: they carried the old
    scope. An empty string clears the officer link or the qualification. What changed."""
    row = session.execute(
        text("SELECT id, role, officer_id, legal_qualification_no FROM app_user WHERE username = :u"),
        {"u": username},
    ).first()
    if row is None:
        raise NotFound(f"no user {username!r}")
    new_role = role or row.role
    if new_role not in ROLES:
        raise AccountError(f"unknown role {new_role!r}; choose one of {', '.join(ROLES)}")
    officer_id, officer_unit = row.officer_id, None
    if officer_cert is not None:
        officer_id = None
        if officer_cert:
            found = _officer(session, officer_cert)
            officer_id, officer_unit = found.id, found.code
    elif officer_id is not None:
        officer_unit = session.execute(
            text("SELECT u.code FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id WHERE o.id = :o"),
            {"o": officer_id},
        ).scalar()
    if new_role == "officer" and officer_id is None:
        raise AccountError("an officer's account names his certificate")
    current_units = list(
        session.execute(
            text(
                "SELECT e.code FROM user_unit uu JOIN enforcement_unit e ON e.id = uu.unit_id WHERE uu.user_id = :u "
                "ORDER BY e.code"
            ),
            {"u": row.id},
        ).scalars()
    )
    codes = list(unit_codes) if unit_codes is not None else current_units
    if new_role == "officer":
        codes = [officer_unit] if officer_unit else []  # an officer acts for his own unit
    elif new_role not in UNIT_SCOPED_ROLES:
        if unit_codes:
            raise AccountError(f"a {new_role} is district-wide; units apply to {', '.join(UNIT_SCOPED_ROLES)}")
        codes = []
    elif not codes:
        raise AccountError(f"a {new_role} acts for one or more units")
    units: dict[str, int] = dict(
        session.execute(text("SELECT code, id FROM enforcement_unit WHERE code = ANY(:c)"), {"c": codes}).all()
    )
    missing = [c for c in codes if c not in units]
    if missing:
        raise AccountError(f"unknown enforcement unit {', '.join(missing)}")
    qualification = row.legal_qualification_no
    if legal_qualification_no is not None:
        qualification = legal_qualification_no.strip().upper() or None
        if qualification and not QUALIFICATION.match(qualification):
            raise AccountError("the 法律职业资格 number is 6-30 letters and digits")
    session.execute(
        text("UPDATE app_user SET role = :r, officer_id = :o, legal_qualification_no = :q WHERE id = :id"),
        {"r": new_role, "o": officer_id, "q": qualification, "id": row.id},
    )
    session.execute(text("DELETE FROM user_unit WHERE user_id = :u"), {"u": row.id})
    for unit_id in units.values():
        session.execute(text("INSERT INTO user_unit VALUES (:u, :unit)"), dict(u=row.id, unit=unit_id))
    end_sessions(session, row.id)
    changes = {
        "role": (row.role, new_role),
        "units": (current_units, sorted(codes)),
        "officer_id": (row.officer_id, officer_id),
        "legal_qualification_no": (row.legal_qualification_no, qualification),
    }
    return {k: {"from": a, "to": b} for k, (a, b) in changes.items() if a != b}


def check_password(password: str, username: str = "") -> None:
    """At least MIN_PASSWORD_LENGTH characters and not guessable: zxcvbn (its shipped lists of
    common passwords, names and words, keyboard patterns, dates, l33t) must rate it 3 of 4."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    from zxcvbn import zxcvbn

    verdict = zxcvbn(password[:100], user_inputs=[username, "lawgrid", "binhai", "滨海"])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        hint = verdict["feedback"].get("warning") or "it follows a common pattern"
        raise AccountError(f"password is too easy to guess ({hint}); use a longer phrase of unrelated words")


def _user(session: Session, username: str) -> Any:
    row = session.execute(text("SELECT id, active FROM app_user WHERE username = :u"), {"u": username}).first()
    if row is None:
        raise NotFound(f"no user {username!r}")
    return row


def end_sessions(session: Session, user_id: int) -> None:
    """End every session and token of the user (they carry the old session version)."""
    session.execute(text("UPDATE app_user SET session_version = session_version + 1 WHERE id = :id"), {"id": user_id})


def change_password(session: Session, username: str, password: str) -> None:
    row = _user(session, username)
    check_password(password, username)
    session.execute(
        text("UPDATE app_user SET password_hash = :h, password_changed_at = now() WHERE id = :id"),
        {"h": _hasher.hash(password), "id": row.id},
    )
    end_sessions(session, row.id)


def set_active(session: Session, username: str, active: bool) -> None:
    """Disable (or enable again) an account; disabling ends its sessions and tokens."""
    row = _user(session, username)
    session.execute(text("UPDATE app_user SET active = :a WHERE id = :id"), {"a": active, "id": row.id})
    end_sessions(session, row.id)


def users(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            """SELECT u.id, u.username, u.role, u.active, u.created_at, u.password_changed_at,
                      u.legal_qualification_no,
                      (SELECT cert_no FROM officer o WHERE o.id = u.officer_id) AS officer_cert,
                      coalesce(array_agg(e.code ORDER BY e.code) FILTER (WHERE e.code IS NOT NULL), '{}') AS units
               FROM app_user u LEFT JOIN user_unit uu ON uu.user_id = u.id
               LEFT JOIN enforcement_unit e ON e.id = uu.unit_id
               GROUP BY u.id ORDER BY u.username"""
        )
    ).mappings()
    return [
        {**r, "created_at": r["created_at"].isoformat(), "password_changed_at": r["password_changed_at"].isoformat()}
        for r in rows
    ]


def scope_for(session: Session, user_id: int, session_version: int | None = None) -> Scope | None:
    """The scope of an active account; None if disabled, or if session_version is given and
    the account's sessions have been ended since (logout, password change)."""
    row = session.execute(
        text("SELECT id, username, role, session_version, officer_id FROM app_user WHERE id = :id AND active"),
        {"id": user_id},
    ).first()
    if row is None or (session_version is not None and session_version != row.session_version):
        return None
    units = None
    if row.role in UNIT_SCOPED_ROLES:
        units = frozenset(
            session.execute(text("SELECT unit_id FROM user_unit WHERE user_id = :id"), {"id": user_id}).scalars()
        )
    return Scope(row.id, row.username, row.role, units, row.session_version, row.officer_id)


LOGIN_LOCK = 0x4C47_0003  # advisory-lock namespace: one throttle decision per account at a time ("LG" 3)
_DUMMY_HASH = _hasher.hash("lawgrid: an account that does not exist")
KNOWN_ADDRESS_DAYS = 90


def _known_address(session: Session, username: str, source: str) -> bool:
    """The account has logged in from this address before: its owner, most likely."""
    return (
        session.execute(
            text(
                "SELECT 1 FROM login_attempt WHERE username = :u AND source = :s AND success "
                "AND at > clock_timestamp() - make_interval(days => :d) LIMIT 1"
            ),
            dict(u=username, s=source, d=KNOWN_ADDRESS_DAYS),
        ).first()
        is not None
    )


def throttled_minutes(session: Session, username: str, source: str) -> tuple[int, float]:
    """(minutes until this address may try this account again, seconds each try must wait now).

    The right password is never refused because of failures elsewhere: an address is held after
    THROTTLE_FAILURES failures of its own on the account (or THROTTLE_FAILURES_PER_ADDRESS on any);
    failures on the account from other addresses step the others up instead (each try waits
    THROTTLE_STEP_UP_S, so a spread-out guesser gains little), and only under a siege
    (THROTTLE_ACCOUNT_SIEGE failures) are unknown addresses held. An address the account has
    logged in from before is never held: the owner at his desk, a proxy's known users."""
    row = session.execute(
        text(
            """
            SELECT max(at) AS last, count(*) FILTER (WHERE username = :u) AS by_user,
                   count(*) FILTER (WHERE username = :u AND source = :s) AS by_user_here,
                   count(*) FILTER (WHERE source = :s) AS by_source
            FROM login_attempt
            WHERE NOT success AND at > clock_timestamp() - make_interval(mins => :w)
              AND (username = :u OR source = :s)
            """
        ),
        dict(u=username, s=source, w=THROTTLE_WINDOW_MIN),
    ).one()
    held = (
        row.by_user_here >= THROTTLE_FAILURES
        or row.by_source >= THROTTLE_FAILURES_PER_ADDRESS
        or row.by_user >= THROTTLE_ACCOUNT_SIEGE
    )
    step_up = row.by_user >= THROTTLE_FAILURES
    if not (held or step_up) or _known_address(session, username, source):
        return 0, 0.0
    if not held:
        return 0, THROTTLE_STEP_UP_S
    waited = session.execute(
        text("SELECT extract(epoch FROM clock_timestamp() - :last) / 60"), {"last": row.last}
    ).scalar()
    return max(1, int(THROTTLE_WINDOW_MIN - float(waited or 0)) + 1), 0.0


def begin_attempt(session: Session, username: str, source: str) -> tuple[int | None, str | None, float]:
    """The throttle's decision, made under a lock on the account so that concurrent guesses
    are counted one after another: (attempt id, None, seconds to wait before the password is
    checked) to go on, recorded as a failure until `finish_attempt` says otherwise; (None,
    reason, 0) if held. The caller commits at once."""
    session.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:u))"), {"ns": LOGIN_LOCK, "u": username})
    wait, step_up = throttled_minutes(session, username, source)
    if wait:
        return None, f"too many failed logins; try again in {wait} minutes", 0.0
    attempt = session.execute(
        text("INSERT INTO login_attempt (username, source, success) VALUES (:u, :s, false) RETURNING id"),
        dict(u=username, s=source),
    ).scalar_one()
    return int(attempt), None, step_up


def check_credentials(session: Session, username: str, password: str) -> int | None:
    """The account's id if the password is right. An unknown or disabled account costs the
    same hash as a known one, so the answer's time says nothing about which usernames exist."""
    row = session.execute(
        text("SELECT id, password_hash FROM app_user WHERE username = :u AND active"), {"u": username}
    ).first()
    try:
        ok: bool = _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    return int(row.id) if ok and row is not None else None


def finish_attempt(session: Session, attempt_id: int, user_id: int | None) -> tuple[Scope | None, str | None]:
    if user_id is None:
        return None, "wrong username or password"
    session.execute(text("UPDATE login_attempt SET success = true WHERE id = :i"), {"i": attempt_id})
    return scope_for(session, user_id), None


def authenticate(session: Session, username: str, password: str, source: str) -> tuple[Scope | None, str | None]:
    """(scope, None) on success, (None, reason) otherwise, in one transaction (CLI and tests);
    the web tier runs the three steps in transactions of their own, so the lock is short."""
    attempt, reason, step_up = begin_attempt(session, username, source)
    if attempt is None:
        return None, reason
    time.sleep(step_up)
    return finish_attempt(session, attempt, check_credentials(session, username, password))
