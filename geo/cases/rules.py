"""The rules of case handling by name, with the reason a user reads (Chinese, English) and
the statutory figures they use. The names are the contract: the API's 422 answers, the
audit trail, the case file's "why not" and the database's refusals (0015) all use them.
Sources: ../shared/domain/CASE-PROCEDURE.md (行政处罚法 = 处罚法; 市场监督管理行政处罚程序规定 = 程序规定)."""

from __future__ import annotations

from typing import Any

RULES: dict[str, tuple[str, str]] = {
    # the database's own gates (migration 0015)
    "calendar_unknown": (
        "工作日历未覆盖该期限，请管理员录入节假日安排",
        "the working-day calendar does not reach this deadline; an administrator must enter the holiday schedule",
    ),
    "two_officers": ("办案人员不得少于两人（处罚法第四十二条）", "two or more officers handle a case (Art. 42)"),
    "certificate_valid": ("办案人员须持有有效执法证件", "every officer holds a valid enforcement certificate"),
    "officer_unit": ("办案人员须属于立案单位", "officers belong to the unit that filed the case"),
    "recused": (
        "办案人员与当事人有利害关系，应当回避（处罚法第四十三条）",
        "an officer is recused from this party (Art. 43)",
    ),
    "reviewer_not_handler": ("办案人员不得作为审核人员（程序规定第四十九条）", "a handler may not review his own case"),
    "first_legal_review_qualification": (
        "初次从事法制审核的人员须取得法律职业资格（处罚法第五十八条）",
        "a first-time legal reviewer holds the legal professional qualification (Art. 58)",
    ),
    "review_passed": (
        "未经法制审核或审核未通过、或审核后事实、事项、处罚已变更，不得作出决定（处罚法第五十八条）",
        "no decision without a passed review of the right kind of the facts, item and penalty as they now stand",
    ),
    "decision_time_limit": (
        "已超过九十日办案期限且无批准的延期（处罚法第六十条、程序规定第六十四条）",
        "past the 90-day limit without an approved extension (Art. 60)",
    ),
    "panel_discussion": (
        "重大案件及经法制审核的案件须经负责人集体讨论（处罚法第五十七条；程序规定第六十条第二款）",
        "a major case, and every case that went to 法制审核, is decided after the heads' collective discussion",
    ),
    "extension_after_limit": (
        "办案期限已届满，不得再延长（程序规定第六十四条）",
        "the time limit has passed: it can no longer be extended",
    ),
    "extension_panel": (
        "经集体讨论延长的，须有负责人集体讨论记录（程序规定第六十四条）",
        "an extension decided by the heads' collective discussion needs that discussion on record",
    ),
    "hearing_waived": (
        "当事人已书面放弃听证",
        "the party waived the hearing in writing",
    ),
    "notice_served": (
        "作出处罚决定前须告知当事人（处罚法第四十四、六十二条）",
        "the party is notified before a penalty",
    ),
    "notice_window": (
        "告知后五个工作日未满，且当事人未书面放弃陈述申辩及听证；陈述申辩不等于放弃（程序规定第五十七条）",
        "the party's five working days after notice have not elapsed and he did not waive in writing both "
        "statements and the hearing (a statement is no waiver)",
    ),
    "not_heavier_than_notified": (
        "处罚不得重于告知的内容，加重须重新告知（处罚法第四十五条）",
        "no penalty heavier than the one notified without a new notice (Art. 45)",
    ),
    "hearing_report": (
        "当事人要求听证的，须待听证报告后决定（处罚法第六十五条）",
        "a requested hearing is reported first",
    ),
    "host_not_handler": (
        "调查人员不得主持听证（处罚法第六十四条）",
        "an investigator may not chair the hearing (Art. 64)",
    ),
    "simple_procedure_limits": (
        "简易程序仅限警告或对公民二百元、对组织三千元以下罚款（处罚法第五十一条）",
        "the simple procedure is a warning or a fine of at most 200 yuan (person) / 3,000 yuan (organisation)",
    ),
    # the core's
    "stale_version": ("案件已被他人更新，请刷新后重试", "someone else changed the case; reload it"),
    "handler_only": ("仅本案办案人员可办理此步骤", "only the case's officers take this step"),
    "item_power_penalty": (
        "立案单位须持有该事项的行政处罚职权",
        "the unit holds the penalty power for this item",
    ),
    "limitation": (
        "违法行为在二年内未被发现的，不再给予行政处罚；涉及公民生命健康安全、金融安全且有危害后果的，五年（处罚法第三十六条）",
        "the act was not discovered within two years (five for life, health or financial safety with harm; Art. 36)",
    ),
    "rights_notice": (
        "首次调查取证时须告知当事人陈述、申辩、申请回避的权利（程序规定第二十一条）",
        "the first evidence-taking tells the party of the rights to state, defend and ask for recusal",
    ),
    "evidence_required": (
        "违法事实不清、证据不足的，不得给予行政处罚（处罚法第四十条）",
        "no penalty without evidence",
    ),
    "report_complete": (
        "调查终结报告须写明事实、处理意见及自由裁量的理由（程序规定第四十八条）",
        "the investigation report states the facts, the proposal and the reasons for the discretion",
    ),
    "review_kind": ("该案须经法制审核", "this case needs a legal review"),
    "review_checks": (
        "同意意见须逐项审核七项内容（程序规定第五十三条）",
        "an agreeing opinion checks all seven points",
    ),
    "review_reasons": ("审核意见须写明理由", "an opinion other than agree gives reasons"),
    "penalty_proposed": ("须先提出处罚意见", "a penalty is proposed first"),
    "hearing_right": ("告知未含听证权利（未达听证标准）", "the notice gave no hearing right"),
    "hearing_request_window": (
        "听证申请须在告知后五个工作日内提出（处罚法第六十四条）",
        "a hearing is asked for within five working days of the notice (Art. 64)",
    ),
    "hearing_notice_7wd": (
        "听证通知须在举行听证七个工作日前送达（处罚法第六十四条）",
        "the hearing notice is served seven working days before the hearing (Art. 64)",
    ),
    "host_role": ("听证主持人须为听证人员", "the host is a hearing officer"),
    "host_only": ("仅听证主持人可办理此步骤", "only the hearing's host takes this step"),
    "statements_adoption": (
        "决定书须写明陈述、申辩的采纳情况及理由（程序规定第六十二条）",
        "the decision states whether the party's statements were adopted and why",
    ),
    "education_required": ("不予处罚的，应当对当事人进行教育（处罚法第三十三条）", "no penalty comes with education"),
    "extension_once": (
        "延长三十日由负责人批准一次，再延长须经负责人集体讨论（程序规定第六十四条）",
        "the first 30-day extension is the head's; any further one needs a collective discussion",
    ),
    "verify_extension_once": ("核查期限只能延长一次（程序规定第十八条）", "the verification period is extended once"),
    "not_a_complaint": ("仅投诉需作出受理决定", "only a complaint is accepted or refused"),
    "reporter_real_name": ("仅实名举报人需告知立案结果", "only a real-name reporter is told"),
    "service_method": (
        "电子送达须经当事人签署送达地址确认书，留置送达须有见证人（程序规定第八十二、八十三条）",
        "electronic service needs the party's address confirmation; leaving it needs a witness",
    ),
    # documents, numbers and signatures (geo/documents.py, geo/doc_numbers.py; held by migration 0019 too)
    "document_field_locked": (
        "该栏目取自案件，不得改写",
        "this field is the case's own value and cannot be overwritten",
    ),
    "document_incomplete": ("文书必填栏目未填写", "required fields of the document are empty"),
    "document_issued": (
        "文书已出具，不得修改；请作废后重新制作",
        "the document is issued: void it and draft a new one",
    ),
    "document_needs_decision": (
        "案件尚未作出决定，决定书无文号",
        "the case has no decision yet, so the decision has no number",
    ),
    "document_sealed": ("已盖章或已作废的文书不得更改", "a sealed or voided document is never changed"),
    "number_used": ("该文号已被使用或作废", "this number is already used or voided"),
    "number_format": ("文号格式应为 机关代字〔年份〕序号号", "a number reads prefix〔year〕n号"),
    "number_block": ("该文号不在本人领取的号段内", "the number is not in a block issued to you"),
    "number_block_officer": ("仅执法人员本人可领取号段", "only an officer draws a number block for a terminal"),
    "number_block_device": ("号段只发给本人使用的终端", "a number block goes to a terminal bound to you"),
    "number_block_outstanding": (
        "本人终端未使用的文号已达上限（200 个），用完或作废后再领取",
        "you hold the most unused numbers allowed (200): use or void them before drawing more",
    ),
    "number_block_overlap": (
        "同一单位、文书种类和年度的号段不得重叠",
        "number blocks of one unit, type and year never overlap",
    ),
    "number_kept": (
        "已使用的文号保留记录，只能作废，不得删除或更改",
        "a used number keeps its row: it is voided, never deleted",
    ),
    "signature_status": ("只有已出具、未盖章的文书可以签名", "only an issued document, not yet sealed, is signed"),
    "signature_hash": (
        "签名对应的文书版本与当前文书不一致",
        "the signature is bound to another version of the document",
    ),
    "signature_officer_self": (
        "执法人员签名须由本人账号签署",
        "an officer's signature comes from the officer's own account",
    ),
    "signature_own_account": (
        "负责人、审核人签名须由本人以本人账户签署，他人不得代签",
        "the head's and the reviewer's slots are signed by them, through their own accounts",
    ),
    "signature_once": ("每位执法人员对同一文书只签一次", "each officer signs a document once"),
    "signature_refusal_witness": (
        "当事人拒绝签名的，应注明理由并有见证人或执法记录仪记录",
        "a refusal to sign records its reason and a witness or the camera's clip",
    ),
    "signature_device": ("签名设备须为本人使用的终端", "the signing device must be bound to you"),
    "checklist_on_site": ("到达现场后才能填写检查清单", "the checklist is filled in on site"),
    "evidence_on_site": (
        "证据在现场检查中采集；任务未到达现场或已完成的，不得添加证据",
        "evidence is captured on site: not before arriving, nor on a finished task",
    ),
    "evidence_hash": ("照片与拍摄时的哈希值不符", "the photo does not match the hash taken at capture"),
    "signatures_missing": ("文书缺少模板要求的签名，不能盖章", "the document lacks signatures its template asks for"),
    "seal_body": ("本单位未登记执法主体，无法加盖电子印章", "the unit has no enforcement body to seal with"),
    # codified items and the discretion check (geo/discretion.py; the statutory bound is also 0018's)
    "item_codified": (
        "该事项尚未编码（无法定幅度与裁量基准），不得作出罚款决定",
        "the item is not codified (no statutory range or benchmark); no penalty is decided on it",
    ),
    "statutory_tier": ("处罚档次不属于该事项的法定档次", "the tier is not one of the item's statutory tiers"),
    "statutory_base": (
        "按倍数计罚的，须填写计罚基数（如违法所得、货值金额）",
        "a fine in multiples states its base (illegal gains, goods value, ...)",
    ),
    "statutory_range": (
        "罚款超出法定幅度（减轻处罚的，须低于下限且不为零）",
        "the fine is outside the statutory range (a reduced fine is below the minimum and above zero)",
    ),
    "statutory_kind": ("处罚种类不在该事项法定种类之内", "a penalty kind the item's provision does not provide"),
    "discretion_exempt": (
        "存在不予行政处罚情形（处罚法第三十条、第三十三条）",
        "a ground for no penalty applies (Arts. 30, 33)",
    ),
    "discretion_reduced": ("减轻处罚须写明理由", "a reduced penalty gives its reason"),
    "discretion_weighed": (
        "同时存在从轻和从重情节，须综合裁量并写明理由",
        "mitigating and aggravating circumstances are weighed, with a reason",
    ),
    "discretion_band": (
        "罚款在法定幅度内但超出裁量阶次的幅度，须写明理由",
        "inside the statutory range but outside the level's band: a reason is needed",
    ),
    "discretion_factors": ("裁量因素未记录，须写明理由", "a discretion factor is not recorded: a reason is needed"),
    "item_unverified": ("该事项法定幅度尚待法制部门核对，须写明理由", "the item's range awaits verification"),
    "discretion_reason": (
        "裁量结论需说明理由的，须填写自由裁量的理由（程序规定第四十八条）",
        "the discretion verdict needs a written reason",
    ),
    "discretion_review": (
        "审核同意须认可自由裁量结论；不认可的应退回（市场监管裁量指导意见第二十条）",
        "an agreeing review accepts the discretion verdict; otherwise it returns the case",
    ),
    "item_version_immutable": ("事项版本一经发布不得修改，请发布新版本", "an item version never changes"),
    "date_in_future": ("日期不得晚于今天", "a date that has not come yet"),
    "date_order": (
        "日期早于前一步骤（立案不早于收到案源，告知不早于批准，陈述申辩、放弃、申请听证不早于告知送达，"
        "送达不早于决定）",
        "a date before the step it follows (filing after the source, notice after approval, the party's "
        "answers after the notice, service after the decision)",
    ),
    "document_before_approval": (
        "告知书须在负责人批准后、决定书须在作出决定后方可编号、盖章",
        "a notice is numbered and sealed after the head's approval, a decision after it is made",
    ),
    "one_act_one_fine": (
        "对当事人的同一个违法行为，不得给予两次以上罚款的行政处罚（处罚法第二十九条）",
        "one act of a party is fined once (Art. 29)",
    ),
    # who takes a step (machine.available names the role a step needs, in words)
    "role:case.approve": ("须由行政机关负责人办理", "the organ head takes this step"),
    "role:case.handle": ("须由本案承办的执法人员办理", "the case's handling officers take this step"),
    "role:case.review": ("须由审核人员办理", "a reviewer takes this step"),
    "role:case.hearing": ("须由听证主持人办理", "the hearing host takes this step"),
    "role:case.manage": ("须由办案机构负责人办理", "the unit's supervisor takes this step"),
    "service_document": (
        "告知、送达以送达已盖章的告知书、决定书为准；纸质文书须作为补录并写明文书编号",
        "notice and service serve the sealed 告知书 or 决定书; a paper one is a back-entry with its number",
    ),
    "service_receipt": (
        "送达以已盖章的送达回证为凭，送达日期和方式以送达回证为准（程序规定第八十二条）",
        "service is proved by the sealed 送达回证, which gives its date and method (程序规定 第八十二条)",
    ),
    "public_notice_period": (
        "公告送达自公告发布之日起经过三十日视为送达（程序规定第八十二条）",
        "public notice is deemed served 30 days after it is announced",
    ),
    "back_entry": (
        "补录过去日期的行为须写明补录理由及纸质文书编号",
        "an act dated before today is a back-entry (补录): give its reason and the paper document's number",
    ),
}

