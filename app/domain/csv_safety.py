"""Files for spreadsheets that never run what users typed (OWASP « CSV injection »).

A CPTS named `=HYPERLINK("http://x","y")` would become a live formula in Excel or LibreOffice
when an agent opens a CSV the service wrote. Every text cell starting with `=`, `+`, `-`, `@`,
a tab or a carriage return gets a leading single quote, as OWASP recommends: the spreadsheet
shows it as text. Numbers the service writes itself (a negative figure) stay numbers: only text
is touched. Every CSV the service writes goes through `excel_csv`; XLSX writers call
`xlsx_text_cell` on each cell, which stores text as text (never a formula) and marks risky text
with Excel's own « quote prefix », so that it stays text even when the cell is edited.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value: object) -> bool:
    """Text a spreadsheet would read as the start of a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def safe_cell(value: object) -> object:
    """`'=HYPERLINK(…)` for `=HYPERLINK(…)`; anything else (numbers included) unchanged."""
    return "'" + value if isinstance(value, str) and is_risky(value) else value


def excel_csv(headers: Sequence[object], rows: Iterable[Sequence[object]]) -> bytes:
    """`;`-separated, CRLF, UTF-8 with a BOM (Excel opens it with its accents), every cell
    neutralised by `safe_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(value) for value in headers])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_text_cell(cell: Any) -> None:
    """An openpyxl cell just written: text stays text (openpyxl would make a formula of text
    starting with `=`), and risky text carries the quote prefix."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if is_risky(cell.value):
            cell.quotePrefix = True


def xlsx_append(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row of cells, each through `xlsx_text_cell`, in time linear in the row (asking
    openpyxl for `max_row` after each append would make a sheet quadratic in its rows)."""
    from openpyxl.cell import Cell

    cells = []
    for value in values:
        cell = Cell(sheet, row=1, column=1, value=value)  # placed by `append`
        xlsx_text_cell(cell)
        cells.append(cell)
    sheet.append(cells)
