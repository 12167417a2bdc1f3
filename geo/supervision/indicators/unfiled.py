from geo.supervision import acts
from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="unfiled",
    zh="有案不立数",
    en="Violations left unfiled",
    kind="count",
    order=5,
    higher_is_better=False,
    target=0.0,
    definition_zh="案源核查期限已过仍未作出立案与否决定的，以及检查发现违法却没有案源的（截至今日，按受理或检查日期计入期间）。",
    definition_en="Case sources past their verification limit with no filing decision, and inspections that found "
    "a violation with no case source (as of today, by the day received or inspected).",
    formula="case sources with no outcome and verify_due < today + violation inspections without a case source",
    source="行政执法监督条例 第十一条（四）；市场监督管理行政处罚程序规定 第十八条",
    num_zh="有案不立",
    den_zh="—",
    dimensions=("district", "unit", "township"),
    records_sql=f"""
    SELECT 'case_source' AS kind, s.id, '案源 ' || s.id || '：' || left(s.summary, 60) AS label, s.unit_id,
           NULL::int AS body_id, t.township_code::text, NULL::int AS officer_id, s.verify_due AS on_date,
           1 AS num, 0 AS den
    FROM case_source s LEFT JOIN target t ON t.id = s.target_id
    WHERE s.status IN ('registered', 'verifying') AND s.verify_due < :today
      AND s.received_on >= :start AND s.received_on < :end
    UNION ALL
    SELECT 'inspection' AS kind, i.id, '检查 ' || i.id || '：' || t.name AS label, i.unit_id, NULL::int,
           t.township_code::text, NULL::int, {acts.BEIJING_DAY.format(col="i.completed_at")}, 1, 0
    FROM inspection i JOIN target t ON t.id = i.target_id
    WHERE i.status = 'completed' AND i.result = 'violation' AND {acts.IN_PERIOD_TS.format(col="i.completed_at")}
      AND NOT EXISTS (SELECT 1 FROM case_source s WHERE s.inspection_id = i.id)
    """,
)