# 市场监管行政处罚听证办法 第五条 (Tianjin's own figure not found: CASE-PROCEDURE.md Q1)
HEARING_FINE_NATURAL_YUAN = 10_000
HEARING_FINE_ORG_YUAN = 100_000
HEARING_KINDS = frozenset(
    {"suspend_business", "close_down", "restrict_practice", "demote_qualification", "revoke_licence"}
)
PENALTY_KINDS = (
    "warning",
    "criticism",
    "fine",
    "confiscation",
    "suspend_licence",
    "demote_qualification",
    "revoke_licence",
    "restrict_business",
    "suspend_business",
    "close_down",
    "restrict_practice",
)
PENALTY_LABELS = {  # 处罚法 第九条, as the documents write them
    "warning": "警告",
    "criticism": "通报批评",
    "fine": "罚款",
    "confiscation": "没收违法所得、没收非法财物",
    "suspend_licence": "暂扣许可证件",
    "demote_qualification": "降低资质等级",
    "revoke_licence": "吊销许可证件",
    "restrict_business": "限制开展生产经营活动",
    "suspend_business": "责令停产停业",
    "close_down": "责令关闭",
    "restrict_practice": "限制从业",
}
SIMPLE_FINE_NATURAL_YUAN = 200  # 处罚法 第五十一条 (not the 1996 figures of 50 / 1,000)
SIMPLE_FINE_ORG_YUAN = 3_000
LIMITATION_YEARS = 2  # 处罚法 第三十六条
LIMITATION_GRAVE_YEARS = 5  # 第三十六条: life, health or financial safety, with harmful consequences
DECISION_DAYS = 90  # 处罚法 第六十条
FIRST_EXTENSION_DAYS = 30  # 程序规定 第六十四条
VERIFY_WD = 15  # 程序规定 第十八条
ACCEPT_WD = 7  # 投诉举报办法 第十四条
REPORTER_WD = 5  # 投诉举报办法 第三十一条
REVIEW_WD = 10  # 程序规定 第五十五条
RESPONSE_WD = 5  # 程序规定 第五十七条
HEARING_NOTICE_WD = 7  # 处罚法 第六十四条
HEARING_HOST_WD = 3  # 听证办法 第十八条
HEARING_REPORT_WD = 5  # 听证办法 第二十九条
SERVICE_WD = 7  # 处罚法 第六十一条
CLOSE_WD = 15  # 程序规定 第七十七条
ONSITE_FILE_WD = 7  # 程序规定 第七十条
REVIEW_CHECKS = ("jurisdiction", "party", "facts_evidence", "characterisation", "basis", "procedure", "penalty")
"""程序规定 第五十三条: 管辖权; 当事人基本情况; 事实清楚、证据充分; 定性准确; 适用依据正确; 程序合法; 处理适当."""
EVIDENCE_KINDS = ("书证", "物证", "视听资料", "电子数据", "证人证言", "当事人陈述", "鉴定意见", "勘验笔录", "现场笔录")
NOT_FILE_GROUNDS = ("minor_corrected", "first_minor_corrected", "no_fault", "no_violation", "limitation", "other")


