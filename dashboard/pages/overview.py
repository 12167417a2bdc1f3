"""The command map: townships coloured by target counts, the targets layer (cells when zoomed
out, targets when zoomed in) under township, domain, risk and text filters, the live layer
of officers and cameras, the alarm panel and target cards."""

from __future__ import annotations

import datetime as dt
import uuid
from html import escape

import dash
import dash_leaflet as dl
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update
from dash_socketio import DashSocketIO

from dashboard import alarm_panel, basemap, choropleth, coverage_view, ids, live_panel, palette
from dashboard.auth import current_scope
from dashboard.config import web_config
from dashboard.context import record_refusal, services
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.access import policy
from geo.coverage import counts as coverage_counts
from geo.coverage import model, trends
from geo.dispatch import model as dispatch_model
from geo.infra.errors import LawGridError, explain
from geo.places import queries, target_map
from geo.telemetry import fleet
from services import dispatch as dispatching

FILTERS = [Input(ids.F_TOWNSHIP, "value"), Input(ids.F_DOMAIN, "value"), Input(ids.F_RISK, "value")]


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/", name="overview", layout=layout)
    # Live positions never pass through Python: socket -> clientside -> markers moved in place.
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="socketState"),
        Output(ids.LIVE_SOCKET_STATE, "data"),
        Input(ids.LIVE_SOCKET, "connected"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="applyPositions"),
        Output(ids.LIVE_APPLIED, "data"),
        Input(ids.LIVE_SOCKET, "data-positions"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="applyPositions"),
        Output(ids.LIVE_APPLIED, "data", allow_duplicate=True),
        Input(ids.LIVE_INITIAL, "data"),
        prevent_initial_call="initial_duplicate",
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="setOnTask"),
        Output(ids.LIVE_ON_TASK_APPLIED, "data"),
        Input(ids.LIVE_ON_TASK, "data"),
    )
    app.callback(
        Output(ids.LIVE_ON_TASK, "data"), Input(ids.LIVE_SOCKET, "data-inspection"), prevent_initial_call=True
    )(devices_on_task)
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="setFollow"),
        Output(ids.LIVE_FOLLOW, "className"),
        Input(ids.LIVE_FOLLOW, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="targetsUrl"),
        Output(ids.TARGETS_LAYER, "url"),
        Input(ids.OVERVIEW_MAP, "bounds"),
        Input(ids.OVERVIEW_MAP, "zoom"),
        *FILTERS,
        Input(ids.F_Q, "value"),
        State(ids.OVERVIEW_MAP, "center"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="zoomIntoCell"),
        Output(ids.OVERVIEW_MAP, "viewport", allow_duplicate=True),
        Input(ids.TARGETS_LAYER, "clickData"),
        State(ids.OVERVIEW_MAP, "zoom"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.OVERVIEW_MAP, "viewport", allow_duplicate=True),
        Input(ids.F_Q, "value"),
        *FILTERS,
        prevent_initial_call=True,
    )(fly_to_search)
    app.callback(Output(ids.TARGET_CARD, "children"), Input(ids.TARGETS_LAYER, "clickData"), Input(ids.LANG, "data"))(
        show_target_card
    )
    app.callback(
        Output(ids.TOWNSHIP_LAYER, "hideout"),
        Output(ids.TOWNSHIP_LEGEND, "children"),
        Output(ids.TOWNSHIP_FIGURE, "data"),
        *FILTERS,
        Input(ids.F_COLOUR, "value"),
        Input(ids.LANG, "data"),
        State(ids.TOWNSHIP_LAYER, "hideout"),
    )(filter_townships)
    app.callback(
        Output(ids.OVERVIEW_HEADING, "children"),
        Output(ids.OVERVIEW_APPROXIMATE, "children"),
        Output(ids.CARD_TARGETS_LABEL, "children"),
        Output(ids.CARD_UNITS_LABEL, "children"),
        Output(ids.CARD_OFFICERS_LABEL, "children"),
        Output(ids.CARD_DEVICES_LABEL, "children"),
        Output(ids.F_TOWNSHIP, "placeholder"),
        Output(ids.F_DOMAIN, "placeholder"),
        Output(ids.F_DOMAIN, "options"),
        Output(ids.F_RISK, "options"),
        Output(ids.F_Q, "placeholder"),
        Output(ids.F_HEAT, "options"),
        Output(ids.F_HEAT, "placeholder"),
        Output(ids.LIVE_FOLLOW, "options"),
        Output(ids.F_COLOUR, "options"),
        Input(ids.LANG, "data"),
    )(translate_overview)
    app.callback(
        Output(ids.HEAT_LAYER, "data"),
        Output(ids.HEAT_LAYER, "hideout"),
        Input(ids.F_HEAT, "value"),
        Input(ids.LIVE_SOCKET, "data-alarm"),
    )(alarm_heat)
    app.callback(
        Output(ids.CARD_CREATE_RESULT, "children"),
        Input(ids.CARD_CREATE, "n_clicks"),
        State(ids.CARD_TARGET, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(create_from_card)
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="showChart"),
        Output(ids.TOWNSHIP_CHART_SLOT, "children"),
        Input(ids.TOWNSHIP_FIGURE, "data"),
    )
    alarm_panel.register(app, map_id=ids.OVERVIEW_MAP)
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="placeCard"),
        Output(ids.TARGET_CARD_FLOAT, "style"),
        Input(ids.TARGETS_LAYER, "clickData"),
        Input(ids.CARD_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )
    live_panel.register(app)


