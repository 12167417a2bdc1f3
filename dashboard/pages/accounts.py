"""账户 page: administrators see every account, disable or enable it, and change its role, units,
officer link and 法律职业资格 number (each ends its sessions and tokens at once, audited).
Passwords are set with the API or `lawgrid user passwd`."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from dashboard import ids
from dashboard.auth import current_scope, require
from dashboard.context import attempt, client_address, services
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.access import accounts, policy
from geo.infra import audit
from geo.infra.errors import Conflict, explain
from geo.places import queries
from services import accounts as account_uses

EDIT_USER, EDIT_ROLE, EDIT_UNITS, EDIT_CERT, EDIT_QUAL, EDIT_SAVE, EDIT_MESSAGE = (
    "account-edit-user",
    "account-edit-role",
    "account-edit-units",
    "account-edit-cert",
    "account-edit-qualification",
    "account-edit-save",
    "account-edit-message",
)


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/accounts", name="accounts", layout=layout)
    app.callback(
        Output(ids.ACCOUNTS_TABLE, "children"),
        Output(ids.ACCOUNTS_MESSAGE, "children"),
        Input({"type": ids.ACCOUNT_TOGGLE, "name": ALL}, "n_clicks"),
        Input(ids.LANG, "data"),
        Input(EDIT_MESSAGE, "children"),
    )(refresh)
    app.callback(
        Output(EDIT_ROLE, "value"),
        Output(EDIT_UNITS, "value"),
        Output(EDIT_CERT, "value"),
        Output(EDIT_QUAL, "value"),
        Input(EDIT_USER, "value"),
        prevent_initial_call=True,
    )(load_account)
    app.callback(
        Output(EDIT_MESSAGE, "children"),
        Input(EDIT_SAVE, "n_clicks"),
        State(EDIT_USER, "value"),
        State(EDIT_ROLE, "value"),
        State(EDIT_UNITS, "value"),
        State(EDIT_CERT, "value"),
        State(EDIT_QUAL, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(save_account)


def layout(**_query):
    if not policy.allowed(current_scope(), "user.manage"):
        return html.Div(className="lg-page", id=ids.ACCOUNTS_DENIED, children=t("common.forbidden"))
    with _runtime().session() as session:
        names = [u["username"] for u in accounts.users(session)]
        units = queries.unit_codes(session, require("user.manage"))
    return html.Div(
        className="lg-page",
        children=[
            html.H2(t("accounts.heading"), id=ids.ACCOUNTS_HEADING, style={"fontSize": "16px"}),
            html.P(id=ids.ACCOUNTS_MESSAGE, className="lg-note"),
            html.Div(id=ids.ACCOUNTS_TABLE),
            html.Section(
                className="lg-account-edit",
                children=[
                    html.H3(t("accounts.edit"), style={"fontSize": "14px"}),
                    _field("accounts.col.username", dcc.Dropdown(id=EDIT_USER, options=names, clearable=False)),
                    _field(
                        "accounts.col.role",
                        dcc.Dropdown(
                            id=EDIT_ROLE,
                            options=[{"label": t("role." + r), "value": r} for r in accounts.ROLES],
                            clearable=False,
                        ),
                    ),
                    _field(
                        "accounts.col.units",
                        dcc.Dropdown(id=EDIT_UNITS, options=[{"label": n, "value": c} for c, n in units], multi=True),
                    ),
                    _field("accounts.col.officer_cert", dcc.Input(id=EDIT_CERT, type="text")),
                    _field("accounts.col.qualification", dcc.Input(id=EDIT_QUAL, type="text")),
                    html.Button(t("accounts.save"), id=EDIT_SAVE, className="lg-button"),
                    html.P(id=EDIT_MESSAGE, role="status"),
                ],
            ),
        ],
    )


def _field(label: str, control) -> html.Label:
    return html.Label([html.Span(t(label), className="lg-field-name"), control], className="lg-field")


def load_account(username: str | None):
    """The chosen account's role, units, officer certificate and qualification, to edit."""
    require("user.manage")
    with _runtime().session() as session:
        row = next((u for u in accounts.users(session) if u["username"] == username), None)
    if row is None:
        return no_update, no_update, no_update, no_update
    return row["role"], list(row["units"]), row["officer_cert"] or "", row["legal_qualification_no"] or ""


def save_account(_clicks, username, role, units, cert, qualification, lang):
    who = require("user.manage")
    if not username:
        return t("accounts.pick", lang)
    body, error = attempt(
        account_uses.AccountChange.model_validate,
        {
            "role": role,
            "units": units or [],
            "officer_cert": cert if cert is not None else None,
            "legal_qualification_no": qualification if qualification is not None else None,
        },
    )
    if error is None:
        done, error = attempt(account_uses.change, services(), who, username, body)
    if error is not None:
        return html.Span(explain(error, lang), className="lg-error", id="account-edit-error")
    return html.Span(t("accounts.saved", lang).format(username), id="account-edit-ok")


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


def refresh(clicks, lang, _saved=None):
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
