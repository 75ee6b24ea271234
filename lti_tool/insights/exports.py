"""CSV export of insight tables: UTF-8 with BOM (Excel), ISO dates, formula injection neutralised."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from flask import Response
from flask_babel import gettext as _, lazy_gettext as _l

from ..downloads import download

from ..services.insights import MARKER, SUPPRESSED

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int | float:
    """A cell as a spreadsheet will not execute it: text starting with = + - @ tab or CR gets a leading '."""
    if value is None:
        return ""  # no data (nobody answered): nothing held back
    if value is SUPPRESSED:
        return str(MARKER)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (int, float)) and value >= 0:
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value)
    if text.startswith(DANGEROUS_START):
        return "'" + text
    return text


BLANK = _l("An empty cell: no one answered (nothing is held back).")


def csv_response(table, filename: str) -> Response:
    """Streamed: one header row, then one row per group with human labels; held-back cells carry the page's
    one marker; the note (what the marker and an empty cell mean, and the table's own note) is in a last
    column "Note" on the first row, so every row has the same columns and no row is a footnote."""
    def rows():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")

        def line(values):
            out.seek(0)
            out.truncate()
            writer.writerow(values)
            return out.getvalue()

        note = " ".join(str(n) for n in (table.note, BLANK) if n)
        yield "\ufeff" + line([safe_cell(c) for c in table.columns] + [_("Note")])
        for i, row in enumerate(table.rows or [[""] * len(table.columns)]):
            yield line([safe_cell(v) for v in row] + [safe_cell(note) if i == 0 else ""])
    return download(rows(), filename, "text/csv")