def layout(**_query):
    runtime = _runtime()
    scope = current_scope()
    with runtime.session() as session:
        townships = queries.townships_geojson(session, simplify_m=30)
        district = queries.district_geojson(session)
        counts = queries.registry_counts(session, scope)
        live_now = fleet.devices(session, scope)
        on_task = fleet.devices_on_task(session, scope)
        domains = queries.domains(session)
        alarms = fleet.live_alarms(session, scope)
    for feature in townships["features"]:
        p = feature["properties"]
        p["tooltip"] = f"{escape(p['name'])}（{escape(p['code'])}）<br>{p['targets']:,}"
    values = [f["properties"]["targets"] for f in townships["features"]]
    breaks = choropleth.breaks_for(values)
    minx, miny, maxx, maxy = choropleth.district_bounds(district)
    colors = palette.domain_colors(domains)
    return html.Div(
        className="lg-body",
        children=[
            html.Div(
                className="lg-map-wrap",
                children=[
                    filter_bar(townships, domains),
                    alarm_panel.banner_strip(),
                    basemap.leaflet_map(
                        ids.OVERVIEW_MAP,
                        web_config(),
                        dl.GeoJSON(
                            id=ids.TOWNSHIP_LAYER,
                            data=townships,
                            style={"variable": "lawgrid.townshipStyle"},
                            hideout={"breaks": breaks, "colors": choropleth.COUNT_COLORS, "property": "targets"},
                            hoverStyle={"weight": 3, "color": "#1f3b64"},
                        ),
                        dl.GeoJSON(id=ids.HEAT_LAYER, style={"variable": "lawgrid.heatStyle"}, hideout={"max": 1}),
                        dl.GeoJSON(
                            id=ids.TARGETS_LAYER,
                            pointToLayer={"variable": "lawgrid.targetPoint"},
                            hideout={"colors": colors},
                        ),
                        district=district,
                        # The live layer is drawn by lawgrid-02-live.js on this map (see lawgrid.captureMap).
                        on_layeradd="lawgrid.captureMap",
                        # centre and zoom, not bounds: dash-leaflet's viewport tracking compares against them
                        center=[(miny + maxy) / 2, (minx + maxx) / 2],
                        zoom=10,
                        trackViewport=True,
                    ),
                    html.Div(
                        id=ids.TOWNSHIP_LEGEND,
                        className="lg-legend",
                        children=choropleth.legend(
                            t("overview.targets"), breaks, choropleth.COUNT_COLORS, max(values or [0])
                        ),
                    ),
                    DashSocketIO(id=ids.LIVE_SOCKET, url="/live", eventNames=["positions", "alarm", "inspection"]),
                    dcc.Store(id=ids.LIVE_SOCKET_STATE),
                    dcc.Store(id=ids.LIVE_INITIAL, data=live_rows(live_now)),
                    dcc.Store(id=ids.LIVE_ON_TASK, data=on_task),
                    dcc.Store(id=ids.LIVE_ON_TASK_APPLIED),
                    dcc.Store(id=ids.LIVE_APPLIED),
                    *live_panel.stores(),
                    # the target card opens over the map, beside the target clicked
                    html.Div(
                        id=ids.TARGET_CARD_FLOAT,
                        className="lg-card-float",
                        style={"display": "none"},
                        children=[
                            html.Button("×", id=ids.CARD_CLOSE, className="lg-card-close", n_clicks=0),
                            html.Div(id=ids.TARGET_CARD, className="lg-panel", children=target_card_view(None, "zh")),
                        ],
                    ),
                    html.Details(
                        id=ids.MAP_LEGEND,
                        className="lg-legend lg-legend-map",
                        open=False,
                        children=live_panel.legend(domains, "zh"),
                    ),
                ],
            ),
            html.Div(
                className="lg-side",
                children=[
                    html.H2(id=ids.OVERVIEW_HEADING, children=t("overview.heading"), style={"fontSize": "16px"}),
                    html.Div(
                        className="lg-cards",
                        children=[
                            _card(ids.CARD_TARGETS, counts["target"], "overview.total"),
                            _card(ids.CARD_UNITS, counts["enforcement_unit"], "overview.units"),
                            _card(ids.CARD_OFFICERS, counts["officer"], "overview.officers"),
                            _card(ids.CARD_DEVICES, counts["device"], "overview.devices"),
                        ],
                    ),
                    alarm_panel.panel(alarms, scope),
                    # The chart (and plotly.js, 3.6 MB to parse) comes once the map is up:
                    # lawgrid.showChart draws the figure into the slot.
                    html.Div(id=ids.TOWNSHIP_CHART_SLOT, style={"minHeight": "520px"}),
                    dcc.Store(id=ids.TOWNSHIP_FIGURE, data=township_chart(townships, "zh")),
                    html.P(id=ids.OVERVIEW_APPROXIMATE, className="lg-note", children=t("overview.approximate")),
                ],
            ),
        ],
    )


