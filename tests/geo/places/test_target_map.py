"""The targets layer: grid cells agree with a recount of the targets under every filter,
points and search find the right targets, and bad viewports are 4xx JSON errors."""

import json

import pytest
from sqlalchemy import text

from geo.infra import db
from geo.places import target_map
from geo.places.target_map import TargetFilter
from lawgrid.app import create_app
from tests.conftest import PASSWORD, SEED_TARGETS
from tests.webutil import login

DISTRICT = (117.0, 38.5, 118.1, 39.4)


def features(session, bbox, zoom, **kw):
    return json.loads(target_map.viewport_geojson(session, bbox, zoom, TargetFilter(**kw)))


def recount(session, where: str = "true", **params) -> int:
    return session.execute(text(f"SELECT count(*) FROM target t WHERE {where}"), params).scalar_one()


@pytest.mark.parametrize("zoom", [8, 10, 12, 15])
def test_cells_at_every_level_count_every_target_once(session, zoom):
    body = features(session, DISTRICT, zoom)
    assert body["mode"] == "cells"
    assert sum(f["properties"]["n"] for f in body["features"]) == SEED_TARGETS
    # Finer levels show more, smaller cells.
    assert len(body["features"]) > (1 if zoom > 8 else 0)


def test_filters_on_cells_match_a_recount(session):
    town = session.execute(
        text(
            "SELECT township_code FROM target WHERE township_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
    ).scalar_one()
    cases = [
        (dict(domains=["health"]), "domains && ARRAY['health']"),
        (dict(domains=["health", "market_regulation"]), "domains && ARRAY['health', 'market_regulation']"),
        (dict(risks=[3, 4]), "risk_level IN (3, 4)"),
        (
            dict(townships=[town], domains=["market_regulation"], risks=[1]),
            f"township_code = '{town}' AND domains && ARRAY['market_regulation'] AND risk_level = 1",
        ),
    ]
    for kw, where in cases:
        body = features(session, DISTRICT, 11, **kw)
        assert sum(f["properties"]["n"] for f in body["features"]) == recount(session, where), kw


def test_cells_are_coloured_by_their_commonest_domain(session):
    body = features(session, DISTRICT, 9)
    keys = set(session.execute(text("SELECT key FROM domain")).scalars())
    assert {f["properties"]["d"] for f in body["features"]} <= keys
    # market_regulation is 42 % of the synthetic registry: it dominates most cells.
    dominant = [f["properties"]["d"] for f in body["features"]]
    assert dominant.count("market_regulation") > len(dominant) / 2


def test_points_from_zoom_16_are_the_targets_in_the_box(session):
    lon, lat = session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM target ORDER BY id LIMIT 1")).one()
    box = (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
    body = features(session, box, 16)
    assert body["mode"] == "points" and body["truncated"] is False
    ids = {f["id"] for f in body["features"]}
    expected = set(
        session.execute(
            text("SELECT id FROM target WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"),
            dict(zip("wsen", box, strict=True)),
        ).scalars()
    )
    assert ids == expected and ids


def test_a_busy_viewport_sends_exactly_its_cap_and_says_it_is_truncated(session):
    lon, lat = session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM target ORDER BY id LIMIT 1")).one()
    box = (lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)
    inside = session.execute(
        text("SELECT count(*) FROM target WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"),
        dict(zip("wsen", box, strict=True)),
    ).scalar()
    cap = inside - 1
    body = json.loads(target_map.viewport_geojson(session, box, 16, target_map.TargetFilter(), point_limit=cap))
    assert len(body["features"]) == cap and body["truncated"] is True and body["limit"] == cap
    whole = json.loads(target_map.viewport_geojson(session, box, 16, target_map.TargetFilter(), point_limit=inside))
    assert len(whole["features"]) == inside and whole["truncated"] is False


def test_search_by_credit_code_and_by_name(session):
    tid, code, name = session.execute(
        text("SELECT id, credit_code, name FROM target WHERE credit_code IS NOT NULL ORDER BY id LIMIT 1")
    ).one()
    body = features(session, DISTRICT, 10, q=code.lower())
    assert body["mode"] == "search" and body["features"][0]["id"] == tid
    body = features(session, DISTRICT, 10, q=name[4:8])
    assert all(name[4:8] in f["properties"]["name"] for f in body["features"])
    assert tid in {f["id"] for f in body["features"]} or body["truncated"]


def test_township_counts_follow_the_filters(session):
    counts = target_map.township_counts(session, TargetFilter(domains=["health"]))
    assert sum(counts.values()) == recount(session, "domains && ARRAY['health'] AND township_code IS NOT NULL")


def test_refresh_follows_the_registry(session):
    before = features(session, DISTRICT, 10)
    session.execute(
        text(  # targets no inspection or recusal refers to (other modules commit some)
            "DELETE FROM target WHERE id IN (SELECT id FROM target t WHERE NOT EXISTS (SELECT 1 FROM inspection i "
            "WHERE i.target_id = t.id) AND NOT EXISTS (SELECT 1 FROM recusal r WHERE r.target_id = t.id) "
            "ORDER BY id LIMIT 100)"
        )
    )
    target_map.refresh_target_cells(session)
    after = features(session, DISTRICT, 10)
    total = lambda b: sum(f["properties"]["n"] for f in b["features"])  # noqa: E731
    assert total(before) - total(after) == 100


@pytest.fixture(scope="module")
def client(runtime, users):
    app = create_app(runtime.settings, runtime)
    client = app.server.test_client()
    assert login(client, users["operator"], PASSWORD).status_code == 302
    return client


def test_cells_revalidate_without_a_query_until_the_pyramid_is_rebuilt(client, engine):
    url = "/api/targets/map?bbox=117.0,38.5,118.1,39.4&zoom=11&risk=3"
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    assert client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag}).status_code == 304
    other = client.get(url.replace("risk=3", "risk=4"), headers={"If-None-Match": etag})
    assert other.status_code == 200  # another question, another tag
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        target_map.refresh_target_cells(s)  # the registry changed: the cells are rebuilt
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
    close = "/api/targets/map?bbox=117.60,38.95,117.70,39.05&zoom=16"  # the targets themselves
    tag = client.get(close).headers["ETag"]
    assert client.get(close, headers={"If-None-Match": tag}).status_code == 304


