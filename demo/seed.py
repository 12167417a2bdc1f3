"""`lawgrid seed`: write the synthetic registry into PostGIS (COPY for the targets)."""

from __future__ import annotations

import datetime as dt
import sys
import time

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session
from tqdm import tqdm

from demo import synthetic
from geo.cases.items import loading
from geo.documents import templates
from geo.infra.bulk import TARGET_COPY_COLUMNS, copy_text
from geo.infra.errors import Conflict
from geo.infra.timezone import today as beijing_today
from geo.places import derived, queries
from ingest.jt808.profiles import DEFAULT_BY_KIND as DEFAULT_PROFILE

NULL = r"\N"


def _or_null(value: str | None) -> str:
    return value if value else NULL


ORG_TABLES = "position, device, officer_area, officer, power_item, enforcement_body, unit_area, enforcement_unit"


def seed_organisation(session: Session, *, officers: int, seed: int, today: dt.date | None = None) -> dict:
    """Replace units, bodies, the power list, officers and devices with a synthetic set."""
    today = today or beijing_today()
    rng = np.random.default_rng(seed)
    names = queries.township_names(session)
    org = synthetic.build_organisation(names, rng)
    people = synthetic.build_officers(org, officers, rng, today)
    devices = synthetic.build_devices(people)
    if session.execute(text("SELECT 1 FROM case_event LIMIT 1")).first() is not None:
        # replacing the organisation would take the cases with it, and a case's history is kept
        raise Conflict("this database holds case histories, which are never deleted: seed a fresh database")
    session.execute(text(f"TRUNCATE {ORG_TABLES} RESTART IDENTITY CASCADE"))
    conn = session.connection()
    conn.execute(
        text(
            "INSERT INTO enforcement_unit (id, code, name, kind, township_code, domains) "
            "VALUES (:id, :code, :name, :kind, :township_code, :domains)"
        ),
        [{k: u[k] for k in ("id", "code", "name", "kind", "township_code", "domains")} for u in org.units],
    )
    conn.execute(text("INSERT INTO unit_area VALUES (:u, :t)"), [dict(u=u, t=t) for u, t in org.unit_areas])
    conn.execute(
        text("INSERT INTO enforcement_body (code, name, kind, unit_id) VALUES (:code, :name, :kind, :unit_id)"),
        org.bodies,
    )
    conn.execute(
        text(
            "INSERT INTO power_item (unit_id, domain_key, power_type_key, item_code, "
            "item_name, legal_basis) VALUES (:unit_id, :domain_key, :power_type_key, "
            ":item_code, :item_name, :legal_basis)"
        ),
        org.power_items,
    )
    loading.load_seed(session)  # the power list's codified items (idempotent: a loaded version is kept)
    templates.load_seed(session)  # the document templates (idempotent, like the items)
    copy_text(
        session,
        "officer",
        (
            "id",
            "cert_no",
            "name",
            "unit_id",
            "body_id",
            "cert_valid_from",
            "cert_valid_to",
            "duty_state",
            "daily_task_cap",
            "phone",
        ),
        [
            "".join(
                f"{o['id']}\t{o['cert_no']}\t{o['name']}\t{o['unit_id']}\t{o['body_id']}\t"
                f"{o['cert_valid_from']}\t{o['cert_valid_to']}\t{o['duty_state']}\t"
                f"{o['daily_task_cap']}\t{o['phone']}\n"
                for o in people
            )
        ],
    )
    copy_text(
        session,
        "officer_area",
        ("officer_id", "township_code"),
        ["".join(f"{o['id']}\t{t}\n" for o in people for t in o["townships"])],
    )
    copy_text(
        session,
        "device",
        ("kind", "protocol", "identifier", "officer_id", "profile", "terminal_id", "device_key"),
        [
            "".join(
                f"{d['kind']}\t{d['protocol']}\t{d['identifier']}\t{d['officer_id']}\t{DEFAULT_PROFILE[d['kind']]}\t"
                f"{_or_null(d['terminal_id'])}\t{_or_null(d['device_key'])}\n"
                for d in devices
            )
        ],
    )
    session.execute(text("SELECT setval('officer_id_seq', (SELECT max(id) FROM officer))"))
    session.execute(text("SELECT setval('enforcement_unit_id_seq', (SELECT max(id) FROM enforcement_unit))"))
    return {
        "units": len(org.units),
        "bodies": len(org.bodies),
        "power_items": len(org.power_items),
        "officers": len(people),
        "devices": len(devices),
        "expired_certificates": sum(o["cert_valid_to"] < today for o in people),
    }


