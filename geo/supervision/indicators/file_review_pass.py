from geo.supervision.file_reviews import PASS_MARK
from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="file_review_pass",
    zh="案卷评查合格率",
    en="Case files passing review",
    kind="rate",
    order=55,
    definition_zh=f"期间内评查的案卷中，得分不低于 {PASS_MARK:g} 分的比例。",
    definition_en=f"Case files reviewed in the period that scored at least {PASS_MARK:g}.",
    formula=f"file reviews scoring ≥ {PASS_MARK:g} / file reviews",
    source="行政执法监督条例 第十五条（执法案卷评查）",
    num_zh="合格案卷",
    den_zh="评查案卷",
    dimensions=("district", "unit", "township"),
    records_sql=f"""
    SELECT 'file_review', f.id, c.case_no || '：' || f.score || ' 分', f.unit_id, NULL::int, t.township_code::text,
           NULL::int, f.reviewed_on, (f.score >= {PASS_MARK})::int, 1
    FROM file_review f JOIN enf_case c ON c.id = f.case_id LEFT JOIN target t ON t.id = c.target_id
    WHERE f.reviewed_on >= :start AND f.reviewed_on < :end
    """,
)
