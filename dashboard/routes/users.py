"""REST routes of accounts, for administrators: the list, disabling and enabling an account,
and setting a user's password. Each ends the user's sessions and tokens, and is audited."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from dashboard.context import client_address, runtime, scope, services
from dashboard.rest.router import Router
from dashboard.rest.types import Listing, Model
from geo.access import accounts
from geo.infra import audit
from geo.infra.errors import Conflict
from services import accounts as account_uses

router = Router()


@router.route(
    "GET", "/users", permission="user.manage", response=Listing, summary="Every account with its role and units"
)
def list_users() -> Any:
    with runtime().session() as session:
        return {"users": accounts.users(session)}


@router.route(
    "POST",
    "/users/<username>/<any(disable, enable):action>",
    permission="user.manage",
    summary="Disable (ending every session and token at once) or enable an account",
)
def set_user_active(username: str, action: Literal["disable", "enable"]) -> Any:
    who = scope()
    if username == who.username and action == "disable":
        raise Conflict("you cannot disable your own account", rule="own_account")
    with runtime().session() as session:
        accounts.set_active(session, username, action == "enable")
        audit.record(session, who.username, f"user_{action}", subject=f"user:{username}", source=client_address())
    return {"username": username, "active": action == "enable"}


class NewPassword(Model):
    password: str = Field(max_length=1000)


@router.route(
    "POST",
    "/users/<username>/password",
    permission="user.manage",
    body=NewPassword,
    summary="Set a user's password (ends every session and token of the user)",
)
def set_user_password(username: str, body: NewPassword) -> Any:
    who = scope()
    with runtime().session() as session:
        accounts.change_password(session, username, body.password)
        audit.record(session, who.username, "user_password", subject=f"user:{username}", source=client_address())
    return {"username": username, "changed": True}


@router.route(
    "PATCH",
    "/users/<username>",
    permission="user.manage",
    body=account_uses.AccountChange,
    summary="Change an account's role, units, officer link or 法律职业资格 number (its sessions end; audited)",
)
def change_user(username: str, body: account_uses.AccountChange) -> Any:
    return account_uses.change(services(), scope(), username, body)
