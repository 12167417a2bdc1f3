from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="legal_review",
    zh="法制审核率",
    en="Legal review before decision",
    kind="rate",
    order=50,
    target=100.0,
    definition_zh="须经法制审核的案件中，作出决定前已通过法制审核的比例（应为 100 %）。",
    definition_en="Decisions of cases that need a legal review, taken after a passed legal review (must be 100 %).",
    formula="decisions of legal-review cases with a passed legal review before decided_on / decisions of "
    "legal-review cases",
    source="行政处罚法 第五十八条；市场监督管理行政处罚程序规定 第五十条",
    num_zh="已审核后决定",
    den_zh="应审核案件的决定",
    dimensions=("district", "unit", "township"),
    records_sql="""
    SELECT 'case' AS kind, c.id, d.decision_no || ' ' || c.party_name AS label, c.unit_id, NULL::int AS body_id,
           t.township_code::text, NULL::int AS officer_id, d.decided_on AS on_date,
           EXISTS (SELECT 1 FROM case_review r WHERE r.case_id = c.id AND r.kind = 'legal' AND r.opinion = 'agree'
                   AND (timezone('Asia/Shanghai', r.decided_at))::date <= d.decided_on)::int AS num,
           1 AS den
    FROM case_decision d JOIN enf_case c ON c.id = d.case_id LEFT JOIN target t ON t.id = c.target_id
    WHERE c.legal_review_required AND d.decided_on >= :start AND d.decided_on < :end
    """,
)
