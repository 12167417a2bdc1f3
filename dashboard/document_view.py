"""The case file's documents (执法文书) at the desk: each document with its number, state,
signatures and the verification of its seal, the PDF one click away; and drafting a document
from the case at the desk, to be signed on the officer's terminal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
from dash import Input, Output, State, dcc, html, no_update

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
DESK_TEMPLATES = ("penalty_notice", "penalty_decision", "service_receipt", "inquiry_record")


def section(docs: list[dict[str, Any]], lang: str | None) -> html.Div:
    """The documents, newest last, and the desk's drafting form."""
    en = lang == "en"
    rows: list[Any] = [_row(d, lang) for d in docs] or [html.Li(t("case.none", lang))]
    with _runtime().session() as session:
        templates = [x for x in documents_templates.listing(session) if x["code"] in DESK_TEMPLATES]
    form = html.Div(
        [
            dcc.Dropdown(
                id=DRAFT_TEMPLATE,
                options=[{"label": x["title_en"] if en else x["title"], "value": x["code"]} for x in templates],
                placeholder=t("doc.template", lang),
                clearable=False,
            ),
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
            f" · {t('doc.signer.' + s['signer_kind'], lang)} · {_beijing(s['signed_at'])}"
            + (f"（{t('doc.refused', lang)}：{s['refusal_reason']}）" if s["method"] == "refused" else "")
        )
        for s in doc["signatures"]
    ]
    check = doc.get("verification")
    if check is not None:
        ok = check["valid"]
        signer = (check["signatures"] or [{}])[0].get("signer", "")
        verdict = html.P(
            t("doc.verified", lang).format(signer=signer) if ok else t("doc.not_verified", lang),
            className="lg-ok" if ok else "lg-error",
            id=f"case-edoc-{doc['id']}-verified" if ok else f"case-edoc-{doc['id']}-failed",
        )
    elif doc["signatures_missing"]:
        verdict = html.P(t("doc.missing", lang) + "：" + "，".join(doc["signatures_missing"]))
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


def _beijing(at: str) -> str:
    return dt.datetime.fromisoformat(at).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def register(app: dash.Dash, case_id_store: str, done_store: str, lang_store: str) -> None:
    app.callback(
        Output(DRAFT_MESSAGE, "children"),
        Output(done_store, "data", allow_duplicate=True),
        Input(DRAFT_BUTTON, "n_clicks"),
        State(DRAFT_TEMPLATE, "value"),
        State(case_id_store, "data"),
        State(lang_store, "data"),
        State(done_store, "data"),
        prevent_initial_call=True,
    )(draft)


def draft(clicks: int | None, template: str | None, case_ref: dict[str, Any] | None, lang: str, done: int) -> Any:
    """Draft from the case's values; issue it at once when the case fills every required field
    (the officer signs it on the terminal), else say what is left to fill in."""
    who = require("case.handle")
    if not clicks:
        return no_update, no_update  # the button was just drawn
    if not template:
        return t("doc.template", lang), no_update
    case_id = int((case_ref or {}).get("id") or 0)
    context = services()
    made, error = attempt(
        document_uses.draft, context, who, forms.Draft.model_validate({"template": template, "case_id": case_id})
    )
    if error is None:
        issued, error = attempt(
            document_uses.issue, context, who, _runtime().documents, made["id"], forms.Issue.model_validate({})
        )
        if error is not None:
            return explain(error, lang), (done or 0) + 1  # kept as a draft: what is missing is said
        return t("doc.issued", lang).format(no=issued["doc_no"] or ""), (done or 0) + 1
    return explain(error, lang), no_update
