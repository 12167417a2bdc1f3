"""`lawgrid import devices FILE`: terminals and body cameras with their protocol identifiers."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from ingest.jt808.frames import terminal_key
from ingest.jt808.profiles import DEFAULT_BY_KIND as DEFAULT_PROFILE
from ingest.jt808.profiles import PROFILES
from ingest.registry.fields import (
    AUTH_CODE,
    DEVICE_FIELDS,
    DEVICE_KEY,
    DEVICE_KIND_WORDS,
    JT808_ID,
    OSMAND_ID,
    TERMINAL_ID,
)
from ingest.tables import ImportReport, read_rows


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
        # An OsmAnd phone without a key gets one (its server URL is http://HOST:PORT/k/KEY): a
        # device id alone is no secret. A key the file gives, or the device has, is kept.
        made = secrets.token_urlsafe(18) if protocol == "osmand" and not device_key else None
        inserted, kept_key = session.execute(
            text(
                """
            INSERT INTO device (kind, protocol, identifier, officer_id, profile, device_key, terminal_id, auth_code)
            VALUES (:kind, :protocol, :ident, :officer, :profile, coalesce(:device_key, :made), :terminal_id,
                    :auth_code)
            ON CONFLICT (protocol, identifier) DO UPDATE SET kind = EXCLUDED.kind,
                officer_id = EXCLUDED.officer_id, profile = EXCLUDED.profile,
                device_key = coalesce(:device_key, device.device_key, :made),
                terminal_id = coalesce(EXCLUDED.terminal_id, device.terminal_id),
                auth_code = coalesce(EXCLUDED.auth_code, device.auth_code)
            RETURNING (xmax = 0), device_key
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
                made=made,
            ),
        ).one()
        if made is not None and kept_key == made:
            report.generated.append((ident, made))
        report.inserted += bool(inserted)
        report.updated += not inserted
        report.loaded += 1
    report.write_rejects(rejects_path)
    report.write_generated()
    return report
