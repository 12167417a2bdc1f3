"""What a use case is given: the unit of work and the notifier, typed, from whichever door
calls it (the web process builds it from its app, the CLI and batch jobs from their runtime)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork(Protocol):
    def session(self) -> AbstractContextManager[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        ...


class Notifier(Protocol):
    """Where a use case's events go once its transaction has committed."""

    def task_changed(self, view: dict[str, Any], units: Iterable[int]) -> None:
        """Push an inspection task's new view to the live clients of its units."""
        ...

    def texts_queued(self, message_ids: list[int]) -> set[int]:
        """Wake whoever sends the queued terminal texts; returns the ids already sent."""
        ...

    def warnings_raised(self, raised: list[dict[str, Any]]) -> None:
        """Push case warnings a step raised or escalated to the unit's and the district's rooms."""
        ...

    def alarm_changed(self, alarm: dict[str, Any]) -> None:
        """Push an alarm's new state to those who see its device."""
        ...


class Silent:
    """The notifier of doors with nobody watching live (the CLI, batch jobs, the seed): queued
    texts stay in the outbox for the ingest process's sweep."""

    def task_changed(self, view: dict[str, Any], units: Iterable[int]) -> None:
        return None

    def texts_queued(self, message_ids: list[int]) -> set[int]:
        return set()

    def warnings_raised(self, raised: list[dict[str, Any]]) -> None:
        return None

    def alarm_changed(self, alarm: dict[str, Any]) -> None:
        return None


class InSession:
    """A unit of work inside a transaction its caller already holds (a batch job's, a test's):
    each use case runs in a savepoint of it, undone alone if the use case fails."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session.begin_nested():
            yield self._session


@dataclass(frozen=True)
class Context:
    work: UnitOfWork
    notifier: Notifier = field(default_factory=Silent)
    source: str | None = None  # where the request came from, for the audit (an address, "cli:user@host")

    def session(self) -> AbstractContextManager[Session]:
        return self.work.session()


class Sessions:
    """A unit of work from a session factory (a background job of the web or ingest process)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session


def within(session: Session, notifier: Notifier | None = None, source: str | None = None) -> Context:
    """The use cases' context over a session the caller holds (see InSession)."""
    return Context(InSession(session), notifier or Silent(), source)
