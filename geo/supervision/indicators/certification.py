from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="certification",
    zh="持证率",
    en="Staff certified",
    kind="rate",
    order=40,
    definition_zh="期末在执法岗位名册上的人员中，当日持有有效执法证件的比例。",
    definition_en="Of the staff on the enforcement roster on the period's last day, those holding a valid "
    "certificate that day.",
    formula="certified enforcement staff / enforcement staff",
    source="海滨街 2025：30/32 = 93.75 % [S26]；行政执法监督条例 第十一条（一）",
    num_zh="持证人员",
    den_zh="执法岗位人员",
    dimensions=("district", "unit", "township"),
    records_sql="""
    SELECT 'staff' AS kind, m.id AS id, m.name || coalesce('（' || o.cert_no || '）', '（无证）') AS label,
           m.unit_id, o.body_id, u.township_code::text, m.officer_id, NULL::date AS on_date,
           (o.id IS NOT NULL AND o.cert_valid_from <= CAST(:end AS date) - 1
            AND o.cert_valid_to >= CAST(:end AS date) - 1)::int AS num, 1 AS den
    FROM staff_member m JOIN enforcement_unit u ON u.id = m.unit_id
    LEFT JOIN officer o ON o.id = m.officer_id
    WHERE m.on_roster_from <= CAST(:end AS date) - 1
      AND (m.on_roster_to IS NULL OR m.on_roster_to >= CAST(:end AS date) - 1)
    """,
)
