from geo.supervision import acts
from geo.supervision.model import Indicator

INDICATOR = Indicator(
    key="per_capita",
    zh="人均执法量",
    en="Enforcement acts per participating officer",
    kind="ratio",
    order=30,
    digits=1,
    definition_zh="平台归集的执法记录（检查、处罚、区域巡查、现场规范、教育改正）数除以参与执法的持证人员数。",
    definition_en="Enforcement records collected on the platform (inspections, penalties, patrols, on-site "
    "corrections, education) per certified officer who took part.",
    formula="enforcement records collected on the platform / officers who took part",
    source="滨海新区 2023 年 18.5、泰达 2024 年约 6 [S26]",
    num_zh="执法记录",
    den_zh="参与执法人员",
    inference="公式为推断：与两项公开数字相符（滨海 2023：52693/2841 = 18.5；泰达 2024：1488/265 ≈ 6），未见公开定义。",
    dimensions=("district", "unit", "township"),
    records_sql=f"""
    {acts.of_kinds(("inspection", "penalty_simple", "penalty_ordinary", "patrol", "onsite_correction", "education"))}
    UNION ALL
    {acts.PARTICIPANTS}
    """,
)
