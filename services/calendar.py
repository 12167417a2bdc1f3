"""The working-day calendar's use cases: what is official and what provisional, and an
administrator entering the next year's schedule (audited), after which every deadline that lay
on provisional days is counted again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geo.access import policy
from geo.access.accounts import Scope
from geo.cases import workdays
from geo.infra.timezone import today as beijing_today
from services.context import Context

# From 1 November, next year's schedule is due (the State Council publishes it in November).
SCHEDULE_DUE_MONTH = 11


def status(ctx: Context, scope: Scope | None, today: dt.date | None = None) -> dict[str, Any]:
    """How far the State Council's schedule reaches, how far the provisional days, whether next
    year's schedule is missing (from 1 November), and next year's provisional holidays."""
    policy.authorize(scope, "view")
    today = today or beijing_today()
    with ctx.session() as session:
        official = workdays.official_range(session)[1]
        known = workdays.known_range(session)[1]
    next_year = today.year + 1
    missing = today.month >= SCHEDULE_DUE_MONTH and (official is None or official < dt.date(next_year, 12, 31))
    year = (official.year + 1) if official else next_year
    return {
        "official_through": official.isoformat() if official else None,
        "provisional_through": known.isoformat() if known and known != official else None,
        "next_year_missing": missing,
        "next_year": next_year,
        "provisional_year": year,
        "provisional_holidays": [
            {"day": d.isoformat(), "name": name} for d, name in sorted(workdays.statutory_holidays(year).items())
        ],
    }


def enter_days(ctx: Context, scope: Scope | None, days: list[workdays.Day], source: str) -> dict[str, Any]:
    """Override days or enter the next year's schedule; returns how many days were entered."""
    who = policy.authorize(scope, "calendar.manage")
    with ctx.session() as session:
        entered = workdays.set_days(session, days, who.username, source)
        official = workdays.official_range(session)[1]
    return {"updated": entered, "official_through": official.isoformat() if official else None}


def import_csv(ctx: Context, scope: Scope | None, data: str, source: str) -> dict[str, Any]:
    """A schedule file (`day,workday|holiday[,note]` per line): the good lines entered, each bad
    one reported with its number."""
    days, errors = workdays.parse_csv(data)
    result = enter_days(ctx, scope, days, source) if days else {"updated": 0}
    return {**result, "rejected": errors}
