"""The filter controls every page uses the same way: townships, enforcement domains, risk."""

from __future__ import annotations

from typing import Any

from dash import dcc

from dashboard.i18n import t


def domain_options(domains: list[dict[str, Any]], lang: str | None) -> list[dict[str, str]]:
    """The domains as drop-down options, named in the page's language."""
    return [{"label": d["en" if lang == "en" else "zh"], "value": d["key"]} for d in domains]


def township_options(towns: dict[str, str]) -> list[dict[str, str]]:
    """{code: name} as drop-down options, in code order."""
    return [{"label": name, "value": code} for code, name in sorted(towns.items())]


def risk_options(lang: str | None) -> list[dict[str, Any]]:
    return [{"label": t(f"risk.{r}", lang), "value": r} for r in (1, 2, 3, 4)]


def township_dropdown(
    component_id: str, towns: dict[str, str], *, multi: bool = False, value: Any = None, width: int = 170
) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=component_id,
        multi=multi,
        value=value,
        placeholder=t("filter.township"),
        style={"minWidth": f"{width}px"},
        options=township_options(towns),
    )


def domain_dropdown(
    component_id: str, domains: list[dict[str, Any]], *, multi: bool = False, value: Any = None, width: int = 200
) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=component_id,
        multi=multi,
        value=value,
        placeholder=t("filter.domain"),
        style={"minWidth": f"{width}px"},
        options=domain_options(domains, "zh"),
    )
