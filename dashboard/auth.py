"""Who is asking: session login for pages and callbacks, bearer tokens for the REST API,
role checks, CSRF defence and the audit of logins. Every request passes guard()."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import time
from html import escape
from typing import Any, Literal
from urllib.parse import urlparse

from flask import Flask, current_app, g, redirect, request, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import Field

from dashboard.config import web_config
from dashboard.context import client_address
from dashboard.context import runtime as _runtime
from dashboard.rest.router import Router
from dashboard.rest.types import Model, Text
from geo.access import accounts, policy
from geo.infra import audit
from geo.infra.errors import Forbidden, Throttled, Unauthorized

router = Router()


PUBLIC_PATHS = frozenset({"/login", "/api/auth/token", "/api/health"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def require(permission: str) -> accounts.Scope:
    """Inside a Dash callback or page layout: the caller's scope if he holds the permission
    (geo.policy), else Unauthorized or Forbidden (answered and audited like the API's)."""
    return policy.authorize(current_scope(), permission)


def current_scope() -> accounts.Scope | None:
    return g.get("scope")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="lawgrid-api-token")


def issue_token(scope: accounts.Scope) -> str:
    return _serializer().dumps({"uid": scope.user_id, "sv": scope.session_version})


def _scope_from_token(token: str) -> accounts.Scope:
    ttl = web_config().token_ttl_seconds
    try:
        data = _serializer().loads(token, max_age=ttl)
    except SignatureExpired:
        raise Unauthorized("token expired; request a new one from POST /api/auth/token") from None
    except BadSignature:
        raise Unauthorized("invalid token") from None
    with _runtime().session() as s:
        scope = accounts.scope_for(s, int(data["uid"]), int(data.get("sv", -1)))
    if scope is None:
        raise Unauthorized("token ended: logged out, password changed or account disabled; request a new one")
    return scope


def _scope_from_session() -> accounts.Scope | None:
    uid = session.get("uid")
    if uid is None:
        return None
    now = dt.datetime.now(dt.UTC).timestamp()
    idle = web_config().idle_timeout_minutes * 60
    if now - session.get("seen", 0) > idle:
        session.clear()
        return None
    session["seen"] = now
    with _runtime().session() as s:
        scope = accounts.scope_for(s, int(uid), int(session.get("sv", -1)))
    if scope is None:  # ended elsewhere (logout, password change, account disabled)
        session.clear()
    return scope


def scope_from_request(token: str | None = None) -> accounts.Scope | None:
    """For Socket.IO handshakes: the session cookie, or a bearer token for API clients."""
    if token:
        try:
            return _scope_from_token(token)
        except Exception:
            return None
    return _scope_from_session()


