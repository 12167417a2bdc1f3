from geo.supervision import acts
from geo.supervision.model import Indicator

# 撤销、确认违法、责令履行, and 变更 (the spec brackets it; a changed act was corrected too).
CORRECTED = ("revoked", "confirmed_unlawful", "ordered_to_act", "altered")

INDICATOR = Indicator(
    key="reconsideration_correction",
    zh="复议纠错率",
    en="Reconsiderations corrected",
    kind="rate",
    order=60,
    higher_is_better=False,
    definition_zh="期间内作出的行政复议决定中，撤销、确认违法、责令履行或变更的比例。",
    definition_en="Reconsiderations decided in the period that revoked, confirmed unlawful, ordered to act or "
    "altered the unit's act.",
    formula="(撤销 + 确认违法 + 责令履行 + 变更) / 复议 decided",
    source="滨海新区 2022：(12+23+6)/377 = 10.88 % [S26]",
    num_zh="被纠错",
    den_zh="复议决定",
    dimensions=("district", "unit", "township"),
    records_sql=acts.reconsiderations(CORRECTED),
)
