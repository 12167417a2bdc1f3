"""The counts a government publishes about its enforcement (年度行政执法数据)."""

from geo.supervision import acts
from geo.supervision.model import Indicator


def _count(key: str, zh: str, en: str, order: int, records_sql: str, definition_zh: str, source: str) -> Indicator:
    return Indicator(
        key=key,
        zh=zh,
        en=en,
        kind="count",
        order=order,
        definition_zh=definition_zh,
        definition_en=en,
        formula=definition_zh,
        source=source,
        num_zh=zh,
        den_zh="—",
        records_sql=records_sql,
    )


ANNUAL = "滨海新区 2025 年行政执法数据（104 个主体、2767 名持证人员、41308 次检查、4905 件处罚）"
BODIES = _count(
    "bodies",
    "执法主体数",
    "Enforcement bodies",
    100,
    """SELECT 'body' AS kind, b.id::bigint, b.name AS label, b.unit_id, b.id AS body_id, u.township_code::text,
              NULL::int AS officer_id, NULL::date AS on_date, 1 AS num, 0 AS den
       FROM enforcement_body b JOIN enforcement_unit u ON u.id = b.unit_id""",
    "已确认并公布的行政执法主体",
    ANNUAL,
)
OFFICERS = _count(
    "officers",
    "持证执法人员数",
    "Certified officers",
    101,
    """SELECT 'officer' AS kind, o.id::bigint, o.name || '（' || o.cert_no || '）', o.unit_id, o.body_id,
              u.township_code::text, o.id, NULL::date, 1, 0
       FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id
       WHERE o.cert_valid_from <= CAST(:end AS date) - 1 AND o.cert_valid_to >= CAST(:end AS date) - 1""",
    "期末持有有效执法证件的人员",
    ANNUAL,
)
INSPECTIONS = _count(
    "inspections",
    "行政检查次数",
    "Inspections",
    102,
    acts.of_kinds(("inspection",)),
    "期间内完成的行政检查（本平台检查与归集的检查记录）",
    ANNUAL,
)
PENALTIES = _count(
    "penalties",
    "行政处罚件数",
    "Penalty decisions",
    103,
    acts.of_kinds(("penalty_simple", "penalty_ordinary")),
    "期间内作出的行政处罚决定（简易程序与普通程序）",
    ANNUAL,
)
SIMPLE = _count(
    "penalties_simple",
    "简易程序处罚",
    "Penalties, simple procedure",
    104,
    acts.of_kinds(("penalty_simple",)),
    "期间内以简易程序作出的行政处罚决定",
    ANNUAL,
)
ORDINARY = _count(
    "penalties_ordinary",
    "普通程序处罚",
    "Penalties, ordinary procedure",
    105,
    acts.of_kinds(("penalty_ordinary",)),
    "期间内以普通程序作出的行政处罚决定",
    ANNUAL,
)
INDICATORS = (BODIES, OFFICERS, INSPECTIONS, PENALTIES, SIMPLE, ORDINARY)