def filter_bar(townships: dict, domains: list[dict]):
    towns = sorted((f["properties"] for f in townships["features"]), key=lambda p: p["code"])
    return html.Div(
        className="lg-filterbar",
        children=[
            dcc.Dropdown(
                id=ids.F_TOWNSHIP,
                multi=True,
                placeholder=t("filter.township"),
                style={"minWidth": "200px"},
                options=[{"label": p["name"], "value": p["code"]} for p in towns],
            ),
            dcc.Dropdown(
                id=ids.F_DOMAIN,
                multi=True,
                placeholder=t("filter.domain"),
                style={"minWidth": "220px"},
                options=domain_options(domains, "zh"),
            ),
            dcc.Checklist(id=ids.F_RISK, options=risk_options("zh"), value=[], inline=True, style={"color": "#e6edf6"}),
            dcc.Input(
                id=ids.F_Q, type="search", debounce=True, placeholder=t("filter.search"), style={"width": "220px"}
            ),
            dcc.RadioItems(id=ids.F_COLOUR, options=colour_options("zh"), value="targets", inline=True),
            dcc.Checklist(
                id=ids.LIVE_FOLLOW,
                options=[{"label": t("live.follow"), "value": "follow"}],
                value=[],
                inline=True,
                style={"color": "#e6edf6"},
            ),
            live_panel.finder(),
            html.Span(id=ids.LIVE_SELECTED, className="lg-note"),
            dcc.Dropdown(
                id=ids.F_HEAT,
                options=heat_options("zh"),
                value=None,
                placeholder=t("heat.off"),
                style={"minWidth": "170px"},
            ),
            dcc.Store(id=ids.DOMAIN_NAMES, data=domains),
        ],
    )


def colour_options(lang: str) -> list[dict]:
    return [{"label": t(f"overview.colour.{k}", lang), "value": k} for k in ("targets", "coverage")]


def domain_options(domains: list[dict], lang: str) -> list[dict]:
    return [{"label": d["en" if lang == "en" else "zh"], "value": d["key"]} for d in domains]


HEAT_WINDOWS = {"24h": 1, "7d": 7, "30d": 30, "inspections-7d": 7, "inspections-30d": 30}


def heat_options(lang: str) -> list[dict]:
    return [{"label": t(f"heat.{key}", lang), "value": key} for key in HEAT_WINDOWS]


def alarm_heat(window, _alarm):
    """Alarms, or completed inspections, over the chosen window as a heat grid; alarms are
    kept current as they arrive."""
    if window not in HEAT_WINDOWS:
        return {"type": "FeatureCollection", "features": []}, {"max": 1}
    if dash.ctx.triggered_id == ids.LIVE_SOCKET and window.startswith("inspections"):
        return no_update, no_update
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=HEAT_WINDOWS[window])
    scope = current_scope()
    with _runtime().session() as session:
        if window.startswith("inspections"):
            heat = trends.inspection_heat(session, since.astimezone(coverage_view.BEIJING).date(), scope.unit_ids)
        else:
            heat = fleet.alarm_heat(session, scope, since)
    return heat, {"max": max(1, heat["max"])}


def risk_options(lang: str) -> list[dict]:
    return [{"label": t(f"risk.{r}", lang), "value": r} for r in (1, 2, 3, 4)]


