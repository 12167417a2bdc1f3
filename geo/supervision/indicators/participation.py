from geo.supervision import acts
from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="participation",
    zh="人员参与率",
    en="Officer participation",
    kind="rate",
    order=10,
    definition_zh="期间内至少有一次执法行为（检查、办案或平台执法记录）的持证执法人员占持证执法人员的比例。",
    definition_en="Certified officers with at least one enforcement act in the period, of all certified officers.",
    formula="certified officers with ≥1 enforcement act in the period / certified officers",
    source="滨海新区行政执法监督考核指标（泰达 2024：265/288 = 92.01 %）[S26]",
    num_zh="有执法行为",
    den_zh="持证执法人员",
    dimensions=("district", "unit", "body", "township"),
    records_sql=f"""
    WITH acted AS (SELECT DISTINCT officer_id FROM ({acts.OFFICER_ACTS}) a)
    SELECT 'officer' AS kind, o.id::bigint AS id, o.name || '（' || o.cert_no || '）' AS label,
           o.unit_id, o.body_id, u.township_code::text, o.id AS officer_id, NULL::date AS on_date,
           (a.officer_id IS NOT NULL)::int AS num, 1 AS den
    FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id
    LEFT JOIN acted a ON a.officer_id = o.id
    WHERE {acts.CERTIFIED}
    """,
)
