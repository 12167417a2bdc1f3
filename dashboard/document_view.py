"""The case file's documents (执法文书) at the desk: each document with its number, state,
signatures and the verification of its seal, the PDF one click away; and drafting a document
from the case at the desk, to be signed on the officer's terminal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from dashboard.auth import require
from dashboard.context import attempt, services
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.documents import forms
from geo.documents import templates as documents_templates
from geo.infra.errors import explain
from geo.infra.timezone import BEIJING
from services import documents as document_uses

DRAFT_TEMPLATE = "case-doc-template"
DRAFT_BUTTON = "case-doc-draft"
DRAFT_MESSAGE = "case-doc-message"
DRAFT_FIELDS = "case-doc-fields"
FIELD = "case-doc-field"
SEAL = "case-doc-seal"
ON_SITE_ONLY = ("onsite_record", "onsite_decision")  # made on the terminal, at the scene


def section(docs: list[dict[str, Any]], lang: str | None) -> html.Div:
    """The documents, newest last, and the desk's drafting form."""
    en = lang == "en"
    rows: list[Any] = [_row(d, lang) for d in docs] or [html.Li(t("case.none", lang))]
    with _runtime().session() as session:
        templates = [x for x in documents_templates.listing(session) if x["code"] not in ON_SITE_ONLY]
    form = html.Div(
        [
            dcc.Dropdown(
                id=DRAFT_TEMPLATE,
                options=[{"label": x["title_en"] if en else x["title"], "value": x["code"]} for x in templates],
                placeholder=t("doc.template", lang),
                clearable=False,
            ),
            html.Div(id=DRAFT_FIELDS, className="lg-doc-fields"),
            html.Button(t("doc.draft", lang), id=DRAFT_BUTTON, className="lg-button"),
            html.Div(id=DRAFT_MESSAGE, role="status"),
        ],
        className="lg-doc-draft",
    )
    return html.Div([html.Ul(rows, id="case-edocs"), form])


def _row(doc: dict[str, Any], lang: str | None) -> html.Li:
    title = doc["title_en"] if lang == "en" else doc["title"]
    sigs = [
        html.Li(
            f"{'✗' if s['method'] == 'refused' else '✓'} {s['signer_name']}"
            f" · {t('doc.signer.' + s['signer_kind'], lang)} · {beijing_time(s['signed_at'])}"
            + (f"（{t('doc.refused', lang)}：{s['refusal_reason']}）" if s["method"] == "refused" else "")
        )
        for s in doc["signatures"]
    ]
    check = doc.get("verification")
    verdict: Any
    if check is not None:
        ok = check["valid"]
        signer = (check["signatures"] or [{}])[0].get("signer", "")
        verdict = html.P(
            t("doc.verified", lang).format(signer=signer) if ok else t("doc.not_verified", lang),
            className="lg-ok" if ok else "lg-error",
            id=f"case-edoc-{doc['id']}-verified" if ok else f"case-edoc-{doc['id']}-failed",
        )
    elif doc["signatures_missing"]:
        words = [w["en" if lang == "en" else "zh"] for w in doc.get("still_to_sign", [])]
        verdict = html.P(t("doc.missing", lang) + "：" + ("，".join(words) or "…"), id=f"case-edoc-{doc['id']}-missing")
    elif doc["status"] == "issued":  # every signature is there: the organ may seal it
        verdict = html.Button(
            t("doc.seal", lang), id={"type": SEAL, "doc": doc["id"]}, className="lg-button", **{"data-seal": doc["id"]}
        )
    else:
        verdict = None
    return html.Li(
        [
            html.Strong(f"{title} {doc['doc_no'] or ''}"),
            f" · {t('doc.status.' + doc['status'], lang)}",
            " · ",
            html.A(t("doc.pdf", lang), href=doc["pdf_url"], target="_blank"),
            html.Ul(sigs) if sigs else None,
            verdict,
        ],
        id=f"case-edoc-{doc['id']}",
        **{"data-status": doc["status"]},
    )