def filter_townships(towns, domains, risks, colour_by, lang, hideout):
    """Township colours, legend and chart follow the filters; coloured by target counts or by
    this month's coverage (of one selected domain or risk level, else of all)."""
    lang = lang or "zh"
    with _runtime().session() as session:
        names = queries.township_names(session)
        if colour_by == "coverage":
            window = model.parse_window(None, None, "month", coverage_view.today())
            flt = model.Filter(
                domain=domains[0] if domains and len(domains) == 1 else None,
                risk=risks[0] if risks and len(risks) == 1 else None,
                unit_ids=current_scope().unit_ids,
            )
            values = {g["key"]: g["ratio"] for g in coverage_counts.coverage(session, "township", window, flt)}
        else:
            values = target_map.township_counts(
                session, target_map.TargetFilter(domains=domains or [], risks=risks or [])
            )
    shown = [code for code in names if not towns or code in towns]
    rows = [{"name": names[code], "code": code, "value": values.get(code) or 0} for code in shown]
    if colour_by == "coverage":
        breaks, colors = choropleth.RATIO_BREAKS, choropleth.RATIO_COLORS
        legend_children = choropleth.legend(t("overview.colour.coverage", lang), breaks, colors, 1, percent=True)
    else:
        breaks, colors = choropleth.breaks_for([r["value"] for r in rows]), choropleth.COUNT_COLORS
        legend_children = choropleth.legend(
            t("overview.targets", lang), breaks, colors, max([r["value"] for r in rows] or [0])
        )
    hideout = {
        **(hideout or {}),
        "breaks": breaks,
        "colors": colors,
        "counts": {code: values.get(code) or 0 for code in shown},
    }
    return hideout, legend_children, township_chart(rows, lang, percent=colour_by == "coverage")


def fly_to_search(q, towns, domains, risks):
    """A search moves the map to what it found."""
    if not q or not q.strip():
        return no_update
    flt = target_map.TargetFilter(townships=towns or [], domains=domains or [], risks=risks or [], q=q)
    with _runtime().session() as session:
        extent = target_map.search_extent(session, flt)
    if extent is None:
        return no_update
    w, s, e, n = extent
    if e - w < 0.002 and n - s < 0.002:
        return {"center": [(s + n) / 2, (w + e) / 2], "zoom": 17, "transition": "flyTo"}
    return {"bounds": [[s, w], [n, e]], "transition": "flyToBounds"}


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


def devices_on_task(_event):
    """A task changed: which crews' devices are now on a task (drawn in the on-task colour)."""
    with _runtime().session() as session:
        return fleet.devices_on_task(session, current_scope())


def live_rows(devices: list[dict]) -> list[list]:
    """The devices' last known positions, as the rows the socket pushes."""
    return [
        [d["id"], d["lat"], d["lon"], d["state"], d["recording"], "sos" in (d["alarms"] or []), d["fix_time"]]
        for d in devices
        if d["lat"] is not None
    ]


def _card(card_id: str, value: int, label_key: str):
    return html.Div(
        className="lg-card",
        id=card_id,
        children=[
            html.Div(className="value", children=f"{value:,}"),
            html.Div(className="label", children=t(label_key), id=f"{card_id}-label"),
        ],
    )


def township_chart(townships_or_rows, lang: str, percent: bool = False) -> go.Figure:
    """Townships as sorted bars: target counts, or coverage in percent."""
    rows = townships_or_rows
    if isinstance(rows, dict):
        rows = [{"name": f["properties"]["name"], "value": f["properties"]["targets"]} for f in rows["features"]]
    rows = sorted(rows, key=lambda r: r["value"])
    scale = 100 if percent else 1
    figure = go.Figure(
        go.Bar(
            x=[r["value"] * scale for r in rows],
            y=[r["name"] for r in rows],
            orientation="h",
            marker_color=[choropleth.ratio_colour(r["value"]) for r in rows] if percent else "#fd8d3c",
            hovertemplate="%{y}: %{x:.1f}%<extra></extra>" if percent else "%{y}: %{x:,}<extra></extra>",
        )
    )
    figure.update_layout(
        title=t("overview.chart_coverage" if percent else "overview.chart", lang),
        margin=dict(l=10, r=10, t=40, b=10),
        paper_bgcolor="#13243d",
        plot_bgcolor="#13243d",
        font=dict(color="#e6edf6", size=11),
        xaxis=dict(title="%" if percent else t("overview.targets", lang), gridcolor="#24406a"),
        yaxis=dict(automargin=True),
    )
    return figure


def translate_overview(lang):
    with _runtime().session() as session:
        domains = queries.domains(session)
    return (
        t("overview.heading", lang),
        t("overview.approximate", lang),
        t("overview.total", lang),
        t("overview.units", lang),
        t("overview.officers", lang),
        t("overview.devices", lang),
        t("filter.township", lang),
        t("filter.domain", lang),
        domain_options(domains, lang),
        risk_options(lang),
        t("filter.search", lang),
        heat_options(lang),
        t("heat.off", lang),
        [{"label": t("live.follow", lang), "value": "follow"}],
        colour_options(lang),
    )
