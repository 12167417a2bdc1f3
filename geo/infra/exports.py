"""Files people open in Excel (coverage tables, random-plan lists): no cell is ever a formula.

A text cell that begins with =, +, -, @, a tab or a carriage return would be run as a formula
by a spreadsheet (OWASP "CSV injection"); in CSV it is written with a leading apostrophe, in
XLSX as an explicit string cell."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def xlsx_bytes(title: str, rows: Iterable[Sequence[Any]], number_formats: dict[int, str] | None = None) -> bytes:
    """One sheet; text is always a string cell (openpyxl would take "=..." for a formula)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
            elif r > 1 and number_formats and c in number_formats:
                cell.number_format = number_formats[c]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
