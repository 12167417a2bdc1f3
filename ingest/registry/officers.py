"""`lawgrid import officers FILE`: officers with their certificates, units and areas."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.places import derived, queries
from ingest.registry.fields import DUTY_WORDS, OFFICER_FIELDS, _parse_date
from ingest.tables import ImportReport, read_rows, split_list


# -- officers -------------------------------------------------------------------------
def import_officers(
    session: Session, path: Path, *, mapping: dict[str, str] | None = None, rejects_path: Path | None = None
) -> ImportReport:
    report = ImportReport("officers", path)
    rows, _ = read_rows(path, OFFICER_FIELDS, mapping, report.notes)
    units = {}
    for uid, code, name in session.execute(text("SELECT id, code, name FROM enforcement_unit")).all():
        units[code] = units[name] = uid
    unit_area: dict[int, set[str]] = {}
    for uid, code in session.execute(text("SELECT unit_id, township_code FROM unit_area")).all():
        unit_area.setdefault(uid, set()).add(code)
    town_by_name = {name: code for code, name in queries.township_names(session).items()}
    organ_of_unit: dict[int, int] = dict(
        session.execute(
            text("SELECT unit_id, min(id) FROM enforcement_body WHERE kind = 'organ' GROUP BY unit_id")
        ).all()
    )

    seen: dict[str, int] = {}
    for row in rows:
        if row.problem:
            report.reject(row.line, row.problem)
            continue
        v = row.values
        cert = str(v.get("cert_no") or "")
        problem = None
        unit_id = units.get(str(v.get("unit"))) if v.get("unit") else None
        start, end = _parse_date(v.get("cert_valid_from")), _parse_date(v.get("cert_valid_to"))
        duty = DUTY_WORDS.get(str(v.get("duty_state") or "off_duty").lower())
        towns = [town_by_name.get(t, t)[:9] for t in split_list(v.get("townships"))]
        if not cert:
            problem = "certificate number (执法证号) is empty"
        elif cert in seen:
            problem = f"duplicate certificate {cert} (first on line {seen[cert]})"
        elif not v.get("name"):
            problem = "name is empty"
        elif unit_id is None:
            problem = f"unknown enforcement unit {v.get('unit')!r}"
        elif start is None or end is None:
            problem = "certificate validity dates must be YYYY-MM-DD"
        elif end < start:
            problem = f"certificate valid to {end} is before valid from {start}"
        elif duty is None:
            problem = f"duty state {v.get('duty_state')!r} is not on_duty/off_duty/on_task"
        elif not towns:
            problem = "no assigned township (负责区域)"
        else:
            outside = [t for t in towns if t not in unit_area.get(unit_id, set())]
            if outside:
                problem = f"townships {', '.join(outside)} are outside the unit's area"
        if problem:
            report.reject(row.line, problem)
            continue
        seen[cert] = row.line
        officer_id = session.execute(
            text(
                """
            INSERT INTO officer (cert_no, name, unit_id, body_id, cert_valid_from, cert_valid_to,
                                 duty_state, phone)
            VALUES (:cert, :name, :unit, :body, :start, :end, :duty, :phone)
            ON CONFLICT (cert_no) DO UPDATE SET name = EXCLUDED.name, unit_id = EXCLUDED.unit_id,
                body_id = EXCLUDED.body_id, cert_valid_from = EXCLUDED.cert_valid_from,
                cert_valid_to = EXCLUDED.cert_valid_to, duty_state = EXCLUDED.duty_state,
                phone = EXCLUDED.phone
            RETURNING id, (xmax = 0)
            """
            ),
            dict(
                cert=cert,
                name=v["name"],
                unit=unit_id,
                body=organ_of_unit.get(unit_id) if unit_id is not None else None,
                start=start,
                end=end,
                duty=duty,
                phone=v.get("phone"),
            ),
        ).one()
        report.inserted += bool(officer_id[1])
        report.updated += not officer_id[1]
        session.execute(text("DELETE FROM officer_area WHERE officer_id = :o"), {"o": officer_id[0]})
        session.execute(
            text("INSERT INTO officer_area VALUES (:o, :t)"), [dict(o=officer_id[0], t=t) for t in sorted(set(towns))]
        )
        report.loaded += 1
    if report.loaded:
        derived.registry_changed(session)  # officer scopes decide coverage of officers
    report.write_rejects(rejects_path)
    return report
