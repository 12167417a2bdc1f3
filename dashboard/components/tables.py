"""Data tables as the dark pages draw them (案件, 案源, 审计 …)."""

from __future__ import annotations

from typing import Any

from dash import dash_table

from dashboard import palette


def data_table(component_id: str, **kwargs: Any) -> Any:
    """A DataTable in the pages' colours; keyword arguments as DataTable's."""
    kwargs.setdefault("style_cell", palette.TABLE_CELL)
    kwargs.setdefault("style_header", palette.TABLE_HEADER)
    return dash_table.DataTable(id=component_id, **kwargs)  # type: ignore[attr-defined]  # a class at run time
