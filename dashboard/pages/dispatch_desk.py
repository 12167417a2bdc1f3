"""调度工具 page (/dispatch/desk): what a dispatcher does besides sending crews. A complaint or
report taken on the phone (caller, contact, report, the target found by name or credit code)
becomes a task whose details show in the queue; a random plan (双随机) is previewed from its
published seed, drawn, published as CSV and followed to the end; the recusal register
(回避登记) keeps officers away from targets they have an interest in. Every rule of the core
applies; refusals are explained and audited."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import dash
from dash import Input, Output, State, dcc, html, no_update

from dashboard import ids
from dashboard.auth import current_scope, require
from dashboard.components.filters import domain_options, township_options
from dashboard.context import attempt, services
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.access import policy
from geo.dispatch import registers
from geo.infra.errors import explain
from geo.infra.timezone import BEIJING
from geo.places import queries
from services import dispatch as dispatching


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/dispatch/desk", name="dispatch-desk", layout=layout)
    app.callback(Output(ids.DESK_BODY, "children"), Input(ids.LANG, "data"))(render)
    for picker in (ids.DESK_TARGET, ids.DESK_REC_TARGET):
        app.callback(
            Output(picker, "options"), Input(picker, "search_value"), State(picker, "value"), prevent_initial_call=True
        )(search_targets)
    app.callback(Output(ids.DESK_DOMAIN, "options"), Input(ids.DESK_TARGET, "value"), State(ids.LANG, "data"))(
        target_domains
    )
    app.callback(
        Output(ids.DESK_COMPLAINT_RESULT, "children"),
        Input(ids.DESK_COMPLAINT_SUBMIT, "n_clicks"),
        State(ids.DESK_CALLER, "value"),
        State(ids.DESK_CONTACT, "value"),
        State(ids.DESK_REPORT, "value"),
        State(ids.DESK_TARGET, "value"),
        State(ids.DESK_DOMAIN, "value"),
        State(ids.DESK_PRIORITY, "value"),
        State(ids.DESK_KEY, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(submit_complaint)
    app.callback(
        Output(ids.DESK_PLAN_RESULT, "children"),
        Output(ids.DESK_PLANS, "children"),
        Input(ids.DESK_PLAN_PREVIEW, "n_clicks"),
        Input(ids.DESK_PLAN_DRAW, "n_clicks"),
        State(ids.DESK_PLAN_NAME, "value"),
        State(ids.DESK_PLAN_DOMAINS, "value"),
        State(ids.DESK_PLAN_TOWNS, "value"),
        State(ids.DESK_PLAN_SHARE, "value"),
        State(ids.DESK_PLAN_DUE, "date"),
        State(ids.DESK_PLAN_SEED, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(plan_action)
    app.callback(
        Output(ids.DESK_REC_RESULT, "children"),
        Output(ids.DESK_RECUSALS, "children"),
        Input(ids.DESK_REC_SUBMIT, "n_clicks"),
        State(ids.DESK_REC_OFFICER, "value"),
        State(ids.DESK_REC_TARGET, "value"),
        State(ids.DESK_REC_REASON, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(add_recusal)


def layout(**_query):
    require("view")
    return html.Div(className="lg-page", children=[html.Div(id=ids.DESK_BODY, className="lg-desk")])


def render(lang):
    lang = lang or "zh"
    scope = current_scope()
    with _runtime().session() as session:
        domains = queries.domains(session)
        towns = queries.township_names(session)
        officers = registers.officer_choices(session, scope.unit_ids)
    sections = [html.H2(t("desk.heading", lang), style={"fontSize": "16px"})]
    if policy.allowed(scope, "task.create"):
        sections.append(_complaint_form(lang))
    if policy.allowed(scope, "plan.draw"):
        sections.append(_plan_form(lang, domains, towns))
    sections.append(
        html.Div(
            className="lg-panel",
            children=[html.H3(t("desk.plans", lang)), html.Div(id=ids.DESK_PLANS, children=plans_table(lang))],
        )
    )
    sections.append(_recusal_form(lang, officers, policy.allowed(scope, "recusal.add")))
    return sections


def _field(label: str, component) -> html.Label:
    return html.Label([html.Span(label), component], className="lg-field")


def _complaint_form(lang: str):
    return html.Div(
        className="lg-panel",
        id=ids.DESK_COMPLAINT,
        children=[
            html.H3(t("desk.complaint", lang)),
            _field(t("desk.caller", lang), dcc.Input(id=ids.DESK_CALLER, type="text")),
            _field(t("desk.contact", lang), dcc.Input(id=ids.DESK_CONTACT, type="tel")),
            _field(t("desk.report", lang), dcc.Textarea(id=ids.DESK_REPORT, style={"width": "100%", "height": 70})),
            _field(t("desk.target", lang), dcc.Dropdown(id=ids.DESK_TARGET, placeholder=t("desk.target_hint", lang))),
            _field(t("desk.domain", lang), dcc.Dropdown(id=ids.DESK_DOMAIN)),
            dcc.RadioItems(
                id=ids.DESK_PRIORITY,
                value=2,
                inline=True,
                options=[{"label": t(f"priority.{p}", lang), "value": p} for p in (1, 2, 3)],
            ),
            dcc.Store(id=ids.DESK_KEY, data=uuid.uuid4().hex),
            html.Button(t("desk.complaint_submit", lang), id=ids.DESK_COMPLAINT_SUBMIT, className="lg-btn", n_clicks=0),
            html.Div(id=ids.DESK_COMPLAINT_RESULT),
        ],
    )


def _plan_form(lang: str, domains: list[dict], towns: dict[str, str]):
    today = dt.datetime.now(BEIJING).date()
    return html.Div(
        className="lg-panel",
        id=ids.DESK_PLAN,
        children=[
            html.H3(t("desk.plan", lang)),
            _field(t("desk.plan_name", lang), dcc.Input(id=ids.DESK_PLAN_NAME, value=t("desk.plan_default", lang))),
            _field(
                t("desk.domain", lang),
                dcc.Dropdown(
                    id=ids.DESK_PLAN_DOMAINS,
                    multi=True,
                    options=domain_options(domains, lang),
                ),
            ),
            _field(
                t("desk.towns", lang),
                dcc.Dropdown(id=ids.DESK_PLAN_TOWNS, multi=True, options=township_options(towns)),
            ),
            _field(t("desk.share", lang), dcc.Input(id=ids.DESK_PLAN_SHARE, type="number", min=0.1, max=100, value=5)),
            _field(
                t("desk.due", lang),
                dcc.DatePickerSingle(id=ids.DESK_PLAN_DUE, date=(today + dt.timedelta(days=14)).isoformat()),
            ),
            _field(
                t("desk.seed", lang),
                dcc.Input(id=ids.DESK_PLAN_SEED, value=f"binhai-{today:%Y%m%d}-{secrets.token_hex(3)}"),
            ),
            html.P(t("desk.seed_note", lang), className="lg-note"),
            html.Button(t("desk.preview", lang), id=ids.DESK_PLAN_PREVIEW, className="lg-btn", n_clicks=0),
            html.Button(t("desk.draw", lang), id=ids.DESK_PLAN_DRAW, className="lg-btn lg-assign", n_clicks=0),
            html.Div(id=ids.DESK_PLAN_RESULT),
        ],
    )


def _recusal_form(lang: str, officers: list[dict], may_add: bool):
    form = []
    if may_add:
        form = [
            _field(
                t("desk.officer", lang),
                dcc.Dropdown(
                    id=ids.DESK_REC_OFFICER,
                    options=[
                        {"label": f"{o['name']}（{o['cert_no']}）· {o['unit']}", "value": o["id"]} for o in officers
                    ],
                ),
            ),
            _field(
                t("desk.target", lang), dcc.Dropdown(id=ids.DESK_REC_TARGET, placeholder=t("desk.target_hint", lang))
            ),
            _field(t("desk.rec_reason", lang), dcc.Input(id=ids.DESK_REC_REASON, type="text")),
            html.Button(t("desk.rec_submit", lang), id=ids.DESK_REC_SUBMIT, className="lg-btn", n_clicks=0),
            html.Div(id=ids.DESK_REC_RESULT),
        ]
    return html.Div(
        className="lg-panel",
        id=ids.DESK_RECUSAL,
        children=[
            html.H3(t("desk.recusals", lang)),
            *form,
            html.Div(id=ids.DESK_RECUSALS, children=recusals_table(lang)),
        ],
    )


def search_targets(q, value):
    if not q or len(q.strip()) < 2:
        return no_update
    require("view")
    with _runtime().session() as session:
        found = registers.find_targets(session, q)
    return [{"label": f"{r['name']}（{r['credit_code'] or r['id']}）", "value": r["id"]} for r in found]


def target_domains(target_id, lang):
    if not target_id:
        return []
    with _runtime().session() as session:
        card = registers.target_domains(session, int(target_id))
    return [{"label": d["en" if lang == "en" else "zh"], "value": d["key"]} for d in card]


def submit_complaint(_clicks, caller, contact, report, target_id, domain, priority, key, lang):
    lang = lang or "zh"
    if not (report or "").strip() or not target_id or not domain:
        return html.Span(f"✗ {t('desk.complaint_missing', lang)}", className="lg-error")
    view, error = attempt(
        dispatching.create,
        services(),
        current_scope(),
        target_id=int(target_id),
        domain_key=domain,
        due_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=24 if priority == 1 else 72),
        priority=int(priority or 2),
        source="complaint",
        complaint={
            k: v.strip() for k, v in (("caller", caller), ("phone", contact), ("report", report)) if v and v.strip()
        },
        request_key=f"complaint:{key}",
    )
    if error:
        return html.Span(f"✗ {explain(error, lang)}", className="lg-error")
    return dcc.Link(
        t("card.task_created", lang).format(id=view["id"]),
        href=f"/dispatch?task={view['id']}",
        id=ids.DESK_COMPLAINT_OK,
    )


def plan_action(_preview, _draw, name, domains, towns, share, due, seed, lang):
    lang = lang or "zh"
    preview = dash.ctx.triggered_id == ids.DESK_PLAN_PREVIEW
    try:
        share_f = float(share) / 100
        due_at = dt.datetime.combine(dt.date.fromisoformat(str(due)[:10]), dt.time(18, 0), tzinfo=BEIJING)
    except (TypeError, ValueError):
        return html.Span(f"✗ {t('desk.plan_bad', lang)}", className="lg-error"), no_update
    summary, error = attempt(
        dispatching.draw_plan,
        services(),
        current_scope(),
        preview=preview,
        name=(name or "").strip() or t("desk.plan_default", lang),
        seed=(seed or "").strip(),
        share=share_f,
        due_at=due_at,
        domains=domains or None,
        townships=towns or None,
    )
    if error:
        return html.Span(f"✗ {explain(error, lang)}", className="lg-error"), no_update
    words = t("desk.preview_result" if preview else "desk.drawn", lang).format(
        population=summary["population"],
        strata=summary["strata"],
        drawn=summary["drawn"],
        assigned=summary["assigned"],
        open=len(summary["without_crew"]),
    )
    result = html.Div([html.Span(f"✓ {words}", className="lg-ok", id=ids.DESK_PLAN_OK)])
    if not preview:
        result.children.append(
            html.A(t("desk.csv", lang), href=f"/api/plans/{summary['plan_id']}.csv", className="lg-btn")
        )
    return result, plans_table(lang)


def plans_table(lang: str):
    rows = dispatching.plans(services(), current_scope())
    if not rows:
        return html.P(t("desk.no_plans", lang), className="lg-note")
    head = html.Tr([html.Th(t(f"desk.col.{c}", lang)) for c in ("plan", "due", "progress", "csv")])
    body = []
    for p in rows:
        done = p["completed"] / p["tasks"] if p["tasks"] else 0
        body.append(
            html.Tr(
                [
                    html.Td(f"#{p['id']} {p['name']}（{t('desk.seed', lang)} {p['seed']}）"),
                    html.Td(dt.datetime.fromisoformat(p["due_at"]).astimezone(BEIJING).strftime("%Y-%m-%d")),
                    html.Td(
                        [
                            html.Div(className="lg-bar", children=html.Div(style={"width": f"{done:.0%}"})),
                            t("desk.progress", lang).format(
                                done=p["completed"], tasks=p["tasks"], open=p["without_crew"], v=p["violations"]
                            ),
                        ]
                    ),
                    html.Td(html.A("CSV", href=f"/api/plans/{p['id']}.csv")),
                ],
                id=f"desk-plan-{p['id']}",
            )
        )
    return html.Table(className="lg-card-table lg-desk-table", children=[head, *body])


def add_recusal(_clicks, officer_id, target_id, reason, lang):
    lang = lang or "zh"
    if not officer_id or not target_id:
        return html.Span(f"✗ {t('desk.rec_missing', lang)}", className="lg-error"), no_update
    _, error = attempt(dispatching.recuse, services(), current_scope(), int(officer_id), int(target_id), reason or "")
    if error:
        return html.Span(f"✗ {explain(error, lang)}", className="lg-error"), no_update
    return html.Span(f"✓ {t('desk.rec_ok', lang)}", className="lg-ok", id=ids.DESK_REC_OK), recusals_table(lang)


def recusals_table(lang: str):
    rows = dispatching.recusals(services(), current_scope())
    if not rows:
        return html.P(t("desk.no_recusals", lang), className="lg-note")
    head = html.Tr([html.Th(t(f"desk.col.{c}", lang)) for c in ("officer", "target", "reason", "by")])
    body = [
        html.Tr(
            [
                html.Td(f"{r['officer']} · {r['unit']}"),
                html.Td(r["target"]),
                html.Td(r["reason"]),
                html.Td(f"{r['created_by']} {dt.datetime.fromisoformat(r['created_at']).astimezone(BEIJING):%Y-%m-%d}"),
            ]
        )
        for r in rows
    ]
    return html.Table(className="lg-card-table lg-desk-table", id=ids.DESK_RECUSAL_TABLE, children=[head, *body])
