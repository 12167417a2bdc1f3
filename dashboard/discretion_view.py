"""How a discretion verdict reads on a page: the level, tier, statutory range, band and verdict
in one line (with `data-verdict` for the browser), then each reason. The case file and the
执法事项 page share it, as they share the words a person types for yes and no."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.i18n import t

YES = {"是", "有", "yes", "true", "y", "1"}
NO = {"否", "无", "no", "false", "n", "0"}


def yes_no(word: Any) -> bool | None:
    """ "是" -> True, "否" -> False, anything else None."""
    w = str(word).strip().lower()
    return True if w in YES else False if w in NO else None


def _span(v: Any) -> str:
    return f"{float(v[0]):,.2f} – {float(v[1]):,.2f}" if v else "—"


def verdict_block(verdict: dict[str, Any], lang: str | None, notes: str = "", **attrs: Any) -> html.Div:
    """`verdict` is `geo.discretion.Verdict.as_json()`; `notes` follow the band (derived, unverified)."""
    tier = f" · {verdict['tier']}" if verdict.get("tier") else ""
    line = (
        f"{t('case.discretion.level', lang)}：{verdict['level']}{tier} · "
        f"{t('case.discretion.statutory', lang)} {_span(verdict['statutory_yuan'])} · "
        f"{t('case.discretion.band', lang)} {_span(verdict['band_yuan'])}{' ' + notes if notes else ''} · "
        f"{t('case.discretion.' + verdict['verdict'], lang)}"
    )
    reasons = [html.Li(r["zh"] if lang != "en" else r["en"]) for r in verdict["reasons"]]
    return html.Div([html.P(line, **{"data-verdict": verdict["verdict"]}), html.Ul(reasons)], **attrs)