def beijing_time(at: str) -> str:
    """A stored time as the district reads it: Beijing time, to the minute."""
    return dt.datetime.fromisoformat(at).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def register(app: dash.Dash, case_id_store: str, done_store: str, lang_store: str) -> None:
    app.callback(
        Output(DRAFT_FIELDS, "children"),
        Input(DRAFT_TEMPLATE, "value"),
        State(lang_store, "data"),
        prevent_initial_call=True,
    )(fields)
    app.callback(
        Output(DRAFT_MESSAGE, "children"),
        Output(done_store, "data", allow_duplicate=True),
        Input(DRAFT_BUTTON, "n_clicks"),
        State(DRAFT_TEMPLATE, "value"),
        State({"type": FIELD, "key": ALL}, "value"),
        State({"type": FIELD, "key": ALL}, "id"),
        State(case_id_store, "data"),
        State(lang_store, "data"),
        State(done_store, "data"),
        prevent_initial_call=True,
    )(draft)
    app.callback(
        Output(DRAFT_MESSAGE, "children", allow_duplicate=True),
        Output(done_store, "data", allow_duplicate=True),
        Input({"type": SEAL, "doc": ALL}, "n_clicks"),
        State(lang_store, "data"),
        State(done_store, "data"),
        prevent_initial_call=True,
    )(seal)


def fields(template: str | None, lang: str | None) -> Any:
    """The fields the officer fills in (the case fills the others): a choice where the template
    names its values, a box for yes/no, a line or an area for text."""
    if not template:
        return []
    require("case.handle")
    with _runtime().session() as session:
        spec = documents_templates.get(session, template)
    out = []
    for f in spec.fields:
        if f.locked:
            continue
        key = {"type": FIELD, "key": f.key}
        control: Any
        if f.choices:
            control = dcc.Dropdown(id=key, options=f.choices, clearable=True)
        elif f.type == "bool":
            control = dcc.Checklist(id=key, options=[{"label": t("doc.yes", lang), "value": "yes"}], value=[])
        elif f.type == "longtext":
            control = dcc.Textarea(id=key, style={"width": "100%", "height": "48px"})
        else:
            hint = {"date": "YYYY-MM-DD", "datetime": "YYYY-MM-DD HH:MM"}.get(f.type, "")
            control = dcc.Input(id=key, type="text", placeholder=hint or t("doc.from_case", lang) * bool(f.source))
        label = f.label + (" *" if f.required else "")
        attrs: dict[str, Any] = {"data-doc-field": f.key}
        out.append(html.Label([html.Span(label, className="lg-field-name"), control], **attrs))
    return out


def _given(values: list[Any], keys: list[dict[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for value, key in zip(values, keys, strict=True):
        if isinstance(value, list):
            value = "yes" in value
            if not value:
                continue
        elif value in (None, ""):
            continue  # left empty: the case's value, if it has one
        elif isinstance(value, str) and len(value) == 16 and value[10] == " ":
            value = value.replace(" ", "T")  # a datetime as typed
        out[key["key"]] = value
    return out


def seal(clicks: list[int | None], lang: str, done: int) -> Any:
    if not ctx.triggered_id or not any(clicks):
        return no_update, no_update  # the buttons were just drawn: nobody asked (no false refusal)
    who = require("case.handle")
    doc_id = int(ctx.triggered_id["doc"])
    sealed, error = attempt(document_uses.seal, services(), who, _runtime().documents, doc_id)
    if error is not None:
        return explain(error, lang), no_update
    return t("doc.sealed", lang).format(no=sealed["doc_no"] or ""), (done or 0) + 1


def draft(
    clicks: int | None,
    template: str | None,
    values: list[Any],
    keys: list[dict[str, str]],
    case_ref: dict[str, Any] | None,
    lang: str,
    done: int,
) -> Any:
    """Draft from the case's values; issue it at once when the case fills every required field
    (the officer signs it on the terminal), else say what is left to fill in."""
    if not clicks:
        return no_update, no_update  # the button was just drawn: nobody asked (no false refusal)
    who = require("case.handle")
    if not template:
        return t("doc.template", lang), no_update
    case_id = int((case_ref or {}).get("id") or 0)
    context = services()
    made, error = attempt(
        document_uses.draft,
        context,
        who,
        forms.Draft.model_validate({"template": template, "case_id": case_id, "fields": _given(values, keys)}),
    )
    if error is None:
        issued, error = attempt(
            document_uses.issue, context, who, _runtime().documents, made["id"], forms.Issue.model_validate({})
        )
        if error is not None:
            return explain(error, lang), (done or 0) + 1  # kept as a draft: what is missing is said
        return t("doc.issued", lang).format(no=issued["doc_no"] or ""), (done or 0) + 1
    return explain(error, lang), no_update
