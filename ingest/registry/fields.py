"""The columns each import knows, the words its cells may use, and the identifiers' formats."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

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
