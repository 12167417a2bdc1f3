from geo.supervision import acts
from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="out_of_area",
    zh="违规异地执法",
    en="Acts outside the unit's area",
    kind="count",
    order=8,
    higher_is_better=False,
    target=0.0,
    definition_zh="有属地范围的单位（如街镇综合执法队）在其辖区街镇之外完成的检查和执法记录。",
    definition_en="Inspections and records of a unit with a territorial area, done in a township outside it.",
    formula="acts of units with an area whose township is not in the unit's area",
    source="行政执法监督条例 第十一条（四）（违规异地执法）",
    num_zh="辖区外执法",
    den_zh="—",
    dimensions=("district", "unit", "township"),
    records_sql=f"""
    SELECT 'inspection' AS kind, i.id, '检查 ' || i.id || '：' || t.name AS label, i.unit_id, NULL::int,
           t.township_code::text, NULL::int, {acts.BEIJING_DAY.format(col="i.completed_at")}, 1, 0
    FROM inspection i JOIN target t ON t.id = i.target_id
    WHERE i.status = 'completed' AND {acts.IN_PERIOD_TS.format(col="i.completed_at")}
      AND EXISTS (SELECT 1 FROM unit_area a WHERE a.unit_id = i.unit_id)
      AND NOT EXISTS (SELECT 1 FROM unit_area a WHERE a.unit_id = i.unit_id AND a.township_code = t.township_code)
    UNION ALL
    SELECT r.kind, r.id, coalesce(r.ref, r.kind || ':' || r.id), r.unit_id, r.body_id, r.township_code::text,
           NULL::int, r.on_date, 1, 0
    FROM enforcement_record r
    LEFT JOIN unit_area a ON a.unit_id = r.unit_id AND a.township_code = r.township_code
    WHERE r.township_code IS NOT NULL AND {acts.IN_PERIOD.format(col="r.on_date")} AND a.unit_id IS NULL
      AND r.unit_id IN (SELECT unit_id FROM unit_area)
    """,
)
