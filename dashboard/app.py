"""The Dash application: shell, pages and the REST blueprint, on a given Flask server."""

from __future__ import annotations

import importlib
import importlib.resources
import json

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html
from flask import Flask, session

from dashboard import ids, registry
from dashboard.auth import current_scope
from dashboard.i18n import DEFAULT_LANG, js_strings, t
from geo.access import policy


def build_dash(server: Flask) -> dash.Dash:
    app = dash.Dash(
        __name__,
        server=server,  # type: ignore[arg-type]  # Dash accepts a Flask server
        use_pages=True,
        pages_folder="",
        assets_folder=str(importlib.resources.files("dashboard") / "assets"),
        title=t("app.title"),
        update_title=None,  # type: ignore[arg-type]  # None: no "Updating..." title
        serve_locally=True,
        suppress_callback_exceptions=True,
    )
    # The page's language before any script runs (Chinese by default; the switch changes it).
    app.index_string = app.index_string.replace("<html>", '<html lang="zh-CN">', 1)
    # Callbacks are bound to this app, not dash's global list: that list is handed to the
    # first app that serves a request, and a factory may build several apps per process.
    app.callback(
        Output(ids.LANG, "data"), Input(ids.LANG_SWITCH, "n_clicks"), State(ids.LANG, "data"), prevent_initial_call=True
    )(toggle_language)
    app.callback(
        Output(ids.APP_TITLE, "children"),
        Output(ids.NAV_MAP, "children"),
        Output(ids.NAV_DISPATCH, "children"),
        Output(ids.NAV_CASES, "children"),
        Output(ids.NAV_COVERAGE, "children"),
        Output(ids.NAV_DEVICES, "children"),
        Output(ids.NAV_AUDIT, "children"),
        Output(ids.NAV_ACCOUNTS, "children"),
        Output(ids.NAV_CALENDAR, "children"),
        Output(ids.NAV_SUPERVISION, "children"),
        Output(ids.LANG_SWITCH, "children"),
        Output(ids.LOGOUT, "children"),
        Output(ids.WHOAMI, "children"),
        Input(ids.LANG, "data"),
    )(translate_shell)
    # Dash's own component texts (the drop-downs' search, select-all, counts) in the page's
    # language, on every page as it renders (lawgrid-00-core.js).
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="translateComponents"),
        Output(ids.LG_I18N, "title"),
        Input(ids.LANG, "data"),
        Input("_pages_location", "pathname"),
    )
    for page in registry.PAGES:
        page.register(app)
    app.layout = shell
    return app


def shell():
    scope = current_scope()
    return html.Div(
        [
            dcc.Store(id=ids.LANG, storage_type="local", data=DEFAULT_LANG),
            # The browser code's words, from the same table as the pages' (lawgrid.t).
            html.Div(id=ids.LG_I18N, hidden=True, **{"data-strings": json.dumps(js_strings(), ensure_ascii=False)}),
            html.Header(
                className="lg-header",
                children=[
                    html.H1(id=ids.APP_TITLE, children=t("app.title")),
                    html.Nav(
                        className="lg-nav",
                        children=[
                            dcc.Link(id=ids.NAV_MAP, children=t("nav.map"), href="/"),
                            dcc.Link(id=ids.NAV_DISPATCH, children=t("nav.dispatch"), href="/dispatch"),
                            dcc.Link(id=ids.NAV_CASES, children=t("nav.cases"), href="/cases"),
                            dcc.Link(id=ids.NAV_COVERAGE, children=t("nav.coverage"), href="/coverage"),
                            dcc.Link(id=ids.NAV_DEVICES, children=t("nav.devices"), href="/devices"),
                            dcc.Link(
                                id=ids.NAV_SUPERVISION,
                                children=t("nav.supervision"),
                                href="/supervision",
                                style={} if policy.allowed(scope, "supervision.view") else {"display": "none"},
                            ),
                            dcc.Link(
                                id=ids.NAV_AUDIT,
                                children=t("nav.audit"),
                                href="/audit",
                                style={} if policy.allowed(scope, "audit.read") else {"display": "none"},
                            ),
                            dcc.Link(
                                id=ids.NAV_CALENDAR,
                                children=t("nav.calendar"),
                                href="/calendar",
                                style={} if policy.allowed(scope, "calendar.manage") else {"display": "none"},
                            ),
                            dcc.Link(
                                id=ids.NAV_ACCOUNTS,
                                children=t("nav.accounts"),
                                href="/accounts",
                                style={} if policy.allowed(scope, "user.manage") else {"display": "none"},
                            ),
                            html.Button(id=ids.LANG_SWITCH, className="lg-lang", children=t("lang.switch")),
                            html.Span(
                                id=ids.WHOAMI,
                                className="lg-whoami",
                                children=f"{scope.username} · {t('role.' + scope.role)}" if scope else "",
                            ),
                            html.Form(
                                action="/logout",
                                method="POST",
                                className="lg-logout",
                                children=[
                                    dcc.Input(type="hidden", name="csrf", value=session.get("csrf", "")),
                                    html.Button(
                                        id=ids.LOGOUT, type="submit", className="lg-lang", children=t("nav.logout")
                                    ),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
            dash.page_container,
        ]
    )


def toggle_language(_clicks, lang):
    return "en" if lang == "zh" else "zh"


def translate_shell(lang):
    scope = current_scope()
    who = f"{scope.username} · {t('role.' + scope.role, lang)}" if scope else ""
    return (
        t("app.title", lang),
        t("nav.map", lang),
        t("nav.dispatch", lang),
        t("nav.cases", lang),
        t("nav.coverage", lang),
        t("nav.devices", lang),
        t("nav.audit", lang),
        t("nav.accounts", lang),
        t("nav.calendar", lang),
        t("nav.supervision", lang),
        t("lang.switch", lang),
        t("nav.logout", lang),
        who,
    )
