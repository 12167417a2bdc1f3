"""`lawgrid import targets|officers|devices|townships FILE`: validate every row, load the
good ones, report the bad ones with their line numbers and reasons."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra.bulk import copy_escape, copy_text, create_target_stage, pg_text_array, upsert_targets_from_staging
from geo.places import derived, queries
from geo.places.credit_code import credit_code_error
from geo.places.gcj02 import gcj02_to_wgs84
from geo.places.tiling import as_multipolygon
from ingest.jt808.codec import terminal_key
from ingest.jt808.profiles import DEFAULT_BY_KIND as DEFAULT_PROFILE
from ingest.jt808.profiles import PROFILES
from ingest.tables import ImportFileError, ImportReport, apply_mapping, read_rows, split_list

TARGET_FIELDS = {
    "credit_code": ("统一社会信用代码", "信用代码", "uscc", "creditcode", "社会信用代码"),
    "site_code": ("场所编号", "site_id", "site_no", "编号"),
    "name": ("名称", "企业名称", "单位名称", "场所名称", "target_name"),
    "kind": ("类型", "对象类型", "type"),
    "domains": ("执法领域", "领域", "domain"),
    "risk_level": ("风险等级", "risk", "risk_grade"),
    "address": ("地址", "经营地址", "住所"),
    "lon": ("经度", "longitude", "lng", "x"),
    "lat": ("纬度", "latitude", "y"),
}
OFFICER_FIELDS = {
    "cert_no": ("执法证号", "证件号", "certificate", "certificate_no"),
    "name": ("姓名",),
    "unit": ("执法单位", "单位", "unit_code", "单位编码"),
    "cert_valid_from": ("发证日期", "valid_from", "有效期起"),
    "cert_valid_to": ("有效期至", "valid_to", "有效期止"),
    "townships": ("负责区域", "街镇", "area", "township"),
    "duty_state": ("在岗状态", "duty", "状态"),
    "phone": ("电话", "手机", "mobile"),
}
DEVICE_FIELDS = {
    "kind": ("设备类型", "类型", "type", "device_kind"),
    "protocol": ("协议", "protocol_name"),
    "identifier": ("设备号", "终端手机号", "终端号", "device_id", "id", "uniqueid"),
    "officer": ("执法证号", "cert_no", "officer_cert_no", "绑定人员"),
    "profile": ("厂商协议", "设备型号协议", "vendor_profile", "profile"),
    "device_key": ("设备密钥", "key", "device_key"),
    "terminal_id": ("终端ID", "终端id", "终端编号", "terminal_id"),
    "auth_code": ("鉴权码", "auth_code"),
}
TOWNSHIP_FIELDS = {
    "code": ("code_9", "code_12", "adcode", "区划代码", "gb", "xzqdm"),
    "name": ("名称", "乡镇名称", "name_zh"),
}

KIND_WORDS = {
    "entity": "entity",
    "企业": "entity",
    "市场主体": "entity",
    "主体": "entity",
    "site": "site",
    "场所": "site",
    "点位": "site",
}
RISK_WORDS = {
    "低": 1,
    "一般": 2,
    "中": 2,
    "较高": 3,
    "高": 3,
    "重大": 4,
    "极高": 4,
    "low": 1,
    "medium": 2,
    "high": 3,
    "very_high": 4,
}
DEVICE_KIND_WORDS = {
    "terminal": "terminal",
    "移动执法终端": "terminal",
    "终端": "terminal",
    "手机": "terminal",
    "body_camera": "body_camera",
    "执法记录仪": "body_camera",
    "记录仪": "body_camera",
}
DUTY_WORDS = {
    "on_duty": "on_duty",
    "在岗": "on_duty",
    "off_duty": "off_duty",
    "离岗": "off_duty",
    "休息": "off_duty",
    "on_task": "on_task",
    "执勤": "on_task",
}
JT808_ID = re.compile(r"^[0-9A-Fa-f]{11,20}$")  # BCD digits; hex where a vendor packs an IMEI
TERMINAL_ID = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
AUTH_CODE = re.compile(r"^[A-Za-z0-9]{4,32}$")
DEVICE_KEY = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
OSMAND_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _parse_float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _parse_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value is None:
        return None
    text_value = str(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text_value, fmt).date()
        except ValueError:
            continue
    return None


# -- targets --------------------------------------------------------------------------
def import_targets(
    session: Session,
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    gcj02: bool = False,
    rejects_path: Path | None = None,
) -> ImportReport:
    report = ImportReport("targets", path)
    rows, _ = read_rows(path, TARGET_FIELDS, mapping, report.notes)
    if rows and not {"lon", "lat"} <= set(rows[0].values):
        raise ImportFileError(f"{path}: no longitude/latitude columns (经度/纬度, lon/lat) or point geometry")
    domains = queries.known_domains(session)
    zh_to_key: dict[str, str] = dict(session.execute(text("SELECT zh, key FROM domain")).all())
    outline = queries.district_outline(session)
    shapely.prepare(outline)

    good: list[dict] = []
    seen: dict[str, int] = {}
    for row in rows:
        if row.problem:
            report.reject(row.line, row.problem)
            continue
        record, reason = _validate_target(row.values, domains, zh_to_key)
        if reason:
            report.reject(row.line, reason)
            continue
        if record["key"] in seen:
            report.reject(row.line, f"duplicate key {record['key']} (first on line {seen[record['key']]})")
            continue
        seen[record["key"]] = row.line
        record["line"] = row.line
        good.append(record)

    if good:
        lon = np.array([r["lon"] for r in good])
        lat = np.array([r["lat"] for r in good])
        if gcj02:
            lon, lat = gcj02_to_wgs84(lon, lat)
        inside = shapely.contains_xy(outline, lon, lat)
        kept = []
        for record, x, y, ok in zip(good, lon, lat, inside, strict=True):
            if not ok:
                report.reject(record["line"], f"coordinates ({x:.6f}, {y:.6f}) are outside Binhai New Area")
                continue
            record["lon"], record["lat"] = round(float(x), 7), round(float(y), 7)
            kept.append(record)
        good = kept

    if good:
        create_target_stage(session)
        copy_text(
            session,
            "target_stage",
            ("key", "credit_code", "name", "kind", "domains", "risk_level", "address", "geom"),
            [
                "".join(
                    "\t".join(
                        [
                            copy_escape(r["key"]),
                            copy_escape(r["credit_code"]),
                            copy_escape(r["name"]),
                            r["kind"],
                            pg_text_array(r["domains"]),
                            str(r["risk_level"]),
                            copy_escape(r["address"]),
                            f"SRID=4326;POINT({r['lon']} {r['lat']})",
                        ]
                    )
                    + "\n"
                    for r in good
                )
            ],
        )
        counts = upsert_targets_from_staging(session)
        report.inserted, report.updated = counts["inserted"], counts["updated"]
        report.loaded = len(good)
        derived.registry_changed(session)  # the map's cells and coverage facts follow the registry
    report.write_rejects(rejects_path)
    return report


def _validate_target(values: dict, domains: set[str], zh_to_key: dict[str, str]) -> tuple[dict, str | None]:
    name = values.get("name")
    if not name:
        return {}, "name is empty"
    credit = values.get("credit_code")
    credit = str(credit).upper() if credit else None
    site_code = values.get("site_code")
    kind_word = str(values.get("kind") or ("entity" if credit else "site")).lower()
    kind = KIND_WORDS.get(kind_word)
    if kind is None:
        return {}, f"kind {values.get('kind')!r} is neither entity (企业) nor site (场所)"
    if kind == "entity" or credit:
        error = credit_code_error(credit)
        if error:
            return {}, error
    if kind == "entity":
        key = credit
    elif site_code:
        key = f"SITE-{site_code}"
    else:
        return {}, "a site needs a site code (场所编号)"
    target_domains = []
    for word in split_list(values.get("domains")):
        key_word = word if word in domains else zh_to_key.get(word)
        if key_word is None:
            return {}, f"unknown domain {word!r}"
        target_domains.append(key_word)
    if not target_domains:
        return {}, "no enforcement domain given"
    risk_raw = values.get("risk_level")
    risk = RISK_WORDS.get(str(risk_raw).lower()) if risk_raw is not None else 1
    if risk is None:
        number = _parse_float(risk_raw)
        risk = int(number) if number is not None and number.is_integer() else None
    if risk not in (1, 2, 3, 4):
        return {}, f"risk level {risk_raw} is not 1-4 (低/中/高/极高)"
    lon, lat = _parse_float(values.get("lon")), _parse_float(values.get("lat"))
    if lon is None or lat is None:
        return {}, "longitude and latitude must be numbers"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return {}, f"coordinates ({lon}, {lat}) are not longitude/latitude in degrees"
    return dict(
        key=key,
        credit_code=credit,
        name=str(name),
        kind=kind,
        domains=sorted(set(target_domains)),
        risk_level=risk,
        address=values.get("address"),
        lon=lon,
        lat=lat,
    ), None


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


# -- devices --------------------------------------------------------------------------
def import_devices(
    session: Session, path: Path, *, mapping: dict[str, str] | None = None, rejects_path: Path | None = None
) -> ImportReport:
    report = ImportReport("devices", path)
    rows, _ = read_rows(path, DEVICE_FIELDS, mapping, report.notes)
    officers: dict[str, int] = dict(session.execute(text("SELECT cert_no, id FROM officer")).all())
    # A terminal is known by its number as the frame header carries it (terminal_key): a file
    # that spells a known number with other padding updates that device rather than adding one.
    terminals: dict[str, str] = {
        key: ident
        for key, ident in session.execute(
            text("SELECT lawgrid_terminal_key(identifier), identifier FROM device WHERE protocol = 'jt808'")
        )
    }
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.problem:
            report.reject(row.line, row.problem)
            continue
        v = row.values
        kind = DEVICE_KIND_WORDS.get(str(v.get("kind") or "").lower())
        protocol = str(v.get("protocol") or "").lower().replace("/", "").replace(" ", "")
        protocol = {"jtt808": "jt808", "808": "jt808", "traccar": "osmand"}.get(protocol, protocol)
        ident = str(v.get("identifier") or "").strip()
        officer = v.get("officer")
        problem = None
        if kind is None:
            problem = f"device kind {v.get('kind')!r} is neither terminal (移动执法终端) nor body_camera (执法记录仪)"
        elif protocol not in ("jt808", "osmand", "mqtt"):
            problem = f"protocol {v.get('protocol')!r} is not jt808, osmand or mqtt"
        elif protocol == "jt808" and not JT808_ID.match(ident):
            problem = f"JT/T 808 terminal number {ident!r} must be 11 to 20 digits (or hex digits, for a packed IMEI)"
        elif protocol != "jt808" and not OSMAND_ID.match(ident):
            problem = f"device identifier {ident!r} must be 1-64 letters, digits or _.:-"
        if protocol == "jt808" and problem is None:
            ident = terminals.setdefault(terminal_key(ident), ident.lower())
        if problem is None and (protocol, ident) in seen:
            problem = f"duplicate device {protocol}:{ident} (first on line {seen[(protocol, ident)]})"
        if problem is None and officer and str(officer) not in officers:
            problem = f"no officer with certificate {officer}"
        profile = str(v.get("profile") or DEFAULT_PROFILE.get(kind or "", "standard")).strip().lower()
        if problem is None and profile not in PROFILES:
            problem = f"vendor profile {profile!r} is not one of {', '.join(PROFILES)}"
        device_key = str(v.get("device_key") or "").strip() or None
        if problem is None and device_key and not DEVICE_KEY.match(device_key):
            problem = "device key must be 8-128 letters, digits or -_ (it goes in the phone's server URL)"
        terminal_id = str(v.get("terminal_id") or "").strip() or None
        if problem is None and terminal_id and not TERMINAL_ID.match(terminal_id):
            problem = "terminal id (终端ID) must be 1-30 letters, digits or -_ as the terminal sends it"
        auth_code = str(v.get("auth_code") or "").strip() or None
        if problem is None and auth_code and not AUTH_CODE.match(auth_code):
            problem = "authentication code (鉴权码) must be 4-32 letters or digits"
        if problem:
            report.reject(row.line, problem)
            continue
        seen[(protocol, ident)] = row.line
        inserted = session.execute(
            text(
                """
            INSERT INTO device (kind, protocol, identifier, officer_id, profile, device_key, terminal_id, auth_code)
            VALUES (:kind, :protocol, :ident, :officer, :profile, :device_key, :terminal_id, :auth_code)
            ON CONFLICT (protocol, identifier) DO UPDATE SET kind = EXCLUDED.kind,
                officer_id = EXCLUDED.officer_id, profile = EXCLUDED.profile,
                device_key = coalesce(EXCLUDED.device_key, device.device_key),
                terminal_id = coalesce(EXCLUDED.terminal_id, device.terminal_id),
                auth_code = coalesce(EXCLUDED.auth_code, device.auth_code)
            RETURNING (xmax = 0)
            """
            ),
            dict(
                kind=kind,
                protocol=protocol,
                ident=ident,
                officer=officers.get(str(officer)) if officer else None,
                profile=profile,
                device_key=device_key,
                terminal_id=terminal_id,
                auth_code=auth_code,
            ),
        ).scalar_one()
        report.inserted += bool(inserted)
        report.updated += not inserted
        report.loaded += 1
    report.write_rejects(rejects_path)
    return report


# -- townships ------------------------------------------------------------------------
def import_townships(
    session: Session,
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    gcj02: bool = False,
    rejects_path: Path | None = None,
) -> ImportReport:
    """Replace township polygons with real ones; targets are re-joined to the new polygons."""
    import geopandas as gpd

    report = ImportReport("townships", path)
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise ImportFileError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc
    if gdf.crs is None:
        report.notes.append("file has no CRS; assumed EPSG:4326")
    elif gdf.crs.to_epsg() != 4326:
        report.notes.append(f"reprojected from {gdf.crs.to_string()} to EPSG:4326")
        gdf = gdf.to_crs(4326)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    col_map = apply_mapping(columns, TOWNSHIP_FIELDS, mapping)
    code_col = next((c for c, f in col_map.items() if f == "code"), None)
    if code_col is None:
        raise ImportFileError(f"{path}: no township code column (code, code_9, code_12, 区划代码)")
    known = queries.township_names(session)
    replaced = []
    for i, (code_raw, geom) in enumerate(zip(gdf[code_col], gdf.geometry, strict=True), start=1):
        code = str(code_raw).strip()[:9] if code_raw is not None else ""
        if code not in known:
            report.reject(i, f"township code {code_raw!r} is not one of Binhai's 26 NBS codes")
            continue
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            report.reject(i, f"township {code} has no polygon geometry")
            continue
        if gcj02:
            geom = shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            report.notes.append(f"township {code}: invalid polygon repaired")
        replaced.append((code, as_multipolygon(geom)))
    for code, geom in replaced:
        session.execute(
            text(
                "UPDATE township SET geom = ST_GeomFromText(:wkt, 4326), approximate = false, "
                "source = :src WHERE code = :code"
            ),
            dict(wkt=geom.wkt, src=f"imported from {path.name}", code=code),
        )
    if replaced:
        moved = session.execute(  # type: ignore[attr-defined]  # an UPDATE's CursorResult
            text(
                """
            UPDATE target t SET township_code = j.code
            FROM (SELECT t2.id, (SELECT code FROM township w WHERE ST_Covers(w.geom, t2.geom)
                                 ORDER BY code LIMIT 1) AS code FROM target t2) j
            WHERE j.id = t.id AND t.township_code IS DISTINCT FROM j.code
            """
            )
        ).rowcount
        report.notes.append(f"{moved} targets re-assigned to their new township")
        derived.registry_changed(session)
    report.loaded = report.updated = len(replaced)
    report.write_rejects(rejects_path)
    return report
