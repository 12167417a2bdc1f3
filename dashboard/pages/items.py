"""执法事项 page (/items): look an item up by code or name; its provisions, statutory tiers,
the discretion bands of each level drawn as a chart, its check points; and the discretion
check of an amount before it is proposed (the same `geo.discretion.check` the procedure runs)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import dash
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, dcc, html

from dashboard import ids
from dashboard.auth import require
from dashboard.context import runtime as _runtime
from dashboard.discretion_view import verdict_block, yes_no
from dashboard.i18n import t
from geo.cases import discretion
from geo.cases.items import model, store
from geo.infra.errors import NotFound

BAND_COLOURS = {"从轻": "#3d7a5c", "一般": "#4a6fa5", "从重": "#9a5b2e"}


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/items", name="items", layout=layout)
    app.callback(
        Output(ids.ITEMS_LIST, "children"),
        Output(ids.ITEMS_DETAIL, "children"),
        Output(ids.ITEMS_HEADING, "children"),
        Output(ids.ITEMS_SEARCH, "placeholder"),
        Input(ids.ITEMS_SEARCH, "value"),
        Input(ids.ITEMS_CODE, "data"),
        Input(ids.LANG, "data"),
    )(show)
    app.callback(
        Output(ids.ITEMS_VERDICT, "children"),
        Input(ids.ITEMS_CHECK, "n_clicks"),
        State(ids.ITEMS_CODE, "data"),
        State(ids.ITEMS_TIER, "value"),
        State(ids.ITEMS_PARTY, "value"),
        State(ids.ITEMS_BASE, "value"),
        State(ids.ITEMS_FINE, "value"),
        State(ids.ITEMS_CIRCUMSTANCES, "value"),
        State({"type": ids.ITEMS_FACTOR, "name": ALL}, "value"),
        State({"type": ids.ITEMS_FACTOR, "name": ALL}, "id"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(check)


def layout(code=None, **_query):
    require("case.view")
    return html.Div(
        className="lg-page",
        children=[
            dcc.Store(id=ids.ITEMS_CODE, data=code),
            html.H2(id=ids.ITEMS_HEADING, style={"fontSize": "16px"}),
            html.Div(dcc.Input(id=ids.ITEMS_SEARCH, debounce=True, style={"width": "320px"}), className="lg-filters"),
            html.Div(
                style={"display": "flex", "gap": "16px", "alignItems": "flex-start"},
                children=[
                    html.Ul(id=ids.ITEMS_LIST, className="lg-item-list", style={"minWidth": "320px"}),
                    html.Div(id=ids.ITEMS_DETAIL, style={"flex": "1"}),
                ],
            ),
        ],
    )


def show(query, code, lang):
    who = require("case.view")
    with _runtime().session() as session:
        units = None if who.district_wide else sorted(who.unit_ids or ())
        found = store.listing(session, unit_ids=units, q=(query or "").strip() or None)
        listing = [
            html.Li(
                dcc.Link(f"{i['code']} · {i['name']}", href=f"/items?code={i['code']}", style={"color": "#9cc3ff"}),
                **{"data-code": i["code"]},
            )
            for i in found
        ] or [html.Li(t("items.none", lang))]
        detail: Any = html.P(t("items.pick", lang), className="lg-note")
        if code:
            try:
                detail = _detail(store.get(session, code), lang)
            except NotFound:
                detail = html.P(t("items.none", lang))
    return listing, detail, t("items.heading", lang), t("items.search", lang)


def _detail(item: model.Item, lang: str | None) -> Any:
    tiers = item.statutory.tiers if item.statutory else []
    parts: list[Any] = [
        html.H3(f"{item.code} v{item.version} · {item.name}", id="items-title"),
        html.P(f"{t('items.violated', lang)}：{item.violated_provision or item.basis or '—'}"),
        html.P(f"{t('items.penalty', lang)}：{item.penalty_provision or '—'}"),
    ]
    if item.discretion.source:
        derived = t("case.discretion.derived", lang) if item.bands_derived else ""
        parts.append(html.P(f"{t('items.source', lang)}：{item.discretion.source} {derived}", className="lg-note"))
    if tiers:
        parts.append(html.Ul([html.Li(f"{x.id}：{x.label} · {model.range_text(x.fine)}") for x in tiers]))
        parts.append(dcc.Graph(id=ids.ITEMS_CHART, figure=_bands_figure(item, lang), config={"displayModeBar": False}))
        parts.append(_calculator(item, lang))
    if item.check_points:
        parts += [
            html.H4(t("items.check_points", lang)),
            html.Ol([html.Li(f"{p.content}（{p.method or '—'}）") for p in item.check_points]),
        ]
    return html.Div(parts)


def _bands_figure(item: model.Item, lang: str | None) -> go.Figure:
    """One row per tier (and per floor rule), the three levels' bands side by side."""
    fig = go.Figure()
    for lv in item.discretion.levels:
        if lv.level not in BAND_COLOURS:
            continue
        rows = [(k, b) for k, b in lv.bands.items()]
        fig.add_bar(
            name=lv.level,
            y=[k for k, _ in rows],
            x=[float(hi - lo) for _, (lo, hi) in rows],
            base=[float(lo) for _, (lo, _hi) in rows],
            orientation="h",
            marker_color=BAND_COLOURS[lv.level],
            hovertemplate="%{y}: %{base:,} – %{x:,}<extra>" + lv.level + "</extra>",
        )
    fig.update_layout(
        barmode="overlay",
        height=90 + 40 * max(1, len({k for lv in item.discretion.levels for k in lv.bands})),
        margin={"l": 10, "r": 10, "t": 30, "b": 30},
        title={"text": t("items.chart", lang), "font": {"size": 13}},
        paper_bgcolor="#0f1d33",
        plot_bgcolor="#0f1d33",
        font={"color": "#e6edf6", "size": 11},
        legend={"orientation": "h", "y": -0.3},
        xaxis={"title": t("items.chart_x", lang)},
    )
    return fig


