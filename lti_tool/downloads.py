"""Files the tool hands out (.ics, .csv, .json, .eml, PDF): one way to send them, with Werkzeug's headers."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask import Response, send_file, stream_with_context


def download(body: bytes | str | Iterable[str], filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """``body`` as a download named ``filename`` (RFC 6266 Content-Disposition, any characters safe).

    ``body`` may also be an iterable of text chunks: it is then streamed as it is produced (inside the
    request's context, so it may still read the database), with no Content-Length.
    """
    if isinstance(body, (bytes, str)):
        data = body.encode("utf-8") if isinstance(body, str) else body
        file = io.BytesIO(data)
    else:
        file = io.BufferedReader(_Chunks(chunk.encode("utf-8") for chunk in stream_with_context(iter(body))))
    response = send_file(file, mimetype=mimetype, as_attachment=not inline, download_name=filename)
    response.headers["Cache-Control"] = "private, no-store"  # people's data: never kept by a shared cache
    return response


def csv_lines(columns: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """A spreadsheet line by line: UTF-8 BOM (Excel), the header row, then formula-safe cells."""
    from .insights.exports import safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([str(c) for c in columns])
    yield "\ufeff" + out.getvalue()
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow([safe_cell(v) for v in row])
        yield out.getvalue()


class _Chunks(io.RawIOBase):
    """A readable file over an iterator of bytes (what ``send_file`` streams from)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks, self._pending = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n], self._pending = self._pending[:n], self._pending[n:]
        return n
