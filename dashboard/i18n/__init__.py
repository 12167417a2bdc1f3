"""UI strings: Chinese by default, English on request. Every label goes through t(). The strings
live with their area (shell, command, dispatching, coverage, cases, admin), merged here once."""

from __future__ import annotations

from dashboard.i18n import admin, cases, command, coverage, dispatching, shell, supervision
from geo.dispatch.model import STATUS_LABELS

DEFAULT_LANG = "zh"
LANGS = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    **shell.STRINGS,
    **command.STRINGS,
    **dispatching.STRINGS,
    **coverage.STRINGS,
    **cases.CASE_STRINGS,
    **admin.STRINGS,
    **supervision.STRINGS,
    **{f"status.{k}": {"zh": zh, "en": en} for k, (zh, en) in STATUS_LABELS.items()},
}


def js_strings() -> dict[str, dict[str, str]]:
    """The strings the browser code shows, by language: {"zh": {key: text}, "en": {...}}."""
    return {
        lang: {k: v.get(lang) or v[DEFAULT_LANG] for k, v in STRINGS.items() if k.startswith("js.")} for lang in LANGS
    }


def t(key: str, lang: str | None = None) -> str:
    entry = STRINGS[key]
    return entry.get(lang or DEFAULT_LANG) or entry[DEFAULT_LANG]