def _calculator(item: model.Item, lang: str | None) -> Any:
    tiers = item.statutory.tiers if item.statutory else []
    factors = [
        dcc.Input(
            id={"type": ids.ITEMS_FACTOR, "name": name},
            placeholder=f"{f.label or name}" + ("（是/否）" if f.kind == "bool" else ""),
            style={"width": "180px"},
        )
        for name, f in item.discretion.factors.items()
    ]
    zh = lang != "en"
    controls = html.Div(
        className="lg-filters lg-light",
        style={"flexWrap": "wrap"},
        children=[
            dcc.Dropdown(
                id=ids.ITEMS_TIER,
                options=[{"label": f"{x.id} · {x.label}", "value": x.id} for x in tiers],
                value=tiers[0].id,
                clearable=False,
                style={"minWidth": "260px"},
            ),
            dcc.Dropdown(
                id=ids.ITEMS_PARTY,
                options=[{"label": t(f"items.party.{k}", lang), "value": k} for k in ("legal", "natural", "other")],
                value="legal",
                clearable=False,
                style={"minWidth": "120px"},
            ),
            dcc.Input(id=ids.ITEMS_BASE, type="number", placeholder=t("items.base", lang), style={"width": "180px"}),
            dcc.Input(id=ids.ITEMS_FINE, type="number", placeholder=t("items.fine", lang), style={"width": "180px"}),
            *factors,
        ],
    )
    return html.Div(
        className="lg-items",
        children=[
            controls,
            dcc.Checklist(
                id=ids.ITEMS_CIRCUMSTANCES,
                options=[{"label": c[1] if zh else c[2], "value": k} for k, c in discretion.CIRCUMSTANCES.items()],
                value=[],
                style={"fontSize": "12px", "columns": 2, "margin": "8px 0"},
            ),
            html.Button(t("items.check", lang), id=ids.ITEMS_CHECK, className="lg-button"),
            html.Div(id=ids.ITEMS_VERDICT),
        ],
    )


def _number(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def check(_clicks, code, tier, party, base, fine, circumstances, factor_values, factor_ids, lang):
    require("case.view")
    with _runtime().session() as session:
        item = store.get(session, code)
    recorded: dict[str, Any] = {}
    for fid, value in zip(factor_ids, factor_values, strict=True):
        spec = item.discretion.factors[fid["name"]]
        if value in (None, ""):
            continue
        recorded[fid["name"]] = bool(yes_no(value)) if spec.kind == "bool" else _number(value)
    amount = _number(fine) or Decimal(0)
    penalty = {
        "kinds": ["fine"] if amount > 0 else [],
        "fine_yuan": amount,
        "tier": tier,
        "base_yuan": _number(base),
        "circumstances": {k: True for k in circumstances or []},
        "factors": {k: v for k, v in recorded.items() if v is not None},
    }
    verdict = discretion.check(item, penalty, party or "legal").as_json()
    return verdict_block(verdict, lang, id="items-verdict-body")
