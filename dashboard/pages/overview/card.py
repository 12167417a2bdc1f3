"""A target's card on the command map, and the inspection task raised from it."""

from __future__ import annotations

import datetime as dt
import uuid

import dash
from dash import dcc, html, no_update

from dashboard import ids
from dashboard.auth import current_scope
from dashboard.context import record_refusal, services
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.access import policy
from geo.dispatch import model as dispatch_model
from geo.infra.errors import LawGridError, explain
from geo.places import target_map
from services import dispatch as dispatching


def show_target_card(feature, lang):
    if not feature or "id" not in (feature.get("properties") or {}):
        if dash.ctx.triggered_id == ids.TARGETS_LAYER:
            return no_update  # a cell was clicked: the map zooms instead
        return target_card_view(None, lang)
    with _runtime().session() as session:
        card = target_map.target_card(session, int(feature["properties"]["id"]))
    return target_card_view(card, lang)


def target_card_view(card: dict | None, lang: str):
    lang = lang or "zh"
    if card is None:
        return [html.H3(t("card.heading", lang)), html.P(t("card.hint", lang), className="lg-note")]
    name_key = "en" if lang == "en" else "zh"
    rows = [
        (t("card.credit_code", lang), card["credit_code"] or card["key"]),
        (t("card.domains", lang), "、".join(d[name_key] for d in card["domains"])),
        (t("card.township", lang), card["township"] or "—"),
        (t("card.risk", lang), t(f"risk.{card['risk_level']}", lang)),
        (t("card.address", lang), card["address"] or "—"),
        (
            t("card.last_inspection", lang),
            card["last_inspection"][:10] if card["last_inspection"] else t("card.none", lang),
        ),
        (t("card.open_tasks", lang), str(card["open_tasks"])),
    ]
    scope = current_scope()
    create = (
        []
        if not policy.allowed(scope, "task.create")
        else [
            html.Button(t("card.create_task", lang), id=ids.CARD_CREATE, className="lg-btn", n_clicks=0),
            html.Div(id=ids.CARD_CREATE_RESULT),
        ]
    )
    return [
        html.H3(card["name"], id=ids.TARGET_CARD_NAME),
        dcc.Store(
            id=ids.CARD_TARGET,
            # one key per card shown: a double click on 创建检查任务 makes one task
            data={"id": card["id"], "domains": [d["key"] for d in card["domains"]], "key": uuid.uuid4().hex},
        ),
        html.Table(className="lg-card-table", children=[html.Tr([html.Td(k), html.Td(v)]) for k, v in rows]),
        *create,
    ]


def create_from_card(clicks, target, lang):
    """A task on this target in its first domain some unit holds, due in 24 hours."""
    lang = lang or "zh"
    if not clicks or not target:
        return no_update
    due = dt.datetime.now(dt.UTC) + dt.timedelta(hours=24)
    error = None
    for domain in target["domains"]:
        try:
            view = dispatching.create(
                services(),
                current_scope(),
                target_id=target["id"],
                domain_key=domain,
                due_at=due,
                source="map",
                request_key=f"card:{target.get('key')}:{domain}" if target.get("key") else None,
            )
        except dispatch_model.DispatchError as exc:  # no unit holds this domain: try the next
            error = exc
            continue
        except LawGridError as exc:
            record_refusal(exc)
            return html.Span(explain(exc, lang), className="lg-error")
        return dcc.Link(
            t("card.task_created", lang).format(id=view["id"]),
            href=f"/dispatch?task={view['id']}",
            id=ids.CARD_TASK_LINK,
        )
    return html.Span(str(error), className="lg-error")


def _card(card_id: str, value: int, label_key: str):
    return html.Div(
        className="lg-card",
        id=card_id,
        children=[
            html.Div(className="value", children=f"{value:,}"),
            html.Div(className="label", children=t(label_key), id=f"{card_id}-label"),
        ],
    )
