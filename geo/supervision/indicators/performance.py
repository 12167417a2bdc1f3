from geo.supervision import acts
from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="performance",
    zh="履职率",
    en="Powers exercised",
    kind="rate",
    order=20,
    definition_zh="单位权责清单中期间内至少行使过一次的事项占清单事项的比例（检查、立案或平台执法记录引用该事项）。",
    definition_en="Items of the unit's power list exercised at least once in the period, of the items on the list.",
    formula="items of the unit's power list with ≥1 act in the period / items on the list",
    source="滨海新区行政执法监督考核指标（泰达 2024：682/884 = 77.15 %）[S26]",
    num_zh="已行使事项",
    den_zh="权责清单事项",
    dimensions=("district", "unit", "township"),
    records_sql=f"""
    WITH exercised AS (
        SELECT i.unit_id, unnest(i.items) AS item_code FROM inspection i
        WHERE i.status = 'completed' AND {acts.IN_PERIOD_TS.format(col="i.completed_at")}
        UNION
        SELECT c.unit_id, c.item_code FROM enf_case c WHERE {acts.IN_PERIOD.format(col="c.filed_on")}
        UNION
        SELECT r.unit_id, r.item_code FROM enforcement_record r
        WHERE r.item_code IS NOT NULL AND {acts.IN_PERIOD.format(col="r.on_date")}
    )
    SELECT 'power_item' AS kind, p.id::bigint AS id, p.item_code || ' ' || p.item_name AS label,
           p.unit_id, NULL::int AS body_id, u.township_code::text, NULL::int AS officer_id, NULL::date AS on_date,
           (e.unit_id IS NOT NULL)::int AS num, 1 AS den
    FROM power_item p JOIN enforcement_unit u ON u.id = p.unit_id
    LEFT JOIN exercised e ON e.unit_id = p.unit_id AND e.item_code = p.item_code
    """,
)
