"""What a page callback or a route reads about its request: the caller, the language, the
runtime, the use cases' context with the web notifier, and the refusal audit every door shares."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from flask import current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from geo.access import policy
from geo.access.accounts import Scope
from geo.documents.forms import Kit
from geo.infra.errors import LawGridError, Unauthorized
from services.context import Context

log = logging.getLogger(__name__)


def scope() -> Scope:
    """The caller (the guard has authenticated him before any view runs)."""
    who = g.get("scope")
    if who is None:
        raise Unauthorized("log in first (session) or send a bearer token")
    return who


class WebRuntime(Protocol):
    """What the web layer uses of the process's runtime (lawgrid.runtime.Runtime)."""

    engine: Engine
    sessions: sessionmaker[Session]

    def session(self) -> AbstractContextManager[Session]: ...

    @property
    def documents(self) -> Kit: ...


def runtime() -> WebRuntime:
    found: WebRuntime = current_app.extensions["lawgrid"]
    return found


class WebNotifier:
    """The web process's notifier for the use cases: live pushes over Socket.IO, and texts to
    the terminals through its own listeners or the ingest processes it wakes."""

    def __init__(self, extensions: dict[str, Any]) -> None:
        self.live = extensions.get("lawgrid_live")
        self.wake = extensions.get("lawgrid_downlink")

    def task_changed(self, view: dict[str, Any], units: Iterable[int]) -> None:
        if self.live is not None:
            self.live.emit_inspection(view, units)

    def texts_queued(self, message_ids: list[int]) -> set[int]:
        return set(self.wake(message_ids)) if self.wake is not None else set()

    def warnings_raised(self, raised: list[dict[str, Any]]) -> None:
        if self.live is not None and raised:
            self.live.emit_warnings(raised)

    def alarm_changed(self, alarm: dict[str, Any]) -> None:
        if self.live is not None:
            self.live.emit_scoped("alarm", alarm, alarm["device_id"])


def services() -> Context:
    """The use cases' context for this request: the app's unit of work and its notifier."""
    return Context(runtime(), WebNotifier(current_app.extensions), client_address())


def lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


def record_refusal(exc: LawGridError) -> None:
    """Audit a refusal (role, scope, rule, conflict) with the actor and the source address."""
    who = g.get("scope")
    actor = who.username if who else "(anonymous)"
    try:
        policy.record_refusal(
            runtime().sessions,
            str(actor)[:200],
            exc,
            subject=f"{request.method} {request.path}",
            source=client_address(),
        )
    except Exception:  # the answer still goes out; the failure is logged
        log.exception("could not audit a refusal of %s", request.path)


def attempt(action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, LawGridError | None]:
    """For Dash callbacks: run an action; a refusal is audited like the API's and returned
    as (None, error) for the page to show (see `explain`)."""
    try:
        return action(*args, **kwargs), None
    except LawGridError as exc:
        record_refusal(exc)
        return None, exc


def client_address() -> str:
    return request.remote_addr or "unknown"
