"""Accounts, roles, unit scopes and login throttling. Passwords are hashed with argon2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.errors import InvalidInput

ROLES = ("admin", "operator", "dispatcher", "leader", "supervisor", "auditor")
UNIT_SCOPED_ROLES = ("dispatcher", "supervisor")
MIN_PASSWORD_LENGTH = 10
THROTTLE_FAILURES = 5  # failures within the window lock the account...
THROTTLE_FAILURES_PER_ADDRESS = 20  # ...or the address (higher: many users share a NAT)
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

    @property
    def district_wide(self) -> bool:
        return self.unit_ids is None

    def unit_filter(self, column: str) -> tuple[str, dict[str, Any]]:
        """SQL condition restricting `column` (a unit id) to this scope, and its params."""
        if self.unit_ids is None:
            return "true", {}
        return f"{column} = ANY(:scope_units)", {"scope_units": sorted(self.unit_ids)}


def create_user(session: Session, username: str, password: str, role: str, unit_codes: list[str] | None = None) -> int:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    unit_codes = unit_codes or []
    if role in UNIT_SCOPED_ROLES and not unit_codes:
        raise AccountError(f"a {role} acts for one or more units: give --unit CODE")
    if role not in UNIT_SCOPED_ROLES and unit_codes:
        raise AccountError(f"a {role} is district-wide; --unit applies to dispatchers and supervisors")
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
        text("INSERT INTO app_user (username, password_hash, role) VALUES (:u, :h, :r) RETURNING id"),
        dict(u=username, h=_hasher.hash(password), r=role),
    ).scalar_one()
    for unit_id in units.values():
        session.execute(text("INSERT INTO user_unit VALUES (:u, :unit)"), dict(u=user_id, unit=unit_id))
    return int(user_id)


def scope_for(session: Session, user_id: int) -> Scope | None:
    row = session.execute(
        text("SELECT id, username, role FROM app_user WHERE id = :id AND active"), {"id": user_id}
    ).first()
    if row is None:
        return None
    units = None
    if row.role in UNIT_SCOPED_ROLES:
        units = frozenset(
            session.execute(text("SELECT unit_id FROM user_unit WHERE user_id = :id"), {"id": user_id}).scalars()
        )
    return Scope(row.id, row.username, row.role, units)


def throttled_minutes(session: Session, username: str, source: str) -> int:
    """Minutes until another attempt is allowed (0: allowed now)."""
    row = session.execute(
        text(
            """
            SELECT max(at) AS last, count(*) FILTER (WHERE username = :u) AS by_user,
                   count(*) FILTER (WHERE source = :s) AS by_source
            FROM login_attempt
            WHERE NOT success AND at > clock_timestamp() - make_interval(mins => :w)
              AND (username = :u OR source = :s)
            """
        ),
        dict(u=username, s=source, w=THROTTLE_WINDOW_MIN),
    ).one()
    if row.by_user < THROTTLE_FAILURES and row.by_source < THROTTLE_FAILURES_PER_ADDRESS:
        return 0
    waited = session.execute(
        text("SELECT extract(epoch FROM clock_timestamp() - :last) / 60"), {"last": row.last}
    ).scalar()
    return max(1, int(THROTTLE_WINDOW_MIN - float(waited or 0)) + 1)


def authenticate(session: Session, username: str, password: str, source: str) -> tuple[Scope | None, str | None]:
    """(scope, None) on success, (None, reason) otherwise. Every attempt is recorded, so the
    caller commits either way: a rolled-back failure would escape the throttle."""
    wait = throttled_minutes(session, username, source)
    if wait:
        return None, f"too many failed logins; try again in {wait} minutes"
    row = session.execute(
        text("SELECT id, password_hash FROM app_user WHERE username = :u AND active"), {"u": username}
    ).first()
    ok = False
    if row is not None:
        try:
            ok = _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    session.execute(
        text("INSERT INTO login_attempt (username, source, success) VALUES (:u, :s, :ok)"),
        dict(u=username, s=source, ok=ok),
    )
    if not ok or row is None:
        return None, "wrong username or password"
    return scope_for(session, row.id), None