def hearing_basis(penalty: dict[str, Any], party_kind: str, item_hearing: dict[str, Any] | None = None) -> list[str]:
    """Why the notice must offer a hearing (处罚法 第六十三条), empty when it need not: the item's
    own hearing data first (its kinds, its figures), then the sector's (听证办法 第五条); each
    threshold on its own, the fine and the confiscated value, never added together."""
    item = item_hearing or {}
    kinds = set(penalty.get("kinds") or ())
    sector = HEARING_FINE_NATURAL_YUAN if party_kind == "natural" else HEARING_FINE_ORG_YUAN
    floor = float(item.get("natural_min_yuan" if party_kind == "natural" else "org_min_yuan") or sector)
    basis = [f"item_kind:{k}" for k in sorted(kinds & set(item.get("kinds") or ()))]
    basis += [f"kind:{k}" for k in sorted((kinds & HEARING_KINDS) - set(item.get("kinds") or ()))]
    if float(penalty.get("fine_yuan") or 0) >= floor:
        basis.append("fine")
    if float(penalty.get("confiscation_yuan") or 0) >= floor:
        basis.append("confiscation")
    return basis


def hearing_right(penalty: dict[str, Any], party_kind: str, item_hearing: dict[str, Any] | None = None) -> bool:
    """Whether the notice must offer a hearing (see hearing_basis)."""
    return bool(hearing_basis(penalty, party_kind, item_hearing))


def hearing_basis_text(basis: list[str], party_kind: str, lang: str = "zh") -> str:
    """The basis in words, for the notice and the case file."""
    labels = dict(PENALTY_LABELS)
    words = []
    for b in basis:
        kind, _, value = b.partition(":")
        if kind in ("item_kind", "kind"):
            source = "本事项听证规定" if kind == "item_kind" else "处罚法第六十三条"
            words.append(f"{labels.get(value, value)}（{source}）" if lang == "zh" else f"{value} ({kind})")
        elif kind == "fine":
            words.append("罚款达到较大数额" if lang == "zh" else "a fine of a large amount")
        elif kind == "confiscation":
            words.append("没收较大数额违法所得或较大价值非法财物" if lang == "zh" else "confiscation of a large value")
    return "；".join(words) if lang == "zh" else "; ".join(words)
