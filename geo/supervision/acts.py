"""The records the indicators share, as SQL fragments over :start and :end (days, end exclusive):
LawGrid's own inspections and cases, and the platform's other enforcement records
(`enforcement_record`: history imported from the earlier platform, 区域巡查, 现场规范, 教育改正)."""

# A timestamp column within the period's Beijing days (an index range, not a cast per row).
IN_PERIOD_TS = (
    "{col} >= CAST(:start AS timestamp) AT TIME ZONE 'Asia/Shanghai' "
    "AND {col} < CAST(:end AS timestamp) AT TIME ZONE 'Asia/Shanghai'"
)
IN_PERIOD = "{col} >= :start AND {col} < :end"
BEIJING_DAY = "(timezone('Asia/Shanghai', {col}))::date"

# Who acted: one row per (act, officer), with the unit the act was for.
OFFICER_ACTS = f"""
    SELECT io.officer_id, i.unit_id FROM inspection_officer io JOIN inspection i ON i.id = io.inspection_id
    WHERE i.status = 'completed' AND {IN_PERIOD_TS.format(col="i.completed_at")}
    UNION ALL
    SELECT co.officer_id, c.unit_id FROM case_officer co JOIN enf_case c ON c.id = co.case_id
    WHERE {IN_PERIOD.format(col="c.filed_on")}
    UNION ALL
    SELECT unnest(r.officer_ids), r.unit_id FROM enforcement_record r WHERE {IN_PERIOD.format(col="r.on_date")}
"""

# Officers whose certificate was valid on some day of the period.
CERTIFIED = "o.cert_valid_from < :end AND o.cert_valid_to >= :start"

# Certified officers who took part (≥ 1 act in the period), as denominator records.
PARTICIPANTS = f"""
    SELECT 'officer' AS kind, o.id::bigint AS id, o.name || '（' || o.cert_no || '）' AS label,
           o.unit_id, o.body_id, u.township_code::text, o.id AS officer_id, NULL::date AS on_date,
           0 AS num, 1 AS den
    FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id
    WHERE {CERTIFIED} AND o.id IN (SELECT officer_id FROM ({OFFICER_ACTS}) a)
"""

# Every enforcement record of the period (人均执法量's numerator; the annual counts).
INSPECTIONS = f"""
    SELECT 'inspection' AS kind, i.id AS id, t.name AS label, i.unit_id, NULL::int AS body_id,
           t.township_code::text, NULL::int AS officer_id, {BEIJING_DAY.format(col="i.completed_at")} AS on_date,
           1 AS num, 0 AS den
    FROM inspection i JOIN target t ON t.id = i.target_id
    WHERE i.status = 'completed' AND {IN_PERIOD_TS.format(col="i.completed_at")}
"""

PENALTIES = f"""
    SELECT 'penalty_' || c.procedure AS kind, c.id AS id, d.decision_no || ' ' || c.party_name AS label,
           c.unit_id, b.id AS body_id, t.township_code::text, NULL::int AS officer_id, d.decided_on AS on_date,
           1 AS num, 0 AS den
    FROM case_decision d JOIN enf_case c ON c.id = d.case_id
    LEFT JOIN target t ON t.id = c.target_id
    LEFT JOIN LATERAL (SELECT min(eb.id) AS id FROM enforcement_body eb WHERE eb.unit_id = c.unit_id) b ON true
    WHERE d.kind = 'penalty' AND {IN_PERIOD.format(col="d.decided_on")}
"""

RECORDS = f"""
    SELECT r.kind, r.id, coalesce(r.ref, r.kind || ':' || r.id) AS label, r.unit_id, r.body_id,
           r.township_code::text, NULL::int AS officer_id, r.on_date, 1 AS num, 0 AS den
    FROM enforcement_record r WHERE {IN_PERIOD.format(col="r.on_date")}
"""


def of_kinds(kinds: tuple[str, ...]) -> str:
    """Every record of the period whose kind is one of these (inspection, penalty_simple,
    penalty_ordinary, patrol, onsite_correction, education), LawGrid's and imported alike."""
    parts = []
    if "inspection" in kinds:
        parts.append(INSPECTIONS)
    penalty = [k for k in kinds if k.startswith("penalty_")]
    if penalty:
        parts.append(f"SELECT * FROM ({PENALTIES}) p WHERE p.kind IN ({', '.join(repr(k) for k in penalty)})")
    parts.append(f"SELECT * FROM ({RECORDS}) r WHERE r.kind IN ({', '.join(repr(k) for k in kinds)})")
    return "\nUNION ALL\n".join(parts)


def reconsiderations(counted: tuple[str, ...]) -> str:
    """复议 decided in the period; num = 1 for those whose outcome is one of `counted`."""
    return f"""
    SELECT 'reconsideration' AS kind, r.id, coalesce(r.ref, '复议:' || r.id) || ' ' || r.outcome AS label,
           r.unit_id, NULL::int AS body_id, u.township_code::text, NULL::int AS officer_id, r.decided_on AS on_date,
           (r.outcome IN ({", ".join(repr(o) for o in counted)}))::int AS num, 1 AS den
    FROM reconsideration r JOIN enforcement_unit u ON u.id = r.unit_id
    WHERE {IN_PERIOD.format(col="r.decided_on")}
    """
