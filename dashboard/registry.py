"""Everything the web app serves, listed once: the REST route modules (each with its `router`)
and the Dash pages (each with its `register(app)`). The app factory installs exactly these, the
OpenAPI document is made from the same list, and a test fails when a module under dashboard/
declares routes or a page without being listed here."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

from dashboard import auth
from dashboard.pages import (
    accounts,
    audit,
    calendar,
    case_file,
    case_sources,
    cases,
    coverage,
    devices,
    dispatch,
    dispatch_desk,
    items,
    overview,
    supervision,
)
from dashboard.rest.router import Operation, Router
from dashboard.routes import cases as case_routes
from dashboard.routes import coverage as coverage_routes
from dashboard.routes import dispatch as dispatch_routes
from dashboard.routes import documents as document_routes
from dashboard.routes import items as item_routes
from dashboard.routes import supervision as supervision_routes
from dashboard.routes import system, targets, terminal, users

ROUTES: tuple[ModuleType, ...] = (
    system,
    auth,
    users,
    targets,
    dispatch_routes,
    coverage_routes,
    case_routes,
    item_routes,
    document_routes,
    supervision_routes,
    terminal,
)

# In the order of the navigation.
PAGES: tuple[ModuleType, ...] = (
    overview,
    dispatch,
    dispatch_desk,
    coverage,
    devices,
    audit,
    accounts,
    calendar,
    cases,
    case_sources,
    case_file,
    items,
    supervision,
)


def routers() -> list[Router]:
    return [module.router for module in ROUTES]


def operations() -> Iterator[Operation]:
    for router in routers():
        yield from router.operations
