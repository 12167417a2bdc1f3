"""The synthetic registry at the real district's shape."""

import hashlib

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from demo.seed import seed_all
from geo.infra import db
from geo.infra.errors import Conflict
from geo.places import queries
from geo.places.credit_code import credit_code_error
from geo.places.reference import load_reference
from lawgrid.runtime import REFERENCE_DIR
from tests.casework import file
from tests.conftest import SEED_OFFICERS, SEED_TARGETS


def test_organisation_has_the_real_district_shape(session):
    counts = queries.registry_counts(session)
    assert counts["enforcement_unit"] == 55
    assert counts["enforcement_body"] == 92
    assert counts["officer"] == SEED_OFFICERS
    assert counts["device"] == 2 * SEED_OFFICERS
    assert counts["target"] == SEED_TARGETS
    per_officer = session.execute(
        text(
            "SELECT DISTINCT count(*) FILTER (WHERE kind = 'terminal'), "
            "count(*) FILTER (WHERE kind = 'body_camera') FROM device GROUP BY officer_id"
        )
    ).all()
    assert per_officer == [(1, 1)]


def test_some_certificates_are_expired_and_areas_lie_within_the_unit(session):
    expired = session.execute(text("SELECT count(*) FROM officer WHERE cert_valid_to < current_date")).scalar()
    assert 0 < expired < SEED_OFFICERS * 0.1
    outside = session.execute(
        text(
            """SELECT count(*) FROM officer_area oa JOIN officer o ON o.id = oa.officer_id
           LEFT JOIN unit_area ua ON ua.unit_id = o.unit_id AND ua.township_code = oa.township_code
           WHERE ua.unit_id IS NULL"""
        )
    ).scalar()
    assert outside == 0
    without_area = session.execute(
        text("SELECT count(*) FROM officer o WHERE NOT EXISTS (SELECT 1 FROM officer_area a WHERE a.officer_id = o.id)")
    ).scalar()
    assert without_area == 0


def test_every_unit_has_powers_in_its_domains(session):
    rows = session.execute(
        text(
            """SELECT u.id, u.domains, array_agg(DISTINCT p.domain_key) FROM enforcement_unit u
           JOIN power_item p ON p.unit_id = u.id GROUP BY u.id"""
        )
    ).all()
    assert len(rows) == 55
    assert all(set(doms) == set(powers) for _, doms, powers in rows)


def test_targets_are_valid_inside_and_joined_to_the_right_township(session):
    codes = session.execute(text("SELECT credit_code FROM target WHERE kind = 'entity'")).scalars().all()
    assert len(codes) > SEED_TARGETS * 0.8
    assert all(credit_code_error(c) is None for c in codes)
    wrong = session.execute(
        text(
            """SELECT count(*) FROM target t JOIN township w ON w.code = t.township_code
           WHERE NOT ST_Covers(w.geom, t.geom)"""
        )
    ).scalar()
    assert wrong == 0
    outside = session.execute(
        text("SELECT count(*) FROM target t, district d WHERE NOT ST_Covers(d.geom, t.geom)")
    ).scalar()
    assert outside == 0
    assert session.execute(text("SELECT count(*) FROM target WHERE township_code IS NULL")).scalar() == 0


def test_density_is_urban(session):
    """Tanggu's streets hold far more targets per km² than the rural towns."""
    dens = dict(
        session.execute(
            text(
                """SELECT w.code, count(t.id) / (ST_Area(w.geom::geography) / 1e6)
           FROM township w LEFT JOIN target t ON t.township_code = w.code GROUP BY w.code, w.geom"""
            )
        ).all()
    )
    assert dens["120116001"] > 10 * dens["120116157"]  # 塘沽街道 vs 小王庄镇


def _fingerprint(session) -> str:
    rows = session.execute(
        text("SELECT key, name, domains::text, risk_level, ST_AsText(geom) FROM target ORDER BY key")
    ).all()
    officers = session.execute(text("SELECT cert_no, name, unit_id FROM officer ORDER BY cert_no")).all()
    return hashlib.sha256(repr((rows, officers)).encode()).hexdigest()


@pytest.fixture(scope="module")
def own_database(databases):
    """Re-seeding replaces the organisation, which the shared database's committed cases
    forbid (their history is kept): this test seeds a database of its own."""
    url = databases.fresh("lawgrid_seed")
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        load_reference(s, REFERENCE_DIR)
    yield engine
    engine.dispose()


def test_seed_is_deterministic(own_database):
    with Session(own_database) as session:
        _deterministic(session)


def test_seed_refuses_to_replace_an_organisation_that_has_cases(session, users):
    file(session)
    with pytest.raises(Conflict, match="case histories"):
        seed_all(session, targets=100, officers=10, seed=5, progress=False)


def _deterministic(session):
    seed_all(session, targets=2_000, officers=100, seed=5, progress=False)
    first = _fingerprint(session)
    seed_all(session, targets=2_000, officers=100, seed=5, progress=False)
    assert _fingerprint(session) == first
    seed_all(session, targets=2_000, officers=100, seed=6, progress=False)
    assert _fingerprint(session) != first


def test_sample_points_stay_inside_the_outline(session):
    import numpy as np

    from demo.synthetic import sample_points

    outline = queries.district_outline(session)
    pts = sample_points(outline, 5_000, np.random.default_rng(3))
    assert shapely.contains_xy(outline, pts[:, 0], pts[:, 1]).all()
    assert len(np.unique(pts, axis=0)) > 4_900