def _same_origin() -> bool:
    """Browsers send Origin (or at least Referer) on POSTs; it must be this host."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    return bool(origin) and urlparse(origin).netloc == request.host


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    given = request.headers.get("X-CSRF-Token") or request.form.get("csrf")
    return bool(expected and given and hmac.compare_digest(expected, given))


def guard():
    path = request.path
    audit.use_source(client_address())  # every entry of this request carries the address
    if path in PUBLIC_PATHS:
        return None
    is_api = path.startswith("/api/")
    auth_header = request.headers.get("Authorization", "")
    if is_api and auth_header.startswith("Bearer "):
        scope = _scope_from_token(auth_header[len("Bearer ") :].strip())
    else:
        scope = _scope_from_session()
        if scope is not None and request.method not in SAFE_METHODS:
            # Dash's own POSTs carry no token; same-origin plus SameSite=Strict cookies
            # defend them. Forms and API calls with the cookie must carry the token too.
            if not _same_origin() or (not path.startswith("/_dash-") and not _csrf_ok()):
                raise Forbidden("cross-site request refused (CSRF check failed)", rule="csrf")
    if scope is None:
        if is_api or path.startswith("/_dash-") or request.method not in SAFE_METHODS:
            raise Unauthorized("log in first (session) or send a bearer token")
        return redirect(f"/login?next={path}")
    g.scope = scope
    view = current_app.view_functions.get(request.endpoint or "")
    permission = getattr(view, "lawgrid_permission", None)
    if permission is not None:
        policy.authorize(scope, permission)
    return None


def install(server: Flask) -> None:
    settings = server.extensions["lawgrid_web"]
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_NAME="lawgrid_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.idle_timeout_minutes),
    )
    server.before_request(guard)
    server.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", logout, methods=["POST"])


def _attempt(username: str, password: str) -> tuple[accounts.Scope | None, str | None]:
    """Throttle, check, record: the throttle's decision commits before the password hash is
    checked (so concurrent guesses each see the others), and the outcome after."""
    source = client_address()
    with _runtime().session() as s:
        attempt, reason, step_up = accounts.begin_attempt(s, username, source)
    if step_up:  # the account is being guessed at from elsewhere: a slower try, never a refusal
        time.sleep(step_up)
    scope = None
    with _runtime().session() as s:
        if attempt is not None:
            scope, reason = accounts.finish_attempt(s, attempt, accounts.check_credentials(s, username, password))
        audit.record(
            s,
            username or "(empty)",
            "login" if scope else "login_failed",
            subject=request.path,
            detail={} if scope else {"reason": reason},
            source=source,
        )
    return scope, reason


def login():
    lang = "en" if request.args.get("lang") == "en" else "zh"
    error = None
    if request.method == "POST":
        if not _csrf_ok():
            error = TEXT["csrf"][lang]
        else:
            scope, reason = _attempt(request.form.get("username", ""), request.form.get("password", ""))
            if scope:
                session.clear()
                session.permanent = True
                session.update(
                    uid=scope.user_id,
                    sv=scope.session_version,
                    csrf=secrets.token_urlsafe(32),
                    seen=dt.datetime.now(dt.UTC).timestamp(),
                )
                target = request.args.get("next", "/")
                return redirect(target if target.startswith("/") and not target.startswith("//") else "/")
            minutes = re.search(r"in (\d+) minutes", reason)
            error = TEXT["throttled"][lang].format(minutes.group(1)) if minutes else TEXT["wrong"][lang]
    session.setdefault("csrf", secrets.token_urlsafe(32))
    return LOGIN_PAGE.format(
        lang=lang,
        title=TEXT["title"][lang],
        user=TEXT["user"][lang],
        pw=TEXT["pw"][lang],
        submit=TEXT["submit"][lang],
        csrf=session["csrf"],
        other="zh" if lang == "en" else "en",
        other_label="中文" if lang == "en" else "English",
        error=f'<p class="error" id="login-error">{escape(error)}</p>' if error else "",
        next=escape(request.args.get("next", "/"), quote=True),
    ), (401 if error else 200)


def logout():
    """Log out everywhere: every session and token of the account ends (a copied cookie too)."""
    end_all_sessions("logout")
    session.clear()
    return redirect("/login")


def end_all_sessions(action: str) -> None:
    scope = policy.authorize(current_scope(), "view")
    with _runtime().session() as s:
        accounts.end_sessions(s, scope.user_id)
        audit.record(s, scope.username, action, source=client_address())


@router.route("POST", "/auth/logout", permission="view", summary="End every session and token of your account")
def api_logout() -> Any:
    end_all_sessions("logout")
    session.clear()
    return {"ended": True}


class PasswordChange(Model):
    current: str = Field(max_length=1000)
    new: str = Field(max_length=1000)


@router.route(
    "POST",
    "/auth/password",
    permission="view",
    body=PasswordChange,
    summary="Change your password (ends every session and token; log in again)",
)
def change_own_password(body: PasswordChange) -> Any:
    who = policy.authorize(current_scope(), "view")
    scope, reason = _attempt(who.username, body.current)
    if scope is None:
        raise Forbidden(reason or "the current password is wrong", rule="current_password")
    with _runtime().session() as s:
        accounts.change_password(s, who.username, body.new)
        audit.record(s, who.username, "password_change", subject=f"user:{who.username}", source=client_address())
    session.clear()
    return {"changed": True}


class TokenRequest(Model):
    username: Text = Field(max_length=200)
    password: str = Field(max_length=1000)


class Token(Model):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    role: str


@router.route(
    "POST",
    "/auth/token",
    permission=None,
    body=TokenRequest,
    response=Token,
    throttled=True,
    summary="A bearer token for {username, password}; 401 wrong credentials, 429 throttled",
)
def api_token(body: TokenRequest) -> Token:
    scope, reason = _attempt(body.username, body.password)
    if scope is None:
        error = Throttled if (reason or "").startswith("too many") else Unauthorized
        raise error(reason or "wrong username or password")
    ttl = web_config().token_ttl_seconds
    return Token(access_token=issue_token(scope), token_type="bearer", expires_in=ttl, role=scope.role)


TEXT = {
    "title": {"zh": "滨海新区行政执法指挥调度平台 · 登录", "en": "Binhai Enforcement Command · Log in"},
    "user": {"zh": "用户名", "en": "Username"},
    "pw": {"zh": "密码", "en": "Password"},
    "submit": {"zh": "登录", "en": "Log in"},
    "wrong": {"zh": "用户名或密码错误。", "en": "Wrong username or password."},
    "throttled": {
        "zh": "登录失败次数过多，请 {} 分钟后再试。",
        "en": "Too many failed logins; try again in {} minutes.",
    },
    "csrf": {"zh": "页面已过期，请重新提交。", "en": "The form expired; please submit again."},
}

LOGIN_PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", sans-serif; background: #0f1b2d; color: #e6edf6;
       display: flex; align-items: center; justify-content: center; height: 100vh; margin: 0; }}
form {{ background: #13243d; padding: 28px 32px; border-radius: 8px; width: 320px;
       border: 1px solid #24406a; }}
label {{ display: block; margin: 12px 0 4px; font-size: 13px; color: #9fb3c8; }}
input {{ width: 100%; padding: 8px; border-radius: 4px; border: 1px solid #24406a;
        background: #0f1b2d; color: #e6edf6; box-sizing: border-box; }}
button {{ margin-top: 18px; width: 100%; padding: 9px; background: #fd8d3c; border: 0;
         border-radius: 4px; font-size: 15px; cursor: pointer; }}
.error {{ color: #ff8080; }} a {{ color: #9cc3ff; font-size: 12px; }}
</style></head><body>
<form method="post" action="/login?next={next}&lang={lang}">
<h1 style="font-size:18px">{title}</h1>{error}
<input type="hidden" name="csrf" value="{csrf}">
<label for="username">{user}</label><input id="username" name="username" autocomplete="username" required>
<label for="password">{pw}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="login-submit" type="submit">{submit}</button>
<p><a href="/login?lang={other}&next={next}">{other_label}</a></p>
</form></body></html>"""
