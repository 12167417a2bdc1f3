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
    "filter.township": {"zh": "街镇", "en": "Townships"},
    "filter.domain": {"zh": "执法领域", "en": "Domains"},
    "filter.risk": {"zh": "风险等级", "en": "Risk"},
    "filter.search": {"zh": "名称或统一社会信用代码", "en": "Name or credit code"},
    "risk.1": {"zh": "低", "en": "Low"},
    "risk.2": {"zh": "一般", "en": "Medium"},
    "risk.3": {"zh": "较高", "en": "High"},
    "risk.4": {"zh": "高", "en": "Very high"},
    "card.heading": {"zh": "执法对象", "en": "Target"},
    "card.hint": {"zh": "点击地图上的对象查看详情；点击聚合圆圈放大。",
                  "en": "Click a target on the map for its card; click a bubble to zoom in."},
    "card.credit_code": {"zh": "统一社会信用代码", "en": "Credit code"},
    "card.domains": {"zh": "执法领域", "en": "Domains"},
    "card.township": {"zh": "所属街镇", "en": "Township"},
    "card.risk": {"zh": "风险等级", "en": "Risk level"},
    "card.address": {"zh": "地址", "en": "Address"},
    "card.last_inspection": {"zh": "最近检查", "en": "Last inspection"},
    "card.open_tasks": {"zh": "在办任务", "en": "Open tasks"},
    "card.none": {"zh": "暂无记录", "en": "none recorded"},
    "alarms.heading": {"zh": "告警", "en": "Alarms"},
    "alarms.none": {"zh": "当前没有未处理的告警。", "en": "No open alarms."},
    "alarms.comment": {"zh": "处置说明（解除时必填）", "en": "Comment (required to resolve)"},
    "alarms.ack": {"zh": "确认", "en": "Acknowledge"},
    "alarms.resolve": {"zh": "解除", "en": "Resolve"},
    "alarm.sos": {"zh": "一键求助 SOS", "en": "SOS"},
    "alarm.overspeed": {"zh": "超速", "en": "Overspeed"},
    "alarm.low_battery": {"zh": "电量低", "en": "Low battery"},
    "alarm.power_loss": {"zh": "断电", "en": "Power loss"},
    "alarm.recording_stopped": {"zh": "记录仪停止录像", "en": "Recording stopped"},
    "alarm.storage_full": {"zh": "存储已满", "en": "Storage full"},
    "alarm.offline": {"zh": "设备离线", "en": "Device offline"},
    "alarm.status.open": {"zh": "未处理", "en": "open"},
    "alarm.status.acknowledged": {"zh": "已确认", "en": "acknowledged"},
    "nav.devices": {"zh": "设备与轨迹", "en": "Devices & tracks"},
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