def seed_targets(session: Session, *, targets: int, seed: int, progress: bool = True, analyze: bool = True) -> dict:
    """Replace the target registry with `targets` synthetic ones, written with COPY."""
    outline = queries.district_outline(session)
    codes, polygons, names = queries.township_polygons(session)
    session.execute(text("TRUNCATE target RESTART IDENTITY CASCADE"))
    bar = tqdm(total=targets, unit="targets", desc="targets", disable=not progress, file=sys.stderr, mininterval=0.5)
    t0 = time.perf_counter()

    def chunks():
        for m, chunk in synthetic.target_chunks(outline, codes, polygons, names, targets, seed):
            yield chunk
            bar.update(m)

    copy_text(session, "target", TARGET_COPY_COLUMNS, chunks())
    bar.close()
    if analyze:
        session.execute(text("ANALYZE target"))
    return {"targets": targets, "seconds": round(time.perf_counter() - t0, 2)}


def seed_all(
    session: Session, *, targets: int, officers: int, seed: int, progress: bool = True, inspections: int = 0
) -> dict:
    summary = seed_organisation(session, officers=officers, seed=seed)
    summary.update(seed_targets(session, targets=targets, seed=seed, progress=progress))
    if inspections:
        seed_inspection_history(session, inspections, end=dt.datetime.now(dt.UTC), days=365, progress=progress)
        summary["inspections"] = inspections
    summary.update(derived.registry_changed(session))
    return summary


def seed_inspection_history(session: Session, n: int, *, end: dt.datetime, days: int, progress: bool = True) -> None:
    """n completed inspections of pseudo-random targets over the `days` before `end`, each by a
    unit holding the target's first domain with two of its officers; answered within one to
    seven hours, due within four (so some arrive late), results cycling through the three."""
    session.execute(
        text(
            """CREATE TEMP TABLE IF NOT EXISTS dom_units ON COMMIT DROP AS
           SELECT domain_key, array_agg(DISTINCT unit_id) AS units FROM power_item GROUP BY 1"""
        )
    )
    session.execute(
        text(
            """CREATE TEMP TABLE IF NOT EXISTS unit_officers ON COMMIT DROP AS
           SELECT unit_id, array_agg(id ORDER BY id) AS ids FROM officer GROUP BY 1 HAVING count(*) >= 2"""
        )
    )
    max_target = session.execute(text("SELECT max(id) FROM target")).scalar_one()
    first_new = session.execute(text("SELECT coalesce(max(id), 0) FROM inspection")).scalar_one()
    step = 500_000
    bar = tqdm(total=n, unit="inspections", disable=not progress, file=sys.stderr)
    for first in range(0, n, step):
        session.execute(
            text(
                """
            INSERT INTO inspection (target_id, domain_key, source, priority, due_at, crew_size, created_by, status,
                                    result, unit_id, created_at, on_site_at, completed_at)
            SELECT t.id, t.domains[1], 'bulk', 2, done - interval '4 hours', 2, 'history', 'completed',
                   (ARRAY['compliant', 'violation', 'could_not_inspect'])[1 + (g / 11) % 3],
                   du.units[1 + g % cardinality(du.units)], done - interval '8 hours',
                   done - interval '1 hour' * (1 + g % 7), done
            FROM generate_series(CAST(:a AS bigint), :b) g
            CROSS JOIN LATERAL (SELECT CAST(:end AS timestamptz)
                                       - interval '1 minute' * ((g * 2654435761) % :minutes) AS done) d
            JOIN target t ON t.id = 1 + (g * 40503) % :maxid
            JOIN dom_units du ON du.domain_key = t.domains[1]
            """
            ),
            {"a": first + 1, "b": min(n, first + step), "maxid": max_target, "end": end, "minutes": days * 1440},
        )
        bar.update(min(n, first + step) - first)
    bar.close()
    session.execute(
        text(
            """
        INSERT INTO inspection_officer (inspection_id, officer_id, due_day)
        SELECT i.id, uo.ids[1 + (i.id + k) % cardinality(uo.ids)], (timezone('Asia/Shanghai', i.due_at))::date
        FROM inspection i JOIN unit_officers uo ON uo.unit_id = i.unit_id, (VALUES (0), (1)) v(k)
        WHERE i.id > :first
        """
        ),
        {"first": first_new},
    )
    session.execute(text("ANALYZE inspection; ANALYZE inspection_officer"))
