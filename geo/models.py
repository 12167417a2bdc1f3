"""ORM mapping of the LawGrid schema. The DDL itself lives in the Alembic migrations.

Geometries are EPSG:4326; distances in metres go through the geography casts that the
migrations index (see geo/migrations/versions).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, REAL
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326


class Base(DeclarativeBase):
    pass


class District(Base):
    __tablename__ = "district"
    adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)


class Township(Base):
    __tablename__ = "township"
    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    code_12: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    approximate: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)
    centre = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)


class Domain(Base):
    __tablename__ = "domain"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    zh: Mapped[str] = mapped_column(Text)
    en: Mapped[str] = mapped_column(Text)
    core: Mapped[bool] = mapped_column(Boolean)


class PowerType(Base):
    __tablename__ = "power_type"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    zh: Mapped[str] = mapped_column(Text)
    en: Mapped[str] = mapped_column(Text)
    law: Mapped[str] = mapped_column(Text)


class EnforcementUnit(Base):
    __tablename__ = "enforcement_unit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # department | town_team
    township_code: Mapped[str | None] = mapped_column(ForeignKey("township.code"))
    domains: Mapped[list[str]] = mapped_column(ARRAY(Text))


class UnitArea(Base):
    """The townships an enforcement unit is responsible for."""

    __tablename__ = "unit_area"
    unit_id: Mapped[int] = mapped_column(ForeignKey("enforcement_unit.id"), primary_key=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("township.code"), primary_key=True)


class EnforcementBody(Base):
    __tablename__ = "enforcement_body"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # organ | authorised | commissioned
    unit_id: Mapped[int] = mapped_column(ForeignKey("enforcement_unit.id"))


class PowerItem(Base):
    """One line of the power list[Any]: a unit may exercise this power on this item."""

    __tablename__ = "power_item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("enforcement_unit.id"))
    domain_key: Mapped[str] = mapped_column(ForeignKey("domain.key"))
    power_type_key: Mapped[str] = mapped_column(ForeignKey("power_type.key"))
    item_code: Mapped[str] = mapped_column(Text)
    item_name: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    legal_review: Mapped[bool] = mapped_column(Boolean)  # on the 法制审核 catalogue


class Officer(Base):
    __tablename__ = "officer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cert_no: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[int] = mapped_column(ForeignKey("enforcement_unit.id"))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_body.id"))
    cert_valid_from: Mapped[dt.date] = mapped_column(Date)
    cert_valid_to: Mapped[dt.date] = mapped_column(Date)
    duty_state: Mapped[str] = mapped_column(Text)  # off_duty | on_duty | on_task
    daily_task_cap: Mapped[int] = mapped_column(SmallInteger)
    phone: Mapped[str | None] = mapped_column(Text)


class OfficerArea(Base):
    __tablename__ = "officer_area"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), primary_key=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("township.code"), primary_key=True)


class Device(Base):
    __tablename__ = "device"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)  # terminal | body_camera
    protocol: Mapped[str] = mapped_column(Text)  # jt808 | osmand | mqtt
    identifier: Mapped[str] = mapped_column(Text)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    auth_code: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[str] = mapped_column(Text)
    """How its vendor-defined JT/T 808 items are read (ingest/jt808/profiles.py)."""
    terminal_id: Mapped[str | None] = mapped_column(Text)
    """The terminal id a JT/T 808 terminal must name to register (终端ID)."""
    device_key: Mapped[str | None] = mapped_column(Text)
    """An OsmAnd device's key, sent in its server URL (/k/KEY); with one set, none is refused."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Target(Base):
    __tablename__ = "target"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    """Registry key: the credit code of a market entity, the site number of a site."""
    credit_code: Mapped[str | None] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # entity | site
    domains: Mapped[list[str]] = mapped_column(ARRAY(Text))
    risk_level: Mapped[int] = mapped_column(SmallInteger)  # 1 low .. 4 very high
    address: Mapped[str | None] = mapped_column(Text)
    township_code: Mapped[str | None] = mapped_column(ForeignKey("township.code"))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Position(Base):
    """Position history, range-partitioned by month on fix_time."""

    __tablename__ = "position"
    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fix_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    speed_kmh: Mapped[float | None] = mapped_column(REAL)
    course: Mapped[float | None] = mapped_column(REAL)
    altitude_m: Mapped[float | None] = mapped_column(REAL)
    accuracy_m: Mapped[float | None] = mapped_column(REAL)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB)


class AuditLog(Base):
    """Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source: Mapped[str | None] = mapped_column(Text)


class AppUser(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    session_version: Mapped[int] = mapped_column(Integer)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), unique=True)
    legal_qualification_no: Mapped[str | None] = mapped_column(Text)


class UserUnit(Base):
    __tablename__ = "user_unit"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("enforcement_unit.id"), primary_key=True)


class LoginAttempt(Base):
    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    username: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    success: Mapped[bool] = mapped_column(Boolean)


class DeviceState(Base):
    """Latest fix and derived state per device, kept by the telemetry pipeline."""

    __tablename__ = "device_state"
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), primary_key=True)
    fix_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    speed_kmh: Mapped[float | None] = mapped_column(REAL)
    course: Mapped[float | None] = mapped_column(REAL)
    recording: Mapped[bool | None] = mapped_column(Boolean)
    battery: Mapped[float | None] = mapped_column(REAL)
    power_v: Mapped[float | None] = mapped_column(REAL)
    """External power, volts, where the terminal reports it."""
    alarms: Mapped[list[str]] = mapped_column(ARRAY(Text))
    state: Mapped[str] = mapped_column(Text)


class TerminalMessage(Base):
    """The downlink outbox: a text for a JT/T 808 terminal, sent by the ingest process."""

    __tablename__ = "terminal_message"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    task_id: Mapped[int | None] = mapped_column(BigInteger)  # inspection.id (not mapped here)
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Alarm(Base):
    __tablename__ = "alarm"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    kind: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    status: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    acked_by: Mapped[str | None] = mapped_column(Text)
    acked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ack_comment: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolve_comment: Mapped[str | None] = mapped_column(Text)
    repeats: Mapped[int] = mapped_column(Integer)  # reports of it while live
    last_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
