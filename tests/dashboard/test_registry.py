"""The web app serves what dashboard/registry.py lists, and everything that declares routes or a
page is listed there: a module left out would silently have no routes."""

import importlib
import pkgutil
import types

import dashboard
from dashboard import registry
from dashboard.rest.router import Router


def dashboard_modules() -> list[types.ModuleType]:
    return [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(dashboard.__path__, "dashboard.")
        if not info.ispkg or info.name.count(".") == 2  # a page may be a package: dashboard.pages.coverage
    ]


def unlisted(modules) -> list[str]:
    """The modules that declare routes (a `router`) or a page (`register` under pages) and are
    not in the registry."""
    out = []
    for module in modules:
        if isinstance(getattr(module, "router", None), Router) and module not in registry.ROUTES:
            out.append(module.__name__)
        page = module.__name__.startswith("dashboard.pages.") and module.__name__.count(".") == 2
        if page and callable(getattr(module, "register", None)):
            if module not in registry.PAGES:
                out.append(module.__name__)
    return out


def test_every_module_with_routes_or_a_page_is_listed():
    assert unlisted(dashboard_modules()) == []


def test_an_unlisted_module_with_routes_is_found():
    stray = types.ModuleType("dashboard.routes.stray")
    stray.router = Router()

    @stray.router.route("GET", "/stray", permission="view", summary="not listed")
    def stray_view():
        return {}

    page = types.ModuleType("dashboard.pages.stray")
    page.register = lambda app: None
    assert unlisted([stray, page, registry.ROUTES[0]]) == ["dashboard.routes.stray", "dashboard.pages.stray"]


def test_the_app_serves_exactly_the_listed_routes(live_app):
    served = {
        (method, rule.rule)
        for rule in live_app["app"].server.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    declared = {(op.method, "/api" + op.rule) for op in registry.operations()}
    unknown = {(m, "/api/<path:_unknown>") for m in ("GET", "POST", "PUT", "PATCH", "DELETE")}
    assert served == declared | unknown
    assert len(declared) > 40
