"""The shell's strings: the title, the navigation, the language switch."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "nav.calendar": {"zh": "工作日历", "en": "Calendar"},
    "nav.supervision": {"zh": "监督考核", "en": "Supervision"},
    "app.title": {"zh": "滨海新区行政执法指挥调度平台", "en": "Binhai Enforcement Command & Dispatch"},
    "nav.map": {"zh": "指挥地图", "en": "Command map"},
    "lang.switch": {"zh": "English", "en": "中文"},
    "nav.audit": {"zh": "审计", "en": "Audit"},
    "nav.accounts": {"zh": "账户", "en": "Accounts"},
    "common.forbidden": {"zh": "您的角色无权查看此页面。", "en": "Your role may not view this page."},
    "nav.devices": {"zh": "设备与轨迹", "en": "Devices & tracks"},
    "nav.dispatch": {"zh": "调度", "en": "Dispatch"},
    "nav.coverage": {"zh": "覆盖率", "en": "Coverage"},
    "nav.logout": {"zh": "退出", "en": "Log out"},
}
