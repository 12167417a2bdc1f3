"""账户 page: administrators see every account and disable or enable it (which ends its
sessions and tokens at once, audited). Passwords are set with the API or `lawgrid user passwd`."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, ctx, html, no_update

from dashboard import ids
from dashboard.auth import current_scope, require
from dashboard.context import attempt, client_address
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.access import accounts, policy
from geo.infra import audit
from geo.infra.errors import Conflict, explain


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/accounts", name="accounts", layout=layout)
    app.callback(
        Output(ids.ACCOUNTS_TABLE, "children"),
        Output(ids.ACCOUNTS_MESSAGE, "children"),
        Input({"type": ids.ACCOUNT_TOGGLE, "name": ALL}, "n_clicks"),
        Input(ids.LANG, "data"),
    )(refresh)


def layout(**_query):
    if not policy.allowed(current_scope(), "user.manage"):
        return html.Div(className="lg-page", id=ids.ACCOUNTS_DENIED, children=t("common.forbidden"))
    return html.Div(
        className="lg-page",
        children=[
            html.H2(t("accounts.heading"), id=ids.ACCOUNTS_HEADING, style={"fontSize": "16px"}),
            html.P(id=ids.ACCOUNTS_MESSAGE, className="lg-note"),
            html.Div(id=ids.ACCOUNTS_TABLE),
        ],
    )


def _toggle(name: str) -> str:
    who = require("user.manage")
    with _runtime().session() as session:
        active = {u["username"]: u["active"] for u in accounts.users(session)}.get(name)
        if active and name == who.username:
            raise Conflict("you cannot disable your own account", rule="own_account")
        accounts.set_active(session, name, not active)
        action = "user_disable" if active else "user_enable"
        audit.record(session, who.username, action, subject=f"user:{name}", source=client_address())
    return action


def refresh(clicks, lang):
    require("user.manage")
    lang = lang or "zh"
    message = ""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and any(clicks or []):
        done, error = attempt(_toggle, trigger["name"])
        message = explain(error, lang) if error else t(f"accounts.{done}", lang).format(trigger["name"])
    with _runtime().session() as session:
        rows = accounts.users(session)
    head = html.Tr([html.Th(t(f"accounts.col.{c}", lang)) for c in ("username", "role", "units", "active", "")])
    body = [
        html.Tr(
            [
                html.Td(u["username"]),
                html.Td(t("role." + u["role"], lang)),
                html.Td("、".join(u["units"])),
                html.Td(t("accounts.active" if u["active"] else "accounts.disabled", lang)),
                html.Td(
                    html.Button(
                        t("accounts.disable" if u["active"] else "accounts.enable", lang),
                        id={"type": ids.ACCOUNT_TOGGLE, "name": u["username"]},
                        className="lg-btn",
                        n_clicks=0,
                    )
                ),
            ]
        )
        for u in rows
    ]
    return html.Table([head, *body], className="lg-card-table"), message or no_update
