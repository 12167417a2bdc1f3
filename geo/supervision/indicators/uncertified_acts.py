from geo.supervision import acts
from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="uncertified_acts",
    zh="无有效证件执法",
    en="Acts by officers without a valid certificate",
    kind="count",
    order=9,
    higher_is_better=False,
    target=0.0,
    definition_zh="执法人员在其执法证件有效期之外参与的检查、案件和执法记录（每人每次计一条）。",
    definition_en="Inspections, cases and records an officer took part in on a day his certificate was not valid "
    "(one per act and officer).",
    formula="(act, officer) pairs with the act's day outside the officer's certificate validity",
    source="行政执法监督条例 第十一条（一）（六）；行政处罚法 第四十二条",
    num_zh="无证执法",
    den_zh="—",
    dimensions=("district", "unit", "body", "township", "officer"),
    records_sql=f"""
    SELECT 'inspection' AS kind, i.id, '检查 ' || i.id || '：' || o.name || '（' || o.cert_no || '）' AS label,
           i.unit_id, o.body_id, t.township_code::text, o.id, {acts.BEIJING_DAY.format(col="i.completed_at")}, 1, 0
    FROM inspection_officer io JOIN inspection i ON i.id = io.inspection_id JOIN officer o ON o.id = io.officer_id
    JOIN target t ON t.id = i.target_id
    WHERE i.status = 'completed' AND {acts.IN_PERIOD_TS.format(col="i.completed_at")}
      AND NOT {acts.BEIJING_DAY.format(col="i.completed_at")} BETWEEN o.cert_valid_from AND o.cert_valid_to
    UNION ALL
    SELECT 'case', c.id, c.case_no || '：' || o.name || '（' || o.cert_no || '）', c.unit_id, o.body_id,
           t.township_code::text, o.id, c.filed_on, 1, 0
    FROM case_officer co JOIN enf_case c ON c.id = co.case_id JOIN officer o ON o.id = co.officer_id
    LEFT JOIN target t ON t.id = c.target_id
    WHERE {acts.IN_PERIOD.format(col="c.filed_on")} AND NOT c.filed_on BETWEEN o.cert_valid_from AND o.cert_valid_to
    UNION ALL
    SELECT r.kind, r.id, coalesce(r.ref, r.kind || ':' || r.id) || '：' || o.name || '（' || o.cert_no || '）',
           r.unit_id, o.body_id, r.township_code::text, o.id, r.on_date, 1, 0
    FROM enforcement_record r CROSS JOIN LATERAL unnest(r.officer_ids) AS x(officer_id)
    JOIN officer o ON o.id = x.officer_id
    WHERE {acts.IN_PERIOD.format(col="r.on_date")} AND NOT r.on_date BETWEEN o.cert_valid_from AND o.cert_valid_to
    """,
)
