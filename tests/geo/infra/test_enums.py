"""Every enumeration the database checks is spelled once in Python and equal to its CHECK."""

import re

import pytest
from sqlalchemy import text

from geo.access.accounts import ROLES
from geo.cases.actions import STATUSES as CASE_STATUSES
from geo.cases.sources import KINDS as SOURCE_KINDS
from geo.dispatch.model import RESULTS
from geo.dispatch.model import STATUSES as TASK_STATUSES
from geo.supervision import cases as supervision_cases
from geo.telemetry.positions import ALARM_KINDS

ENUMS = {
    ("enf_case", "status"): CASE_STATUSES,
    ("inspection", "status"): TASK_STATUSES,
    ("inspection", "result"): RESULTS,
    ("alarm", "kind"): ALARM_KINDS,
    ("app_user", "role"): ROLES,
    ("case_source", "kind"): SOURCE_KINDS,
    ("supervision_case", "status"): supervision_cases.STATUSES,
    ("supervision_case", "lead_kind"): supervision_cases.LEAD_KINDS,
    ("supervision_step", "kind"): supervision_cases.STEP_KINDS,
    ("officer_measure", "kind"): supervision_cases.MEASURES,
}


def check_values(session, table: str, column: str) -> set[str]:
    """The values of the CHECK (column IN (...)) on table, as PostgreSQL holds it."""
    rows = session.execute(
        text(
            "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE t.relname = :t AND c.contype = 'c'"
        ),
        {"t": table},
    ).scalars()
    pattern = re.compile(rf"^CHECK \(\(\(?{column} = ANY \(ARRAY\[(.*)\]\)\)\)?\)( NOT VALID)?$")
    for definition in rows:
        found = pattern.match(definition)
        if found:
            return set(re.findall(r"'([^']*)'::text", found.group(1)))
    raise AssertionError(f"no CHECK ({column} IN ...) on {table}")


@pytest.mark.parametrize(("table", "column"), list(ENUMS))
def test_the_python_enumeration_equals_the_check(session, table, column):
    python = ENUMS[(table, column)]
    assert len(set(python)) == len(python), "spelled twice"
    assert check_values(session, table, column) == set(python)


def test_a_drifted_enumeration_is_seen(session):
    session.execute(text("ALTER TABLE inspection DROP CONSTRAINT IF EXISTS inspection_result_check"))
    session.execute(
        text(
            "ALTER TABLE inspection ADD CONSTRAINT inspection_result_check "
            "CHECK (result IN ('compliant', 'new')) NOT VALID"
        )
    )
    assert check_values(session, "inspection", "result") != set(RESULTS)
