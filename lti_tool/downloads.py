"""Files the tool hands out (.ics, .csv, .json, .eml, PDF): one way to send them, with Werkzeug's headers."""
from __future__ import annotations

import io

from typing import Iterable

from flask import Response, send_file, stream_with_context


def download(body: bytes | str, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """``body`` as a download named ``filename`` (RFC 6266 Content-Disposition, any characters safe)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=not inline, download_name=filename)
    response.headers["Cache-Control"] = "private, no-store"  # people's data: never kept by a shared cache
    return response


def download_stream(chunks: Iterable[str], filename: str, mimetype: str) -> Response:
    """Like ``download`` for a body made piece by piece: sent as it is made, never held whole in memory."""
    response = Response(stream_with_context(chunk.encode("utf-8") for chunk in chunks), mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
