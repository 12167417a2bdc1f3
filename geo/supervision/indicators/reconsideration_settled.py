from geo.supervision import acts
from geo.supervision.model import Indicator

SETTLED = ("terminated", "mediated", "withdrawn")

INDICATOR = Indicator(
    key="reconsideration_settled",
    zh="调撤率",
    en="Reconsiderations settled or withdrawn",
    kind="rate",
    order=61,
    definition_zh="期间内作出的行政复议决定中，终止（含撤回、调解）的比例。",
    definition_en="Reconsiderations decided in the period that ended by termination, withdrawal or mediation.",
    formula="(终止 + 撤回/调解) / 复议 decided",
    source="滨海新区 2022：119/377 = 31.56 % [S26]",
    num_zh="调解或撤回",
    den_zh="复议决定",
    dimensions=("district", "unit", "township"),
    records_sql=acts.reconsiderations(SETTLED),
)
