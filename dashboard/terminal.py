"""The officer's terminal (移动执法, /m): a phone-sized page for officers on their own accounts.

It is plain HTML and one script (terminal_static/terminal.js) over the REST API, not a Dash
page: it must keep working through a dropped connection. Every submission goes into a queue
kept in the browser (localStorage) with a retry key, and is sent, and re-sent, until the server
has answered; a resent submission returns the first record, never a second one."""

from __future__ import annotations

from html import escape
from pathlib import Path

from flask import Blueprint, Flask, g, request, session

STATIC = Path(__file__).resolve().parent / "terminal_static"
terminal = Blueprint("terminal", __name__, static_folder=str(STATIC), static_url_path="/m/static")

PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>{title}</title>
<link rel="stylesheet" href="/m/static/terminal.css">
</head>
<body data-csrf="{csrf}" data-lang="{lang}" data-user="{user}">
<header id="m-header"><strong>{title}</strong> <span id="m-who"></span>
  <span id="m-net" class="net"></span> <span id="m-queue" class="queue"></span>
  <a id="m-lang" href="/m?lang={other}">{other_label}</a></header>
<main id="m-main"><p id="m-loading">…</p></main>
<script src="/m/static/terminal.js"></script>
</body>
</html>
"""


@terminal.route("/m")
def page() -> tuple[str, int]:
    lang = "en" if request.args.get("lang") == "en" else "zh"
    return (
        PAGE.format(
            lang=lang,
            title="Mobile enforcement" if lang == "en" else "移动执法",
            csrf=escape(session.get("csrf", ""), quote=True),
            user=escape(g.scope.username, quote=True),
            other="zh" if lang == "en" else "en",
            other_label="中文" if lang == "en" else "English",
        ),
        200,
    )


page.lawgrid_permission = "task.status"  # type: ignore[attr-defined]  # the guard reads it


def install(server: Flask) -> None:
    server.register_blueprint(terminal)
