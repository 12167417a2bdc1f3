"""调度 page: the queue of open inspections with due-time countdowns, the lawful crews of the
selected task with their reasons and the officers excluded with their rules, the task and
its crews on the map, one-click assignment, and bulk assignment with a plan preview."""

from __future__ import annotations

import time
from html import escape

import dash
import dash_leaflet as dl
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash_socketio import DashSocketIO

from dashboard import ids, task_actions
from dashboard.auth import current_scope, require
from dashboard.components.maps import map_panel
from dashboard.context import attempt, services
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.access import policy
from geo.dispatch import model
from geo.dispatch import tasks as dispatch_tasks
from geo.infra.errors import explain
from services import dispatch as dispatching

PRIORITY_CLASS = {1: "lg-pri-urgent", 2: "lg-pri-normal", 3: "lg-pri-low"}


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/dispatch", name="dispatch", layout=layout)
    app.callback(
        Output(ids.QUEUE, "children"),
        Output(ids.DISPATCH_TASKS, "data"),
        Output(ids.DISPATCH_HEADING, "children"),
        Output(ids.BULK_PREVIEW, "children"),
        Input(ids.LANG, "data"),
        Input(ids.DISPATCH_SOCKET, "data-inspection"),
        Input(ids.DISPATCH_DONE, "data"),
        Input(ids.QUEUE_REFRESH, "n_intervals"),
    )(render_queue)
    app.callback(
        Output(ids.DISPATCH_SELECTED, "data"),
        Input({"type": ids.QUEUE_TASK, "id": ALL}, "n_clicks"),
        Input(ids.DISPATCH_TASKS, "clickData"),
        prevent_initial_call=True,
    )(select_task)
    app.callback(
        Output(ids.CANDIDATES, "children"),
        Output(ids.DISPATCH_FOCUS, "data"),
        Output(ids.DISPATCH_CREWS, "data"),
        Output(ids.DISPATCH_MAP, "viewport"),
        Input(ids.DISPATCH_SELECTED, "data"),
        Input(ids.DISPATCH_DONE, "data"),
        Input(ids.LANG, "data"),
    )(show_candidates)
    app.callback(
        Output(ids.DISPATCH_MESSAGE, "children"),
        Output(ids.DISPATCH_DONE, "data"),
        Input({"type": ids.ASSIGN_CREW, "index": ALL}, "n_clicks"),
        State(ids.DISPATCH_SELECTED, "data"),
        State(ids.DISPATCH_CREWS, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(assign_from_panel)
    app.callback(
        Output(ids.BULK_PLAN, "children"),
        Output(ids.BULK_ASSIGNMENTS, "data"),
        Input(ids.BULK_PREVIEW, "n_clicks"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(preview_plan)
    app.callback(
        Output(ids.DISPATCH_MESSAGE, "children", allow_duplicate=True),
        Output(ids.DISPATCH_DONE, "data", allow_duplicate=True),
        Output(ids.BULK_PLAN, "children", allow_duplicate=True),
        Input(ids.BULK_COMMIT, "n_clicks"),
        State(ids.BULK_ASSIGNMENTS, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(commit_plan)
    task_actions.register(app)


def layout(task=None, **_query):
    require("view")
    selected = int(task) if task and str(task).isdigit() else None
    return html.Div(
        className="lg-body",
        children=[
            map_panel(
                ids.DISPATCH_MAP,
                dl.GeoJSON(id=ids.DISPATCH_TASKS, pointToLayer={"variable": "lawgrid.dispatchPoint"}),
                dl.GeoJSON(
                    id=ids.DISPATCH_FOCUS,
                    pointToLayer={"variable": "lawgrid.dispatchPoint"},
                    style={"variable": "lawgrid.dispatchStyle"},
                ),
                center=[39.03, 117.65],
                zoom=10,
                children=(
                    DashSocketIO(id=ids.DISPATCH_SOCKET, url="/live", eventNames=["inspection"]),
                    dcc.Interval(id=ids.QUEUE_REFRESH, interval=60_000),
                    dcc.Store(id=ids.DISPATCH_SELECTED, data=selected),
                    dcc.Store(id=ids.DISPATCH_CREWS),
                    dcc.Store(id=ids.DISPATCH_DONE),
                    dcc.Store(id=ids.BULK_ASSIGNMENTS),
                ),
            ),
            html.Div(
                className="lg-side",
                children=[
                    html.Div(
                        className="lg-row",
                        children=[
                            html.H2(id=ids.DISPATCH_HEADING, style={"fontSize": "16px", "flex": "1"}),
                            dcc.Link(t("desk.link"), href="/dispatch/desk", id=ids.DESK_LINK, className="lg-btn"),
                            html.Button(id=ids.BULK_PREVIEW, className="lg-btn"),
                        ],
                    ),
                    html.Div(id=ids.DISPATCH_MESSAGE, className="lg-message", role="status"),
                    html.Div(id=ids.BULK_PLAN),
                    html.Div(id=ids.QUEUE, className="lg-queue"),
                    html.Div(id=ids.CANDIDATES, className="lg-candidates"),
                ],
            ),
        ],
    )


def render_queue(lang, _event, _done, _tick):
    lang = lang or "zh"
    scope = current_scope()
    with _runtime().session() as session:
        tasks = dispatch_tasks.list_tasks(session, **policy.task_listing(scope))
    rows = [
        html.Button(
            id={"type": ids.QUEUE_TASK, "id": task["id"]},
            className="lg-queue-row",
            n_clicks=0,
            children=[
                html.Span(
                    t(f"priority.{task['priority']}", lang), className=f"lg-pri {PRIORITY_CLASS[task['priority']]}"
                ),
                html.Span(f"#{task['id']} {task['target_name']}", className="lg-queue-name"),
                html.Span(task["domain_en" if lang == "en" else "domain_zh"], className="lg-note"),
                html.Span(t(f"status.{task['status']}", lang), className=f"lg-status lg-status-{task['status']}"),
                html.Span(className="lg-due", **{"data-due": task["due_at"]}),
                *_complaint(task, lang),
            ],
        )
        for task in tasks
    ]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [task["lon"], task["lat"]]},
            "properties": {
                "id": task["id"],
                "status": task["status"],
                "tooltip": f"#{task['id']} {escape(task['target_name'])} · {t('status.' + task['status'], lang)}",
            },
        }
        for task in tasks
    ]
    return (
        rows or html.P(t("dispatch.empty", lang), className="lg-note"),
        {"type": "FeatureCollection", "features": features},
        f"{t('dispatch.heading', lang)}（{len(tasks)}）",
        t("dispatch.bulk", lang),
    )


def _complaint(task: dict, lang: str) -> list:
    """A complaint's caller and report, in the queue row."""
    c = task.get("complaint") or {}
    if not c:
        return []
    who = " ".join(x for x in (c.get("caller"), c.get("phone")) if x)
    report = c.get("report") or ""
    text = f"{t('dispatch.complaint', lang)}：{who}{'：' if who and report else ''}{report[:60]}"
    return [html.Span(text, className="lg-complaint")]


def select_task(_clicks, map_click):
    trigger = ctx.triggered_id
    if trigger == ids.DISPATCH_TASKS:
        return ((map_click or {}).get("properties") or {}).get("id", no_update)
    if isinstance(trigger, dict) and ctx.triggered[0]["value"]:  # not a freshly drawn row
        return trigger["id"]
    return no_update


def _task_and_candidates(scope, task_id, lang):
    context = services()
    return dispatching.task(context, scope, task_id), dispatching.candidates(context, scope, task_id, 5, lang)


def show_candidates(task_id, _done, lang):
    lang = lang or "zh"
    if not task_id:
        return html.P(t("dispatch.pick", lang), className="lg-note"), None, None, no_update
    scope = current_scope()
    found, error = attempt(_task_and_candidates, scope, task_id, lang)
    if error:
        return html.P(explain(error, lang), className="lg-error"), None, None, no_update
    view, result = found
    may_assign = policy.allowed(scope, "task.assign") and view["status"] in model.ASSIGNABLE
    target = result["target"]
    head = [
        html.H3(f"#{task_id} {target['name']}", id=ids.CANDIDATES_HEADING),
        html.P(
            f"{t('status.' + view['status'], lang)} · {view['domain_en' if lang == 'en' else 'domain_zh']} · "
            + "、".join(o["name"] for o in view["officers"]),
            className="lg-note",
        ),
    ]
    if view.get("on_behalf"):
        marked = "、".join(t(f"status.{s}", lang) for s in view["on_behalf"])
        head.append(html.P(t("task.on_behalf", lang).format(marked), className="lg-note lg-on-behalf"))
    crews = []
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [target["lon"], target["lat"]]},
            "properties": {"kind": "target", "tooltip": escape(target["name"])},
        }
    ]
    for rank, crew in enumerate(result["crews"], start=1):
        names = "、".join(f"{o['name']}（{o['cert_no']}）" for o in crew["officers"])
        crews.append(
            html.Div(
                className="lg-crew",
                id=f"crew-{rank}",
                children=[
                    html.Div(
                        className="lg-row",
                        children=[
                            html.Strong(f"{rank}. {crew['unit']}", style={"flex": "1"}),
                            html.Button(
                                t("dispatch.assign", lang),
                                id={"type": ids.ASSIGN_CREW, "index": rank - 1},
                                className="lg-btn lg-assign",
                                n_clicks=0,
                                disabled=not may_assign,
                            ),
                        ],
                    ),
                    html.Div(names),
                    html.Ul([html.Li(r) for r in crew["reasons"]], className="lg-note"),
                ],
            )
        )
        for o in crew["officers"]:
            if o["lon"] is None:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [o["lon"], o["lat"]]},
                    "properties": {"kind": "officer", "rank": rank, "tooltip": f"{rank}. {escape(o['name'])}"},
                }
            )
            features.append(
                {
                    "type": "Feature",
                    "properties": {"rank": rank},
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[o["lon"], o["lat"]], [target["lon"], target["lat"]]],
                    },
                }
            )
    excluded = html.Details(
        className="lg-excluded",
        children=[
            html.Summary(f"{t('dispatch.excluded', lang)}（{result['excluded_total']}）"),
            html.Ul(
                [html.Li(f"{e['name']} · {e['unit']}：{'；'.join(e['reasons'])}") for e in result["excluded"][:50]]
            ),
        ],
    )
    crews_or_none = crews or [html.P(t("dispatch.no_crew", lang), className="lg-error")]
    panel = [*head, html.H4(t("dispatch.crews", lang)), *crews_or_none, excluded]
    panel += task_actions.panel(view, result, scope, lang)
    if not policy.allowed(scope, "task.assign"):
        panel.insert(2, html.P(t("dispatch.read_only", lang), className="lg-note"))
    viewport = {"center": [target["lat"], target["lon"]], "zoom": 14, "transition": "flyTo"}
    crew_data = [[o["id"] for o in c["officers"]] for c in result["crews"]]
    return panel, {"type": "FeatureCollection", "features": features}, crew_data, viewport


