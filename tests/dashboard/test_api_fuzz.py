"""The OpenAPI document lists every API route with its parameters and schemas, and a
property-based fuzz of every operation (schemathesis: valid and invalid queries and bodies,
against the real server and a database of its own) finds no 5xx and no answer that breaks
the document, as an administrator and, in turn, as every other role (each example once as
the administrator and once as the next role of the rotation)."""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text
from werkzeug.serving import make_server

from dashboard import registry
from dashboard.rest.openapi import openapi_document
from demo.seed import seed_all
from geo.access import accounts
from geo.infra import db
from geo.places.reference import load_reference
from lawgrid.app import create_app
from lawgrid.runtime import REFERENCE_DIR, Runtime
from lawgrid.settings import Settings
from tests.conftest import ARTIFACTS, PASSWORD

EXAMPLES = int(os.environ.get("LAWGRID_FUZZ_EXAMPLES", "25"))
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzz_server(databases, tmp_path_factory):
    """The web app on its own database: the fuzz creates tasks and plans no other test expects."""
    url = databases.fresh("lawgrid_fuzz")
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    with db.session_scope(sessions) as session:
        load_reference(session, REFERENCE_DIR)
        seed_all(session, targets=400, officers=80, seed=5, progress=False)
        cert = session.execute(
            text(
                "SELECT o.cert_no FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id WHERE u.code = 'U001' "
                "AND current_date BETWEEN o.cert_valid_from AND o.cert_valid_to ORDER BY o.id LIMIT 1"
            )
        ).scalar_one()
        for role in accounts.ROLES:
            units = [] if role == "officer" or role not in accounts.UNIT_SCOPED_ROLES else ["U001"]
            extra = {"officer_cert": cert} if role == "officer" else {}
            accounts.create_user(session, f"fuzz-{role}", PASSWORD, role, units, **extra)
    settings_ = Settings(database_url=url, secret_key="fuzz-secret", data_dir=tmp_path_factory.mktemp("fuzz"))
    app = create_app(settings_, Runtime(settings_, url, engine, sessions))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    tokens = {}
    for name in (f"fuzz-{role}" for role in accounts.ROLES):
        r = requests.post(base + "/api/auth/token", json={"username": name, "password": PASSWORD}, timeout=10)
        tokens[name] = r.json()["access_token"]
    yield {"app": app, "base": base, "tokens": tokens}
    server.shutdown()
    engine.dispose()


def test_every_api_route_is_in_the_document_with_its_parameters(fuzz_server):
    doc = openapi_document(registry.operations())
    declared = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in fuzz_server["app"].server.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint == "api.unknown_route":
            continue
        path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in declared, (rule.rule, method)
    assert len(declared) >= 30
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            names = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert names == set(re.findall(r"{(\w+)}", path)), (path, method)
            assert "400" in op["responses"] and op["summary"], (path, method)
            if method == "post":  # a POST takes a body unless the path says it all (.../disable)
                assert "requestBody" in op or all(p["in"] == "path" for p in op["parameters"]), (path, method)
    track = doc["paths"]["/api/devices/{device_id}/track"]["get"]
    assert {p["name"] for p in track["parameters"]} == {"device_id", "start", "end", "simplify"}
    body = doc["paths"]["/api/inspections"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/NewInspection")
    assert set(doc["components"]["schemas"]["NewInspection"]["required"]) == {"target_id", "domain", "due_at"}


ROTATION = [f"fuzz-{role}" for role in accounts.ROLES if role != "admin"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Logging out ends every token of the fuzzing accounts: tested on its own in test_sessions.py.
OPERATIONS = [
    (method, path)
    for path, ops in openapi_document(registry.operations())["paths"].items()
    for method in ops
    if path != "/api/auth/logout"
]


@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_fuzz_finds_no_5xx_and_no_answer_outside_the_document(fuzz_server, method, path):
    doc = openapi_document(registry.operations())
    operation = schemathesis.openapi.from_dict(doc)[path][method.upper()]
    spec = doc["paths"][path][method]
    has_inputs = bool(spec["parameters"] or spec.get("requestBody"))
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if has_inputs else (GenerationMode.POSITIVE,):

        @given(operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exchange(case):
            TALLY["examples"] += 1
            other = ROTATION[TALLY["examples"] % len(ROTATION)]  # every role in turn, over the examples
            TALLY[f"as:{other}"] += 1
            for user in ("fuzz-admin", other):
                response = case.call(
                    base_url=fuzz_server["base"],
                    timeout=30,
                    headers={"Authorization": f"Bearer {fuzz_server['tokens'][user]}"},
                )
                TALLY["requests"] += 1
                TALLY[f"{response.status_code // 100}xx"] += 1
                case.validate_response(response, checks=CHECKS)

        try:
            exchange()
        except Unsatisfiable:
            # Nothing of this operation can be made invalid (e.g. only an enum path segment).
            assert mode is GenerationMode.NEGATIVE, (method, path)
            TALLY["operations_with_nothing_to_negate"] += 1


def teardown_module(_module):
    if TALLY:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "api-fuzz.json").write_text(json.dumps({"examples_per_operation": EXAMPLES, **TALLY}))
