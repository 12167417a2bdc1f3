"""The dispatcher's hands on the selected task (调度 page): pick a crew by hand from the
lawful officers (the rules still apply), and move the task with a reason: statuses the crew
did not record themselves are recorded on their behalf, and a cancellation says why."""

from __future__ import annotations

import time

import dash
from dash import Input, Output, State, ctx, dcc, html, no_update

from dashboard import ids
from dashboard.auth import current_scope
from dashboard.context import attempt, services
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.access import policy
from geo.access.accounts import Scope
from geo.dispatch import model
from geo.infra.errors import explain
from services import dispatch as dispatching


def register(app: dash.Dash) -> None:
    app.callback(
        Output(ids.DISPATCH_MESSAGE, "children", allow_duplicate=True),
        Output(ids.DISPATCH_DONE, "data", allow_duplicate=True),
        Input(ids.TASK_PICK_ASSIGN, "n_clicks"),
        State(ids.TASK_PICK, "value"),
        State(ids.TASK_PICK_REASON, "value"),
        State(ids.DISPATCH_SELECTED, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(assign_picked)
    app.callback(
        Output(ids.DISPATCH_MESSAGE, "children", allow_duplicate=True),
        Output(ids.DISPATCH_DONE, "data", allow_duplicate=True),
        Input(ids.TASK_STATUS_APPLY, "n_clicks"),
        State(ids.TASK_STATUS_TO, "value"),
        State(ids.TASK_RESULT, "value"),
        State(ids.TASK_REASON, "value"),
        State(ids.DISPATCH_SELECTED, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(apply_status)


def panel(view: dict, result: dict, scope: Scope, lang: str) -> list:
    """The hand-pick list (while the task may be assigned) and the status form."""
    parts: list = []
    pickable = model.ASSIGNABLE + model.REASSIGNABLE
    if policy.allowed(scope, "task.assign") and view["status"] in pickable and result["eligible"]:
        reassigning = view["status"] in model.REASSIGNABLE
        options = [
            {
                "label": f"{o['name']}（{o['cert_no']}）· {o['unit']} · {_distance(o, lang)}",
                "value": o["id"],
            }
            for o in result["eligible"]
        ]
        parts.append(
            html.Details(
                className="lg-pick",
                children=[
                    html.Summary(
                        t("task.reassign" if reassigning else "task.pick", lang).format(result["eligible_officers"])
                    ),
                    dcc.Checklist(id=ids.TASK_PICK, options=options, value=[], className="lg-pick-list"),
                    dcc.Input(
                        id=ids.TASK_PICK_REASON,
                        type="text",
                        placeholder=t("task.reassign_reason", lang),
                        style={} if reassigning else {"display": "none"},
                    ),
                    html.Button(
                        t("task.reassign_go" if reassigning else "task.pick_assign", lang),
                        id=ids.TASK_PICK_ASSIGN,
                        className="lg-btn",
                        n_clicks=0,
                    ),
                ],
            )
        )
    moves = [s for s, sources in model.TRANSITIONS.items() if view["status"] in sources]
    if policy.allowed(scope, "task.status") and moves:
        parts.append(
            html.Div(
                className="lg-task-status",
                children=[
                    html.H4(t("task.status_heading", lang)),
                    dcc.Dropdown(
                        id=ids.TASK_STATUS_TO,
                        options=[{"label": t(f"status.{s}", lang), "value": s} for s in moves],
                        placeholder=t("task.status_to", lang),
                        clearable=False,
                    ),
                    dcc.Dropdown(
                        id=ids.TASK_RESULT,
                        options=[{"label": t(f"result.{r}", lang), "value": r} for r in model.RESULTS],
                        placeholder=t("task.result", lang),
                    ),
                    dcc.Input(id=ids.TASK_REASON, type="text", placeholder=t("task.reason", lang)),
                    html.Button(t("task.apply", lang), id=ids.TASK_STATUS_APPLY, className="lg-btn", n_clicks=0),
                    html.P(t("task.on_behalf_note", lang), className="lg-note"),
                ],
            )
        )
    return parts


def _distance(o: dict, lang: str) -> str:
    if o["distance_m"] is None:
        return t("task.distance_unknown", lang)
    how = t(f"task.position.{o['position_source']}", lang)
    return f"{o['distance_m'] / 1000:.1f} km（{how}）"


def assign_picked(clicks, picked, reason, task_id, lang):
    lang = lang or "zh"
    if not clicks or task_id is None:
        return no_update, no_update
    if not picked:
        return html.Span(f"✗ {t('task.pick_none', lang)}", className="lg-error"), no_update
    officers = [int(o) for o in picked]
    with _runtime().session() as session:
        status = model.load_task(session, task_id).status
    if status in model.REASSIGNABLE:
        result, error = attempt(dispatching.reassign_crew, services(), current_scope(), task_id, officers, reason)
    else:
        result, error = attempt(dispatching.assign_crew, services(), current_scope(), task_id, officers)
    if error:
        return html.Span(f"✗ {explain(error, lang)}", className="lg-error"), time.time()
    sent = len(result["notified"]["delivered"])
    return html.Span(f"✓ #{task_id} {t('dispatch.assigned_ok', lang)}（{sent}）", className="lg-ok"), time.time()


def apply_status(clicks, status, result, reason, task_id, lang):
    lang = lang or "zh"
    if not clicks or task_id is None or ctx.triggered_id != ids.TASK_STATUS_APPLY:
        return no_update, no_update
    if not status:
        return html.Span(f"✗ {t('task.status_to', lang)}", className="lg-error"), no_update
    done, error = attempt(
        dispatching.change_status,
        services(),
        current_scope(),
        task_id,
        status,
        result=result or None,
        reason=reason or None,
    )
    if error:
        return html.Span(f"✗ {explain(error, lang)}", className="lg-error", id=ids.TASK_STATUS_ERROR), no_update
    return (
        html.Span(f"✓ #{task_id} {t('status.' + done['status'], lang)}", className="lg-ok", id=ids.TASK_STATUS_OK),
        time.time(),
    )
