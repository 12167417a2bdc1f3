"""Township choropleths shared by the command map and the coverage page: class breaks,
palettes and the legend that matches lawgrid.townshipStyle / lawgrid.valueStyle."""

from __future__ import annotations

import shapely.geometry
from dash import html

from dashboard import ids

COUNT_COLORS = ["#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"]
BLIND_COLORS = ["#fff5f0", "#fcbba1", "#fc9272", "#fb6a4a", "#de2d26", "#a50f15"]
# Coverage is read against fixed thresholds, so one month compares with the next.
RATIO_BREAKS = [0.05, 0.1, 0.2, 0.3, 0.5]
RATIO_COLORS = ["#f7fcf5", "#c7e9c0", "#74c476", "#31a354", "#006d2c", "#00441b"]


def breaks_for(values: list[int], classes: int = len(COUNT_COLORS)) -> list[int]:
    """Upper bounds of equal-count classes (quantiles), strictly increasing."""
    ordered = sorted(values)
    if not ordered:
        return []
    return sorted({ordered[min(len(ordered) - 1, (i * len(ordered)) // classes)] for i in range(1, classes)})


def ratio_colour(ratio: float | None) -> str:
    """The bar colour of a ratio, one class darker than the map's so light classes stay visible."""
    i = 0
    while i < len(RATIO_BREAKS) and (ratio or 0) > RATIO_BREAKS[i]:
        i += 1
    return RATIO_COLORS[min(i + 1, len(RATIO_COLORS) - 1)]


def district_bounds(district: dict) -> tuple[float, float, float, float]:
    return shapely.geometry.shape(district["geometry"]).bounds


def legend(title: str, breaks: list, colors: list[str], top, percent: bool = False) -> list:
    """One swatch per class: [0, b1], (b1, b2], ... up to the top value (100% for ratios)."""
    bounds = [0, *breaks, 1 if percent else top]
    rows = []
    for i, colour in enumerate(colors[: len(bounds) - 1]):
        low, high = bounds[i], bounds[i + 1]
        if percent:
            label = f"{low * 100:.0f}% – {high * 100:.0f}%"
        else:
            label = f"{low + (1 if i else 0):,} – {high:,}"
        rows.append(
            html.Div(
                className="lg-legend-row",
                children=[html.Span(className="lg-swatch", style={"background": colour}), html.Span(label)],
            )
        )
    return [html.Div(title, id=ids.TOWNSHIP_LEGEND_TITLE), *rows]
