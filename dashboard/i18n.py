"""UI strings: Chinese by default, English on request. Every label goes through t()."""

from __future__ import annotations

DEFAULT_LANG = "zh"
LANGS = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "app.title": {"zh": "滨海新区行政执法指挥调度平台", "en": "Binhai Enforcement Command & Dispatch"},
    "nav.map": {"zh": "指挥地图", "en": "Command map"},
    "overview.heading": {"zh": "执法对象分布（按街镇）", "en": "Regulated targets by township"},
    "overview.approximate": {
        "zh": "街镇边界为近似示意（由街镇中心点推算），可由管理员导入正式边界。",
        "en": "Township boundaries are approximate (derived from township centres) until an "
              "administrator imports official ones.",
    },
    "overview.targets": {"zh": "执法对象", "en": "Targets"},
    "overview.township": {"zh": "街镇", "en": "Township"},
    "overview.total": {"zh": "执法对象总数", "en": "Targets in total"},
    "overview.units": {"zh": "执法单位", "en": "Enforcement units"},
    "overview.officers": {"zh": "执法人员", "en": "Officers"},
    "overview.devices": {"zh": "终端与记录仪", "en": "Terminals & cameras"},
    "overview.chart": {"zh": "各街镇执法对象数量", "en": "Targets per township"},
    "map.attribution": {"zh": "行政区划：天地图；街镇边界为近似示意",
                        "en": "Boundaries: Tianditu; township boundaries approximate"},
    "lang.switch": {"zh": "English", "en": "中文"},
    "nav.audit": {"zh": "审计", "en": "Audit"},
    "common.forbidden": {"zh": "您的角色无权查看此页面。", "en": "Your role may not view this page."},
    "audit.heading": {"zh": "审计记录（执法全过程记录）", "en": "Audit trail"},
    "audit.actor": {"zh": "操作人", "en": "Actor"},
    "audit.action": {"zh": "操作类型", "en": "Action"},
    "audit.days": {"zh": "天内", "en": "days"},
    "audit.count": {"zh": "共 {} 条", "en": "{} entries"},
    "nav.logout": {"zh": "退出", "en": "Log out"},
    "role.admin": {"zh": "系统管理员", "en": "Administrator"},
    "role.operator": {"zh": "指挥中心值班员", "en": "Command operator"},
    "role.dispatcher": {"zh": "调度员", "en": "Dispatcher"},
    "role.leader": {"zh": "领导", "en": "Leader"},
    "role.supervisor": {"zh": "单位负责人", "en": "Unit supervisor"},
    "role.auditor": {"zh": "审计员", "en": "Auditor"},
}


def t(key: str, lang: str | None = None) -> str:
    entry = STRINGS[key]
    return entry.get(lang or DEFAULT_LANG) or entry[DEFAULT_LANG]