def assign_from_panel(clicks, task_id, crews, lang):
    lang = lang or "zh"
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0]["value"] or not crews or task_id is None:
        return no_update, no_update
    crew = crews[trigger["index"]]
    result, error = attempt(dispatching.assign_crew, services(), current_scope(), task_id, crew)
    if error:
        return html.Span(f"✗ {explain(error, lang)}", className="lg-error"), time.time()
    sent = len(result["notified"]["delivered"])
    return (
        html.Span(f"✓ #{task_id} {t('dispatch.assigned_ok', lang)}（{sent}）", className="lg-ok", id=ids.ASSIGN_OK),
        time.time(),
    )


def preview_plan(_clicks, lang):
    lang = lang or "zh"
    scope = require("task.assign")
    plan = dispatching.plan(services(), scope)
    if not plan["assignments"] and not plan["unassigned"]:
        return html.P(t("dispatch.no_plan", lang), className="lg-note"), None
    ours, greedy = plan["total_travel_m"], plan["greedy_total_travel_m"]
    shorter = f"{(1 - ours / greedy):.0%}" if greedy and plan["greedy_assigned"] == plan["assigned"] else "—"
    summary = t("dispatch.plan_summary", lang).format(
        n=plan["assigned"], km=f"{ours / 1000:.1f}", gkm=f"{greedy / 1000:.1f}", pct=shorter, u=len(plan["unassigned"])
    )
    table = html.Table(
        className="lg-card-table",
        id=ids.BULK_TABLE,
        children=[
            html.Tr([html.Th(t("dispatch.task", lang)), html.Th(""), html.Th(t("dispatch.travel", lang))]),
            *[
                html.Tr(
                    [
                        html.Td(f"#{a['inspection_id']} {a['target']}"),
                        html.Td("、".join(a["officers"])),
                        html.Td(f"{a['travel_m'] / 1000:.1f} km"),
                    ]
                )
                for a in plan["assignments"][:200]
            ],
        ],
    )
    return html.Div(
        className="lg-plan",
        children=[
            html.P(summary, id=ids.BULK_SUMMARY),
            table,
            html.Button(
                t("dispatch.commit", lang),
                id=ids.BULK_COMMIT,
                className="lg-btn lg-assign",
                n_clicks=0,
                disabled=not plan["assignments"],
            ),
        ],
    ), plan["assignments"]


def commit_plan(clicks, assignments, lang):
    lang = lang or "zh"
    if not clicks or not assignments:
        return no_update, no_update, no_update
    scope = require("task.assign")
    result, error = attempt(dispatching.commit, services(), scope, assignments)
    if error:
        return html.Span(f"✗ {explain(error, lang)}", className="lg-error"), no_update, no_update
    message = t("dispatch.committed", lang).format(n=len(result["assigned"]), f=len(result["failed"]))
    return html.Span(f"✓ {message}", className="lg-ok", id=ids.BULK_OK), time.time(), None
