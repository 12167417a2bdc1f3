"""审计 page: the audit trail for auditors and administrators, in the page's language and in
Beijing time, every refusal with its rule in words, filterable by actor, action, target and
dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
from dash import Input, Output, dash_table, dcc, html

from dashboard import ids
from dashboard.auth import current_scope, require
from dashboard.context import runtime as _runtime
from dashboard.i18n import STRINGS, t
from geo.access import policy
from geo.cases import machine, rules
from geo.dispatch import model
from geo.infra import audit
from geo.infra.timezone import BEIJING

COLUMNS = ("at", "actor", "action", "subject", "source", "detail")
RULE_REASONS: dict[str, tuple[str, str]] = {**model.RULES, **rules.RULES}


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/audit", name="audit", layout=layout)
    app.callback(
        Output(ids.AUDIT_TABLE, "data"),
        Output(ids.AUDIT_TABLE, "columns"),
        Output(ids.AUDIT_COUNT, "children"),
        Output(ids.AUDIT_HEADING, "children"),
        Output(ids.AUDIT_ACTION, "options"),
        Output(ids.AUDIT_ACTOR, "placeholder"),
        Output(ids.AUDIT_SUBJECT, "placeholder"),
        Output(ids.AUDIT_ACTION, "placeholder"),
        Input(ids.AUDIT_ACTOR, "value"),
        Input(ids.AUDIT_ACTION, "value"),
        Input(ids.AUDIT_SUBJECT, "value"),
        Input(ids.AUDIT_DATES, "start_date"),
        Input(ids.AUDIT_DATES, "end_date"),
        Input(ids.LANG, "data"),
    )(filter_audit)


def layout(**_query):
    scope = current_scope()
    if not policy.allowed(scope, "audit.read"):
        return html.Div(className="lg-page", id=ids.AUDIT_DENIED, children=t("common.forbidden"))
    today = dt.datetime.now(BEIJING).date()
    return html.Div(
        className="lg-page",
        children=[
            html.H2(id=ids.AUDIT_HEADING, children=t("audit.heading"), style={"fontSize": "16px"}),
            html.Div(
                className="lg-filters lg-light",
                children=[
                    dcc.Input(id=ids.AUDIT_ACTOR, placeholder=t("audit.actor"), debounce=True),
                    dcc.Dropdown(id=ids.AUDIT_ACTION, multi=True, style={"minWidth": "260px"}),
                    dcc.Input(id=ids.AUDIT_SUBJECT, placeholder=t("audit.subject"), debounce=True),
                    dcc.DatePickerRange(
                        id=ids.AUDIT_DATES,
                        start_date=today - dt.timedelta(days=6),
                        end_date=today,
                        display_format="YYYY-MM-DD",
                        first_day_of_week=1,
                    ),
                    html.Span(id=ids.AUDIT_COUNT, className="lg-note", style={"whiteSpace": "nowrap"}),
                ],
            ),
            dash_table.DataTable(
                id=ids.AUDIT_TABLE,
                page_size=25,
                style_table={"overflowX": "auto"},
                sort_action="native",
                style_cell={
                    "backgroundColor": "#13243d",
                    "color": "#e6edf6",
                    "fontSize": 12,
                    "textAlign": "left",
                    "maxWidth": 480,
                    "whiteSpace": "normal",
                },
                style_data_conditional=[{"if": {"filter_query": "{refused} = 1"}, "color": "#ffb4a2"}],
                style_header={"backgroundColor": "#24406a", "fontWeight": "bold"},
            ),
        ],
    )


def filter_audit(actor, actions, subject, start_date, end_date, lang):
    require("audit.read")
    start = _day(start_date) or dt.datetime.now(BEIJING).replace(hour=0, minute=0, second=0) - dt.timedelta(days=6)
    end = (_day(end_date) + dt.timedelta(days=1)) if end_date else None
    with _runtime().session() as session:
        rows = audit.search(
            session,
            actor=(actor or "").strip() or None,
            action=actions or None,
            subject=(subject or "").strip() or None,
            start=start,
            end=end,
            limit=2000,
        )
        known = audit.actions(session)
    data = [
        {
            "at": dt.datetime.fromisoformat(r["at"]).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "actor": r["actor"],
            "action": action_label(r["action"], lang),
            "subject": r["subject"] or "",
            "source": r["source"] or t("audit.no_source", lang),
            "detail": describe(r["detail"] or {}, lang),
            "refused": int(r["action"] == "refused"),
        }
        for r in rows
    ]
    columns = [{"name": t(f"audit.col.{c}", lang), "id": c} for c in COLUMNS]
    options = [{"label": action_label(a, lang), "value": a} for a in known]
    return (
        data,
        columns,
        t("audit.count", lang).format(len(data)),
        t("audit.heading", lang),
        options,
        t("audit.actor", lang),
        t("audit.subject", lang),
        t("audit.action", lang),
    )


def _day(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    day = dt.date.fromisoformat(value[:10])
    return dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING)


def action_label(action: str, lang: str) -> str:
    """An action in words: its own label, a case step's, or a task status's."""
    key = f"audit.act.{action}"
    if key in STRINGS:
        return t(key, lang)
    if action.startswith("case_") and action[5:] in machine.ACTIONS:
        label = machine.ACTIONS[action[5:]].label
        return f"{t('audit.case', lang)}：{label[0] if lang == 'zh' else label[1]}"
    if action.startswith("inspection_") and f"status.{action[11:]}" in STRINGS:
        return f"{t('audit.task', lang)}：{t('status.' + action[11:], lang)}"
    return action


def describe(detail: dict[str, Any], lang: str) -> str:
    """The entry's details as a line a person reads: refused rules in words, keys named."""
    parts = []
    for key, value in detail.items():
        if value in (None, "", [], {}):
            continue
        if detail.get("rule") and key in ("error", "detail"):
            continue  # a refusal: its rule, in words, says it
        if key == "rule":
            value = "；".join(_rule(r, lang) for r in str(value).split(","))
        elif isinstance(value, list):
            value = "、".join(_plain(v) for v in value)
        elif isinstance(value, dict):
            value = "，".join(f"{k}={_plain(v)}" for k, v in value.items())
        label = t(f"audit.key.{key}", lang) if f"audit.key.{key}" in STRINGS else key
        parts.append(f"{label}：{value}")
    return "；".join(parts)


def _rule(rule: str, lang: str) -> str:
    if rule.startswith("role:"):
        return t("audit.rule_role", lang).format(rule[5:])
    pair = RULE_REASONS.get(rule)
    if pair is None:
        return rule
    return f"{pair[0] if lang == 'zh' else pair[1]}（{rule}）"


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + "，".join(f"{k}={_plain(v)}" for k, v in value.items()) + "}"
    return str(value)
