"""CSV export of insight tables: UTF-8 with BOM (Excel), ISO dates, formula injection neutralised."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from flask import Response

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
SUPPRESSED_TEXT = "suppressed"


def safe_cell(value) -> str | int | float:
    """A cell as a spreadsheet will not execute it: text starting with = + - @ tab or CR gets a leading '."""
    if value is None:
        return ""
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
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([SUPPRESSED_TEXT if (i > 0 and v is None and _suppressed(table, row)) else safe_cell(v)
                         for i, v in enumerate(row)])
    if table.note:
        writer.writerow([safe_cell(table.note)])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _suppressed(table, row) -> bool:
    # Overview-style tables mark every value of a too-small selection as suppressed; other tables use
    # None also for "no data" (a mean with no ratings), which stays empty.
    return table.key in ("overview", "match_scores", "match_quality", "trend")
