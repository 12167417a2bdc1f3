"""The annual assessment report (年度考核报告): for the district, the ranking with each group's
score as a bar and its points by indicator; for one unit, its points line by line with the
figures behind them. A PDF in Chinese (fpdf2, the platform's embedded CJK font) and an XLSX of
the same figures."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from geo.documents.render import Fonts
from geo.infra import exports

BAR = (74, 144, 217)
GRID = (200, 200, 200)


def start_pdf(fonts: Fonts, title: str) -> FPDF:
    subset_path, full_path, number, _known = fonts.ready()
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_title(title)
    pdf.set_producer("LawGrid")
    pdf.add_font("cjk", fname=str(subset_path))
    pdf.add_font("cjkfull", fname=str(full_path), collection_font_number=number)
    pdf.set_fallback_fonts(["cjkfull"])
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, title, align="C", new_x="LMARGIN", new_y="NEXT")
    return pdf


def district_pdf(fonts: Fonts, card: dict[str, Any]) -> bytes:
    title = f"{card['year']} 年度行政执法监督考核报告"
    pdf = start_pdf(fonts, title)
    pdf.set_font("cjk", size=10)
    pdf.cell(
        0,
        6,
        f"考核方案：{card['scheme']['name']}（第 {card['scheme']['version']} 版），满分 {card['full_marks']:g} 分",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    label_w, score_w = 70, 16
    bar_w = width - label_w - score_w
    full = card["full_marks"] or 1
    # the ranking as a bar chart: one bar per group, its score written beside it
    for g in card["groups"]:
        y = pdf.get_y()
        if y > pdf.h - 30:
            pdf.add_page()
            y = pdf.get_y()
        pdf.set_font("cjk", size=9)
        pdf.cell(label_w, 6, f"{g['rank']}. {g['name']}"[:30])
        pdf.set_fill_color(*BAR)
        pdf.rect(pdf.l_margin + label_w, y + 1, bar_w * g["total"] / full, 4, style="F")
        pdf.set_draw_color(*GRID)
        pdf.rect(pdf.l_margin + label_w, y + 1, bar_w, 4)
        pdf.set_x(pdf.l_margin + label_w + bar_w)
        pdf.cell(score_w, 6, f"{g['total']:g}", align="R", new_x="LMARGIN", new_y="NEXT")
    # each group's points by indicator
    for g in card["groups"]:
        pdf.add_page() if pdf.get_y() > pdf.h - 60 else pdf.ln(4)
        _group_table(pdf, g)
    return bytes(pdf.output())


def unit_pdf(fonts: Fonts, card: dict[str, Any], group: dict[str, Any]) -> bytes:
    pdf = start_pdf(fonts, f"{card['year']} 年度行政执法监督考核报告：{group['name']}")
    pdf.set_font("cjk", size=10)
    pdf.cell(
        0,
        6,
        f"得分 {group['total']:g} / {card['full_marks']:g}，排名 {group['rank']} / {len(card['groups'])}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    _group_table(pdf, group)
    return bytes(pdf.output())


def _group_table(pdf: FPDF, g: dict[str, Any]) -> None:
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, f"{g['name']}：{g['total']:g} 分（第 {g['rank']} 名）", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    headings = FontFace(emphasis="", fill_color=(230, 236, 245))
    with pdf.table(
        col_widths=(60, 30, 40, 20, 20),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=headings,
    ) as table:
        head = table.row()
        for h in ("指标", "数值", "分子 / 分母", "得分", "分值"):
            head.cell(h)
        for item in g["items"]:
            row = table.row()
            row.cell(item["zh"])
            row.cell("—" if item["value"] is None else f"{item['value']:g}")
            row.cell(f"{item['num']:,} / {item['den']:,}")
            row.cell(f"{item['points']:g}")
            row.cell(f"{item['max']:g}")


def xlsx(card: dict[str, Any]) -> bytes:
    rows: list[list[Any]] = [["排名", "名称", "总分", "指标", "数值", "分子", "分母", "得分", "分值"]]
    for g in card["groups"]:
        for item in g["items"]:
            rows.append(
                [
                    g["rank"],
                    g["name"],
                    g["total"],
                    item["zh"],
                    item["value"],
                    item["num"],
                    item["den"],
                    item["points"],
                    item["max"],
                ]
            )
    return exports.xlsx_bytes(f"考核{card['year']}", rows)
