from geo.supervision import acts
from geo.supervision.model import Indicator

# A unit whose penalties come month after month in near-equal numbers and amounts looks like a
# quota (the 司法部's 2025 typical case: 2-3 fire-safety penalties of 2,000-2,500 yuan every
# month). The thresholds are this platform's, not a published rule: at least 6 consecutive
# months, at most 5 a month with at most 1 between the busiest and the quietest month, and the
# fines' 90th percentile within 1.3 times their 10th.
MIN_MONTHS, MAX_PER_MONTH, MAX_SPREAD, FINE_BAND = 6, 5, 1, 1.3

INDICATOR = Indicator(
    key="quota_pattern",
    zh="疑似罚款指标（以罚代管）",
    en="Quota-like penalties",
    kind="count",
    order=7,
    higher_is_better=False,
    target=0.0,
    definition_zh=f"某单位连续 {MIN_MONTHS} 个月以上每月处罚件数几乎相同（每月不超过 {MAX_PER_MONTH} 件、最多相差 "
    f"{MAX_SPREAD} 件）且罚款金额集中（高低相差不到 {FINE_BAND} 倍）的处罚决定。",
    definition_en="Penalties of a unit whose monthly counts and fines are too regular to be chance (a quota).",
    formula=f"penalties of units with ≥{MIN_MONTHS} consecutive months of ≤{MAX_PER_MONTH} penalties differing by "
    f"≤{MAX_SPREAD}, and fines with p90 ≤ {FINE_BAND} × p10",
    source="行政执法监督条例 第十一条（四）（以罚代管、趋利性执法、乱罚款）；司法部 2025 年典型案例",
    inference="阈值为本平台推断（据司法部典型案例：每月 2—3 件、每件 2000—2500 元），非公布标准。",
    num_zh="疑似指标化处罚",
    den_zh="—",
    dimensions=("district", "unit", "township"),
    records_sql=f"""
    WITH p AS (
        SELECT 'case' AS kind, c.id, d.decision_no || ' ' || c.party_name AS label, c.unit_id,
               NULL::int AS body_id, t.township_code::text AS township_code, d.decided_on AS on_date,
               (d.penalty->>'fine_yuan')::numeric AS fine
        FROM case_decision d JOIN enf_case c ON c.id = d.case_id LEFT JOIN target t ON t.id = c.target_id
        WHERE d.kind = 'penalty' AND {acts.IN_PERIOD.format(col="d.decided_on")}
        UNION ALL
        SELECT r.kind, r.id, coalesce(r.ref, r.kind || ':' || r.id), r.unit_id, r.body_id, r.township_code::text,
               r.on_date, r.fine_yuan
        FROM enforcement_record r
        WHERE r.kind IN ('penalty_simple', 'penalty_ordinary') AND {acts.IN_PERIOD.format(col="r.on_date")}
    ), months AS (
        SELECT unit_id, date_trunc('month', on_date) AS month, count(*) AS n FROM p GROUP BY 1, 2
    ), regular AS (
        SELECT unit_id FROM months GROUP BY unit_id
        HAVING count(*) >= {MIN_MONTHS} AND max(n) <= {MAX_PER_MONTH} AND max(n) - min(n) <= {MAX_SPREAD}
           -- consecutive: as many months with penalties as months from the first to the last
           AND count(*) = (extract(year FROM age(max(month), min(month))) * 12
                           + extract(month FROM age(max(month), min(month))) + 1)
    ), banded AS (
        SELECT p.unit_id FROM p JOIN regular USING (unit_id) GROUP BY p.unit_id
        HAVING count(p.fine) = count(*) AND min(p.fine) > 0
           AND percentile_cont(0.9) WITHIN GROUP (ORDER BY p.fine)
               <= {FINE_BAND} * percentile_cont(0.1) WITHIN GROUP (ORDER BY p.fine)
    )
    SELECT p.kind, p.id, p.label || coalesce('（' || p.fine || ' 元）', ''), p.unit_id, p.body_id, p.township_code,
           NULL::int, p.on_date, 1, 0
    FROM p WHERE p.unit_id IN (SELECT unit_id FROM banded)
    """,
)
