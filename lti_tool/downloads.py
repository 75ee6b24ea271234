"""Files the tool hands out (.ics, .csv, .json, .eml, PDF): one way to send them, with Werkzeug's headers."""
from __future__ import annotations

import io

from flask import Response, send_file, stream_with_context


def download(body: bytes | str, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """``body`` as a download named ``filename`` (RFC 6266 Content-Disposition, any characters safe)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=not inline, download_name=filename)
    response.headers["Cache-Control"] = "private, no-store"  # people's data: never kept by a shared cache
    return response


def download_stream(chunks, filename: str, mimetype: str) -> Response:
    """A download sent as it is produced (``chunks``: an iterable of str), same headers as ``download``."""
    response = Response(stream_with_context(c.encode("utf-8") for c in chunks), mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
