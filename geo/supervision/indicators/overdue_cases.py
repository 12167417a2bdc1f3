from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="overdue_cases",
    zh="超期办案率",
    en="Cases decided late",
    kind="rate",
    order=51,
    higher_is_better=False,
    target=0.0,
    definition_zh="期间内作出的决定中，晚于办案期限（含延长与中止）作出的比例。",
    definition_en="Decisions of the period taken after the case's time limit (with its extensions and pauses).",
    formula="decisions with decided_on > decision_due / decisions",
    source="行政处罚法 第六十条；市场监督管理行政处罚程序规定 第六十四条",
    num_zh="超期决定",
    den_zh="决定",
    dimensions=("district", "unit", "township"),
    records_sql="""
    SELECT 'case' AS kind, c.id, d.decision_no || ' ' || c.party_name AS label, c.unit_id, NULL::int AS body_id,
           t.township_code::text, NULL::int AS officer_id, d.decided_on AS on_date,
           (c.decision_due IS NOT NULL AND d.decided_on > c.decision_due)::int AS num, 1 AS den
    FROM case_decision d JOIN enf_case c ON c.id = d.case_id LEFT JOIN target t ON t.id = c.target_id
    WHERE c.procedure = 'ordinary' AND d.decided_on >= :start AND d.decided_on < :end
    """,
)