def test_api_serves_viewports_and_cards(client, engine):
    r = client.get("/api/targets/map?bbox=117.0,38.5,118.1,39.4&zoom=10&domain=health&risk=4")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert r.get_json()["mode"] == "cells"
    with engine.connect() as c:
        tid = c.execute(text("SELECT id FROM target ORDER BY id LIMIT 1")).scalar_one()
    card = client.get(f"/api/targets/{tid}").get_json()
    assert card["id"] == tid and card["township"] and card["domains"][0]["zh"]


@pytest.mark.parametrize(
    "query, detail",
    [
        ("zoom=10", "bbox"),
        ("bbox=1,2,3&zoom=10", "west,south,east,north"),
        ("bbox=118,38,117,39&zoom=10", "west < east"),
        ("bbox=100,20,130,50&zoom=10", "larger than"),
        ("bbox=117,38,118,39&zoom=ten", "zoom must be an integer"),
        ("bbox=117,38,118,39&zoom=10&risk=9", "risk must be between 1 and 4"),
        ("bbox=117,38,118,39&zoom=10&domain=astrology", "unknown domain"),
        ("bbox=117,38,118,39&zoom=10&township=999", "township"),
    ],
)
def test_api_rejects_bad_viewports_with_a_reason(client, query, detail):
    r = client.get("/api/targets/map?" + query)
    assert r.status_code == 400
    assert detail in r.get_json()["detail"]


def test_api_lists_targets_with_filters_and_a_limit(client, engine):
    body = client.get("/api/targets?domain=health&risk=4&limit=10000").get_json()
    with engine.connect() as c:
        expected = c.execute(
            text("SELECT count(*) FROM target WHERE 'health' = ANY(domains) AND risk_level = 4")
        ).scalar()
    assert len(body["features"]) == expected and body["truncated"] is False
    assert all("health" in f["properties"]["domains"] and f["properties"]["risk_level"] == 4 for f in body["features"])
    few = client.get("/api/targets?limit=5&bbox=117.0,38.5,118.1,39.4").get_json()
    assert len(few["features"]) == 5 and few["truncated"] is True
    lon, lat = few["features"][0]["geometry"]["coordinates"]
    assert 117 < lon < 118.1 and 38.5 < lat < 39.4
    assert client.get("/api/targets?limit=0").status_code == 400


def test_api_card_of_a_missing_target_is_404(client):
    assert client.get("/api/targets/999999999").status_code == 404


def test_targets_need_a_login(runtime):
    anonymous = create_app(runtime.settings, runtime).server.test_client()
    assert anonymous.get("/api/targets/map?bbox=117,38,118,39&zoom=10").status_code == 401


def test_base_map_settings_are_checked_at_start(runtime):
    from dashboard.basemap import BasemapError, basemaps
    from dashboard.config import WebConfig
    from lawgrid.settings import Settings

    assert basemaps(WebConfig()) == []  # offline by default
    with pytest.raises(BasemapError, match="LAWGRID_TIANDITU_KEY"):
        create_app(Settings(database_url=runtime.url, basemap="tianditu"), runtime)
    with pytest.raises(BasemapError, match="none, tianditu, autonavi or osm"):
        basemaps(WebConfig(basemap="google"))
    (amap,) = basemaps(WebConfig(basemap="autonavi"))
    assert amap.crs == "gcj02"
    layers = basemaps(WebConfig(basemap="tianditu", tianditu_key="k"))
    assert len(layers) == 2 and all(layer.url.endswith("tk=k") for layer in layers)


def test_viewports_travel_compressed_and_a_map_panned_back_gets_304(client):
    import gzip

    url = "/api/targets/map?bbox=117.0,38.5,118.1,39.4&zoom=10"
    plain = client.get(url)
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert len(packed.data) < len(plain.data) / 3  # GeoJSON compresses well
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()
    etag = packed.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and not again.data
