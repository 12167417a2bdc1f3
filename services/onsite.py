"""The officer's work on site (移动执法): his card and tasks, the checklist, evidence and its
photos. The task must be in the caller's scope; the core holds the rest (on site first, the
retry key, the photo's type and hash, his own device)."""

from __future__ import annotations

from typing import Any

from geo.access import policy
from geo.access.accounts import Scope
from geo.dispatch import onsite
from geo.documents import reading
from geo.infra.errors import NotFound
from services.context import Context


def my_work(ctx: Context, scope: Scope | None) -> dict[str, Any]:
    """The caller's officer record and devices, his open tasks and the documents awaiting his
    signature."""
    who = policy.authorize(scope, "task.status")
    with ctx.session() as session:
        card = onsite.officer_card(session, who.officer_id)
        if card is None:
            raise NotFound("this account is not an officer's", rule="officer_only")
        return {**card, "tasks": onsite.my_tasks(session, who), "to_sign": reading.to_sign(session, who)}


def save_checklist(ctx: Context, scope: Scope | None, task_id: int, body: onsite.Checklist) -> dict[str, Any]:
    who = policy.authorize(scope, "task.status")
    with ctx.session() as session:
        policy.task_in_scope(session, who, task_id)
        return onsite.save_checklist(session, who, task_id, body)


def add_evidence(ctx: Context, scope: Scope | None, task_id: int, body: onsite.Evidence) -> dict[str, Any]:
    who = policy.authorize(scope, "task.status")
    with ctx.session() as session:
        policy.task_in_scope(session, who, task_id)
        return onsite.add_evidence(session, who, task_id, body)


def photo(ctx: Context, scope: Scope | None, evidence_id: int, *, original: bool = False) -> tuple[str, bytes]:
    """(MIME type, bytes) of a photo of a task in the caller's scope: to display, or as captured."""
    who = policy.authorize(scope, "view")
    with ctx.session() as session:
        task_id, mime, content = onsite.photo(session, evidence_id, original=original)
        policy.task_in_scope(session, who, task_id)
    return mime, content
