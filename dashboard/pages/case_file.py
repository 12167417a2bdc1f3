"""The case file (/case/<id>): the party, officers, every clock, the timeline, evidence and
documents, and the next steps: each one the user may take has a form built from the step's
own request model (geo.cases.ACTIONS), each one he may not shows why. Submitting goes
through geo.cases.perform, the API's path, with the version the page showed."""

from __future__ import annotations

import datetime as dt
import types
import typing
from decimal import Decimal
from typing import Any, Literal, get_args, get_origin

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from pydantic import BaseModel

from dashboard import document_view, ids
from dashboard.auth import require
from dashboard.context import attempt, services
from dashboard.context import runtime as _runtime
from dashboard.discretion_view import verdict_block, yes_no
from dashboard.document_view import beijing_time
from dashboard.i18n import STRINGS, t
from geo.cases import discretion, machine, views
from geo.cases.items import model as items_model
from geo.cases.items import store
from geo.documents import reading as document_reading
from geo.infra.errors import NotFound, explain
from services import cases as case_uses

LEVEL_CLASS = {"amber": "lg-level-amber", "red": "lg-level-red", "breach": "lg-level-breach"}


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path_template="/case/<case_id>", name="case", layout=layout)
    app.callback(
        Output(ids.CASE_BODY, "children"),
        Output(ids.CASE_ID, "data"),
        Input(ids.CASE_DONE, "data"),
        Input(ids.LANG, "data"),
        State(ids.CASE_ID, "data"),
    )(render)
    app.callback(
        Output(ids.CASE_FORM, "children"),
        Output(ids.CASE_ACTION, "data"),
        Input({"type": ids.CASE_ACTION_BUTTON, "action": ALL}, "n_clicks"),
        State(ids.LANG, "data"),
        State(ids.CASE_ID, "data"),
        prevent_initial_call=True,
    )(choose)
    app.callback(
        Output(ids.CASE_MESSAGE, "children"),
        Output(ids.CASE_DONE, "data"),
        Output(ids.CASE_FORM, "children", allow_duplicate=True),
        Input(ids.CASE_SUBMIT, "n_clicks"),
        State(ids.CASE_ACTION, "data"),
        State({"type": ids.CASE_FIELD, "name": ALL}, "value"),
        State({"type": ids.CASE_FIELD, "name": ALL}, "id"),
        State(ids.CASE_ID, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(submit)
    document_view.register(app, ids.CASE_ID, ids.CASE_DONE, ids.LANG)


def layout(case_id=None, **_query):
    require("case.view")
    try:
        key = int(case_id)
    except (TypeError, ValueError):
        key = 0
    return html.Div(
        className="lg-page lg-case",
        children=[
            dcc.Store(id=ids.CASE_ID, data={"id": key}),
            dcc.Store(id=ids.CASE_ACTION),
            dcc.Store(id=ids.CASE_DONE, data=0),
            html.Div(id=ids.CASE_BODY),
            html.Div(id=ids.CASE_MESSAGE, className="lg-message", role="status"),
            html.Div(id=ids.CASE_FORM, className="lg-case-form"),
        ],
    )


def render(_done, lang, case_ref):
    """The file as it stands; the version shown is kept for the next submit (409 if stale)."""
    who = require("case.view")
    case_id = int((case_ref or {}).get("id") or 0)
    with _runtime().session() as session:
        view, error = attempt(views.case_file, session, who, case_id)
    if error is not None:
        return html.Div(explain(error, lang), className="lg-message"), no_update
    party = view["party"]
    body = html.Div(
        [
            html.H2(
                f"{view['case_no']} · {t('case.status.' + view['status'], lang)}",
                id="case-heading",
                **{"data-status": view["status"], "data-version": str(view["version"])},
            ),
            html.P(f"{t('case.item', lang)}：{view['item_name']}（{view['legal_basis']}） · {view['unit_name']}"),
            html.P(_law(view, lang), id="case-law") if view.get("act_on") else None,
            _section(
                t("case.party", lang),
                html.P(" · ".join(str(v) for v in (party["name"], party["id_no"], party["address"]) if v)),
            ),
            _section(
                t("case.officers", lang), html.Ul([html.Li(f"{o['name']}（{o['cert_no']}）") for o in view["officers"]])
            ),
            _section(t("case.discretion", lang), _discretion(view, lang), id="case-discretion"),
            _section(t("case.clocks", lang), _clocks(view["clocks"], lang)),
            *(
                [_section(t("case.notice", lang), _notice(view["notices"][-1], lang), id="case-notice")]
                if view.get("notices")
                else []
            ),
            _section(t("case.actions", lang), _actions(view["actions"], lang), id="case-actions"),
            _section(
                t("case.evidence", lang),
                html.Ul(
                    [html.Li(f"{e['kind']}：{e['description']}") for e in view["evidence"]] or [t("case.none", lang)]
                ),
            ),
            _section(
                t("case.documents", lang),
                html.Ul(
                    [
                        html.Li(
                            f"{d['zh' if lang != 'en' else 'en']} {d['doc_no'] or ''} · "
                            f"{beijing_time(d['at'])} · {d['by']}"
                        )
                        for d in view["documents"]
                    ]
                ),
            ),
            _section(t("case.edocs", lang), document_view.section(view["edocs"], lang), id="case-edocs-section"),
            _section(
                t("case.timeline", lang),
                html.Ol(
                    [
                        html.Li(
                            f"{beijing_time(e['at'])} {e['actor']}：{_label(e['action'], lang)}"
                            + (f" → {t('case.status.' + e['to_status'], lang)}" if e["to_status"] else "")
                            + _paper((e.get("detail") or {}), lang)
                            + _back_entry((e.get("detail") or {}).get("back_entry"), lang),
                            className="lg-back-entry" if (e.get("detail") or {}).get("back_entry") else None,
                        )
                        for e in view["events"]
                    ],
                    id="case-timeline",
                ),
            ),
        ]
    )
    return body, {"id": case_id, "version": view["version"]}


def _discretion(view: dict[str, Any], lang: str | None) -> Any:
    """The item's provisions and tiers (the ids a proposal names), and the last check's verdict."""
    item, verdict = view.get("item"), view.get("discretion")
    if item is None:
        return html.P(t("case.none", lang))
    parts: list[Any] = [
        html.P(f"{item['code']} v{item['version']} · {item['violated_provision'] or ''} · {item['penalty_provision']}"),
        dcc.Link(t("items.link", lang), href=f"/items?code={item['code']}", id="case-item-link"),
        html.Div(t("case.discretion.tiers", lang), className="lg-field-name"),
        html.Ul([html.Li(f"{x['id']}：{x['label']} · {x['fine']}") for x in item["tiers"]]),
    ]
    if item["factors"]:
        parts += [
            html.Div(t("case.discretion.factors", lang), className="lg-field-name"),
            html.P("，".join(f"{k}（{label}）" for k, label in item["factors"].items())),
        ]
    if not verdict:
        return html.Div([*parts, html.P(t("case.discretion.none", lang))])

    notes = (t("case.discretion.derived", lang) if verdict["bands_derived"] else "") + (
        "" if item["verified"] else t("case.discretion.unverified", lang)
    )
    return html.Div([*parts, verdict_block(verdict, lang, notes)])


def _section(title: str, body: Any, **kw: Any) -> html.Section:
    return html.Section([html.H3(title, style={"fontSize": "14px"}), body], **kw)


def _label(action: str, lang: str | None) -> str:
    step = machine.ACTIONS.get(action)
    if step is not None:
        return step.label[1 if lang == "en" else 0]
    return {"file": ("立案", "filed"), "decide_onsite": ("当场处罚", "decided on the spot")}.get(
        action, (action, action)
    )[1 if lang == "en" else 0]


def _law(view: dict[str, Any], lang: str | None) -> str:
    """The act's day and the law applied: the item version in force then, or a lighter later one."""
    at_act = view.get("item_version_at_act") or view.get("item_version")
    text = t("case.law", lang).format(on=view["act_on"], version=view.get("item_version"), at_act=at_act)
    if view.get("act_continues_reason"):
        text += t("case.law.continues", lang).format(reason=view["act_continues_reason"])
    return text


def _paper(detail: dict[str, Any], lang: str | None) -> str:
    """The document a service step served and what proves it (the case file links the step to them)."""
    if not detail.get("doc_no") or "method" not in detail:
        return ""
    proof = t("case.proof.receipt", lang) if detail.get("receipt_id") else ""
    return " " + t("case.served_doc", lang).format(no=detail["doc_no"], proof=proof)


def _back_entry(back: dict[str, Any] | None, lang: str | None) -> str:
    """A 补录 in the timeline: the act's own day, the reason and the paper document."""
    if not back:
        return ""
    return " " + t("case.back_entry", lang).format(on=back["act_on"], reason=back["reason"], paper=back["paper_no"])


def _notice(notice: dict[str, Any], lang: str | None) -> Any:
    """The notice served: the party's window, and whether (and why) it offered a hearing."""
    due = str(notice["response_due"]) + (t("case.provisional", lang) if notice.get("response_due_provisional") else "")
    lines = [t("case.notice.window", lang).format(served=notice["served_on"], due=due)]
    if notice["hearing_right"]:
        lines.append(t("case.notice.hearing", lang).format(basis=notice["hearing_basis_text"]))
    else:
        lines.append(t("case.notice.no_hearing", lang))
    if notice.get("waived_on"):
        key = "case.notice.waived_all" if notice.get("hearing_waived") else "case.notice.waived"
        lines.append(t(key, lang).format(on=notice["waived_on"]))
    return html.Ul([html.Li(line) for line in lines])


def _clocks(clocks: list[dict[str, Any]], lang: str | None) -> Any:
    if not clocks:
        return html.P(t("case.none", lang))
    rows = []
    for c in clocks:
        due = (
            t("case.paused", lang)
            if c.get("paused")
            else c["due"] + (t("case.provisional", lang) if c.get("provisional") else "")
        )
        left = "" if c.get("workdays_left") is None else str(c["workdays_left"])
        level = t(f"case.level.{c['level']}", lang) if c.get("level") else ""
        rows.append(
            html.Tr(
                [html.Td(t(f"case.clock.{c['clock']}", lang)), html.Td(due), html.Td(left), html.Td(level)],
                className=LEVEL_CLASS.get(c.get("level") or "", ""),
            )
        )
    head = html.Tr([html.Th(t(k, lang)) for k in ("col.clock", "col.due", "col.left", "col.level")])
    return html.Table([html.Thead(head), html.Tbody(rows)], className="lg-table", id="case-clocks")


def _actions(actions: list[dict[str, Any]], lang: str | None) -> Any:
    items = []
    for a in actions:
        label = a["label"]["en" if lang == "en" else "zh"]
        if a["allowed"]:
            items.append(
                html.Li(
                    html.Button(
                        label,
                        id={"type": ids.CASE_ACTION_BUTTON, "action": a["action"]},
                        className="lg-button",
                        **{"data-action": a["action"]},
                    )
                )
            )
        else:
            why = "；".join(r["en" if lang == "en" else "zh"] for r in a["rules"])
            items.append(
                html.Li(
                    [
                        html.Span(label, className="lg-disabled"),
                        html.Span(f" {t('case.not_allowed', lang)}{why}", className="lg-note"),
                    ],
                    **{"data-refused": a["action"]},
                )
            )
    return html.Ul(items or [html.Li(t("case.none", lang))])


# -- forms from the steps' request models ---------------------------------------------------
def choose(clicks, lang, case_ref):
    if not ctx.triggered_id or not any(clicks):
        return no_update, no_update
    name = ctx.triggered_id["action"]
    step = machine.ACTIONS[name]
    paths = _fields(step.body)
    case_id = int((case_ref or {}).get("id") or 0)
    labelled = _choices(case_id, lang) if any(".tier" in p for p, _ in paths) else {}
    if any(p in PROOFS for p, _ in paths):
        labelled.update(_proofs(case_id))
    fields = [_widget(path, annotation, labelled.get(path.rsplit(".", 1)[-1]), lang) for path, annotation in paths]
    return html.Div(
        [
            html.H3(step.label[1 if lang == "en" else 0], style={"fontSize": "14px"}),
            *fields,
            html.Button(t("case.submit", lang), id=ids.CASE_SUBMIT, className="lg-button"),
        ]
    ), name


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for name, info in model.model_fields.items():
        annotation = _unwrap(info.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out += _fields(annotation, f"{prefix}{name}.")
        else:
            out.append((f"{prefix}{name}", annotation))
    return out


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _choices(case_id: int, lang: str | None) -> dict[str, list[dict[str, str]]]:
    """Labelled options of a penalty's fields: the case's item tiers, the statutory circumstances."""
    zh = lang != "en"
    out = {"circumstances": [{"label": c[1] if zh else c[2], "value": k} for k, c in discretion.CIRCUMSTANCES.items()]}
    with _runtime().session() as session:
        try:
            case = machine.load(session, require("case.view"), case_id)
            item = store.get(session, case["item_code"], case["item_version"])
        except NotFound:
            return out
        if item is not None:
            tiers = item.statutory.tiers if item.statutory else []
            out["tier"] = [{"label": f"{x.label} · {items_model.range_text(x.fine)}", "value": x.id} for x in tiers]
    return out


# The sealed documents a service step names, offered by their titles (送达回证, 送达地址确认书).
PROOFS = {"receipt_id": "service_receipt", "confirmation_id": "address_confirmation"}


def _proofs(case_id: int) -> dict[str, list[dict[str, Any]]]:
    with _runtime().session() as session:
        docs = [
            d
            for d in attempt(document_reading.for_case, session, require("case.view"), case_id)[0] or []
            if d["status"] == "sealed"
        ]
    out: dict[str, list[dict[str, Any]]] = {}
    for field, template in PROOFS.items():
        out[field] = [
            {
                "label": " · ".join(
                    str(x) for x in (d["title"], (d.get("body") or {}).get("served_document"), d["sealed_at"][:10]) if x
                ),
                "value": d["id"],
            }
            for d in docs
            if d["template_code"] == template
        ]
    return out


def _words(key: str, fallback: str, lang: str | None) -> str:
    return t(key, lang) if key in STRINGS else fallback


def _choice(leaf: str, value: str, lang: str | None) -> dict[str, str]:
    """A choice in words (the value kept as the request model names it)."""
    return {"label": _words(f"value.{leaf}.{value}", value, lang), "value": value}


def _widget(
    path: str, annotation: Any, options: list[dict[str, str]] | None = None, lang: str | None = None
) -> html.Div:
    """A step's field in words: its label, and the right control (choices named, yes/no a box)."""
    key = {"type": ids.CASE_FIELD, "name": path}
    leaf = path.rsplit(".", 1)[-1]
    label = _words(f"field.{leaf}", path, lang)
    origin = get_origin(annotation)
    control: Any
    if options is not None and origin is dict:
        control = dcc.Checklist(id=key, options=options, value=[], inline=True)
    elif options is not None:
        control = dcc.Dropdown(id=key, options=options, clearable=True, placeholder=label)
    elif annotation is bool:
        control = dcc.Checklist(id=key, options=[{"label": label, "value": "yes"}], value=[])
    elif origin is Literal:
        choices = [_choice(leaf, v, lang) for v in get_args(annotation)]
        control = dcc.Dropdown(id=key, options=choices, clearable=True, placeholder=label)
    elif origin is list and get_origin(get_args(annotation)[0]) is Literal:
        choices = [_choice(leaf, v, lang) for v in get_args(get_args(annotation)[0])]
        control = dcc.Dropdown(id=key, options=choices, multi=True, placeholder=label)
    elif origin is dict and get_args(annotation)[0] is str:  # named values: "turnover_yuan=80000, harm=是"
        control = dcc.Input(id=key, type="text", placeholder="名称=值，… / name=value, …", style={"width": "100%"})
    elif origin is dict:
        choices = [_choice(leaf, v, lang) for v in get_args(get_args(annotation)[0])]
        control = dcc.Checklist(id=key, options=choices, value=[], inline=True)
    elif annotation in (int, Decimal, float):
        control = dcc.Input(id=key, type="number", placeholder=label)
    elif annotation is dt.date:
        control = dcc.Input(id=key, type="text", placeholder="2026-12-08（北京时间 / Beijing date）")
    else:
        control = dcc.Textarea(id=key, style={"width": "100%", "height": "48px"}, placeholder=label)
    attrs: dict[str, Any] = {"data-field": path}
    return html.Div([html.Div(label, className="lg-field-name"), control], className="lg-field", **attrs)


def _data(values: list[Any], keys: list[dict[str, str]], model: type[BaseModel]) -> dict[str, Any]:
    kinds = dict(_fields(model))
    data: dict[str, Any] = {}
    for value, key in zip(values, keys, strict=True):
        path, annotation = key["name"], kinds.get(key["name"])
        if annotation is bool:
            value = bool(value)
        elif get_origin(annotation) is dict and get_args(annotation)[0] is str:
            value = _named_values(value or "")
        elif get_origin(annotation) is dict:
            value = {k: True for k in value or []}
        elif annotation == list[str] and isinstance(value, str):
            value = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
        elif value in (None, "", []):
            continue
        if "." in path and value in (False, {}):
            continue  # an untouched box or list inside an optional part (the decision's penalty) adds no part
        node = data
        *parents, leaf = path.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return data


def _named_values(value: str) -> dict[str, Any]:
    """ "turnover_yuan=80000, harm=否" -> {"turnover_yuan": "80000", "harm": False}; the request
    model then checks each value (a number or yes/no)."""
    out: dict[str, Any] = {}
    for part in value.replace("，", ",").replace(";", ",").split(","):
        name, _, raw = part.partition("=")
        if name.strip():
            answer = yes_no(raw)
            out[name.strip()] = raw.strip() if answer is None else answer
    return out


def submit(clicks, name, values, keys, case_ref, lang):
    if not name or not clicks:  # the form's button appearing is no click
        return no_update, no_update, no_update
    who = require("case.view")
    step = machine.ACTIONS[name]
    data = _data(values, keys, step.body)
    _case, error = attempt(
        case_uses.perform, services(), who, int(case_ref["id"]), name, data, version=(case_ref or {}).get("version")
    )
    if error is not None:
        return html.Div(explain(error, lang), className="lg-message lg-error", id="case-error"), no_update, no_update
    done = t("case.done", lang).format(step.label[1 if lang == "en" else 0])
    return html.Div(done, id="case-ok"), dt.datetime.now().isoformat(), []
