"""Beijing time: what every date a person sees, every working day and every due day is in."""

from __future__ import annotations

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")


def now() -> dt.datetime:
    return dt.datetime.now(BEIJING)


def today() -> dt.date:
    """Today's date in Beijing (not the server's zone)."""
    return now().date()
