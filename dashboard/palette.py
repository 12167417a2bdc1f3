"""The command map's one palette: target domains, device states, on task, SOS and other
alarms never share a colour (tests/dashboard/test_palette.py holds the distances), so a dot says what
it is. The browser takes the live colours from here (LIVE_COLORS store), not its own copy."""

from __future__ import annotations

LIVE_COLORS = {
    "online": "#2ca02c",
    "task": "#7b2cbf",
    "stale": "#ff9f1c",
    "offline": "#8d99ae",
    "sos": "#d62828",
    "alarm": "#b5179e",
    "selected": "#3a86ff",
}
LIVE_STATES = ("online", "task", "stale", "offline", "sos", "alarm")

# Muted and earthy tones for targets, far from every live colour above.
DOMAIN_PALETTE = [
    "#0f8b8d",
    "#1d3557",
    "#8c564b",
    "#b8a200",
    "#17becf",
    "#5f0f40",
    "#6b705c",
    "#e9c46a",
    "#83c5be",
    "#ddb892",
    "#4d908e",
    "#bc6c25",
    "#ffcad4",
    "#f4a261",
]


def domain_colors(domains: list[dict]) -> dict[str, str]:
    return {d["key"]: DOMAIN_PALETTE[i % len(DOMAIN_PALETTE)] for i, d in enumerate(domains)}


# Data tables on the dark pages (案件, 案源 …): cells and headers.
TABLE_CELL = {
    "backgroundColor": "#13243d",
    "color": "#e6edf6",
    "fontSize": 12,
    "textAlign": "left",
    "whiteSpace": "normal",
}
TABLE_HEADER = {"backgroundColor": "#24406a", "fontWeight": "bold"}
