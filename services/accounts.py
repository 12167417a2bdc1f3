"""Accounts' use cases, for administrators: changing an account's role, units, officer link or
法律职业资格 number (its sessions end; audited with what changed). An administrator never
changes his own role: another administrator does."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from geo.access import accounts, policy
from geo.access.accounts import ROLES, Scope
from geo.infra import audit
from geo.infra.errors import Conflict
from services.context import Context

Role = Literal[ROLES]  # type: ignore[valid-type]


class AccountChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    role: Role | None = None
    units: list[str] | None = Field(None, max_length=60, description="unit codes, for the unit-scoped roles")
    officer_cert: str | None = Field(None, max_length=40, description="the officer's certificate; empty to unlink")
    legal_qualification_no: str | None = Field(
        None, max_length=30, description="法律职业资格证书编号 (a first legal review needs it); empty to clear"
    )


def change(ctx: Context, scope: Scope | None, username: str, body: AccountChange) -> dict[str, Any]:
    who = policy.authorize(scope, "user.manage")
    if username == who.username and body.role not in (None, who.role):
        raise Conflict("you cannot change your own role", rule="own_account", zh="不能修改自己的角色")
    with ctx.session() as session:
        changed = accounts.update_user(
            session,
            username,
            role=body.role,
            unit_codes=body.units,
            officer_cert=body.officer_cert,
            legal_qualification_no=body.legal_qualification_no,
        )
        audit.record(
            session, who.username, "user_change", subject=f"user:{username}", detail=changed, source=ctx.source
        )
    return {"username": username, "changed": changed}
