from geo.supervision import acts
from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="fines_yuan",
    zh="罚款金额（元）",
    en="Fines (yuan)",
    kind="count",
    order=106,
    definition_zh="期间内作出的行政处罚决定所处罚款的合计（元，取整）。",
    definition_en="The fines of the period's penalty decisions, in yuan (rounded).",
    formula="sum of the fines of penalty decisions in the period",
    source="年度行政执法数据公开（滨海新区 2025 年报告）",
    num_zh="罚款（元）",
    den_zh="—",
    records_sql=f"""
    SELECT 'penalty_' || c.procedure, c.id, d.decision_no || ' ' || c.party_name, c.unit_id, NULL::int,
           t.township_code::text, NULL::int, d.decided_on,
           round(coalesce((d.penalty->>'fine_yuan')::numeric, 0))::int, 0
    FROM case_decision d JOIN enf_case c ON c.id = d.case_id LEFT JOIN target t ON t.id = c.target_id
    WHERE d.kind = 'penalty' AND coalesce((d.penalty->>'fine_yuan')::numeric, 0) > 0
      AND {acts.IN_PERIOD.format(col="d.decided_on")}
    UNION ALL
    SELECT r.kind, r.id, coalesce(r.ref, r.kind || ':' || r.id), r.unit_id, r.body_id, r.township_code::text,
           NULL::int, r.on_date, round(r.fine_yuan)::int, 0
    FROM enforcement_record r
    WHERE r.kind IN ('penalty_simple', 'penalty_ordinary') AND r.fine_yuan > 0
      AND {acts.IN_PERIOD.format(col="r.on_date")}
    """,
)
