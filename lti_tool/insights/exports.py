"""CSV export of insight tables: UTF-8 with BOM (Excel), ISO dates, formula injection neutralised."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from flask import Response

from ..downloads import download

from ..services.insights import MARKER, SUPPRESSED

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int | float:
    """A cell as a spreadsheet will not execute it: text starting with = + - @ tab or CR gets a leading '."""
    if value is None:
        return ""  # no data (nobody answered): nothing held back
    if value is SUPPRESSED:
        return MARKER
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and value >= 0:
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value)
    if text.startswith(DANGEROUS_START):
        return "'" + text
    return text


def csv_response(table, filename: str) -> Response:
    """One header row, then the rows; held-back cells carry the page's marker; a note goes in a last
    "Note" column on the first row (so every row has the same columns)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    note = [safe_cell(table.note)] if table.note else []
    writer.writerow([safe_cell(c) for c in table.columns] + (["Note"] if note else []))
    rows = table.rows or ([[""] * len(table.columns)] if note else [])
    for i, row in enumerate(rows):
        writer.writerow([safe_cell(v) for v in row] + ((note if i == 0 else [""]) if note else []))
    return download("\ufeff" + out.getvalue(), filename, "text/csv")
