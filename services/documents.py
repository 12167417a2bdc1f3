"""Documents' use cases, for every door (REST, the terminal, the case file): the caller must hold
case.handle to draft, fill, issue, sign, seal or void; the core then holds the rest (his own
case or inspection, the signatures a seal needs, numbers kept)."""

from __future__ import annotations

from typing import Any

from geo.access import policy
from geo.access.accounts import Scope
from geo.documents import drafting, forms, signing
from services.context import Context

HANDLE = "case.handle"


def draft(ctx: Context, scope: Scope | None, body: forms.Draft) -> dict[str, Any]:
    who = policy.authorize(scope, HANDLE)
    with ctx.session() as session:
        return drafting.draft(session, who, body)


def edit(ctx: Context, scope: Scope | None, doc_id: int, body: forms.Fields) -> dict[str, Any]:
    who = policy.authorize(scope, HANDLE)
    with ctx.session() as session:
        return drafting.edit(session, who, doc_id, body)


def issue(ctx: Context, scope: Scope | None, kit: forms.Kit, doc_id: int, body: forms.Issue) -> dict[str, Any]:
    who = policy.authorize(scope, HANDLE)
    with ctx.session() as session:
        return drafting.issue(session, who, kit, doc_id, body)


# Who may sign which slot: the handlers (and, on their terminal, the party or a witness); the head
# and the reviewer only their own slots, through their own accounts.
SIGN_PERMISSION = {
    "officer": HANDLE,
    "party": HANDLE,
    "witness": HANDLE,
    "head": "case.approve",
    "reviewer": "case.review",
}


def sign(ctx: Context, scope: Scope | None, doc_id: int, body: forms.Sign) -> dict[str, Any]:
    who = policy.authorize(scope, SIGN_PERMISSION[body.signer_kind])
    with ctx.session() as session:
        return signing.sign(session, who, doc_id, body)


def seal(ctx: Context, scope: Scope | None, kit: forms.Kit, doc_id: int) -> dict[str, Any]:
    who = policy.authorize(scope, HANDLE)
    with ctx.session() as session:
        return signing.seal_document(session, who, kit, doc_id)


def void(ctx: Context, scope: Scope | None, doc_id: int, body: forms.Void) -> dict[str, Any]:
    who = policy.authorize(scope, HANDLE)
    with ctx.session() as session:
        return drafting.void(session, who, doc_id, body)
